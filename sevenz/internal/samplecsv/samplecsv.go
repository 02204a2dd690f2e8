// Package samplecsv generates synthetic observation extracts shaped like the
// platform's CSV deliveries (occurrence rows of ~80 `;`-separated columns with
// WKT geometry in EPSG:2154), so that compression can be measured on realistic
// data without shipping real, possibly sensitive, observations.
//
// The output depends only on the seed and the requested size.
package samplecsv

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// statusColumns are the taxon status columns joined from the reference lists:
// mostly empty, sometimes a short code.
var statusColumns = []string{
	"lrNationale", "lrRegionale", "lrEurope", "lrMonde", "protectionNationale",
	"protectionRegionale", "protectionDepartementale", "directiveHabitats",
	"directiveOiseaux", "conventionBerne", "conventionBonn", "conventionWashington",
	"determinanteZNIEFF", "especeExotiqueEnvahissante", "planNationalAction",
	"priorisationRegionale", "reglementationPeche", "reglementationChasse",
	"arreteFaune", "arreteFlore", "listeOiseauxNicheurs", "listeOiseauxHivernants",
	"listeChiropteres", "sensibiliteNationale", "sensibiliteRegionale", "statutTrameVerte",
}

var fixedColumns = []string{
	"idSINPOccTax", "idOrigine", "statutObservation", "cdNom", "cdRef", "nomCite",
	"nomValide", "versionTAXREF", "dateDebut", "dateFin", "heureDebut", "heureFin",
	"denombrementMin", "denombrementMax", "objetDenombrement", "typeDenombrement",
	"observateur", "determinateur", "organismeGestionnaireDonnee", "organismeStandard",
	"codeIDCNPDispositif", "dSPublique", "diffusionNiveauPrecision", "sensibilite",
	"jddMetadonneeDEEId", "jddCode", "jddSourceId", "idSINPRegroupement",
	"methodeRegroupement", "typeRegroupement", "altitudeMin", "altitudeMax",
	"altitudeMoyenne", "profondeurMin", "profondeurMax", "codeCommune", "nomCommune",
	"codeDepartement", "codeMaille", "precisionGeometrie", "natureObjetGeo",
	"commentaire", "obsDescription", "obsTechnique", "occEtatBiologique",
	"occStatutBiologique", "occNaturalite", "occSexe", "occStadeDeVie",
	"occStatutBioGeographique", "occComportement", "preuveExistante",
	"urlPreuveNumerique", "preuveNonNumerique", "obsContexte", "referenceBiblio",
	"dEEDateDerniereModification", "dEEDateTransformation", "dEEFloutage",
	"sensiNiveau", "sensiReferentiel", "sensiVersionReferentiel", "validationNiveau",
	"geometrie",
}

// Columns returns the header row's column names.
func Columns() []string {
	return append(append([]string(nil), fixedColumns...), statusColumns...)
}

type taxon struct {
	cdNom int
	name  string
	valid string
}

// vocab holds the long-tailed vocabularies of one generator.
type vocab struct {
	taxa      []taxon
	observers []string
	orgs      []string
	datasets  []string
	communes  [][2]string
	comments  []string
}

var (
	genera = []string{"Lacerta", "Podarcis", "Bufo", "Rana", "Parus", "Erithacus",
		"Turdus", "Falco", "Aquila", "Vulpes", "Meles", "Sus", "Capreolus", "Cervus",
		"Ophrys", "Orchis", "Quercus", "Pinus", "Cistus", "Thymus", "Lavandula",
		"Papilio", "Zerynthia", "Coenagrion", "Anax", "Myotis", "Pipistrellus",
		"Rhinolophus", "Emys", "Testudo", "Salamandra", "Triturus", "Circaetus",
		"Milvus", "Gyps", "Bubo", "Athene", "Upupa", "Merops", "Coracias"}
	epithets = []string{"viridis", "muralis", "bufo", "temporaria", "major",
		"rubecula", "merula", "tinnunculus", "chrysaetos", "vulpes", "meles",
		"scrofa", "capreolus", "elaphus", "apifera", "purpurea", "ilex",
		"halepensis", "albidus", "vulgaris", "angustifolia", "machaon", "rumina",
		"mercuriale", "imperator", "myotis", "pipistrellus", "ferrumequinum",
		"orbicularis", "hermanni", "salamandra", "marmoratus", "gallicus",
		"milvus", "fulvus", "bubo", "noctua", "epops", "apiaster", "garrulus"}
	authors = []string{"(Linnaeus, 1758)", "Linnaeus, 1758", "(Laurenti, 1768)",
		"Boie, 1827", "(Schreber, 1774)", "Huds., 1762", "L., 1753", "Mill., 1768",
		"(Esper, 1779)", "(Kuhl, 1817)", "(Gmelin, 1789)", "Scopoli, 1769"}
	givenNames = []string{"Jean", "Marie", "Pierre", "Anne", "Luc", "Claire",
		"Paul", "Sophie", "Michel", "Julie", "Éric", "Hélène", "François", "Céline",
		"Thierry", "Nathalie", "Olivier", "Isabelle", "Gérard", "Aurélie"}
	surnames = []string{"MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT",
		"RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU", "SIMON", "LAURENT",
		"LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT",
		"FOURNIER", "MOREL", "GIRARD", "ANDRÉ", "MERCIER", "BLANC", "GUERIN",
		"BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER"}
	orgKinds = []string{"Conservatoire d'espaces naturels", "Ligue pour la protection des oiseaux",
		"Office français de la biodiversité", "Parc naturel régional", "Conservatoire botanique national",
		"Association naturaliste", "Bureau d'études", "Office national des forêts",
		"Groupe chiroptères", "Société herpétologique"}
	places = []string{"Montpellier", "Toulouse", "Nîmes", "Perpignan", "Béziers",
		"Narbonne", "Carcassonne", "Albi", "Rodez", "Cahors", "Tarbes", "Auch",
		"Mende", "Foix", "Millau", "Sète", "Lodève", "Alès", "Castres", "Figeac",
		"Saint-Guilhem-le-Désert", "Ganges", "Lunel", "Agde", "Céret", "Prades"}
	depts   = []string{"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}
	remarks = []string{"Individu observé en vol", "Chant entendu au lever du jour",
		"Observation opportuniste lors d'un inventaire", "Plusieurs individus sur le site",
		"Donnée issue d'un piège photographique", "Mue observée", "Traces et indices de présence",
		"Station revue après incendie", "Comptage au dortoir", "Détermination à confirmer"}
	statusCodes = []string{"LC", "NT", "VU", "EN", "CR", "DD", "Art.2", "Art.3", "An.II", "An.IV", "Oui", "1"}
)

func newVocab(rng *rand.Rand) *vocab {
	v := &vocab{}
	for i := range 600 {
		g := genera[rng.IntN(len(genera))]
		e := epithets[rng.IntN(len(epithets))]
		name := g + " " + e + " " + authors[rng.IntN(len(authors))]
		valid := name
		if rng.IntN(5) == 0 {
			valid = g + " " + epithets[rng.IntN(len(epithets))] + " " + authors[rng.IntN(len(authors))]
		}
		v.taxa = append(v.taxa, taxon{cdNom: 60000 + i*37 + rng.IntN(30), name: name, valid: valid})
	}
	for range 80 {
		v.orgs = append(v.orgs, orgKinds[rng.IntN(len(orgKinds))]+" "+places[rng.IntN(len(places))])
	}
	for range 3000 {
		v.observers = append(v.observers, fmt.Sprintf("%s %s (%s)",
			surnames[rng.IntN(len(surnames))], givenNames[rng.IntN(len(givenNames))],
			v.orgs[rng.IntN(len(v.orgs))]))
	}
	for range 300 {
		v.datasets = append(v.datasets, uuid(rng))
	}
	for i := range 400 {
		d := depts[rng.IntN(len(depts))]
		name := places[rng.IntN(len(places))]
		if i >= len(places) {
			name += fmt.Sprintf("-%d", i)
		}
		v.communes = append(v.communes, [2]string{fmt.Sprintf("%s%03d", d, rng.IntN(400)), name})
	}
	v.comments = remarks
	return v
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	const hex = "0123456789abcdef"
	var buf [36]byte
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			buf[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = a >> (60 - 4*uint(i)) & 15
		} else {
			nib = b >> (60 - 4*uint(i-16)) & 15
		}
		if i == 12 {
			nib = 4
		}
		buf[j] = hex[nib]
		j++
	}
	return string(buf[:])
}

// Write writes a header row then rows until at least size bytes were written.
// It returns the number of bytes written.
func Write(w io.Writer, size int64, seed uint64) (int64, error) {
	return write(w, size, seed, nil)
}

// WriteBlurred writes rows like Write's, as an F1 delivery has them: one row
// in six is blurred to its commune or département, and its geometry is then
// that area's WKT polygon (1.5 to 42 KB), the same text on every row blurred
// to the same area. There are a few hundred areas, drawn with a long tail,
// so that the same polygon comes back from a few hundred kilobytes to tens of
// megabytes later.
func WriteBlurred(w io.Writer, size int64, seed uint64) (int64, error) {
	return write(w, size, seed, newAreas(seed, 1))
}

// WriteGrouped writes rows like WriteBlurred's, in the order an F1
// extraction returns them: rows blurred to the same area come in groups
// (1 to 15 consecutive rows, 8 on average), so that most polygons repeat
// the one a row or a few rows before, and still one row in six is blurred.
func WriteGrouped(w io.Writer, size int64, seed uint64) (int64, error) {
	return write(w, size, seed, newAreas(seed, 8))
}

func write(w io.Writer, size int64, seed uint64, blur *areas) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5e7e4e))
	v := newVocab(rng)
	taxa := rand.NewZipf(rng, 1.1, 4, uint64(len(v.taxa)-1))
	observers := rand.NewZipf(rng, 1.05, 8, uint64(len(v.observers)-1))
	datasets := rand.NewZipf(rng, 1.2, 2, uint64(len(v.datasets)-1))
	communes := rand.NewZipf(rng, 1.1, 3, uint64(len(v.communes)-1))

	bw := bufio.NewWriterSize(w, 1<<16)
	var written int64
	row := make([]byte, 0, 4096)
	for i, c := range Columns() {
		if i > 0 {
			row = append(row, ';')
		}
		row = append(row, c...)
	}
	row = append(row, '\n')
	for n := 0; written < size; n++ {
		if _, err := bw.Write(row); err != nil {
			return written, err
		}
		written += int64(len(row))
		row = appendRow(row[:0], rng, v, n, taxa, observers, datasets, communes, blur.pick())
	}
	return written, bw.Flush()
}

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

// appendRow appends one occurrence; area, when not nil, is the polygon of
// the area the row is blurred to.
func appendRow(b []byte, rng *rand.Rand, v *vocab, n int, taxa, observers, datasets, communes *rand.Zipf, area []byte) []byte {
	sep := func() { b = append(b, ';') }
	str := func(s string) { b = append(b, s...); sep() }
	num := func(x int) { b = strconv.AppendInt(b, int64(x), 10); sep() }
	maybe := func(p int, s string) {
		if rng.IntN(100) < p {
			b = append(b, s...)
		}
		sep()
	}

	t := v.taxa[taxa.Uint64()]
	ds := datasets.Uint64()
	com := v.communes[communes.Uint64()]
	obs := v.observers[observers.Uint64()]
	day := rng.IntN(365)
	date := fmt.Sprintf("2023-%02d-%02d", 1+day/31%12, 1+day%28)

	str(uuid(rng))
	str("OBS-" + strconv.Itoa(1000000+n*3+rng.IntN(3)))
	str(pick(rng, []string{"Pr", "Pr", "Pr", "No"}))
	num(t.cdNom)
	num(t.cdNom)
	str(t.name)
	str(t.valid)
	str("17.0")
	str(date)
	str(date)
	maybe(30, fmt.Sprintf("%02d:%02d", 6+rng.IntN(12), rng.IntN(4)*15))
	maybe(10, fmt.Sprintf("%02d:%02d", 8+rng.IntN(12), rng.IntN(4)*15))
	cnt := 1 + rng.IntN(3)
	if rng.IntN(10) == 0 {
		cnt = rng.IntN(200)
	}
	num(cnt)
	num(cnt + rng.IntN(2)*rng.IntN(10))
	str(pick(rng, []string{"IND", "IND", "NSP", "CPL", "COL"}))
	str(pick(rng, []string{"Co", "Co", "Es", "NSP"}))
	str(obs)
	maybe(60, obs)
	str(v.orgs[int(ds)%len(v.orgs)])
	str(v.orgs[int(ds*7)%len(v.orgs)])
	str("")
	str(pick(rng, []string{"Pu", "Pr", "Ac", "NSP"}))
	str("0")
	str(pick(rng, []string{"0", "0", "0", "0", "1", "2"}))
	str(v.datasets[ds])
	str("JDD-" + strconv.Itoa(int(ds)))
	str(v.datasets[(ds*13)%uint64(len(v.datasets))])
	maybe(40, uuid(rng))
	maybe(40, "Relevé")
	maybe(40, pick(rng, []string{"OBS", "INVSTA", "PASS"}))
	alt := 5 + rng.IntN(2200)
	num(alt)
	num(alt + rng.IntN(3)*10)
	num(alt + rng.IntN(2)*5)
	str("")
	str("")
	str(com[0])
	str(com[1])
	str(com[0][:2])
	str(fmt.Sprintf("10kmL93E0%02dN6%02d", 50+rng.IntN(35), 15+rng.IntN(30)))
	str(pick(rng, []string{"1", "5", "10", "25", "50", "100", "500"}))
	str(pick(rng, []string{"St", "St", "In", "NSP"}))
	maybe(15, pick(rng, v.comments))
	maybe(5, pick(rng, v.comments))
	str(pick(rng, []string{"0", "1", "21", "23", "0"}))
	str(pick(rng, []string{"1", "2", "0"}))
	str(pick(rng, []string{"1", "0", "2", "3", "4", "5"}))
	str(pick(rng, []string{"1", "0", "2"}))
	str(pick(rng, []string{"0", "1", "2", "3", "6"}))
	str(pick(rng, []string{"0", "1", "2", "3", "4", "5", "26"}))
	str(pick(rng, []string{"1", "0", "2", "3"}))
	str(pick(rng, []string{"0", "1", "4", "12", "13"}))
	str(pick(rng, []string{"1", "2", "0", "NSP"}))
	maybe(3, "https://photo.sinp.example/"+strconv.Itoa(rng.IntN(1e6)))
	maybe(2, "Spécimen en collection")
	maybe(10, pick(rng, []string{"Inventaire", "Suivi", "Atlas", "Étude d'impact"}))
	maybe(1, "Atlas des oiseaux nicheurs, 2015")
	str(fmt.Sprintf("2024-%02d-%02dT%02d:%02d:%02d", 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60)))
	str("2024-06-01T02:00:00")
	str(pick(rng, []string{"NON", "NON", "NON", "OUI"}))
	str(pick(rng, []string{"0", "0", "0", "1", "2"}))
	str("Référentiel de sensibilité Occitanie")
	str("1.2")
	str(pick(rng, []string{"1", "2", "3", "4", "5", "6"}))
	if area != nil {
		b = append(b, area...)
	} else {
		b = appendGeometry(b, rng)
	}
	for i := range statusColumns {
		b = append(b, ';')
		if rng.IntN(100) < 12 {
			b = append(b, statusCodes[(i+rng.IntN(3))%len(statusCodes)]...)
		}
	}
	return append(b, '\n')
}

// appendGeometry appends a WKT geometry in Lambert-93 (EPSG:2154) metres.
func appendGeometry(b []byte, rng *rand.Rand) []byte {
	x := 500000 + rng.Float64()*350000
	y := 6150000 + rng.Float64()*300000
	coord := func(x, y float64) {
		prec := 1 + rng.IntN(2)
		b = strconv.AppendFloat(b, x, 'f', prec, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, y, 'f', prec, 64)
	}
	switch r := rng.IntN(100); {
	case r < 85:
		b = append(b, "POINT("...)
		coord(x, y)
	case r < 95:
		b = append(b, "LINESTRING("...)
		for i := range 3 + rng.IntN(6) {
			if i > 0 {
				b = append(b, ", "...)
			}
			coord(x+float64(i)*rng.Float64()*40, y+float64(i)*rng.Float64()*40)
		}
	default:
		b = append(b, "POLYGON(("...)
		n := 4 + rng.IntN(7)
		for i := range n {
			if i > 0 {
				b = append(b, ", "...)
			}
			coord(x+float64(i%3)*rng.Float64()*60, y+float64(i/3)*rng.Float64()*60)
		}
		b = append(b, ", "...)
		coord(x, y)
		b = append(b, ')')
	}
	return append(b, ')')
}

// areas are the communes and départements that blurred rows point to.
type areas struct {
	rng     *rand.Rand
	depts   [][]byte
	towns   [][]byte
	deptOf  *rand.Zipf
	townOf  *rand.Zipf
	blurred int // one row in blurred is blurred
	group   int // mean number of consecutive rows blurred to one area
	cur     []byte
	left    int // rows of the current group still to come
}

func newAreas(seed uint64, group int) *areas {
	rng := rand.New(rand.NewPCG(seed, 0xb1a4))
	a := &areas{rng: rng, blurred: 6, group: group}
	for range len(depts) {
		a.depts = append(a.depts, polygon(rng, 25_000+rng.IntN(17_000), 900))
	}
	for range 287 {
		// Log-uniform between 1.5 and 15 KB: many small communes, a few large.
		size := int(1500 * math.Pow(10, rng.Float64()))
		a.towns = append(a.towns, polygon(rng, size, 60))
	}
	a.deptOf = rand.NewZipf(rng, 1.3, 2, uint64(len(a.depts)-1))
	a.townOf = rand.NewZipf(rng, 1.05, 4, uint64(len(a.towns)-1))
	return a
}

// pick returns the polygon of the next row, or nil when it is not blurred.
// A group starts on one row in (blurred-1)*group+1 outside groups, so that
// with groups of group rows on average one row in blurred is blurred.
func (a *areas) pick() []byte {
	if a == nil {
		return nil
	}
	if a.left > 0 {
		a.left--
		return a.cur
	}
	if a.rng.IntN((a.blurred-1)*a.group+1) != 0 {
		return nil
	}
	if a.group > 1 {
		a.left = a.rng.IntN(2*a.group - 1)
	}
	if a.rng.IntN(4) == 0 {
		a.cur = a.depts[a.deptOf.Uint64()]
	} else {
		a.cur = a.towns[a.townOf.Uint64()]
	}
	return a.cur
}

// polygon draws the WKT outline of an area of about size bytes, in
// Lambert-93 centimetres, with vertices step metres apart on average.
func polygon(rng *rand.Rand, size int, step float64) []byte {
	x0 := 500000 + rng.Float64()*350000
	y0 := 6150000 + rng.Float64()*300000
	b := append(make([]byte, 0, size+64), "POLYGON(("...)
	x, y := x0, y0
	for i := 0; len(b) < size; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendFloat(b, x, 'f', 2, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, y, 'f', 2, 64)
		x += rng.NormFloat64() * step
		y += rng.NormFloat64() * step
	}
	b = append(b, ", "...)
	b = strconv.AppendFloat(b, x0, 'f', 2, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, y0, 'f', 2, 64)
	return append(b, "))"...)
}
