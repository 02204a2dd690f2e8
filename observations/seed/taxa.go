package seed

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"sinp.occitanie.fr/observations/sensitivity"
)

// pole is a pôle of the platform with its share of the observations (birds
// and flora dominate regional data sets).
type pole struct {
	code   string
	share  float64
	taxa   int // synthetic taxa generated
	groups []group
}

type group struct {
	name   string // INPN group2 (oc_dat.pole_groupe)
	regne  string
	share  float64
	suffix string // ending of generated genus names
}

// The codes are those of oc_dat.pole (migration 0001).
var poles = []pole{
	{"flore", 0.33, 2500, []group{{"Angiospermes", "Plantae", 0.80, "ia"}, {"Fougères", "Plantae", 0.05, "pteris"}, {"Mousses", "Plantae", 0.07, "ella"}, {"Champignons", "Fungi", 0.05, "myces"}, {"Lichens", "Fungi", 0.03, "aria"}}},
	{"invertebres", 0.14, 2000, []group{{"Insectes", "Animalia", 0.75, "us"}, {"Arachnides", "Animalia", 0.08, "ops"}, {"Mollusques", "Animalia", 0.08, "ina"}, {"Crustacés", "Animalia", 0.05, "aris"}, {"Myriapodes", "Animalia", 0.04, "ulus"}}},
	{"mammiferes", 0.06, 100, []group{{"Mammifères", "Animalia", 1, "otis"}}},
	{"reptiles_amphibiens", 0.04, 50, []group{{"Reptiles", "Animalia", 0.5, "erta"}, {"Amphibiens", "Animalia", 0.5, "iton"}}},
	{"oiseaux", 0.40, 350, []group{{"Oiseaux", "Animalia", 1, "icola"}}},
	{"poissons", 0.03, 70, []group{{"Poissons", "Animalia", 1, "inus"}}},
}

func poleIndex(code string) int {
	for i, p := range poles {
		if p.code == code {
			return i
		}
	}
	return -1
}

// taxon is one valid taxon (cd_ref) with its synonyms.
type taxon struct {
	cdRef    int
	name     string
	pole     int
	group    string
	regne    string
	synonyms []synonym
	rank     float64 // 0 common .. 1 rare, within its pôle
	statuses map[string]string
	fromRef  bool // named in the sensitivity referential
}

type synonym struct {
	cdNom int
	name  string
}

// Synthetic TAXREF-like ids sit far above real ones, so they never pass for
// real taxa.
const (
	syntheticCdRef = 90_000_000
	syntheticCdNom = 95_000_000
)

// genusPole classifies the genera of the national and regional sensitivity
// referentials; a genus not listed is an invertebrate.
var genusPole = func() map[string]group {
	m := map[string]group{}
	add := func(g group, genera string) {
		for _, name := range strings.Fields(genera) {
			m[name] = g
		}
	}
	add(group{name: "Oiseaux", regne: "Animalia"}, `Acrocephalus Actitis Aegolius Aegypius Alectoris Anthus Apus Aquila Ardea Ardeola Asio Athene
		Aythya Botaurus Bubo Bubulcus Burhinus Calandrella Caprimulgus Carduelis Charadrius Chroicocephalus Ciconia
		Circaetus Circus Cisticola Columba Coracias Corvus Crex Cygnus Delichon Dendrocopos Dryocopus Egretta Elanus
		Emberiza Falco Ficedula Fulica Gelochelidon Glareola Glaucidium Grus Gypaetus Gyps Haliaeetus Hieraaetus
		Himantopus Hirundo Ixobrychus Jynx Lagopus Lanius Larus Lullula Mareca Melanocorypha Merops Milvus Monticola
		Neophron Numenius Nycticorax Oenanthe Otis Otus Pandion Passer Perdix Pernis Phalacrocorax Phoenicopterus
		Phylloscopus Picoides Platalea Plegadis Porzana Pyrrhocorax Pyrrhula Rallus Recurvirostra Remiz Riparia
		Saxicola Sterna Sternula Strix Sylvia Tachymarptis Tadorna Tetrao Tetrax Tichodroma Turdus Tyto Upupa Vanellus`)
	add(group{name: "Mammifères", regne: "Animalia"}, `Barbastella Canis Castor Eptesicus Felis Galemys Genetta Hypsugo Lutra Lynx Marmota
		Miniopterus Mustela Myotis Nyctalus Pipistrellus Plecotus Rhinolophus Rupicapra Tadarida Ursus Vespertilio`)
	add(group{name: "Reptiles", regne: "Animalia"}, `Emys Mauremys Testudo Timon Vipera Zamenis Coronella Lacerta Iberolacerta Psammodromus`)
	add(group{name: "Amphibiens", regne: "Animalia"}, `Bombina Pelobates Pelodytes Calotriton Salamandra Triturus Alytes Rana Hyla Epidalea`)
	add(group{name: "Poissons", regne: "Animalia"}, `Alosa Anguilla Cobitis Cottus Esox Lampetra Misgurnus Petromyzon Salmo Thymallus Zingel Barbus Chondrostoma`)
	add(group{name: "Fougères", regne: "Plantae"}, `Asplenium Botrychium Diphasiastrum Isoetes Lycopodiella Marsilea Ophioglossum Pilularia Selaginella`)
	add(group{name: "Angiospermes", regne: "Plantae"}, `Achillea Aconitum Adonis Allium Alyssum Anacamptis Andromeda Androsace Anthyllis Aquilegia
		Arabidopsis Arenaria Armeria Artemisia Aster Biscutella Brimeura Buphthalmum Bupleurum Butomus Campanula Carex
		Centaurea Ceratocephalus Cistus Convolvulus Corallorhiza Cyclamen Cypripedium Cytisus Dactylorhiza Damasonium
		Delphinium Dianthus Dioscorea Doronicum Dracocephalum Drosera Epipogium Erodium Euphorbia Fritillaria Gagea
		Genista Gentiana Gymnadenia Hammarbya Hippuris Hyacinthoides Hypericum Hyssopus Iris Ligularia Limonium
		Lysimachia Malcolmia Myricaria Narcissus Neotinea Nigella Ophrys Orchis Paeonia Papaver Phyllodoce Pinguicula
		Plantago Polemonium Potamogeton Potentilla Pseudorchis Ranunculus Rosa Salvia Saponaria Saxifraga Scorzonera
		Sedum Serapias Sternbergia Tanacetum Taraxacum Thalictrum Tragopogon Trifolium Tulipa Typha Vaccaria Vicia Viola`)
	return m
}()

func classify(name string) group {
	genus, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	if g, ok := genusPole[genus]; ok {
		return g
	}
	return group{name: "Autres invertébrés", regne: "Animalia"}
}

func groupPole(g string) int {
	for i, p := range poles {
		for _, pg := range p.groups {
			if pg.name == g {
				return i
			}
		}
	}
	switch g {
	case "Oiseaux":
		return poleIndex("oiseaux")
	case "Mammifères":
		return poleIndex("mammiferes")
	case "Reptiles", "Amphibiens":
		return poleIndex("reptiles_amphibiens")
	case "Poissons":
		return poleIndex("poissons")
	case "Angiospermes", "Fougères":
		return poleIndex("flore")
	}
	return poleIndex("invertebres")
}

// makeTaxa generates the synthetic taxa of every pôle, then adds the taxa
// the referential names (their real cd_nom and names).
func makeTaxa(r *rand.Rand, rules []sensitivity.Rule) []*taxon {
	var out []*taxon
	next, nextSyn := syntheticCdRef, syntheticCdNom
	for pi, p := range poles {
		n := p.taxa
		genusLeft, genus := 0, ""
		for i := range n {
			g := p.groups[len(p.groups)-1]
			u, acc := r.Float64(), 0.0
			for _, c := range p.groups {
				acc += c.share
				if u < acc {
					g = c
					break
				}
			}
			if genusLeft == 0 {
				genus, genusLeft = genusName(r, g.suffix), 1+r.IntN(8)
			}
			genusLeft--
			next++
			t := &taxon{cdRef: next, name: genus + " " + pick(r, epithets), pole: pi, group: g.name, regne: g.regne,
				rank: float64(i) / float64(n)}
			if r.Float64() < 0.12 {
				nextSyn++
				t.synonyms = append(t.synonyms, synonym{nextSyn, genusName(r, g.suffix) + " " + pick(r, epithets)})
			}
			out = append(out, t)
		}
	}
	seen := map[int]bool{}
	for _, rule := range rules {
		if seen[rule.CdNom] || rule.NomCite == "" {
			continue
		}
		seen[rule.CdNom] = true
		g := classify(rule.NomCite)
		out = append(out, &taxon{cdRef: rule.CdNom, name: rule.NomCite, pole: groupPole(g.name), group: g.name, regne: g.regne, rank: 0.9, fromRef: true})
	}
	for _, t := range out {
		t.statuses = statusesFor(r, t)
	}
	return out
}

// statusesFor draws plausible statuses: rare taxa carry more of them.
func statusesFor(r *rand.Rand, t *taxon) map[string]string {
	s := map[string]string{}
	scale := 0.3 + 1.4*t.rank
	if t.fromRef {
		scale = 2
	}
	maybe := func(code string, p float64, values ...string) {
		if r.Float64() < math.Min(1, p*scale) {
			s[code] = pick(r, values)
		}
	}
	redList := []string{"LC", "LC", "NT", "VU", "EN", "CR", "DD"}
	switch poles[t.pole].code {
	case "oiseaux":
		maybe("PN", 0.6, "Art. 3")
		maybe("BERN", 0.5, "An. II", "An. III")
		maybe("BONN", 0.25, "An. I", "An. II")
		maybe("DO", 0.2, "An. I", "An. II/1", "An. II/2")
		maybe("CHASSE", 0.08, "Chassable")
		maybe("CITES", 0.03, "An. A")
		maybe("PNA", 0.03, "PNA "+strings.Fields(t.name)[0])
	case "mammiferes":
		maybe("PN", 0.4, "Art. 2")
		maybe("BERN", 0.4, "An. II", "An. III")
		maybe("BONN", 0.2, "An. II")
		maybe("DH", 0.3, "An. II & IV", "An. IV", "An. V")
		maybe("CHASSE", 0.1, "Chassable")
		maybe("PNA", 0.05, "PNA Chiroptères", "PNA Desman")
	case "reptiles_amphibiens":
		maybe("PN", 0.8, "Art. 2", "Art. 3", "Art. 5")
		maybe("BERN", 0.6, "An. II", "An. III")
		maybe("DH", 0.3, "An. II & IV", "An. IV")
		maybe("PNA", 0.05, "PNA Lézard ocellé", "PNA Cistude")
	case "poissons":
		maybe("PN", 0.2, "Art. 1")
		maybe("BERN", 0.2, "An. III")
		maybe("DH", 0.15, "An. II", "An. V")
		maybe("PNA", 0.03, "PNA Apron", "PNA Anguille")
	case "invertebres":
		maybe("PN", 0.03, "Art. 2", "Art. 3")
		maybe("BERN", 0.02, "An. II")
		maybe("DH", 0.03, "An. II", "An. IV")
		maybe("PNA", 0.01, "PNA Odonates", "PNA Maculinea")
	case "flore":
		maybe("PN", 0.04, "Art. 1", "Art. 2")
		maybe("PR", 0.05, "Art. 1")
		maybe("PD", 0.01, "Art. 1")
		maybe("LR1995", 0.03, "Tome 1", "Tome 2")
		maybe("ZNIEFF_FLORE", 0.08, "1", "2", "3")
		maybe("EEE", 0.03, "Majeure", "Modérée", "Émergente")
		maybe("PREF", 0.01, "Arrêté préfectoral de cueillette")
		maybe("CITES", 0.01, "An. B")
		maybe("DH", 0.01, "An. II", "An. IV")
		if t.group == "Mousses" {
			maybe("LRBRYO", 0.1, "Oui")
		}
	}
	maybe("LRN", 0.35, redList...)
	maybe("LRR", 0.3, redList...)
	maybe("LRE", 0.2, redList...)
	maybe("LRM", 0.15, redList...)
	maybe("ZNIEFF", 0.12, "Déterminante", "Remarquable")
	maybe("ZH", 0.05, "Oui")
	maybe("SRCE", 0.04, "Oui")
	maybe("SCAP", 0.04, "1+", "1-", "2+", "2-", "3")
	maybe("PRIO_REG", 0.03, "1", "2", "3")
	maybe("MENACE", 0.01, "Oui")
	if t.fromRef {
		s["SINP"] = "Sensible"
	}
	return s
}

// zipfWeights gives the long-tailed frequency of taxa within a pôle.
func zipfWeights(n int, exponent float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), exponent)
	}
	return w
}

// alias is Vose's alias table: O(1) draws from a discrete distribution.
type alias struct {
	prob  []float64
	alias []int32
}

func newAlias(weights []float64) *alias {
	n := len(weights)
	a := &alias{prob: make([]float64, n), alias: make([]int32, n)}
	if n == 0 {
		return a
	}
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	scaled := make([]float64, n)
	var small, large []int32
	for i, w := range weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s], a.alias[s] = scaled[s], l
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range slices.Concat(small, large) {
		a.prob[i] = 1
	}
	return a
}

func (a *alias) draw(r *rand.Rand) int {
	i := r.IntN(len(a.prob))
	if r.Float64() < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
