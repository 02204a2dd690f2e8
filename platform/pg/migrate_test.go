package pg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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

// A migration edited after it was applied is refused, naming the file; the
// database is left as it was.
func TestEditedMigrationIsRefusedWithItsName(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, demo)
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/migrations", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0001_things.sql", "0002_geom.sql"} {
		b, err := os.ReadFile("testdata/migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "0002_geom.sql" {
			b = append(b, []byte("\n-- an afterthought\n")...)
		}
		if err := os.WriteFile(dir+"/migrations/"+name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edited := demo
	edited.FS = os.DirFS(dir)
	_, err := pg.Migrate(ctx, pool, edited)
	if !errors.Is(err, pg.ErrMigrationEdited) || !strings.Contains(err.Error(), "0002_geom.sql") {
		t.Fatalf("Migrate with an edited file = %v, want ErrMigrationEdited naming 0002_geom.sql", err)
	}
	if _, err := pg.Migrate(ctx, pool, demo); err != nil {
		t.Fatalf("the original files are refused now: %v", err)
	}
}

// Functions registered with AfterCommit run after a commit, never after a
// rollback.
func TestAfterCommitRunsOnlyOnCommit(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, demo)
	var ran []string
	_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if !pg.AfterCommit(tx, func() { ran = append(ran, "rolled back") }) {
			t.Fatal("InTx's transaction refused a hook")
		}
		return os.ErrInvalid
	})
	_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		pg.AfterCommit(tx, func() { ran = append(ran, "committed") })
		if len(ran) != 0 {
			t.Fatal("hook ran before the commit")
		}
		return nil
	})
	if fmt.Sprint(ran) != "[committed]" {
		t.Fatalf("hooks ran: %v", ran)
	}
	raw, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Rollback(ctx)
	if pg.AfterCommit(raw, func() {}) {
		t.Fatal("a transaction begun outside InTx accepted a hook")
	}
}

// The listener wakes subscribers on NOTIFY, coalesces bursts, and comes
// back after its connection is killed, waking everyone once.
func TestListenerWakesCoalescesAndReconnects(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.NewDB(t, demo)
	l := pg.NewListener(pool.Config().ConnConfig, nil)
	woken := l.Subscribe("demo_events")
	go l.Run(ctx)
	wait := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatalf("not woken: %s", what)
		}
	}
	wait("at connection")
	for range 50 {
		if _, err := pool.Exec(ctx, `SELECT pg_notify('demo_events', '')`); err != nil {
			t.Fatal(err)
		}
	}
	wait("after a burst")
	time.Sleep(200 * time.Millisecond)
	drained := 0
	for len(woken) > 0 {
		<-woken
		drained++
	}
	if drained > 1 {
		t.Fatalf("a burst of 50 left %d signals", drained)
	}
	// A late subscriber is listened for too.
	late := l.Subscribe("demo_late")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := pool.Exec(ctx, `SELECT pg_notify('demo_late', '')`); err != nil {
			t.Fatal(err)
		}
		select {
		case <-late:
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("late subscriber never woken")
			}
			continue
		}
		break
	}
	// Kill the listening backend as a restart would.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	for len(woken) > 0 {
		<-woken
	}
	wait("after reconnection")
	if !l.Connected() {
		deadline := time.Now().Add(10 * time.Second)
		for !l.Connected() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := pool.Exec(ctx, `SELECT pg_notify('demo_events', '')`); err != nil {
		t.Fatal(err)
	}
	wait("a notification after reconnection")
}
