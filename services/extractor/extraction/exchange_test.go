package extraction

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations/source"
	"sinp.occitanie.fr/observations/storetest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// What the store says of an observation, for the exchange fields.
type exchangeTruth struct {
	attached, floutage, groupID, contexte string
	communes                              []string
}

// The extract reads as a standard exchange file: each attachment with its
// companions, the producer's dEEFloutage kept and the extract's blurring
// in a column of its own, one empty form, WKT without float noise, the
// private "standard" level blurred, and the descriptor listing what is
// left out.
func TestExchangeFileFollowsTheStandard(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	store := map[string]exchangeTruth{}
	rows, err := db.Query(ctx, `SELECT id_sinp_occtax::text, coalesce(rattachement, ''), coalesce(dee_floutage, ''),
		coalesce(id_regroupement::text, ''), coalesce(obs_contexte, ''), communes FROM oc_dat.observation`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var tr exchangeTruth
		if err := rows.Scan(&id, &tr.attached, &tr.floutage, &tr.groupID, &tr.contexte, &tr.communes); err != nil {
			t.Fatal(err)
		}
		store[id] = tr
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	rows, err = db.Query(ctx, `SELECT code, nom FROM oc_dat.commune`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code, name string
		if err := rows.Scan(&code, &name); err != nil {
			t.Fatal(err)
		}
		names[code] = name
	}
	want := expected(t, db, toulouseBox)

	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: true, Attached: AttachedMostPrecise})
	quotedEmpty := regexp.MustCompile(`(^|;)""(;|$)`)
	noisy := regexp.MustCompile(`\d\.\d{3,}`)
	var blurred, cellBlurred, cellWithDept, private, georef, attached, grouped int
	for _, d := range res.Deliverables {
		files := readArchive(t, filepath.Join(dir, d.ArchiveName), "")
		for name, b := range files {
			if !strings.HasSuffix(name, ".csv") {
				continue
			}
			if bytes.HasPrefix(b, utf8BOM) {
				t.Errorf("%s starts with a byte order mark by default", name)
			}
			for i, line := range strings.Split(string(b), "\n") {
				if quotedEmpty.MatchString(line) {
					t.Fatalf("%s line %d writes an empty value as \"\": %.300s", name, i+1, line)
				}
			}
		}
		for _, r := range rowsOf(t, files) {
			f := r.fields
			id := f["identifiantPermanent"]
			tr, ok := store[id]
			if !ok {
				t.Fatalf("%s: row %s is not in the store", r.file, id)
			}
			if noisy.MatchString(f["geometrie"]) {
				t.Fatalf("%s: %s has coordinates finer than the centimetre: %.200s", r.file, id, f["geometrie"])
			}
			if f["dEEFloutage"] != tr.floutage {
				t.Errorf("%s: dEEFloutage %q, the producer said %q", id, f["dEEFloutage"], tr.floutage)
			}
			if f["sensiManuelle"] == "NON" && f["sensiVersionReferentiel"] == "" {
				t.Errorf("%s: computed sensitivity without its referential's version", id)
			}
			if (f["sensiNiveau"] != "0") != (f["sensible"] == "OUI") {
				t.Errorf("%s: sensible %q for level %s", id, f["sensible"], f["sensiNiveau"])
			}
			if f["floutageExtraction"] == "OUI" {
				if d.Key.File != F1 {
					t.Fatalf("%s: a blurred row in %s", id, d.ArchiveName)
				}
				blurred++
				for _, col := range []string{"typeInfoGeoCommune", "typeInfoGeoMaille", "typeInfoGeoDepartement", "typeInfoGeoEN"} {
					if f[col] != "" && f[col] != InfoGeoAttachment {
						t.Errorf("%s: blurred row has %s = %q, want 2 (rattachement)", id, col, f[col])
					}
				}
				for _, col := range []string{"identifiantRegroupementPermanent", "typeRegroupement", "methodeRegroupement", "heureDateDebut", "heureDateFin",
					"obsContexte", "obsDescription", "preuveNonNumerique", "nomLieu"} {
					if f[col] != "" {
						t.Errorf("%s: blurred row keeps %s", id, col)
					}
				}
				if f["codeMaille"] != "" {
					cellBlurred++
					var covering []string
					if err := db.QueryRow(ctx, `SELECT coalesce(array_agg(d.code), '{}') FROM oc_dat.v_extract_area c
						JOIN oc_dat.v_extract_area d ON d.kind = 'departement' AND ST_Covers(d.geom, c.geom)
						WHERE c.kind = 'maille10' AND c.code = $1`, f["codeMaille"]).Scan(&covering); err != nil {
						t.Fatal(err)
					}
					wantDept := ""
					if len(covering) == 1 {
						wantDept = covering[0]
						cellWithDept++
					}
					if f["codeDepartement"] != wantDept {
						t.Errorf("%s: blurred to cell %s (covered by %v), shows département %q", id, f["codeMaille"], covering, f["codeDepartement"])
					}
				}
			} else {
				if f["floutageExtraction"] != "NON" {
					t.Errorf("%s: floutageExtraction %q", id, f["floutageExtraction"])
				}
				if f["identifiantRegroupementPermanent"] != tr.groupID {
					t.Errorf("%s: grouping %q, the store says %q", id, f["identifiantRegroupementPermanent"], tr.groupID)
				}
				if tr.groupID != "" {
					grouped++
				}
				var wantNames []string
				for _, c := range tr.communes {
					wantNames = append(wantNames, names[c])
				}
				if f["codeCommune"] != strings.Join(tr.communes, "|") || f["nomCommune"] != strings.Join(wantNames, "|") {
					t.Errorf("%s: communes %q named %q, want %q named %q", id, f["codeCommune"], f["nomCommune"], tr.communes, wantNames)
				}
				wantType := InfoGeoAttachment
				if tr.attached == KindCommune {
					wantType = InfoGeoGeoreference
					attached++
				} else if tr.attached == "" {
					georef++
				}
				if len(tr.communes) > 0 && (f["typeInfoGeoCommune"] != wantType || f["anneeRefCommune"] != "2018") {
					t.Errorf("%s (attached to %q): typeInfoGeoCommune %q, anneeRefCommune %q", id, tr.attached, f["typeInfoGeoCommune"], f["anneeRefCommune"])
				}
				if f["codeMaille"] != "" && (f["nomRefMaille"] == "" || f["versionRefMaille"] == "") {
					t.Errorf("%s: cell without its referential", id)
				}
				if f["codeEN"] != "" && len(strings.Split(f["typeEN"], "|")) != len(strings.Split(f["codeEN"], "|")) {
					t.Errorf("%s: natural areas %q typed %q", id, f["codeEN"], f["typeEN"])
				}
			}
			if w := want[id]; d.Key.File == F1 && w.dsPub == "Pr" && (w.niv == "0" || w.niv == "") {
				private++
				if f["floutageExtraction"] != "OUI" {
					t.Errorf("%s: private at the standard level delivered precisely in F1", id)
				}
			}
		}
		descriptorLists(t, files[DescriptorName])
	}
	t.Logf("%d blurred (%d to a cell, %d of them with their département), %d private at the standard level, %d georeferenced, %d attached to a commune, %d in a grouping",
		blurred, cellBlurred, cellWithDept, private, georef, attached, grouped)
	if blurred < 50 || cellBlurred == 0 || private == 0 || attached == 0 || grouped == 0 {
		t.Fatal("the perimeter does not exercise every case")
	}
}

// descriptorLists checks the descriptor names every omitted field with its
// reason, and orders numeric codes as numbers.
func descriptorLists(t *testing.T, b []byte) {
	t.Helper()
	rd := csv.NewReader(bytes.NewReader(b))
	rd.Comma = ';'
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	absent := map[string]bool{}
	var sensi []string
	for _, rec := range recs[1:] {
		if rec[6] == "absent" && strings.Contains(rec[5], ":") {
			absent[rec[0]] = true
		}
		if rec[0] == "sensiNiveau" && rec[3] != "" {
			sensi = append(sensi, rec[3])
		}
	}
	for _, o := range source.Omitted {
		if !absent[o.CSV] {
			t.Errorf("the descriptor does not list %s as omitted with its reason", o.CSV)
		}
	}
	if strings.Join(sortCodes(setOf(sensi)), ",") != strings.Join(sensi, ",") {
		t.Errorf("sensiNiveau codes listed as %v", sensi)
	}
}

func setOf(s []string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, v := range s {
		m[v] = struct{}{}
	}
	return m
}

// --excel starts every CSV with a byte order mark; the rows are the same.
func TestExcelOptionAddsAByteOrderMark(t *testing.T) {
	db := storetest.Pool(t)
	plain, dirPlain := extract(t, db, Spec{Reference: "X-PLAIN", PerimeterWKT: toulouseBox})
	// As a request asks for it (ExtractionOptions.excel).
	asked := SpecFrom(&eventsv1.Perimeter{Wkt: toulouseBox}, nil, nil, &eventsv1.ExtractionOptions{Excel: true})
	asked.Reference = "X-PLAIN"
	excel, dirExcel := extract(t, db, asked)
	a := readArchive(t, filepath.Join(dirPlain, plain.Deliverables[0].ArchiveName), "")
	b := readArchive(t, filepath.Join(dirExcel, excel.Deliverables[0].ArchiveName), "")
	n := 0
	for name, body := range b {
		if !strings.HasSuffix(name, ".csv") {
			continue
		}
		if !bytes.HasPrefix(body, utf8BOM) {
			t.Errorf("%s has no byte order mark", name)
		}
		if !bytes.Equal(body[len(utf8BOM):], a[name]) {
			t.Errorf("%s differs beyond its byte order mark", name)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("%d CSV files compared", n)
	}
}
