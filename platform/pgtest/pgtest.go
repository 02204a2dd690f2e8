// Package pgtest gives each test its own real PostgreSQL database.
//
// The migrations are applied once to a template database (keyed by their
// content); every test then gets a fresh database cloned from that template,
// which takes milliseconds. The server comes from SINP_TEST_DATABASE_URL
// (default: the local server on 127.0.0.1:5432 as postgres, the way
// ./scripts/test.sh leaves it).
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/testenv"
)

// DefaultAdminURL is used when SINP_TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the URL of a database on the test server with the right to
// create databases.
func AdminURL() string {
	if u := os.Getenv("SINP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// templateLock serialises template creation across test processes.
const templateLock = 7_400_002

// NewDB returns a pool on a new database with the given migrations applied.
// The database is dropped when the test ends. Without a reachable server the
// test fails under CI (CI set) and is skipped elsewhere, with the reason.
func NewDB(t testing.TB, sets ...pg.Migrations) *pgxpool.Pool {
	t.Helper()
	url := NewDBURL(t, sets...)
	ctx := context.Background()
	pool, err := pg.Connect(ctx, url, 8)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewDBURL is NewDB for callers that open their own connections (a service
// under test, a subprocess): it returns the new database's URL.
func NewDBURL(t testing.TB, sets ...pg.Migrations) string {
	t.Helper()
	return NewFilledDBURL(t, "", nil, sets...)
}

// Fill puts data into a template database once; every database cloned from
// it then starts with that data.
type Fill func(ctx context.Context, pool *pgxpool.Pool) error

// NewFilledDB is NewDB with data: fill runs once per (fillKey, migrations)
// and its result is kept as a template, so a seeded store costs a clone, not
// a seed, in every test and every later run. Change fillKey when fill
// changes.
func NewFilledDB(t testing.TB, fillKey string, fill Fill, sets ...pg.Migrations) *pgxpool.Pool {
	t.Helper()
	url := NewFilledDBURL(t, fillKey, fill, sets...)
	pool, err := pg.Connect(context.Background(), url, 8)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewFilledDBURL is NewFilledDB returning the database's URL.
func NewFilledDBURL(t testing.TB, fillKey string, fill Fill, sets ...pg.Migrations) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		testenv.Missing(t, "pgtest: no PostgreSQL at SINP_TEST_DATABASE_URL=%s (%v); run ./scripts/test.sh, which starts one", AdminURL(), err)
	}
	defer admin.Close(ctx)

	tmpl, err := ensureTemplate(ctx, admin, sets, fillKey, fill)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "sinp_test_" + randomSuffix()
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{tmpl}.Sanitize()); err != nil {
		t.Fatalf("pgtest: clone %s: %v", tmpl, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return pg.WithDatabase(AdminURL(), name)
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, sets []pg.Migrations, fillKey string, fill Fill) (string, error) {
	digest, err := pg.Digest(sets...)
	if err != nil {
		return "", err
	}
	if fill != nil {
		sum := sha256.Sum256([]byte(digest + "\x00" + fillKey))
		digest = hex.EncodeToString(sum[:])
	}
	name := "sinp_tmpl_" + digest[:16]
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLock); err != nil {
		return "", err
	}
	defer func() { _, _ = admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, templateLock) }()

	var ready bool
	err = admin.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&ready)
	if err == nil && ready {
		return name, nil
	}
	if err != nil && !pg.IsNoRows(err) {
		return "", err
	}
	// A half-built template (a crash during migration) is rebuilt.
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, pg.WithDatabase(AdminURL(), name))
	if err != nil {
		return "", err
	}
	_, err = pg.Migrate(ctx, conn, sets...)
	conn.Close(ctx)
	if err != nil {
		return "", err
	}
	if fill != nil {
		pool, err := pg.Connect(ctx, pg.WithDatabase(AdminURL(), name), 8)
		if err != nil {
			return "", err
		}
		err = fill(ctx, pool)
		pool.Close()
		if err != nil {
			return "", fmt.Errorf("filling %s: %w", name, err)
		}
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH IS_TEMPLATE true`); err != nil {
		return "", err
	}
	return name, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
