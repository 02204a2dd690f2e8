package seed

import (
	"math"
	"math/rand/v2"
	"slices"

	"sinp.occitanie.fr/observations/internal/planar"
	"sinp.occitanie.fr/observations/sensitivity"
)

// world is everything a row is drawn from. It is built once, from the seed,
// then read by every generator goroutine: a row depends only on the world,
// the seed and its id.
type world struct {
	seed     uint64
	today    int // year of Options.Now: observations end by the year before
	communes []area
	depts    []area
	natural  []area
	cells    map[string]bool

	communeIdx *planar.Index
	naturalIdx *planar.Index
	deptIdx    map[string]int
	byDept     map[string][]int // communes of each département

	communeCells   [][]string // cells each commune intersects
	communeNatural [][]string
	cellCommunes   map[string][]int
	cellNatural    map[string][]string
	naturalCommune [][]int
	naturalCells   [][]string

	hotspots      []hotspot
	hotspotAlias  *alias
	deptHotspots  map[string][]int
	naturalByDept map[string][]int

	taxa      []*taxon
	poleAlias *alias
	poleTaxa  [][]int  // regular (non-sensitive) taxa of each pôle, commonest first
	taxAlias  []*alias // per pôle, long-tailed
	sensitive [5][]sensitiveTaxon

	datasets     []dataset
	poleDatasets [][]int
	dsAlias      []*alias

	ref     *sensitivity.Referential
	refName string
	refVer  string
}

type hotspot struct {
	c     planar.Point
	sigma float64
	dept  string
}

// sensitiveTaxon is a taxon with a rule of some level in the territory.
type sensitiveTaxon struct {
	taxon int
	rules []sensitivity.Rule // its rules of that level in the territory's départements
}

func (w *world) buildIndexes() {
	boxes := make([]planar.Box, len(w.communes))
	w.byDept = map[string][]int{}
	for i, c := range w.communes {
		boxes[i] = c.box
		w.byDept[c.dept] = append(w.byDept[c.dept], i)
	}
	w.communeIdx = planar.NewIndex(boxes, 5000)
	w.deptIdx = map[string]int{}
	for i, d := range w.depts {
		w.deptIdx[d.code] = i
	}
}

func (w *world) buildNaturalIndex() {
	boxes := make([]planar.Box, len(w.natural))
	for i, n := range w.natural {
		boxes[i] = n.box
	}
	w.naturalIdx = planar.NewIndex(boxes, 10000)
}

// communesAt returns the communes containing p.
func (w *world) communesAt(dst []int32, p planar.Point) []int32 {
	var cand [16]int32
	for _, i := range w.communeIdx.Query(cand[:0], planar.Box{MinX: p.X, MinY: p.Y, MaxX: p.X, MaxY: p.Y}) {
		if w.communes[i].box.Contains(p) && w.communes[i].geom.ContainsPoint(p) {
			dst = append(dst, i)
		}
	}
	return dst
}

// precompute relates communes, cells and natural areas once, for the
// observations attached to one of them.
func (w *world) precompute() {
	w.communeCells = make([][]string, len(w.communes))
	w.cellCommunes = map[string][]int{}
	for i, c := range w.communes {
		for x := int(math.Floor(c.box.MinX / 10000)); x <= int(math.Floor(c.box.MaxX/10000)); x++ {
			for y := int(math.Floor(c.box.MinY / 10000)); y <= int(math.Floor(c.box.MaxY/10000)); y++ {
				code := cellCode(planar.P(float64(x)*10000+1, float64(y)*10000+1))
				if w.cells[code] && c.geom.IntersectsRing(cellSquare(x, y)) {
					w.communeCells[i] = append(w.communeCells[i], code)
					w.cellCommunes[code] = append(w.cellCommunes[code], i)
				}
			}
		}
	}
	w.communeNatural = make([][]string, len(w.communes))
	w.naturalCommune = make([][]int, len(w.natural))
	w.naturalCells = make([][]string, len(w.natural))
	w.cellNatural = map[string][]string{}
	w.naturalByDept = map[string][]int{}
	for ni, n := range w.natural {
		var cand []int32
		seenDept := map[string]bool{}
		for _, ci := range w.communeIdx.Query(cand, n.box) {
			c := w.communes[ci]
			if c.box.Intersects(n.box) && c.geom.IntersectsRing(n.geom[0][0]) {
				w.naturalCommune[ni] = append(w.naturalCommune[ni], int(ci))
				w.communeNatural[ci] = append(w.communeNatural[ci], n.code)
				if !seenDept[c.dept] {
					seenDept[c.dept] = true
					w.naturalByDept[c.dept] = append(w.naturalByDept[c.dept], ni)
				}
			}
		}
		slices.Sort(w.naturalCommune[ni])
		for x := int(math.Floor(n.box.MinX / 10000)); x <= int(math.Floor(n.box.MaxX/10000)); x++ {
			for y := int(math.Floor(n.box.MinY / 10000)); y <= int(math.Floor(n.box.MaxY/10000)); y++ {
				code := cellCode(planar.P(float64(x)*10000+1, float64(y)*10000+1))
				if w.cells[code] && n.geom.IntersectsRing(cellSquare(x, y)) {
					w.naturalCells[ni] = append(w.naturalCells[ni], code)
					w.cellNatural[code] = append(w.cellNatural[code], n.code)
				}
			}
		}
	}
	for i := range w.communeNatural {
		slices.Sort(w.communeNatural[i])
	}
	for k := range w.cellNatural {
		slices.Sort(w.cellNatural[k])
	}
}

// makeHotspots draws the clusters observations gather in: naturalists return
// to the same places.
func (w *world) makeHotspots(r *rand.Rand) {
	const n = 400
	weights := make([]float64, n)
	w.deptHotspots = map[string][]int{}
	for i := range n {
		c := w.communes[r.IntN(len(w.communes))]
		p := w.pointIn(r, c)
		h := hotspot{c: p, sigma: math.Exp(math.Log(1500) + 0.8*r.NormFloat64()), dept: c.dept}
		w.hotspots = append(w.hotspots, h)
		w.deptHotspots[h.dept] = append(w.deptHotspots[h.dept], i)
		weights[i] = math.Pow(r.Float64(), 2.5) + 0.01
	}
	w.hotspotAlias = newAlias(weights)
}

// pointIn draws a point uniformly inside an area.
func (w *world) pointIn(r *rand.Rand, a area) planar.Point {
	for range 200 {
		p := planar.P(a.box.MinX+r.Float64()*(a.box.MaxX-a.box.MinX), a.box.MinY+r.Float64()*(a.box.MaxY-a.box.MinY))
		if a.geom.ContainsPoint(p) {
			return p
		}
	}
	// A sliver: its first vertex nudged inward is close enough.
	v := a.geom[0][0]
	return planar.P(v[0].X+(v[1].X-v[0].X)*1e-3, v[0].Y+(v[1].Y-v[0].Y)*1e-3)
}

func (w *world) buildTaxa(r *rand.Rand, ref *sensitivity.Referential) {
	w.poleTaxa = make([][]int, len(poles))
	w.taxAlias = make([]*alias, len(poles))
	inTerritory := map[string]bool{}
	for _, d := range w.depts {
		inTerritory[d.code] = true
	}
	for i, t := range w.taxa {
		var byLevel [5][]sensitivity.Rule
		for _, rule := range ref.Rules(t.cdRef) {
			if inTerritory[rule.CdDept] && rule.Codage > 0 {
				byLevel[rule.Codage] = append(byLevel[rule.Codage], rule)
			}
		}
		top := 0
		for k := 4; k > 0; k-- {
			if len(byLevel[k]) > 0 {
				top = k
				break
			}
		}
		if top > 0 {
			w.sensitive[top] = append(w.sensitive[top], sensitiveTaxon{taxon: i, rules: byLevel[top]})
			continue
		}
		if !t.fromRef {
			w.poleTaxa[t.pole] = append(w.poleTaxa[t.pole], i)
		}
	}
	shares := make([]float64, len(poles))
	for i, p := range poles {
		shares[i] = p.share
		w.taxAlias[i] = newAlias(zipfWeights(len(w.poleTaxa[i]), 1.05))
	}
	w.poleAlias = newAlias(shares)
}

func (w *world) buildDatasets() {
	w.poleDatasets = make([][]int, len(poles))
	w.dsAlias = make([]*alias, len(poles))
	for i, d := range w.datasets {
		w.poleDatasets[d.pole] = append(w.poleDatasets[d.pole], i)
	}
	for p := range poles {
		weights := make([]float64, len(w.poleDatasets[p]))
		for k, i := range w.poleDatasets[p] {
			weights[k] = w.datasets[i].weight
		}
		w.dsAlias[p] = newAlias(weights)
	}
}

// syntheticRules makes a referential when none is given: a few taxa of each
// pôle sensitive at levels 1-4 in some départements, some for a number of
// years or for breeding only.
func syntheticRules(r *rand.Rand, taxa []*taxon) []sensitivity.Rule {
	var rules []sensitivity.Rule
	id := 0
	for _, t := range taxa {
		p := 0.02
		if poles[t.pole].code != "flore" && poles[t.pole].code != "invertebres" {
			p = 0.12
		}
		if t.rank < 0.05 || r.Float64() >= p {
			continue
		}
		level := 1 + int(pickWeighted(r, []string{"0", "1", "2", "3"}, []float64{40, 35, 15, 10})[0]-'0')
		depts := deptCodes
		if r.Float64() < 0.6 {
			depts = nil
			for _, d := range deptCodes {
				if r.Float64() < 0.35 {
					depts = append(depts, d)
				}
			}
		}
		duree, statut := 0, ""
		if r.Float64() < 0.3 {
			duree = pick(r, []int{10, 20})
		}
		if poles[t.pole].code == "oiseaux" && r.Float64() < 0.3 {
			statut = "3"
		}
		for _, d := range depts {
			id++
			rules = append(rules, sensitivity.Rule{ID: id, CdDept: d, CdNom: t.cdRef, Duree: duree, Codage: level,
				StatutBiologique: statut, CdSL: 1, NomCite: t.name, Line: id})
		}
	}
	return rules
}
