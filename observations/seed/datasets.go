package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// dataset is a generated dataset: its observations take their pôle, public
// or private status and the producer's diffusion level from it.
type dataset struct {
	id          int
	uuid        [16]byte
	code        string
	pole        int
	producer    string
	dsPublique  string
	nivPrecis   string // NIV_PRECIS for private data, "" otherwise
	framework   int
	title       string
	firstYear   int
	lastYear    int
	weight      float64
	observers   []string
	description string
}

type framework struct {
	id      int
	uuid    [16]byte
	title   string
	owner   string
	start   int
	end     int
	purpose string
}

const (
	datasetCount   = 300
	frameworkCount = 40
)

var frameworkPurposes = []string{"Inventaire logique espace", "Inventaire espèce", "Évaluation des impacts", "Suivi temporel d'espèces",
	"Atlas", "Programme de recherche", "Plan de gestion d'un espace naturel", "Études d'impact réglementaires"}

var licences = []string{"Licence Ouverte 2.0 (Etalab)", "Licence Ouverte 2.0 (Etalab)", "CC-BY 4.0", "CC-BY-SA 4.0", "ODbL 1.0"}

func uuidFrom(r *rand.Rand) [16]byte {
	var u [16]byte
	a, b := r.Uint64(), r.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func makeFrameworks(r *rand.Rand) []framework {
	out := make([]framework, frameworkCount)
	for i := range out {
		start := 1975 + r.IntN(45)
		out[i] = framework{
			id: i + 1, uuid: uuidFrom(r), start: start, end: min(2024, start+2+r.IntN(30)),
			owner:   pick(r, organisations) + " " + capitalise(pick(r, syllables)+pick(r, syllables)+"ais"),
			purpose: pick(r, frameworkPurposes),
		}
		out[i].title = fmt.Sprintf("%s %s (%d-%d)", out[i].purpose, capitalise(pick(r, syllables)+pick(r, syllables)+"ès"), out[i].start, out[i].end)
	}
	return out
}

// makeDatasets spreads datasets over the pôles by their share (at least ten
// each); a tenth of them are private, most with a producer's diffusion level.
func makeDatasets(r *rand.Rand, fws []framework) []dataset {
	out := make([]dataset, 0, datasetCount)
	for pi, p := range poles {
		n := max(10, int(p.share*datasetCount))
		for k := range n {
			fw := fws[r.IntN(len(fws))]
			last := 2005 + r.IntN(20)
			d := dataset{
				id: len(out) + 1, uuid: uuidFrom(r), pole: pi, framework: fw.id,
				producer:  pick(r, organisations) + " " + capitalise(pick(r, syllables)+pick(r, syllables)+"ais"),
				firstYear: max(1970, last-1-r.IntN(45)), lastYear: last,
				weight: 1 / float64(k+1), // a few large datasets, many small ones
			}
			d.code = fmt.Sprintf("JDD-%s-%03d", p.code[:3], k+1)
			d.title = fmt.Sprintf("%s : %s %s", fw.purpose, poleTitle[p.code], capitalise(pick(r, syllables)+pick(r, syllables)+"ès"))
			d.description = fmt.Sprintf("Observations de %s recueillies par %s entre %d et %d.", poleTitle[p.code], d.producer, d.firstYear, d.lastYear)
			switch u := r.Float64(); {
			case u < 0.10:
				d.dsPublique = "Pr"
				d.nivPrecis = pickWeighted(r, []string{"0", "1", "2", "3", "4", "5"}, []float64{25, 25, 25, 12, 5, 8})
			case u < 0.97:
				d.dsPublique = "Pu"
			default:
				d.dsPublique = "NSP"
			}
			for range 3 + r.IntN(40) {
				d.observers = append(d.observers, fmt.Sprintf("%s %s (%s)", pick(r, lastNames), pick(r, firstNames), d.producer))
			}
			out = append(out, d)
		}
	}
	// Every diffusion level appears among the private datasets.
	k := 0
	for i := range out {
		if out[i].dsPublique == "Pr" && k < 6 {
			out[i].nivPrecis = strconv.Itoa(k)
			k++
		}
	}
	return out
}

var poleTitle = map[string]string{"flore": "flore et fonge", "invertebres": "invertébrés", "mammiferes": "mammifères",
	"reptiles_amphibiens": "reptiles et amphibiens", "oiseaux": "oiseaux", "poissons": "poissons"}

// pickWeighted draws one of values with the given relative weights.
func pickWeighted[T any](r *rand.Rand, values []T, weights []float64) T {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	u := r.Float64() * sum
	for i, w := range weights {
		if u < w {
			return values[i]
		}
		u -= w
	}
	return values[len(values)-1]
}

func insertMetadata(ctx context.Context, tx pgx.Tx, fws []framework, ds []dataset) error {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	rows := make([][]any, len(fws))
	for i, f := range fws {
		rows[i] = []any{f.id, f.uuid, f.title, "Cadre d'acquisition : " + f.purpose + ".", f.purpose, "Occitanie",
			f.owner, f.owner, pick(rand.New(rand.NewPCG(uint64(f.id), 7)), []string{"Publique", "Privée", "Mixte"}),
			date(f.start, time.January, 1), date(f.end, time.December, 31)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "cadre_acquisition"},
		[]string{"id", "id_sinp_ca", "libelle", "description", "objectif", "territoire", "maitre_ouvrage", "maitre_oeuvre", "financement", "date_lancement", "date_cloture"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed: acquisition frameworks: %w", err)
	}
	rows = make([][]any, len(ds))
	for i, d := range ds {
		r := rand.New(rand.NewPCG(uint64(d.id), 11))
		contact := pick(r, d.observers)
		conditions := "Diffusion libre selon la licence."
		if d.dsPublique == "Pr" {
			conditions = "Donnée privée : diffusion selon la convention SINP du producteur, précision de diffusion " + nivPrecisLabel[d.nivPrecis] + "."
		}
		var niv any
		if d.nivPrecis != "" {
			niv = d.nivPrecis
		}
		rows[i] = []any{d.id, d.uuid, d.framework, d.code, d.title, d.description, poles[d.pole].code, d.producer,
			contact, fmt.Sprintf("contact.jdd%d@example.org", d.id), pick(r, licences), conditions,
			fmt.Sprintf("%s (%d). %s. Jeu de données SINP %s.", d.producer, d.lastYear, d.title, d.code),
			d.dsPublique, niv, date(d.firstYear, time.January, 1), date(d.lastYear, time.December, 31),
			date(d.lastYear, time.December, 31), date(min(2024, d.lastYear+1), time.June, 30), fmt.Sprintf("SRC-%s-%d", d.code, d.firstYear)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "jeu_donnees"},
		[]string{"id", "id_sinp_jdd", "id_cadre_acquisition", "code", "libelle", "description", "pole", "producteur", "contact_nom",
			"contact_email", "licence", "conditions_diffusion", "citation", "ds_publique", "diffusion_niveau_precision",
			"date_debut", "date_fin", "date_creation", "date_revision", "id_source"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed: datasets: %w", err)
	}
	return nil
}

var nivPrecisLabel = map[string]string{"0": "standard", "1": "à la commune", "2": "à la maille 10 km", "3": "au département", "4": "aucune", "5": "précise"}
