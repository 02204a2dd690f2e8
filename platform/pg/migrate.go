package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// Migrations are one component's numbered SQL files ("0001_init.sql", ...),
// applied in order to the schema the component owns and recorded in
// <schema>.schema_migrations. Several components may share a schema (a
// service and its outbox tables); versions are counted per component.
type Migrations struct {
	Component  string   // e.g. "intake"
	Schema     string   // the PostgreSQL schema the component owns
	Extensions []string // extensions it needs, e.g. "postgis"
	FS         fs.FS    // holds the .sql files at Dir
	Dir        string
}

// Migration is one numbered file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Checksum identifies the migration's content; an applied migration whose
// file no longer has it was edited.
func (m Migration) Checksum() string {
	sum := sha256.Sum256([]byte(m.SQL))
	return hex.EncodeToString(sum[:])
}

// ErrMigrationEdited is returned when an applied migration's file changed.
var ErrMigrationEdited = errors.New("applied migration edited")

var fileName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// List reads and orders the component's migration files.
func (m Migrations) List() ([]Migration, error) {
	dir := m.Dir
	if dir == "" {
		dir = "."
	}
	entries, err := fs.ReadDir(m.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("pg.Migrations(%s): %w", m.Component, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		match := fileName.FindStringSubmatch(e.Name())
		if match == nil {
			return nil, fmt.Errorf("pg.Migrations(%s): %s: name must look like 0001_what_it_does.sql", m.Component, e.Name())
		}
		v, _ := strconv.Atoi(match[1])
		b, err := fs.ReadFile(m.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("pg.Migrations(%s): %w", m.Component, err)
		}
		if n := len(out); n > 0 && out[n-1].Version == v {
			return nil, fmt.Errorf("pg.Migrations(%s): two files numbered %04d", m.Component, v)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// Digest identifies the content of a set of migrations (used to key test
// template databases).
func Digest(sets ...Migrations) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "migrator %d\n", migratorVersion)
	for _, s := range sets {
		list, err := s.List()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s/%s/%v\n", s.Component, s.Schema, s.Extensions)
		for _, m := range list {
			fmt.Fprintf(h, "%d %s %d\n%s\n", m.Version, m.Name, len(m.SQL), m.SQL)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// migratorVersion changes when the way migrations are recorded changes, so
// that test templates built by an older migrator are not reused.
const migratorVersion = 3

// migrateLock serialises concurrent migrators (several replicas starting at
// once) across the whole database.
const migrateLock = 7_400_001

// Applied is what Migrate did for one component.
type Applied struct {
	Component string `json:"component"`
	Schema    string `json:"schema"`
	Versions  []int  `json:"applied"`
}

// Migrate applies every pending migration of each set, in the order given.
// It is safe to call from several processes at once.
func Migrate(ctx context.Context, db Beginner, sets ...Migrations) ([]Applied, error) {
	var applied []Applied
	err := InTx(ctx, db, func(tx pgx.Tx) error {
		// A transaction-level lock is released at commit; the migrations below
		// run in the same transaction so a failure leaves nothing half-done.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		for _, s := range sets {
			a, err := migrateOne(ctx, tx, s)
			if err != nil {
				return err
			}
			applied = append(applied, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

func migrateOne(ctx context.Context, tx pgx.Tx, s Migrations) (Applied, error) {
	a := Applied{Component: s.Component, Schema: s.Schema}
	list, err := s.List()
	if err != nil {
		return a, err
	}
	for _, ext := range s.Extensions {
		if _, err := tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS `+pgx.Identifier{ext}.Sanitize()); err != nil {
			return a, fmt.Errorf("pg.Migrate(%s): create extension %s: %w", s.Component, ext, err)
		}
	}
	schema := pgx.Identifier{s.Schema}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return a, fmt.Errorf("pg.Migrate(%s): create schema: %w", s.Component, err)
	}
	table := schema + `.schema_migrations`
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		component  text NOT NULL,
		version    integer NOT NULL,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return a, fmt.Errorf("pg.Migrate(%s): version table: %w", s.Component, err)
	}
	// Migrators before version 3 recorded no checksum.
	if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD COLUMN IF NOT EXISTS checksum text`); err != nil {
		return a, fmt.Errorf("pg.Migrate(%s): version table: %w", s.Component, err)
	}
	type record struct {
		name     string
		checksum *string
	}
	done := map[int]record{}
	rows, err := tx.Query(ctx, `SELECT version, name, checksum FROM `+table+` WHERE component = $1`, s.Component)
	if err != nil {
		return a, err
	}
	for rows.Next() {
		var v int
		var r record
		if err := rows.Scan(&v, &r.name, &r.checksum); err != nil {
			rows.Close()
			return a, err
		}
		done[v] = r
	}
	if err := rows.Err(); err != nil {
		return a, err
	}
	for _, m := range list {
		sum := m.Checksum()
		if r, ok := done[m.Version]; ok {
			switch {
			case r.checksum == nil:
				// Applied by an older migrator: adopt the file as it is now.
				if _, err := tx.Exec(ctx, `UPDATE `+table+` SET checksum = $3 WHERE component = $1 AND version = $2`, s.Component, m.Version, sum); err != nil {
					return a, err
				}
			case *r.checksum != sum:
				return a, fmt.Errorf("pg.Migrate(%s): %w: %s was edited after it was applied to schema %s (applied as %s); restore it and add a new migration instead",
					s.Component, ErrMigrationEdited, m.Name, s.Schema, r.name)
			}
			continue
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+schema+`, public`); err != nil {
			return a, err
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return a, fmt.Errorf("pg.Migrate(%s): %s: %w", s.Component, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (component, version, name, checksum) VALUES ($1, $2, $3, $4)`, s.Component, m.Version, m.Name, sum); err != nil {
			return a, err
		}
		a.Versions = append(a.Versions, m.Version)
	}
	if _, err := tx.Exec(ctx, `RESET search_path`); err != nil {
		return a, err
	}
	return a, nil
}
