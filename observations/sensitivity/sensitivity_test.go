package sensitivity_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/sensitivity"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// The rules as DESIGN.md states them: taxon, département, duration,
// biological status; the highest matching level wins.
func TestLevel(t *testing.T) {
	rules := []sensitivity.Rule{
		{ID: 1, CdNom: 100, CdDept: "34", Codage: 1},
		{ID: 2, CdNom: 100, CdDept: "34", Codage: 3, Duree: 10, StatutBiologique: "3"},
		{ID: 3, CdNom: 100, CdDept: "30", Codage: 2, Duree: 20},
		{ID: 4, CdNom: 200, CdDept: "09", Codage: 2, StatutBiologique: "7"}, // v1 "swarming", a behaviour in v2
		{ID: 5, CdNom: 301, CdDept: "65", Codage: 4},                        // names a synonym of taxon 300
	}
	ref := sensitivity.NewReferential("test", "1", rules, func(n int) (int, bool) {
		if n == 301 {
			return 300, true
		}
		return 0, false
	})
	today := date(2025, 6, 1)
	for _, tc := range []struct {
		name string
		obs  sensitivity.Observation
		want int
	}{
		{"taxon without rule", sensitivity.Observation{CdRef: 999, Departements: []string{"34"}, DateFin: date(2024, 5, 1)}, 0},
		{"rule of another département", sensitivity.Observation{CdRef: 100, Departements: []string{"11"}, DateFin: date(2024, 5, 1)}, 0},
		{"plain rule", sensitivity.Observation{CdRef: 100, Departements: []string{"34"}, DateFin: date(2024, 5, 1), StatutBiologique: "1"}, 1},
		{"breeding raises the level", sensitivity.Observation{CdRef: 100, Departements: []string{"34"}, DateFin: date(2024, 5, 1), StatutBiologique: "3"}, 3},
		{"breeding too old: the plain rule stays", sensitivity.Observation{CdRef: 100, Departements: []string{"34"}, DateFin: date(2010, 5, 1), StatutBiologique: "3"}, 1},
		{"duration counts in years (2015 + 10 >= 2025)", sensitivity.Observation{CdRef: 100, Departements: []string{"34"}, DateFin: date(2015, 1, 1), StatutBiologique: "3"}, 3},
		{"spanning two départements: the highest", sensitivity.Observation{CdRef: 100, Departements: []string{"30", "34"}, DateFin: date(2024, 5, 1)}, 2},
		{"20 years elapsed", sensitivity.Observation{CdRef: 100, Departements: []string{"30"}, DateFin: date(2004, 5, 1)}, 0},
		{"v1 status matched by the v2 behaviour", sensitivity.Observation{CdRef: 200, Departements: []string{"09"}, DateFin: date(2024, 5, 1), Comportement: "7"}, 2},
		{"other behaviour", sensitivity.Observation{CdRef: 200, Departements: []string{"09"}, DateFin: date(2024, 5, 1), Comportement: "1"}, 0},
		{"rule on a synonym applies to the taxon", sensitivity.Observation{CdRef: 300, Departements: []string{"65"}, DateFin: date(1990, 5, 1)}, 4},
	} {
		if got := ref.Level(tc.obs, today); got != tc.want {
			t.Errorf("%s: level %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReadRealReferential(t *testing.T) {
	path := shareddata.Require(t, "sensitivity", "especesensible.sql")
	rules, err := sensitivity.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	occitanie := map[string]bool{"09": true, "11": true, "12": true, "30": true, "31": true, "32": true, "34": true,
		"46": true, "48": true, "65": true, "66": true, "81": true, "82": true}
	n, levels := 0, map[int]int{}
	for _, r := range rules {
		if occitanie[r.CdDept] {
			n++
			levels[r.Codage]++
		}
		if len(r.CdDept) < 2 {
			t.Fatalf("line %d: département %q not padded", r.Line, r.CdDept)
		}
	}
	if len(rules) < 15000 || n < 4000 || levels[1] == 0 || levels[2] == 0 || levels[3] == 0 {
		t.Errorf("%d rules, %d in Occitanie, levels %v", len(rules), n, levels)
	}
	t.Logf("%d rules, %d for Occitanie départements, levels %v", len(rules), n, levels)
}

func TestReadErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"COPY especesensible (cd_dept, id, cd_nom, duree, codage, autre, cd_sl, cd_occ_statut_biologique, nom_cite) FROM stdin;\n34\t1\t100\t\\N\t7\t\\N\t14\t\\N\tX y\n\\.\n", "ref.sql:2: column codage: 7 is not a SENSIBILITE level"},
		{"COPY especesensible (cd_dept, id, cd_nom, duree, codage, autre, cd_sl, cd_occ_statut_biologique, nom_cite) FROM stdin;\n34\t1\tabc\t\\N\t1\t\\N\t14\t\\N\tX y\n\\.\n", "ref.sql:2: column cd_nom: \"abc\" is not an integer"},
		{"COPY especesensible (cd_dept, id) FROM stdin;\n", "ref.sql:1: column cd_nom missing"},
		{"hello\n", "not a sensitivity referential"},
		{"cd_dept\tid\tcd_nom\tduree\tcodage\tautre\tcd_sl\tcd_occ_statut_biologique\tnom_cite\n34\t1\t100\n", "ref.sql:2: 3 fields"},
	} {
		_, err := sensitivity.Read(strings.NewReader(tc.in), "ref.sql")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// Observations placed in the départements of real rules get the rules'
// levels; a second run changes nothing; hand-set levels are left alone.
func TestApplyRealReferential(t *testing.T) {
	path := shareddata.Require(t, "sensitivity", "especesensible.sql")
	rules, err := sensitivity.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A rule per case, found in the real file.
	find := func(ok func(r sensitivity.Rule) bool) sensitivity.Rule {
		t.Helper()
		for _, r := range rules {
			if ok(r) {
				return r
			}
		}
		t.Fatal("no such rule in the referential")
		return sensitivity.Rule{}
	}
	inOcc := func(r sensitivity.Rule) bool {
		return strings.Contains(" 09 11 12 30 31 32 34 46 48 65 66 81 82 ", " "+r.CdDept+" ")
	}
	plain := map[int]sensitivity.Rule{}
	for level := 1; level <= 3; level++ {
		plain[level] = find(func(r sensitivity.Rule) bool {
			return inOcc(r) && r.Codage == level && r.Duree == 0 && r.StatutBiologique == ""
		})
	}
	timed := find(func(r sensitivity.Rule) bool { return inOcc(r) && r.Duree > 0 && r.StatutBiologique == "" })
	breeding := find(func(r sensitivity.Rule) bool { return inOcc(r) && r.StatutBiologique == "3" && r.Duree == 0 })

	db := pgtest.NewDB(t, observations.Migrations)
	ctx := context.Background()
	type obs struct {
		id     int
		cdNom  int
		dept   string
		end    time.Time
		bio    string
		manual bool
		want   int
	}
	// Each taxon's highest level in its département decides; compute it with
	// the Go referential so the test reads the file's facts, not ours.
	ref := sensitivity.NewReferential("x", "", rules, nil)
	today := time.Now()
	level := func(cd int, dept string, end time.Time, bio string) int {
		return ref.Level(sensitivity.Observation{CdRef: cd, Departements: []string{dept}, DateFin: end, StatutBiologique: bio}, today)
	}
	recent := today.AddDate(-1, 0, 0)
	cases := []obs{
		{1, plain[1].CdNom, plain[1].CdDept, recent, "1", false, 0},
		{2, plain[2].CdNom, plain[2].CdDept, recent, "1", false, 0},
		{3, plain[3].CdNom, plain[3].CdDept, recent, "1", false, 0},
		{4, plain[3].CdNom, "75", recent, "1", false, 0}, // outside the rule's département
		{5, timed.CdNom, timed.CdDept, recent, "1", false, 0},
		{6, timed.CdNom, timed.CdDept, today.AddDate(-timed.Duree-2, 0, 0), "1", false, 0},
		{7, breeding.CdNom, breeding.CdDept, recent, "3", false, 0},
		{8, 99999999, "34", recent, "1", false, 0},
		{9, plain[1].CdNom, plain[1].CdDept, recent, "1", true, 4}, // set by hand: stays 4
	}
	for i := range cases {
		c := &cases[i]
		if !c.manual {
			c.want = level(c.cdNom, c.dept, c.end, c.bio)
		}
		sensi := 0
		if c.manual {
			sensi = 4
		}
		if _, err := db.Exec(ctx, `
			INSERT INTO oc_dat.observation (id, id_sinp_occtax, statut_observation, cd_nom, cd_ref, nom_cite, date_debut, date_fin,
				observateur, organisme_gestionnaire_donnee, statut_source, ds_publique, jdd_id, type_info_geo, rattachement,
				departements, occ_statut_biologique, sensi_niveau, sensi_manuelle, pole)
			VALUES ($1, gen_random_uuid(), 'Pr', $2, $2, 'x', $3, $3, 'X', 'Y', 'Te', 'Pu', 1, '2', 'departement', ARRAY[$4], $5, $6, $7, 'flore')`,
			c.id, c.cdNom, c.end, c.dept, c.bio, sensi, c.manual); err != nil {
			t.Fatal(err)
		}
	}
	if cases[0].want != 1 || cases[1].want != 2 || cases[2].want != 3 || cases[3].want != 0 || cases[5].want != 0 || cases[7].want != 0 {
		t.Fatalf("the chosen rules do not give the expected levels: %+v", cases)
	}
	res, err := sensitivity.Apply(ctx, db, rules, sensitivity.Options{Name: "especesensible", Version: "12", Now: today})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		var got int
		var referential *string
		if err := db.QueryRow(ctx, `SELECT sensi_niveau, sensi_referentiel FROM oc_dat.observation WHERE id = $1`, c.id).Scan(&got, &referential); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("observation %d (cd_nom %d in %s, ended %s, status %s): level %d, want %d", c.id, c.cdNom, c.dept, c.end.Format("2006-01-02"), c.bio, got, c.want)
		}
		if !c.manual && (referential == nil || *referential != "especesensible") {
			t.Errorf("observation %d: sensi_referentiel %v", c.id, referential)
		}
	}
	if res.Manual != 1 || res.Observations != int64(len(cases)) {
		t.Errorf("result %+v", res)
	}
	again, err := sensitivity.Apply(ctx, db, rules, sensitivity.Options{Name: "especesensible", Version: "12", Now: today})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed != 0 {
		t.Errorf("second run changed %d observations", again.Changed)
	}
	var imported int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.sensibilite_regle WHERE referentiel = 'especesensible'`).Scan(&imported); err != nil || imported != len(rules) {
		t.Errorf("%d rules imported (%v), want %d", imported, err, len(rules))
	}
}

// A referential's version is its dump's date, else a digest of its bytes:
// two files never share one, one file always gives the same.
func TestVersionOf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dump := write("dump.sql", "--\n-- PostgreSQL database dump\n--\n\n-- Started on 2018-11-23 13:38:41 CET\n\nSET x = 1;\n")
	a := write("a.tsv", "cd_dept\tid\n31\t1\n")
	b := write("b.tsv", "cd_dept\tid\n31\t2\n")
	for _, tc := range []struct{ path, want string }{{dump, "2018-11-23"}} {
		if got, err := sensitivity.VersionOf(tc.path); err != nil || got != tc.want {
			t.Errorf("VersionOf(%s) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	va, _ := sensitivity.VersionOf(a)
	vb, _ := sensitivity.VersionOf(b)
	va2, _ := sensitivity.VersionOf(a)
	if !strings.HasPrefix(va, "sha256:") || va == vb || va != va2 {
		t.Errorf("digest versions: a %q, b %q, a again %q", va, vb, va2)
	}
	if _, err := sensitivity.VersionOf(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file has a version")
	}
}
