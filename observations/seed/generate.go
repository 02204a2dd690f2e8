package seed

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"sinp.occitanie.fr/observations/internal/planar"
	"sinp.occitanie.fr/observations/sensitivity"
)

// Shares of the generated data set.
const (
	shareSensitive1 = 0.035 // observations drawn among taxa sensitive at level 1 (then placed where the rule applies)
	shareSensitive2 = 0.030
	shareSensitive3 = 0.015
	shareSensitive4 = 0.010 // only synthetic referentials have level-4 rules
	shareManual     = 0.025 // level set by hand by the producer, mostly "no diffusion"

	shareLine     = 0.06
	sharePolygon  = 0.06
	shareAttached = 0.08 // no geometry: attached to communes, a cell, a département or a natural area
)

// obsColumns are the columns the generator writes, in order.
var obsColumns = []string{"id", "id_sinp_occtax", "id_origine", "statut_observation", "cd_nom", "cd_ref", "nom_cite", "version_taxref",
	"date_debut", "date_fin", "date_determination", "denombrement_min", "denombrement_max", "objet_denombrement", "type_denombrement",
	"observateur", "determinateur", "organisme_gestionnaire_donnee", "statut_source", "reference_biblio", "ds_publique", "jdd_id",
	"nature_objet_geo", "precision_geometrie", "type_info_geo", "rattachement", "communes", "mailles10", "departements", "espaces_naturels",
	"altitude_min", "altitude_max", "altitude_moyenne", "profondeur_min", "profondeur_max", "profondeur_moyenne", "nom_lieu", "commentaire",
	"obs_technique", "occ_etat_biologique", "occ_methode_determination", "occ_naturalite", "occ_sexe", "occ_stade_de_vie",
	"occ_statut_biogeographique", "occ_statut_biologique", "occ_comportement", "preuve_existante", "preuve_numerique", "statut_validation",
	"diffusion_niveau_precision", "sensi_niveau", "sensi_date_attribution", "sensi_referentiel", "sensi_version_referentiel",
	"sensi_manuelle", "dee_floutage", "dee_date_derniere_modification", "pole",
	"heure_debut", "heure_fin", "observateur_organisme", "determinateur_organisme", "validateur", "validateur_organisme",
	"organisme_standard", "org_transformation", "id_regroupement", "methode_regroupement", "type_regroupement",
	"obs_contexte", "obs_description", "preuve_non_numerique"}

// footprint is where an observation is: its own geometry, or the objects it
// is attached to.
type footprint struct {
	kind     int // kindPoint, kindLine, kindPolygon, kindAttached
	pts      []planar.Point
	attach   string // rattachement kind
	communes []string
	cells    []string
	depts    []string
	natural  []string
}

const (
	kindPoint = iota
	kindLine
	kindPolygon
	kindAttached
)

// generator writes rows; one per goroutine.
type generator struct {
	w    *world
	cand []int32
	geo  []byte
}

// row appends observation id to obs (COPY text format) and, when it has a
// geometry, its row to geo.
func (g *generator) row(id int64, obs, geo *copyRow) {
	w := g.w
	r := rand.New(rand.NewPCG(w.seed, uint64(id)))

	// What was seen: a taxon sensitive at some level, or a common one.
	var (
		t        *taxon
		rule     *sensitivity.Rule
		wantDept string
	)
	u := r.Float64()
	for level, share := range []float64{0, shareSensitive1, shareSensitive2, shareSensitive3, shareSensitive4} {
		if level == 0 {
			continue
		}
		if u < share && len(w.sensitive[level]) > 0 {
			st := w.sensitive[level][r.IntN(len(w.sensitive[level]))]
			t = w.taxa[st.taxon]
			rl := st.rules[r.IntN(len(st.rules))]
			rule, wantDept = &rl, rl.CdDept
			break
		}
		u -= share
	}
	if t == nil {
		p := w.poleAlias.draw(r)
		if len(w.poleTaxa[p]) == 0 {
			p = poleIndex("oiseaux")
		}
		t = w.taxa[w.poleTaxa[p][w.taxAlias[p].draw(r)]]
	}
	pc := poles[t.pole].code
	ds := &w.datasets[w.poleDatasets[t.pole][w.dsAlias[t.pole].draw(r)]]

	// When: recent years dominate, within the dataset's years; a rule with a
	// duration mostly gets observations young enough to match it.
	year := ds.lastYear - min(int(r.ExpFloat64()*6), ds.lastYear-ds.firstYear)
	if rule != nil && rule.Duree > 0 && r.Float64() < 0.85 {
		year = w.today - 1 - r.IntN(rule.Duree)
	}
	year = min(year, w.today-1)
	start := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
	end := start
	switch v := r.Float64(); {
	case v < 0.18:
		end = start.AddDate(0, 0, 1+r.IntN(30))
	case v < 0.22:
		end = start.AddDate(0, 0, 31+r.IntN(330))
	}
	if last := time.Date(w.today-1, time.December, 31, 0, 0, 0, 0, time.UTC); end.After(last) {
		end = last
	}

	fp := g.place(r, wantDept)

	// Biological status, matching the rule most of the time.
	statutBio := pickWeighted(r, statutBioValues[pc], statutBioWeights[pc])
	comportement := pickWeighted(r, comportementValues[pc], comportementWeights[pc])
	if rule != nil && rule.StatutBiologique != "" && r.Float64() < 0.8 {
		if c := sensitivity.Comportement(rule.StatutBiologique); c != "" {
			comportement = c
		} else {
			statutBio = rule.StatutBiologique
		}
	}

	// Sensitivity: the referential's verdict, or a producer's hand-set level.
	manual := r.Float64() < shareManual
	level := 0
	if manual {
		level = 1 + pickWeighted(r, []int{0, 1, 2, 3}, []float64{15, 15, 15, 55})
	} else {
		level = w.ref.Level(sensitivity.Observation{CdRef: t.cdRef, Departements: fp.depts, DateFin: end,
			StatutBiologique: statutBio, Comportement: comportement}, time.Date(w.today, time.January, 1, 0, 0, 0, 0, time.UTC))
	}

	cdNom, nomCite := t.cdRef, t.name
	if len(t.synonyms) > 0 && r.Float64() < 0.3 {
		s := t.synonyms[r.IntN(len(t.synonyms))]
		cdNom, nomCite = s.cdNom, s.name
	}
	uuid := uuidFrom(r)
	statutObs := pickWeighted(r, []string{"Pr", "No", "NSP"}, []float64{97, 2.5, 0.5})
	countMin := 1 + int(math.Exp(r.NormFloat64()*1.1))
	if r.Float64() < 0.4 {
		countMin = 1
	}
	countMax := countMin
	if r.Float64() < 0.25 {
		countMax += r.IntN(countMin*2 + 5)
	}
	if statutObs == "No" {
		countMin, countMax = 0, 0
	}
	observer := pick(r, ds.observers)
	if r.Float64() < 0.1 {
		if other := pick(r, ds.observers); other != observer {
			observer += ", " + other
		}
	}
	source := pickWeighted(r, []string{"Te", "Li", "Co", "NSP"}, []float64{88, 5, 4, 3})

	obs.int(id)
	obs.uuid(uuid)
	obs.text(ds.code + "-" + strconv.FormatInt(id, 10))
	obs.text(statutObs)
	obs.int(int64(cdNom))
	obs.int(int64(t.cdRef))
	obs.text(nomCite)
	obs.text(pickWeighted(r, []string{"16.0", "15.0", "13.0", "11.0"}, []float64{50, 25, 15, 10}))
	obs.date(start)
	obs.date(end)
	if r.Float64() < 0.5 {
		obs.date(end)
	} else {
		obs.null()
	}
	obs.int(int64(countMin))
	obs.int(int64(countMax))
	obs.text(pickWeighted(r, objetValues[pc], objetWeights[pc]))
	obs.text(pickWeighted(r, []string{"Co", "Es", "Ca", "NSP"}, []float64{60, 25, 3, 12}))
	obs.text(observer)
	determined := true
	switch v := r.Float64(); {
	case v < 0.8:
		obs.text(observer)
	case v < 0.9:
		obs.text(pick(r, ds.observers))
	default:
		obs.null()
		determined = false
	}
	obs.text(ds.producer)
	obs.text(source)
	if source == "Li" {
		obs.text(pick(r, lastNames) + " " + string(pick(r, firstNames)[0]) + ". (" + strconv.Itoa(year) + "). Notes naturalistes. Bull. Soc. Hist. Nat. Occitanie " + strconv.Itoa(1+r.IntN(120)) + ".")
	} else {
		obs.null()
	}
	obs.text(ds.dsPublique)
	obs.int(int64(ds.id))

	// Where.
	switch fp.kind {
	case kindPoint:
		obs.text(pickWeighted(r, []string{"St", "In", "NSP"}, []float64{85, 10, 5}))
		obs.int(int64(pickWeighted(r, []int{1, 5, 10, 20, 50, 100, 250, 500, 1000, 5000}, []float64{5, 10, 20, 15, 15, 12, 8, 6, 6, 3})))
	case kindLine:
		obs.text("St")
		obs.int(int64(pickWeighted(r, []int{5, 10, 20, 50}, []float64{30, 40, 20, 10})))
	case kindPolygon:
		obs.text(pickWeighted(r, []string{"St", "In"}, []float64{50, 50}))
		obs.int(int64(pickWeighted(r, []int{5, 10, 20, 50}, []float64{30, 40, 20, 10})))
	default:
		obs.text("In")
		obs.null()
	}
	if fp.kind == kindAttached {
		obs.text("2")
		obs.text(fp.attach)
	} else {
		obs.text("1")
		obs.null()
	}
	obs.array(fp.communes)
	obs.array(fp.cells)
	obs.array(fp.depts)
	obs.array(fp.natural)
	if fp.kind != kindAttached && r.Float64() < 0.5 {
		alt := altitude(fp.pts[0], r)
		obs.int(int64(alt))
		obs.int(int64(alt + r.IntN(3)*10))
		obs.null()
	} else {
		obs.null()
		obs.null()
		obs.null()
	}
	if (pc == "poissons" || t.group == "Amphibiens") && r.Float64() < 0.3 {
		d := 0.1 + r.Float64()*3
		obs.float(math.Round(d*10) / 10)
		obs.float(math.Round((d+r.Float64()*2)*10) / 10)
		obs.null()
	} else {
		obs.null()
		obs.null()
		obs.null()
	}
	if fp.kind != kindAttached && r.Float64() < 0.4 {
		obs.text(pick(r, placeWords) + " " + pick(r, placeNames))
	} else {
		obs.null()
	}
	if r.Float64() < 0.12 {
		obs.text(pick(r, comments))
	} else {
		obs.null()
	}

	// How.
	obs.text(pickWeighted(r, methObsValues[pc], methObsWeights[pc]))
	obs.text(pickWeighted(r, []string{"2", "3", "1", "0"}, []float64{93, 3, 3, 1}))
	obs.text(pickWeighted(r, []string{"18", "9", "21", "22", "1"}, []float64{40, 10, 10, 10, 30}))
	if pc == "flore" {
		obs.text(pickWeighted(r, []string{"1", "0", "3", "5"}, []float64{92, 3, 3, 2}))
		obs.text("6")
		obs.text(pickWeighted(r, []string{"0", "1", "2"}, []float64{60, 10, 30}))
	} else {
		obs.text(pickWeighted(r, []string{"1", "0", "2"}, []float64{96, 3, 1}))
		obs.text(pickWeighted(r, []string{"0", "1", "2", "3", "6"}, []float64{10, 20, 15, 20, 35}))
		obs.text(pickWeighted(r, stadeValues[pc], stadeWeights[pc]))
	}
	biogeo := pickWeighted(r, []string{"2", "1", "3", "0"}, []float64{90, 5, 3, 2})
	if _, invasive := t.statuses["EEE"]; invasive {
		biogeo = "4"
	}
	obs.text(biogeo)
	obs.text(statutBio)
	obs.text(comportement)
	proof := pickWeighted(r, []string{"0", "1", "2", "3"}, []float64{20, 15, 55, 10})
	obs.text(proof)
	if proof == "1" && r.Float64() < 0.5 {
		obs.text("https://preuves.example.org/occtax/" + uuidString(uuid) + ".jpg")
	} else {
		obs.null()
	}
	validation := pickWeighted(r, []string{"1", "2", "3", "4", "5", "6", "0"}, []float64{55, 15, 2, 1, 2, 10, 15})
	obs.text(validation)

	// Diffusion and sensitivity.
	if ds.nivPrecis != "" {
		obs.text(ds.nivPrecis)
	} else {
		obs.null()
	}
	// Sensitivity is computed when a record reaches the platform (a few
	// days after its last change), and again for all at each new version
	// of the referential; the seed's run is the latest, at the start of
	// its year.
	applied := time.Date(w.today, time.January, 1, 0, 0, 0, 0, time.UTC)
	modified := end.AddDate(0, 0, r.IntN(700))
	if modified.After(applied) {
		modified = applied
	}
	attributed := modified.Add(time.Duration(1+r.IntN(14*24*60)) * time.Minute)
	if attributed.After(applied) || r.Float64() < 0.3 {
		attributed = applied
	}
	obs.int(int64(level))
	if manual {
		obs.timestamp(end.AddDate(0, 0, 1+r.IntN(60)))
		obs.null()
		obs.null()
		obs.text("t")
	} else {
		obs.timestamp(attributed)
		obs.text(w.refName)
		if w.refVer != "" {
			obs.text(w.refVer)
		} else {
			obs.null()
		}
		obs.text("f")
	}
	obs.text(pickWeighted(r, []string{"NON", "OUI"}, []float64{98, 2}))
	obs.timestamp(modified)
	obs.text(pc)
	g.exchangeFields(r, obs, ds, fp, start, determined, validation, proof)
	obs.end()

	switch fp.kind {
	case kindPoint:
		g.geo = planar.AppendPointEWKB(g.geo[:0], fp.pts[0], 2154)
	case kindLine:
		g.geo = planar.AppendLineEWKB(g.geo[:0], fp.pts, 2154)
	case kindPolygon:
		g.geo = planar.AppendPolygonEWKB(g.geo[:0], fp.pts, 2154)
	default:
		return
	}
	geo.int(id)
	geo.hex(g.geo)
	geo.end()
}

// place draws where an observation is, inside département dept when given.
func (g *generator) place(r *rand.Rand, dept string) footprint {
	p, communes := g.anchor(r, dept)
	var fp footprint
	switch u := r.Float64(); {
	case u < shareAttached:
		fp.kind = kindAttached
		return g.attached(r, p, communes)
	case u < shareAttached+shareLine:
		fp.kind = kindLine
		n := 2 + r.IntN(7)
		fp.pts = append(fp.pts, p)
		dir := r.Float64() * 2 * math.Pi
		for range n - 1 {
			dir += r.NormFloat64() * 0.5
			step := 30 + r.Float64()*370
			p = planar.P(p.X+step*math.Cos(dir), p.Y+step*math.Sin(dir))
			fp.pts = append(fp.pts, p)
		}
	case u < shareAttached+shareLine+sharePolygon:
		fp.kind = kindPolygon
		fp.pts = starRing(r, p, 15+r.Float64()*385, 6+r.IntN(7))
	default:
		fp.kind = kindPoint
		fp.pts = []planar.Point{p}
	}
	g.locate(&fp, communes)
	return fp
}

// anchor draws a point in the territory (clustered around hotspots), and
// returns the communes that contain it.
func (g *generator) anchor(r *rand.Rand, dept string) (planar.Point, []int32) {
	w := g.w
	for range 30 {
		var p planar.Point
		if r.Float64() < 0.75 {
			var h hotspot
			if dept != "" {
				hs := w.deptHotspots[dept]
				if len(hs) == 0 {
					break
				}
				h = w.hotspots[hs[r.IntN(len(hs))]]
			} else {
				h = w.hotspots[w.hotspotAlias.draw(r)]
			}
			p = planar.P(h.c.X+r.NormFloat64()*h.sigma, h.c.Y+r.NormFloat64()*h.sigma)
		} else {
			var c area
			if dept != "" {
				c = w.communes[w.byDept[dept][r.IntN(len(w.byDept[dept]))]]
			} else {
				c = w.communes[r.IntN(len(w.communes))]
			}
			p = planar.P(c.box.MinX+r.Float64()*(c.box.MaxX-c.box.MinX), c.box.MinY+r.Float64()*(c.box.MaxY-c.box.MinY))
		}
		g.cand = w.communesAt(g.cand[:0], p)
		if len(g.cand) == 0 {
			continue
		}
		if dept != "" && w.communes[g.cand[0]].dept != dept {
			continue
		}
		return p, g.cand
	}
	// Fall back on a uniform point of a commune of the département.
	pool := w.byDept[dept]
	var c area
	if len(pool) > 0 {
		c = w.communes[pool[r.IntN(len(pool))]]
	} else {
		c = w.communes[r.IntN(len(w.communes))]
	}
	p := w.pointIn(r, c)
	g.cand = w.communesAt(g.cand[:0], p)
	if len(g.cand) == 0 {
		g.cand = append(g.cand, int32(slices.IndexFunc(w.communes, func(a area) bool { return a.code == c.code })))
	}
	return p, g.cand
}

// locate fills the attachment codes of a georeferenced footprint: the
// communes, cells and natural areas its geometry intersects.
func (g *generator) locate(fp *footprint, pointCommunes []int32) {
	w := g.w
	if fp.kind == kindPoint {
		p := fp.pts[0]
		for _, ci := range pointCommunes {
			fp.communes = append(fp.communes, w.communes[ci].code)
		}
		if c := cellCode(p); w.cells[c] {
			fp.cells = []string{c}
		}
		var cand [16]int32
		for _, ni := range w.naturalIdx.Query(cand[:0], planar.Box{MinX: p.X, MinY: p.Y, MaxX: p.X, MaxY: p.Y}) {
			if w.natural[ni].geom.ContainsPoint(p) {
				fp.natural = append(fp.natural, w.natural[ni].code)
			}
		}
	} else {
		box := planar.BoxOf(fp.pts)
		hits := func(m planar.MultiPolygon) bool {
			if fp.kind == kindLine {
				return m.IntersectsLine(fp.pts)
			}
			return m.IntersectsRing(fp.pts)
		}
		var cand [32]int32
		for _, ci := range w.communeIdx.Query(cand[:0], box) {
			if w.communes[ci].box.Intersects(box) && hits(w.communes[ci].geom) {
				fp.communes = append(fp.communes, w.communes[ci].code)
			}
		}
		for x := int(math.Floor(box.MinX / 10000)); x <= int(math.Floor(box.MaxX/10000)); x++ {
			for y := int(math.Floor(box.MinY / 10000)); y <= int(math.Floor(box.MaxY/10000)); y++ {
				code := cellCode(planar.P(float64(x)*10000+1, float64(y)*10000+1))
				if w.cells[code] && hits(planar.MultiPolygon{{cellSquare(x, y)}}) {
					fp.cells = append(fp.cells, code)
				}
			}
		}
		for _, ni := range w.naturalIdx.Query(cand[:0], box) {
			if w.natural[ni].box.Intersects(box) && hits(w.natural[ni].geom) {
				fp.natural = append(fp.natural, w.natural[ni].code)
			}
		}
	}
	g.finish(fp)
}

// finish sorts the codes and derives the départements from the communes.
func (g *generator) finish(fp *footprint) {
	slices.Sort(fp.communes)
	fp.communes = slices.Compact(fp.communes)
	slices.Sort(fp.cells)
	slices.Sort(fp.natural)
	if fp.depts == nil {
		for _, c := range fp.communes {
			fp.depts = append(fp.depts, g.w.communeDept(c))
		}
	}
	slices.Sort(fp.depts)
	fp.depts = slices.Compact(fp.depts)
}

func (w *world) communeDept(code string) string {
	i, ok := slices.BinarySearchFunc(w.communes, code, func(a area, c string) int {
		switch {
		case a.code < c:
			return -1
		case a.code > c:
			return 1
		}
		return 0
	})
	if !ok {
		return ""
	}
	return w.communes[i].dept
}

// attached makes an observation without geometry, attached to the commune
// (or two communes), the cell, the département or a natural area around p.
func (g *generator) attached(r *rand.Rand, p planar.Point, communes []int32) footprint {
	w := g.w
	fp := footprint{kind: kindAttached}
	c := w.communes[communes[0]]
	switch u := r.Float64(); {
	case u < 0.55:
		fp.attach = "commune"
		idx := []int{int(communes[0])}
		if u < 0.10 {
			// A place on the border of two communes.
			for range 10 {
				a := r.Float64() * 2 * math.Pi
				q := planar.P(p.X+2500*math.Cos(a), p.Y+2500*math.Sin(a))
				if other := w.communesAt(nil, q); len(other) > 0 && int(other[0]) != idx[0] {
					idx = append(idx, int(other[0]))
					break
				}
			}
		}
		for _, i := range idx {
			fp.communes = append(fp.communes, w.communes[i].code)
			fp.cells = append(fp.cells, w.communeCells[i]...)
			fp.natural = append(fp.natural, w.communeNatural[i]...)
		}
		fp.cells = uniq(fp.cells)
		fp.natural = uniq(fp.natural)
	case u < 0.80:
		fp.attach = "maille10"
		code := cellCode(p)
		fp.cells = []string{code}
		for _, i := range w.cellCommunes[code] {
			fp.communes = append(fp.communes, w.communes[i].code)
		}
		fp.natural = slices.Clone(w.cellNatural[code])
	case u < 0.92:
		fp.attach = "departement"
		fp.depts = []string{c.dept}
	default:
		fp.attach = "espace_naturel"
		var ni int
		if ns := w.naturalByDept[c.dept]; len(ns) > 0 {
			ni = ns[r.IntN(len(ns))]
		} else {
			ni = r.IntN(len(w.natural))
		}
		n := w.natural[ni]
		fp.natural = []string{n.code}
		for _, i := range w.naturalCommune[ni] {
			fp.communes = append(fp.communes, w.communes[i].code)
		}
		fp.cells = slices.Clone(w.naturalCells[ni])
	}
	g.finish(&fp)
	return fp
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// altitude is a plausible altitude: high in the Pyrenees (south) and the
// Massif central (north-east), low on the plains and the coast.
func altitude(p planar.Point, r *rand.Rand) int {
	a := 150.0
	if p.Y < 6230000 {
		a += (6230000 - p.Y) / 90000 * 2200
	}
	if p.X > 640000 && p.Y > 6330000 {
		a += math.Min(p.X-640000, 120000) / 120000 * 900
	}
	if p.X > 700000 && p.Y < 6300000 {
		a *= 0.3
	}
	return max(0, int(a+r.NormFloat64()*120))
}

// Coded values by pôle: what naturalists of each group record.
var (
	statutBioValues = map[string][]string{
		"oiseaux": {"3", "1", "2", "9", "0"}, "mammiferes": {"4", "3", "1", "2"}, "flore": {"13", "1", "3"},
		"invertebres": {"1", "3", "2"}, "reptiles_amphibiens": {"1", "3", "2", "4"}, "poissons": {"1", "3", "2"}}
	statutBioWeights = map[string][]float64{
		"oiseaux": {35, 30, 15, 15, 5}, "mammiferes": {15, 15, 50, 20}, "flore": {30, 60, 10},
		"invertebres": {60, 20, 20}, "reptiles_amphibiens": {55, 25, 15, 5}, "poissons": {60, 25, 15}}
	comportementValues = map[string][]string{
		"oiseaux": {"1", "4", "6", "12", "8", "18"}, "mammiferes": {"1", "7", "17", "16", "8"}, "flore": {"1", "0"},
		"invertebres": {"1", "0", "16"}, "reptiles_amphibiens": {"1", "17", "19"}, "poissons": {"1", "16"}}
	comportementWeights = map[string][]float64{
		"oiseaux": {60, 10, 5, 10, 5, 10}, "mammiferes": {70, 5, 5, 10, 10}, "flore": {85, 15},
		"invertebres": {80, 10, 10}, "reptiles_amphibiens": {80, 15, 5}, "poissons": {85, 15}}
	objetValues = map[string][]string{
		"oiseaux": {"IND", "CPL", "NID", "NSP"}, "mammiferes": {"IND", "COL", "NSP"}, "flore": {"IND", "TIGE", "TOUF", "SURF", "HAM", "NSP"},
		"invertebres": {"IND", "NSP"}, "reptiles_amphibiens": {"IND", "PON", "NSP"}, "poissons": {"IND", "NSP"}}
	objetWeights = map[string][]float64{
		"oiseaux": {70, 15, 5, 10}, "mammiferes": {85, 5, 10}, "flore": {40, 15, 10, 5, 5, 25},
		"invertebres": {80, 20}, "reptiles_amphibiens": {80, 5, 15}, "poissons": {80, 20}}
	methObsValues = map[string][]string{
		"oiseaux": {"0", "1", "25", "8"}, "mammiferes": {"0", "3", "4", "6", "23", "21"}, "flore": {"0", "17", "21"},
		"invertebres": {"0", "5", "22", "1", "21"}, "reptiles_amphibiens": {"0", "1", "7", "21"}, "poissons": {"0", "19", "20"}}
	methObsWeights = map[string][]float64{
		"oiseaux": {45, 20, 30, 5}, "mammiferes": {40, 25, 10, 10, 5, 10}, "flore": {90, 5, 5},
		"invertebres": {75, 8, 5, 5, 7}, "reptiles_amphibiens": {70, 15, 5, 10}, "poissons": {60, 15, 25}}
	stadeValues = map[string][]string{
		"oiseaux": {"2", "0", "3", "1"}, "mammiferes": {"2", "0", "3", "1"}, "invertebres": {"2", "0", "6", "15", "1"},
		"reptiles_amphibiens": {"2", "0", "3", "8"}, "poissons": {"2", "0", "3", "17"}}
	stadeWeights = map[string][]float64{
		"oiseaux": {60, 20, 15, 5}, "mammiferes": {60, 25, 10, 5}, "invertebres": {50, 20, 10, 15, 5},
		"reptiles_amphibiens": {55, 20, 15, 10}, "poissons": {55, 20, 15, 10}}
)

// exchangeFields writes the standard's fields added after the first seed
// (hours, organisations, grouping, context, non-digital proof), in
// obsColumns order.
func (g *generator) exchangeFields(r *rand.Rand, obs *copyRow, ds *dataset, fp footprint, start time.Time, determined bool, validation, proof string) {
	if r.Float64() < 0.55 {
		h := 6 + r.IntN(14)
		m := r.IntN(4) * 15
		obs.text(fmt.Sprintf("%02d:%02d", h, m))
		d := 15 + r.IntN(8)*15
		obs.text(fmt.Sprintf("%02d:%02d", min(23, h+(m+d)/60), (m+d)%60))
	} else {
		obs.null()
		obs.null()
	}
	obs.text(ds.producer)
	if determined {
		obs.text(ds.producer)
	} else {
		obs.null()
	}
	// Validated records (certain, probable) name their validator.
	if validation == "1" || validation == "2" {
		obs.text(pick(r, validators) + " (" + validatorOrg + ")")
		obs.text(validatorOrg)
	} else {
		obs.null()
		obs.null()
	}
	obs.text(ds.producer)
	obs.text(transformationOrg)
	// Records of one dataset made on one day in one commune belong to one
	// relevé: its id is the same for all of them.
	if fp.kind != kindAttached && r.Float64() < 0.7 {
		place := ""
		if len(fp.communes) > 0 {
			place = fp.communes[0]
		}
		obs.uuid(groupUUID(ds.id, start, place))
		kind := pickWeighted(r, []string{"REL", "INVSTA", "PASS", "OBS"}, []float64{50, 20, 20, 10})
		obs.text(groupMethods[kind])
		obs.text(kind)
	} else {
		obs.null()
		obs.null()
		obs.null()
	}
	if r.Float64() < 0.15 {
		obs.text(pick(r, contexts))
	} else {
		obs.null()
	}
	if r.Float64() < 0.1 {
		obs.text(pick(r, descriptions))
	} else {
		obs.null()
	}
	if proof == "1" && r.Float64() < 0.3 {
		obs.text(fmt.Sprintf("Herbier ou collection de %s, n° %d", ds.producer, 1+r.IntN(20000)))
	} else {
		obs.null()
	}
}

// groupUUID is the id of a relevé: a dataset, a day, a commune.
func groupUUID(dataset int, day time.Time, commune string) [16]byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("releve/%d/%s/%s", dataset, day.Format("2006-01-02"), commune)))
	var u [16]byte
	copy(u[:], h[:16])
	u[6] = u[6]&0x0f | 0x50 // version 5 layout (name-based)
	u[8] = u[8]&0x3f | 0x80
	return u
}

const (
	validatorOrg      = "Conservatoire botanique et pôles naturalistes d'Occitanie"
	transformationOrg = "DREAL Occitanie (plateforme SINP)"
)

var (
	validators   = []string{"MARTIN Claire", "DUPONT Julien", "FABRE Anne", "ROUX Mathieu", "BLANC Sophie"}
	groupMethods = map[string]string{
		"REL":    "Relevé d'inventaire sur une station, toutes espèces notées",
		"INVSTA": "Inventaire stationnel répété sur l'année",
		"PASS":   "Passage sur un transect ou un point d'écoute",
		"OBS":    "Observations réalisées ensemble lors d'une même sortie",
	}
	contexts = []string{"Sortie naturaliste associative", "Suivi annuel du site", "Étude d'impact préalable à un projet",
		"Inventaire communal de la biodiversité", "Prospection ciblée sur l'espèce"}
	descriptions = []string{"Individu observé en alimentation", "Plusieurs individus en vol", "Station de quelques pieds en fleurs",
		"Contact auditif uniquement", "Traces et indices de présence"}
)
