package extraction

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/sevenzip"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/source"
	"sinp.occitanie.fr/observations/storetest"
	"sinp.occitanie.fr/platform/archivekey"
	"sinp.occitanie.fr/platform/testenv"
	"sinp.occitanie.fr/sevenz"
)

// A 40 km box around Toulouse: it crosses commune, cell and département
// boundaries (31 and 82), so blurring meets every case.
const toulouseBox = "POLYGON((555000 6260000,595000 6260000,595000 6300000,555000 6300000,555000 6260000))"

var stamp = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func extract(t *testing.T, db *pgxpool.Pool, spec Spec) (*Result, string) {
	t.Helper()
	if spec.Reference == "" {
		spec.Reference = "T-" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	spec.Stamp = stamp
	dir := t.TempDir()
	res, err := Extract(context.Background(), spec, dir, Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return res, dir
}

// row is one CSV row read back from an archive.
type row struct {
	file   string // partition file name
	fields map[string]string
}

// readArchive reads every file of an archive with bodgit/sevenzip.
func readArchive(t *testing.T, path, password string) map[string][]byte {
	t.Helper()
	r, err := sevenzip.OpenReaderWithPassword(path, password)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	files := map[string][]byte{}
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", path, f.Name, err)
		}
		files[f.Name] = b
	}
	return files
}

// rowsOf parses the partitions of an archive, checking each header.
func rowsOf(t *testing.T, files map[string][]byte) []row {
	t.Helper()
	header, err := Header()
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for name, b := range files {
		if !strings.HasSuffix(name, ".csv") || name == DescriptorName {
			continue
		}
		r := csv.NewReader(bytes.NewReader(b))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: not RFC 4180 CSV: %v", name, err)
		}
		if !slices.Equal(recs[0], header) {
			t.Fatalf("%s: header %q, want the documented columns", name, recs[0])
		}
		for _, rec := range recs[1:] {
			m := make(map[string]string, len(header))
			for i, h := range header {
				m[h] = rec[i]
			}
			rows = append(rows, row{file: name, fields: m})
		}
	}
	return rows
}

// truth is what the store says of an observation.
type truth struct {
	pole, viewType    string
	sensi, dsPub, niv string
	communes, mailles []string
	departements      []string
	wkt               string
}

// expected selects, independently of the extractor's query, the
// observations of a perimeter (geometry intersecting it, or attached to an
// object reaching more than a metre inside it).
func expected(t *testing.T, db *pgxpool.Pool, perimeter string) map[string]truth {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		WITH p AS (SELECT ST_GeomFromText($1, 2154) AS g),
		hit AS (SELECT a.kind, a.code FROM oc_dat.v_extract_area a, p WHERE ST_Intersects(a.geom, ST_Buffer(p.g, -1)))
		SELECT s.id_sinp_occtax::text, s.pole, s.type_geometrie, s.sensi_niveau::text, s.ds_publique,
		       coalesce(s.diffusion_niveau_precision, ''), s.communes, s.mailles10, s.departements, coalesce(ST_AsText(s.geom), '')
		FROM oc_dat.v_extract_source s, p
		WHERE (s.geom IS NOT NULL AND ST_Intersects(s.geom, p.g))
		   OR (s.geom IS NULL AND EXISTS (SELECT 1 FROM hit WHERE hit.kind = s.rattachement AND
		         hit.code = ANY (CASE s.rattachement WHEN 'commune' THEN s.communes WHEN 'maille10' THEN s.mailles10
		                         WHEN 'departement' THEN s.departements ELSE s.espaces_naturels END)))`, perimeter)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]truth{}
	for rows.Next() {
		var id string
		var tr truth
		if err := rows.Scan(&id, &tr.pole, &tr.viewType, &tr.sensi, &tr.dsPub, &tr.niv, &tr.communes, &tr.mailles, &tr.departements, &tr.wkt); err != nil {
			t.Fatal(err)
		}
		out[id] = tr
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func byFile(res *Result, dir, file string) []DeliverableResult {
	var out []DeliverableResult
	for _, d := range res.Deliverables {
		if d.Key.File == file {
			out = append(out, d)
		}
	}
	return out
}

// Every observation of the perimeter is once in F1 (blurred when
// sensitive) or withheld from it for a reason DESIGN.md gives; every
// sensitive one is once in the F2 of its pôle for an adherent.
func TestEveryObservationLandsWhereTheRulesSay(t *testing.T) {
	db := storetest.Pool(t)
	want := expected(t, db, toulouseBox)
	if len(want) < 500 {
		t.Fatalf("only %d observations in the test perimeter: the store is too thin to test anything", len(want))
	}
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: true, SplitByGeometry: true})
	if res.Selected != int64(len(want)) {
		t.Errorf("selected %d rows, the perimeter holds %d observations", res.Selected, len(want))
	}
	f1 := rowsOf(t, readArchive(t, filepath.Join(dir, byFile(res, dir, F1)[0].ArchiveName), ""))
	seen := map[string]int{}
	blurLevels := map[Level]int{}
	for _, r := range f1 {
		id := r.fields["identifiantPermanent"]
		seen[id]++
		tr, ok := want[id]
		if !ok {
			t.Fatalf("F1 holds %s, which is not in the perimeter", id)
		}
		level := EffectiveLevel(tr.sensi, tr.dsPub, tr.niv)
		if level == NoDiffusion {
			t.Fatalf("F1 holds %s at level 4", id)
		}
		if !strings.HasPrefix(r.file, "F1_"+tr.pole+"_") {
			t.Errorf("%s of pôle %s is in %s", id, tr.pole, r.file)
		}
		if level > Precise {
			blurLevels[level]++
			if r.fields["floutageExtraction"] != "OUI" || r.fields["natureObjetGeo"] != "In" || r.fields["precisionGeometrie"] != "" {
				t.Errorf("sensitive %s is not blurred in F1: %v", id, r.fields)
			}
			for _, c := range source.Exported() {
				if c.Precise && r.fields[c.CSV] != "" {
					t.Errorf("sensitive %s keeps its precise %s in F1: %q", id, c.CSV, r.fields[c.CSV])
				}
			}
		} else if tr.viewType != ObjGeograph && r.fields["geometrie"] != tr.wkt {
			t.Errorf("precise %s: F1 geometry %.80s differs from the store's %.80s", id, r.fields["geometrie"], tr.wkt)
		}
	}
	for id, tr := range want {
		level := EffectiveLevel(tr.sensi, tr.dsPub, tr.niv)
		_, unique := BlurObject(level, Containment{tr.communes, tr.mailles, tr.departements})
		mustBeInF1 := level == Precise || (level < NoDiffusion && unique)
		if got := seen[id]; (mustBeInF1 && got != 1) || (!mustBeInF1 && got != 0) {
			t.Errorf("%s (level %d, unique object %v) appears %d times in F1", id, level, unique, got)
		}
	}
	for _, l := range []Level{Commune, Maille10, Departement} {
		if blurLevels[l] == 0 {
			t.Errorf("no row blurred at level %d: the test store does not exercise it", l)
		}
	}

	inF2 := map[string]int{}
	for _, d := range byFile(res, dir, F2) {
		for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, d.ArchiveName), "")) {
			id := r.fields["identifiantPermanent"]
			inF2[id]++
			tr := want[id]
			if tr.pole != d.Key.Pole {
				t.Errorf("%s of pôle %s is in the F2 of %s", id, tr.pole, d.Key.Pole)
			}
			if tr.wkt != "" && r.fields["geometrie"] != tr.wkt {
				t.Errorf("%s: F2 geometry %.80s differs from the store's %.80s", id, r.fields["geometrie"], tr.wkt)
			}
		}
	}
	for id, tr := range want {
		sensitive := EffectiveLevel(tr.sensi, tr.dsPub, tr.niv) > Precise
		if got := inF2[id]; (sensitive && got != 1) || (!sensitive && got != 0) {
			t.Errorf("%s (sensitive %v) appears %d times in F2", id, sensitive, got)
		}
	}
}

// A non-adherent gets no F2 at all, and level-4 data appears nowhere.
func TestNonAdherentGetsNoF2(t *testing.T) {
	db := storetest.Pool(t)
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: false})
	if f2 := byFile(res, dir, F2); len(f2) != 0 {
		t.Fatalf("a non-adherent got %d F2 archives", len(f2))
	}
	if res.F2 != 0 {
		t.Fatalf("%d rows went to F2", res.F2)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "_F2_") {
			t.Fatalf("%s left in the run directory", e.Name())
		}
	}
	want := expected(t, db, toulouseBox)
	for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, res.Deliverables[0].ArchiveName), "")) {
		tr := want[r.fields["identifiantPermanent"]]
		if EffectiveLevel(tr.sensi, tr.dsPub, tr.niv) == NoDiffusion {
			t.Fatalf("level-4 observation %s reached a non-adherent", r.fields["identifiantPermanent"])
		}
	}
}

// A blurred geometry contains the observation and is exactly the commune,
// cell or département its level and containment call for; the codes it
// shows are no finer.
func TestBlurredGeometryIsTheRightObject(t *testing.T) {
	db := storetest.Pool(t)
	want := expected(t, db, toulouseBox)
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: false, Attached: AttachedMostPrecise})
	ctx := context.Background()
	checked := 0
	for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, res.Deliverables[0].ArchiveName), "")) {
		if r.fields["floutageExtraction"] != "OUI" {
			continue
		}
		id := r.fields["identifiantPermanent"]
		tr := want[id]
		level := EffectiveLevel(tr.sensi, tr.dsPub, tr.niv)
		if level == Precise {
			continue // blurred at creation by its producer
		}
		ref, _ := BlurObject(level, Containment{tr.communes, tr.mailles, tr.departements})
		var equal, contains bool
		// The object's geometry, at the extract's centimetre precision.
		err := db.QueryRow(ctx, `SELECT ST_AsText(a.geom, 2) = $1,
			$2 = '' OR ST_Covers(ST_GeomFromText($1, 2154), ST_GeomFromText($2, 2154))
			FROM oc_dat.v_extract_area a WHERE a.kind = $3 AND a.code = $4`,
			r.fields["geometrie"], tr.wkt, ref.Kind, ref.Code).Scan(&equal, &contains)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !equal || !contains {
			t.Errorf("%s (level %d): F1 geometry equals %s %s: %v, contains the observation: %v", id, level, ref.Kind, ref.Code, equal, contains)
		}
		shown := Containment{splitCodes(r.fields["codeCommune"]), splitCodes(r.fields["codeMaille"]), splitCodes(r.fields["codeDepartement"])}
		if (level >= Maille10 || ref.Kind != KindCommune) && len(shown.Communes) > 0 {
			t.Errorf("%s blurred to %s shows communes %v", id, ref.Kind, shown.Communes)
		}
		if ref.Kind != KindMaille10 && len(shown.Mailles10) > 0 {
			t.Errorf("%s blurred to %s shows cells %v", id, ref.Kind, shown.Mailles10)
		}
		if r.fields["codeEN"] != "" {
			t.Errorf("%s blurred shows natural areas", id)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d blurred rows checked", checked)
	}
}

func splitCodes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// Attached observations: no WKT under "none"; under "most_precise", the
// geometry of the finest object at which the attachment is unique.
func TestAttachedObservationsFollowThePolicy(t *testing.T) {
	db := storetest.Pool(t)
	want := expected(t, db, toulouseBox)
	for _, policy := range []AttachedPolicy{AttachedNone, AttachedMostPrecise} {
		res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, Attached: policy, SplitByGeometry: true})
		n := 0
		for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, res.Deliverables[0].ArchiveName), "")) {
			tr := want[r.fields["identifiantPermanent"]]
			if tr.viewType != ObjGeograph {
				continue
			}
			n++
			if !strings.HasSuffix(r.file, "_obj_geograph.csv") {
				t.Errorf("attached observation in %s", r.file)
			}
			geom := r.fields["geometrie"]
			if policy == AttachedNone && geom != "" {
				t.Fatalf("policy none wrote a geometry for %s", r.fields["identifiantPermanent"])
			}
			if policy == AttachedMostPrecise && r.fields["floutageExtraction"] != "OUI" {
				ref, ok := MostPrecise(Containment{tr.communes, tr.mailles, tr.departements})
				if !ok {
					continue
				}
				var equal bool
				if err := db.QueryRow(context.Background(), `SELECT ST_AsText(geom, 2) = $1 FROM oc_dat.v_extract_area WHERE kind = $2 AND code = $3`,
					geom, ref.Kind, ref.Code).Scan(&equal); err != nil || !equal {
					t.Errorf("%s: geometry is not that of %s %s (%v)", r.fields["identifiantPermanent"], ref.Kind, ref.Code, err)
				}
			}
		}
		if n == 0 {
			t.Fatal("no attached observation in the perimeter")
		}
	}
}

// Above hashedAbove hit objects, attached observations are matched by a
// hashed lookup instead of the GIN index: the same rows either way.
func TestHashedAttachmentSelectsTheSameRows(t *testing.T) {
	db := storetest.Pool(t)
	ids := func() map[string]int {
		res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: true})
		seen := map[string]int{}
		for _, d := range res.Deliverables {
			for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, d.ArchiveName), "")) {
				seen[d.Key.File+" "+r.fields["identifiantPermanent"]]++
			}
		}
		return seen
	}
	viaIndex := ids()
	saved := hashedAbove
	hashedAbove = 0
	t.Cleanup(func() { hashedAbove = saved })
	hashed := ids()
	if len(hashed) != len(viaIndex) {
		t.Errorf("hashed lookup selected %d rows, the index %d", len(hashed), len(viaIndex))
	}
	for k, n := range viaIndex {
		if hashed[k] != n {
			t.Errorf("%s: %d times through the index, %d hashed", k, n, hashed[k])
		}
	}
}

// The buffer option adds exactly the observations within their precision
// of the perimeter.
func TestBufferAddsExactlyTheRowsWithinPrecision(t *testing.T) {
	db := storetest.Pool(t)
	plain, _ := extract(t, db, Spec{PerimeterWKT: toulouseBox})
	buffered, _ := extract(t, db, Spec{PerimeterWKT: toulouseBox, Buffer: true})
	var near int64
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM oc_dat.v_extract_source s
		WHERE s.geom IS NOT NULL AND NOT ST_Intersects(s.geom, ST_GeomFromText($1, 2154))
		  AND ST_DWithin(s.geom, ST_GeomFromText($1, 2154), coalesce(s.precision_geometrie, 0))`, toulouseBox).Scan(&near); err != nil {
		t.Fatal(err)
	}
	if near == 0 {
		t.Fatal("no observation lies within its precision of the box: the test proves nothing")
	}
	if got := buffered.Selected - plain.Selected; got != near {
		t.Fatalf("the buffer added %d rows, %d lie within their precision", got, near)
	}
}

// The descriptor lists every column and, for each coded column, exactly the
// codes present in the archive's CSV files.
func TestDescriptorListsExactlyTheCodesPresent(t *testing.T) {
	db := storetest.Pool(t)
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: true})
	for _, d := range res.Deliverables {
		files := readArchive(t, filepath.Join(dir, d.ArchiveName), "")
		present := map[string]map[string]bool{}
		l, err := newLayout()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rowsOf(t, files) {
			for _, c := range l.columns() {
				if c.Nomenclature == "" || r.fields[c.CSV] == "" {
					continue
				}
				if present[c.CSV] == nil {
					present[c.CSV] = map[string]bool{}
				}
				for _, code := range strings.Split(r.fields[c.CSV], "|") { // typeEN lists one code per area
					present[c.CSV][code] = true
				}
			}
		}
		rd := csv.NewReader(bytes.NewReader(files[DescriptorName]))
		rd.Comma = ';'
		recs, err := rd.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]map[string]bool{}
		columns := map[string]bool{}
		for _, rec := range recs[1:] {
			if rec[3] == "" {
				columns[rec[0]] = true
				continue
			}
			if rec[4] == "" || strings.HasPrefix(rec[4], "(code absent") {
				t.Errorf("%s: %s code %s has no label", d.ArchiveName, rec[0], rec[3])
			}
			if listed[rec[0]] == nil {
				listed[rec[0]] = map[string]bool{}
			}
			listed[rec[0]][rec[3]] = true
		}
		for _, c := range source.Exported() {
			if !columns[c.CSV] {
				t.Errorf("%s: descriptor does not describe %s", d.ArchiveName, c.CSV)
			}
		}
		if fmt.Sprint(sortedSets(listed)) != fmt.Sprint(sortedSets(present)) {
			t.Errorf("%s: descriptor codes\n%v\nare not the codes present\n%v", d.ArchiveName, sortedSets(listed), sortedSets(present))
		}
	}
}

func sortedSets(m map[string]map[string]bool) []string {
	var out []string
	for col, set := range m {
		for code := range set {
			out = append(out, col+"="+code)
		}
	}
	sort.Strings(out)
	return out
}

// The archives pass a real 7-Zip's test, and GDAL opens every CSV with its
// geometries in EPSG:2154.
func TestArchivesPass7ZipAndOpenInGDAL(t *testing.T) {
	for _, tool := range []string{"7zz", "ogrinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s (./scripts/setup.sh installs it): %v", tool, err)
		}
	}
	db := storetest.Pool(t)
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox, F2Entitled: true, SplitByGeometry: true, Attached: AttachedMostPrecise})
	for _, d := range res.Deliverables {
		path := filepath.Join(dir, d.ArchiveName)
		if out, err := exec.Command("7zz", "t", path).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("Everything is Ok")) {
			t.Fatalf("7zz t %s: %v\n%s", d.ArchiveName, err, out)
		}
	}
	x := t.TempDir()
	f1 := filepath.Join(dir, byFile(res, dir, F1)[0].ArchiveName)
	if out, err := exec.Command("7zz", "x", "-o"+x, f1).CombinedOutput(); err != nil {
		t.Fatalf("7zz x: %v\n%s", err, out)
	}
	csvs, _ := filepath.Glob(filepath.Join(x, "F1_*_points.csv"))
	polys, _ := filepath.Glob(filepath.Join(x, "F1_*_polygones.csv"))
	if len(csvs) == 0 || len(polys) == 0 {
		t.Fatal("no points or polygons partition to open")
	}
	for _, c := range append(csvs[:1], polys[:1]...) {
		out, err := exec.Command("ogrinfo", "-ro", "-al", "-so", c).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", c, err, out)
		}
		s := string(out)
		for _, want := range []string{"Lambert-93", "Geometry Column", "cdNom: Integer", "jourDateDebut: Date", "heureDateDebut: Time", "sensiNiveau: Integer"} {
			if !strings.Contains(s, want) {
				t.Errorf("ogrinfo %s does not show %q:\n%s", filepath.Base(c), want, s)
			}
		}
		full, err := exec.Command("ogrinfo", "-ro", "-al", "-q", "-where", "1=1", "-fid", "1", c).CombinedOutput()
		if err != nil || (!bytes.Contains(full, []byte("POINT (")) && !bytes.Contains(full, []byte("POLYGON ("))) {
			t.Errorf("ogrinfo does not read a WKT geometry from %s: %v\n%.2000s", filepath.Base(c), err, full)
		}
	}
}

// The same spec over the same store gives byte-identical archives (what a
// restarted extraction relies on), F2 encrypted ones included, each F2
// with a password of its own: another F2's does not open it.
func TestRepeatedRunIsByteIdentical(t *testing.T) {
	db := storetest.Pool(t)
	spec := Spec{Reference: "SAME", PerimeterWKT: toulouseBox, F2Entitled: true, SplitByGeometry: true, Stamp: stamp}
	secret := archivekey.Secret("a deployment secret of thirty-two bytes")
	opt := Options{DB: db, Pack: PackOptions{F2Password: secret.Password}}
	var sums [2][]string
	for i := range sums {
		res, err := Extract(context.Background(), spec, t.TempDir(), opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range res.Deliverables {
			sums[i] = append(sums[i], d.ArchiveName+" "+d.SHA256)
			if d.Key.File != F2 {
				continue
			}
			if !d.Encrypted {
				t.Errorf("%s not encrypted", d.ArchiveName)
			}
			if err := sevenz.Check(d.Path, secret.Password(d.ID)); err != nil {
				t.Errorf("%s with its password: %v", d.ArchiveName, err)
			}
			if err := sevenz.Check(d.Path, secret.Password(d.ID+"-another")); err == nil {
				t.Errorf("%s opens with another deliverable's password", d.ArchiveName)
			}
		}
	}
	if !slices.Equal(sums[0], sums[1]) {
		t.Fatalf("two runs differ:\n%v\n%v", sums[0], sums[1])
	}
}

// The benchmark's shell procedure selects the extractor's rows: the whole
// selection, and for each pôle the rows of its F2.
func TestShellQuerySelectsTheExtractorsRows(t *testing.T) {
	db := storetest.Pool(t)
	areas := []AreaRef{{KindDepartement, "82"}}
	res, dir := extract(t, db, Spec{Areas: areas, F2Entitled: true})
	idsOf := func(query string) map[string]bool {
		rows, err := db.Query(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		ids := map[string]bool{}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			id, ok := vals[0].([16]byte)
			if !ok {
				t.Fatalf("the shell query's first column is %T, want the uuid idSINPOccTax", vals[0])
			}
			ids[fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	all := map[string]bool{}
	f2 := 0
	for _, d := range res.Deliverables {
		ids := map[string]bool{}
		for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, d.ArchiveName), "")) {
			ids[r.fields["identifiantPermanent"]] = true
			all[r.fields["identifiantPermanent"]] = true
		}
		if d.Key.File == F2 {
			f2++
			if shell := idsOf(ShellQuery(areas, d.Key.Pole)); !maps.Equal(shell, ids) {
				t.Errorf("F2 %s: the shell query selects %d rows, the archive holds %d", d.Key.Pole, len(shell), len(ids))
			}
		}
	}
	if f2 == 0 {
		t.Fatal("no F2 archive: the test proves nothing")
	}
	// An adherent gets every selected row in F1 or F2.
	if shell := idsOf(ShellQuery(areas, "")); !maps.Equal(shell, all) || int64(len(all)) != res.Selected {
		t.Errorf("the shell query selects %d rows, the extractor %d (%d in its archives)", len(shell), res.Selected, len(all))
	}
}
