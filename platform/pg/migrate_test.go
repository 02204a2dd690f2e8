package pg_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

var demo = pg.Migrations{
	Component:  "demo",
	Schema:     "demo",
	Extensions: []string{"postgis"},
	FS:         os.DirFS("testdata"),
	Dir:        "migrations",
}

func TestMigrationsAppliedOnceAndRecorded(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, demo)
	// The template already applied both; a second run applies nothing.
	applied, err := pg.Migrate(ctx, pool, demo)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied[0].Versions) != 0 {
		t.Fatalf("re-applied %v", applied[0].Versions)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM demo.schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("recorded %d migrations (%v), want 2", n, err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO demo.thing VALUES (1, 'x', ST_SetSRID(ST_MakePoint(700000, 6300000), 2154))`); err != nil {
		t.Fatalf("PostGIS column unusable: %v", err)
	}
}

func TestBadFileNameIsRefused(t *testing.T) {
	m := pg.Migrations{Component: "bad", FS: os.DirFS("testdata"), Dir: "bad"}
	if _, err := m.List(); err == nil || !strings.Contains(err.Error(), "1_x.sql") {
		t.Fatalf("want an error naming 1_x.sql, got %v", err)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, demo)
	sentinel := os.ErrClosed
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO demo.thing (id, label) VALUES (2, 'y')`); err != nil {
			return err
		}
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("err = %v", err)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM demo.thing`).Scan(&n)
	if n != 0 {
		t.Fatalf("rolled back insert is visible")
	}
}
