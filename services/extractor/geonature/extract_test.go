package geonature_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/sevenzip"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/geonature"
	"sinp.occitanie.fr/observations/geonature/geonaturetest"
	"sinp.occitanie.fr/services/extractor/extraction"
)

// row is one CSV row of an archive, by column name.
type row map[string]string

// archive reads every CSV partition of an archive.
func archive(t *testing.T, path string) (map[string][]row, map[string][]byte) {
	t.Helper()
	header, err := extraction.Header()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sevenzip.OpenReader(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	parts := map[string][]row{}
	files := map[string][]byte{}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
		if !strings.HasSuffix(f.Name, ".csv") || f.Name == extraction.DescriptorName {
			continue
		}
		cr := csv.NewReader(bytes.NewReader(b))
		cr.Comma = ';'
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !slices.Equal(recs[0], header) {
			t.Fatalf("%s: header %q, want %q", f.Name, recs[0], header)
		}
		for _, rec := range recs[1:] {
			m := row{}
			for i, h := range header {
				m[h] = rec[i]
			}
			parts[f.Name] = append(parts[f.Name], m)
		}
	}
	return parts, files
}

// check compares the fields of got that want names.
func check(t *testing.T, what string, got row, want row) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no column %s", what, k)
		} else if g != v {
			t.Errorf("%s: %s = %q, want %q", what, k, g, v)
		}
	}
}

func uuidOf(t *testing.T, db *pgxpool.Pool, id int) string {
	t.Helper()
	var u string
	if err := db.QueryRow(context.Background(), `SELECT unique_id_sinp::text FROM gn_synthese.synthese WHERE id_synthese = $1`, id).Scan(&u); err != nil {
		t.Fatal(err)
	}
	return u
}

// The extractor, unchanged, on GeoNature's sample: an adherent's request
// over the sample's commune. The lynx and a frog are in F1 as GeoNature
// holds them; the other frog, made sensitive (level 2, 10 km cell), is in
// F1 blurred to its cell and in the F2 of its pôle at full precision; an
// observation attached to the commune is in F1 without geometry of its own.
func TestExtractGeoNatureSample(t *testing.T) {
	ctx := context.Background()
	db := geonaturetest.Pool(t)
	if _, err := db.Exec(ctx, `UPDATE gn_synthese.synthese SET id_nomenclature_sensitivity = ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '2') WHERE id_synthese = 6`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO gn_synthese.synthese (id_synthese, unique_id_sinp, id_dataset, cd_nom, nom_cite, date_min, date_max, observers,
			id_area_attachment, id_nomenclature_info_geo_type, the_geom_local, the_geom_4326)
		SELECT 50, 'b9a35f5e-2a55-4c61-9d5e-7d0c9a7c1e01', 2, 60612, 'Lynx', '2019-03-04', '2019-03-04', 'TEST Attaché',
			a.id_area, ref_nomenclatures.get_id_nomenclature('TYP_INF_GEO', '2'), a.geom, ST_Transform(a.geom, 4326)
		FROM ref_geo.l_areas a WHERE a.id_area = $1`, geonaturetest.CommuneArea); err != nil {
		t.Fatal(err)
	}
	if _, err := geonature.Install(ctx, db, nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	spec := extraction.Spec{
		Reference:  "GN-1",
		Areas:      []extraction.AreaRef{{Kind: extraction.KindCommune, Code: geonaturetest.Commune}},
		F2Entitled: true,
		Stamp:      time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC),
	}
	res, err := extraction.Extract(ctx, spec, dir, extraction.Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != 4 || res.F1 != 4 || res.F1Blurred != 1 || res.F2 != 1 || res.Withheld != 0 {
		t.Errorf("counts: %+v", res.Counts)
	}
	var f1, f2 string
	for _, d := range res.Deliverables {
		switch {
		case d.Key.File == extraction.F1:
			f1 = filepath.Join(dir, d.ArchiveName)
		case d.Key.File == extraction.F2 && d.Key.Pole == "reptiles_amphibiens":
			f2 = filepath.Join(dir, d.ArchiveName)
		default:
			t.Errorf("unexpected deliverable %+v", d.Key)
		}
	}
	if f1 == "" || f2 == "" {
		t.Fatalf("deliverables %+v", res.Deliverables)
	}

	parts, files := archive(t, f1)
	byID := map[string]row{}
	for name, rows := range parts {
		for _, r := range rows {
			r["file"] = name
			byID[r["identifiantOrigine"]+"/"+r["identifiantPermanent"]] = r
		}
	}
	get := func(origin string, id int) row {
		t.Helper()
		r, ok := byID[origin+"/"+uuidOf(t, db, id)]
		if !ok {
			t.Fatalf("F1 has no row %d (%v)", id, slices.Collect(func(yield func(string) bool) {
				for k := range byID {
					if !yield(k) {
						return
					}
				}
			}))
		}
		return r
	}
	point := "POINT(976445.73 6422886.6)"
	// GeoNature's local time, in the database's zone, written in UTC.
	var modified string
	if err := db.QueryRow(ctx, `SELECT to_char(('2021-01-11 14:20:46'::timestamp AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone')) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`).Scan(&modified); err != nil {
		t.Fatal(err)
	}
	lynx := get("1", 1)
	check(t, "lynx", lynx, row{
		"file": "F1_mammiferes.csv", "cdNom": "60612", "cdRef": "60612", "nomCite": "Lynx Boréal", "nomValide": "Lynx lynx (Linnaeus, 1758)",
		"jourDateDebut": "2017-01-01", "heureDateDebut": "12:05", "jourDateFin": "2017-01-01", "heureDateFin": "12:05",
		"denombrementMin": "5", "denombrementMax": "5", "objetDenombrement": "IND", "typeDenombrement": "Co",
		"observateurIdentite": "import user", "determinateurIdentite": "Gil",
		"jddId": "1", "jddCode": "Contact aléatoire", "jddMetadonneeDEEId": "4d331cae-65e4-4948-b0b2-a11bc5bb46c2", "dSPublique": "Pu",
		"statutObservation": "Pr", "statutSource": "Te", "natureObjetGeo": "In", "precisionGeometrie": "10",
		"altitudeMin": "1500", "altitudeMax": "1565", "obsContexte": "Relevé n°1", "obsDescription": "Occurrence n°1",
		"preuveNonNumerique": "Poil", "occSexe": "2", "occStadeDeVie": "2", "statutValidation": "0",
		"codeCommune": geonaturetest.Commune, "codeMaille": geonaturetest.Cell, "codeDepartement": geonaturetest.Departement,
		"codeEN": geonaturetest.ParkCore, "sensible": "NON", "sensiNiveau": "0", "dEEFloutage": "NON",
		"dEEDateDerniereModification": modified, "geometrie": point,
		// The companions the extractor derives from v_extract_area.
		"floutageExtraction": "NON", "nomCommune": "Vallouise-Pelvoux", "anneeRefCommune": "2019", "typeInfoGeoCommune": "2",
		"nomRefMaille": "INPN", "versionRefMaille": "2013", "anneeRefDepartement": "2019", "typeEN": "CPN", "versionEN": "2018-12",
	})
	frog := get("2", 2)
	check(t, "frog", frog, row{
		"file": "F1_reptiles_amphibiens.csv", "cdNom": "351", "nomValide": "Rana temporaria Linnaeus, 1758",
		"jourDateDebut": "2017-01-01", "jourDateFin": "2017-01-02", "observateurIdentite": "import user, import user2",
		"determinateurIdentite": "Théo", "occStadeDeVie": "4", "geometrie": point, "sensiNiveau": "0",
	})
	// Level 2: the 10 km cell's square, nothing finer than the cell.
	blurred := get("6", 6)
	check(t, "sensitive frog in F1", blurred, row{
		"file": "F1_reptiles_amphibiens.csv", "cdNom": "351", "sensible": "OUI", "sensiNiveau": "2",
		"geometrie":   "MULTIPOLYGON(((970000 6420000,970000 6430000,980000 6430000,980000 6420000,970000 6420000)))",
		"codeCommune": "", "codeMaille": geonaturetest.Cell, "codeDepartement": geonaturetest.Departement, "codeEN": "",
		"precisionGeometrie": "", "natureObjetGeo": "In", "altitudeMin": "", "altitudeMax": "", "obsContexte": "", "obsDescription": "",
		"preuveNonNumerique": "", "dEEFloutage": "NON", "floutageExtraction": "OUI", "nomCommune": "",
	})
	attached := get("", 50)
	check(t, "attached lynx", attached, row{
		"file": "F1_mammiferes.csv", "geometrie": "", "codeCommune": geonaturetest.Commune,
		"codeMaille":      "10kmL93E097N641|10kmL93E097N642|10kmL93E098N641|10kmL93E098N642",
		"codeDepartement": geonaturetest.Departement, "jddId": "2", "observateurIdentite": "TEST Attaché",
		"jourDateDebut": "2019-03-04", "heureDateDebut": "", "typeInfoGeoCommune": "1", "typeInfoGeoMaille": "2",
	})
	for _, name := range []string{"metadonnees/jdd_1.txt", "metadonnees/jdd_2.txt", "metadonnees/ca_1.txt"} {
		if _, ok := files[name]; !ok {
			t.Errorf("F1 has no %s", name)
		}
	}
	if !bytes.Contains(files["metadonnees/jdd_1.txt"], []byte("Conctat aléatoire tous règnes confondus")) {
		t.Errorf("jdd_1.txt:\n%s", files["metadonnees/jdd_1.txt"])
	}

	parts2, _ := archive(t, f2)
	rows2 := parts2["F2_reptiles_amphibiens.csv"]
	if len(rows2) != 1 {
		t.Fatalf("F2: %v", parts2)
	}
	check(t, "sensitive frog in F2", rows2[0], row{
		"identifiantPermanent": uuidOf(t, db, 6), "identifiantOrigine": "6", "sensiNiveau": "2", "geometrie": point,
		"codeCommune": geonaturetest.Commune, "precisionGeometrie": "100", "altitudeMin": "1600", "obsContexte": "Relevé n°6",
		"observateurIdentite": "import user| import user3", "determinateurIdentite": "Donovan",
	})
}
