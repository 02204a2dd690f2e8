package observations_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/source"
	"sinp.occitanie.fr/platform/pgtest"
)

// The extractor builds its CSV header and descriptor from the catalogue and
// reads the view: both must name the same columns, in the same order, with
// the same types and meanings.
func TestCatalogueMatchesView(t *testing.T) {
	db := pgtest.NewDB(t, observations.Migrations)
	rows, err := db.Query(context.Background(), `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(col_description(a.attrelid, a.attnum), '')
		FROM pg_attribute a
		WHERE a.attrelid = 'oc_dat.v_extract_source'::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var name, typ, comment string
		if err := rows.Scan(&name, &typ, &comment); err != nil {
			t.Fatal(err)
		}
		if i >= len(source.Columns) {
			t.Errorf("view column %d %s (%s) is not in the catalogue", i, name, typ)
			i++
			continue
		}
		c := source.Columns[i]
		if c.View != name || c.SQLType != typ {
			t.Errorf("column %d: view has %s %s, catalogue %s %s", i, name, typ, c.View, c.SQLType)
		}
		if !strings.Contains(comment, c.Meaning) || (c.Exported() && !strings.HasPrefix(comment, c.CSV+": ")) ||
			(c.Nomenclature != "" && !strings.Contains(comment, "["+c.Nomenclature+"]")) {
			t.Errorf("column %s: comment %q does not match the catalogue (%s: %s [%s])", name, comment, c.CSV, c.Meaning, c.Nomenclature)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i < len(source.Columns) {
		t.Errorf("catalogue has %d columns, the view %d", len(source.Columns), i)
	}
	exported := source.Exported()
	seen := map[string]bool{}
	for _, c := range exported {
		if c.CSV == "" || seen[c.CSV] {
			t.Errorf("exported column %s has an empty or repeated CSV name %q", c.View, c.CSV)
		}
		seen[c.CSV] = true
	}
	t.Logf("%d columns, %d exported", len(source.Columns), len(exported))
}

// The status columns of the catalogue are the status types stored as data.
func TestStatusTypesMatchTable(t *testing.T) {
	db := pgtest.NewDB(t, observations.Migrations)
	rows, err := db.Query(context.Background(), `SELECT code, colonne, libelle FROM oc_dat.statut_type ORDER BY ordre`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var code, col, label string
		if err := rows.Scan(&code, &col, &label); err != nil {
			t.Fatal(err)
		}
		if i >= len(source.StatusTypes) {
			t.Fatalf("statut_type %s is not in source.StatusTypes", code)
		}
		s := source.StatusTypes[i]
		if s.Code != code || s.Column != col || s.Label != label {
			t.Errorf("status %d: table (%s, %s, %s), catalogue (%s, %s, %s)", i, code, col, label, s.Code, s.Column, s.Label)
		}
		i++
	}
	if i != len(source.StatusTypes) || i != 26 {
		t.Errorf("%d status types in the table, %d in the catalogue, want 26", i, len(source.StatusTypes))
	}
}

func TestMigrateTwice(t *testing.T) {
	db := pgtest.NewDB(t, observations.Migrations)
	if _, err := pgMigrate(db); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

// `sinp store init` creates the store on an empty database and brings a
// store it created up to date, but leaves alone an oc_dat it did not
// create: the platform's real biodiv_oc.
func TestStoreInitRefusesAStoreItDidNotCreate(t *testing.T) {
	ctx := context.Background()
	empty := pgtest.NewDB(t)
	applied, err := observations.Init(ctx, empty)
	if err != nil || len(applied) != 1 || len(applied[0].Versions) == 0 {
		t.Fatalf("init on an empty database: %v %v", applied, err)
	}
	again, err := observations.Init(ctx, empty)
	if err != nil || len(again[0].Versions) != 0 {
		t.Fatalf("init again: %v %v", again, err)
	}

	foreign := pgtest.NewDB(t)
	if _, err := foreign.Exec(ctx, `CREATE SCHEMA oc_dat; CREATE TABLE oc_dat.observation (id bigint PRIMARY KEY, cd_nom integer)`); err != nil {
		t.Fatal(err)
	}
	if _, err := observations.Init(ctx, foreign); !errors.Is(err, observations.ErrForeignStore) {
		t.Fatalf("init on a foreign oc_dat: %v", err)
	}
	var tables int
	_ = foreign.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'oc_dat'`).Scan(&tables)
	if tables != 1 {
		t.Fatalf("the foreign store now has %d tables", tables)
	}
}

// The extractor's API lists the pôles through v_extract_pole, in the
// platform's order.
func TestPoleViewListsThePolesInOrder(t *testing.T) {
	db := pgtest.NewDB(t, observations.Migrations)
	rows, err := db.Query(context.Background(), `SELECT code FROM oc_dat.v_extract_pole ORDER BY sort_order`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			t.Fatal(err)
		}
		got = append(got, code)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("v_extract_pole lists %v, want %v", got, want)
	}
}
