package observations

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations create the store in schema oc_dat: reference tables, the SINP
// nomenclatures, observations and geometries, and the extraction views.
var Migrations = pg.Migrations{
	Component:  "observations",
	Schema:     "oc_dat",
	Extensions: []string{"postgis"},
	FS:         migrationFS,
	Dir:        "migrations",
}

// ErrForeignStore is returned by Init for an oc_dat schema this project did
// not create: the platform's own store, which only its loaders change.
var ErrForeignStore = errors.New("schema oc_dat exists and was not created by `sinp store init`")

// Init creates the observation store (`sinp store init`, `sinp seed`, the
// tests' setup), or brings a store it created up to date. It refuses a
// store it did not create: in production oc_dat is the platform's existing
// database, and the services never migrate it.
func Init(ctx context.Context, db *pgxpool.Pool) ([]pg.Applied, error) {
	var exists, ours bool
	err := db.QueryRow(ctx, `SELECT to_regnamespace('oc_dat') IS NOT NULL,
		to_regclass('oc_dat.schema_migrations') IS NOT NULL`).Scan(&exists, &ours)
	if err != nil {
		return nil, fmt.Errorf("observations.Init: %w", err)
	}
	if ours {
		err = db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oc_dat.schema_migrations WHERE component = $1)`, Migrations.Component).Scan(&ours)
		if err != nil {
			return nil, fmt.Errorf("observations.Init: %w", err)
		}
	}
	if exists && !ours {
		return nil, fmt.Errorf("observations.Init: %w: it is left alone (point the extractor at it through the views of migrations/0005_extract_views.sql)", ErrForeignStore)
	}
	return pg.Migrate(ctx, db, Migrations)
}
