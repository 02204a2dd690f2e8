package observations_test

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

// inpnNomenclatures reads GeoNature's INPN nomenclature inserts: type labels
// by mnemonic, and value labels by type and code.
func inpnNomenclatures(t *testing.T, path string) (types map[string]string, values map[[2]string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	literal := regexp.MustCompile(`'((?:[^']|'')*)'`)
	typeRow := regexp.MustCompile(`^,?\(\d+, '`)
	valueRow := regexp.MustCompile(`^,?\((?:\d+,\s*)?get_id_nomenclature_type\('`)
	unquote := func(s string) string { return strings.ReplaceAll(s, "''", "'") }
	types, values = map[string]string{}, map[[2]string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		lits := literal.FindAllStringSubmatch(line, -1)
		switch {
		case valueRow.MatchString(line) && len(lits) >= 4:
			// get_id_nomenclature_type('T'), cd_nomenclature, mnemonique, label_fr, ...
			values[[2]string{unquote(lits[0][1]), unquote(lits[1][1])}] = unquote(lits[3][1])
		case typeRow.MatchString(line) && len(lits) >= 2:
			// id_type, mnemonique, label_fr, ...
			types[unquote(lits[0][1])] = unquote(lits[1][1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(values) < 500 || types["SENSIBILITE"] == "" {
		t.Fatalf("%s: read %d values and %d types; the file's layout changed?", path, len(values), len(types))
	}
	return types, values
}

// Every code and label the store ships is the INPN's.
func TestNomenclaturesMatchINPN(t *testing.T) {
	path := shareddata.Require(t, "nomenclatures", "nomenclatures_inpn_data.sql")
	inpnTypes, inpnValues := inpnNomenclatures(t, path)
	db := pgtest.NewDB(t, observations.Migrations)
	ctx := context.Background()

	rows, err := db.Query(ctx, `SELECT type, label FROM oc_dat.nomenclature_type ORDER BY type`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, label string
		if err := rows.Scan(&typ, &label); err != nil {
			t.Fatal(err)
		}
		if want, ok := inpnTypes[typ]; !ok {
			t.Errorf("type %s is not an INPN nomenclature type", typ)
		} else if label != want {
			t.Errorf("type %s: label %q, INPN says %q", typ, label, want)
		}
	}
	rows.Close()

	rows, err = db.Query(ctx, `SELECT type, code, label FROM oc_dat.v_extract_nomenclature ORDER BY type, code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	shipped := map[string]int{}
	for rows.Next() {
		var typ, code, label string
		if err := rows.Scan(&typ, &code, &label); err != nil {
			t.Fatal(err)
		}
		n++
		shipped[typ]++
		want, ok := inpnValues[[2]string{typ, code}]
		switch {
		case !ok:
			t.Errorf("%s %s (%q) is not an INPN code", typ, code, label)
		case label != want:
			t.Errorf("%s %s: label %q, INPN says %q", typ, code, label, want)
		}
	}
	// A shipped type is shipped whole: every INPN code of it is there.
	inpnCount := map[string]int{}
	for k := range inpnValues {
		inpnCount[k[0]]++
	}
	for typ, got := range shipped {
		if got != inpnCount[typ] {
			t.Errorf("type %s: %d codes shipped, the INPN has %d", typ, got, inpnCount[typ])
		}
	}
	var missing int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.nomenclature_type nt WHERE NOT EXISTS (SELECT 1 FROM oc_dat.nomenclature n WHERE n.type = nt.type)`).Scan(&missing); err != nil {
		t.Fatal(err)
	}
	if missing > 0 {
		t.Errorf("%d nomenclature types have no value", missing)
	}
	// The facts DESIGN.md relies on.
	for k, want := range map[[2]string]string{
		{"SENSIBILITE", "4"}:  "Sensible - Aucune diffusion",
		{"NIV_PRECIS", "2"}:   "Maille",
		{"NAT_OBJ_GEO", "In"}: "Inventoriel",
		{"DS_PUBLIQUE", "Pr"}: "Privée",
	} {
		var label string
		if err := db.QueryRow(ctx, `SELECT label FROM oc_dat.v_extract_nomenclature WHERE type = $1 AND code = $2`, k[0], k[1]).Scan(&label); err != nil || label != want {
			t.Errorf("%s %s: label %q (%v), want %q", k[0], k[1], label, err, want)
		}
	}
	t.Logf("%d shipped codes checked against %s", n, path)
}
