package observations

import (
	"embed"

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
