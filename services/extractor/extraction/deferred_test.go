package extraction

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations/storetest"
)

// Deferred rows come back by object kind and code, then pôle, each group
// in arrival order; the spool leaves no file behind.
func TestDeferredGroupsRowsByObjectAndPole(t *testing.T) {
	// Without the store's objects every row is in one bucket; with them
	// they spread over several, read back in order.
	for _, objects := range [][]AreaRef{nil, {{KindCommune, "31069"}, {KindCommune, "31555"}, {KindCommune, "82121"},
		{KindDepartement, "31"}, {KindMaille10, "10kmL93E057N628"}}} {
		testDeferredOrder(t, objects)
	}
}

func testDeferredOrder(t *testing.T, objects []AreaRef) {
	dir := t.TempDir()
	d := newDeferred(dir, objects)
	defer d.close()
	in := []struct {
		rec  string
		pole string
		obj  AreaRef
	}{
		{"r1", "oiseaux", AreaRef{KindCommune, "31555"}},
		{"r2", "flore", AreaRef{KindDepartement, "31"}},
		{"r3", "oiseaux", AreaRef{KindCommune, "31069"}},
		{"r4", "oiseaux", AreaRef{KindCommune, "31555"}},
		{"r5", "flore", AreaRef{KindCommune, "82121"}},
		{"r6", "flore", AreaRef{KindDepartement, "31"}},
		{"r7;with \"quotes\";and a longer tail", "oiseaux", AreaRef{KindMaille10, "10kmL93E057N628"}},
	}
	for _, r := range in {
		if err := d.add([]byte(r.rec), blurGroup{pole: r.pole, obj: r.obj}); err != nil {
			t.Fatal(err)
		}
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("the spool is visible in the folder: %v", files)
	}
	used := 0
	for _, b := range d.buckets {
		if b != nil {
			used++
		}
	}
	if want := map[bool]int{true: 1, false: 5}[objects == nil]; used != want {
		t.Errorf("rows of %d objects in %d buckets, want %d", len(objects), used, want)
	}
	var got []string
	if err := d.each(func(rec []byte) error { got = append(got, string(rec)); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"r3", "r1", "r4", "r5", "r2", "r6", in[6].rec}
	if !slices.Equal(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
	objs := d.objects()
	wantObjs := []AreaRef{{KindCommune, "31069"}, {KindCommune, "31555"}, {KindCommune, "82121"}, {KindDepartement, "31"}, {KindMaille10, "10kmL93E057N628"}}
	if !slices.Equal(objs, wantObjs) {
		t.Fatalf("objects %v, want %v", objs, wantObjs)
	}
}

// In F1, the blurred rows of each partition come grouped by the object
// they are blurred to: an object's rows are never split by another's.
func TestBlurredRowsAreGroupedByObject(t *testing.T) {
	db := storetest.Pool(t)
	want := expected(t, db, toulouseBox)
	res, dir := extract(t, db, Spec{PerimeterWKT: toulouseBox})
	groups := 0
	for _, d := range byFile(res, dir, F1) {
		seen := map[string]map[string]bool{} // partition -> groups met
		last := map[string]string{}
		for _, r := range rowsOf(t, readArchive(t, filepath.Join(dir, d.ArchiveName), "")) {
			tr := want[r.fields["identifiantPermanent"]]
			if EffectiveLevel(tr.sensi, tr.dsPub, tr.niv) == Precise {
				continue
			}
			g := strings.Join([]string{r.fields["codeCommune"], r.fields["codeMaille"], r.fields["codeDepartement"]}, "/")
			if seen[r.file] == nil {
				seen[r.file] = map[string]bool{}
			}
			if g != last[r.file] {
				if seen[r.file][g] {
					t.Fatalf("%s: the rows blurred to %s are split by another object's", r.file, g)
				}
				seen[r.file][g] = true
				groups++
			}
			last[r.file] = g
		}
	}
	if groups < 10 {
		t.Fatalf("%d groups of blurred rows: the test proves nothing", groups)
	}
}
