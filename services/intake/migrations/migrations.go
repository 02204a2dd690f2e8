// Package migrations holds the intake service's schema: accounts and
// sessions, requests and their history, the membership registry.
package migrations

import (
	"embed"

	"sinp.occitanie.fr/platform/pg"
)

//go:embed *.sql
var files embed.FS

// Intake creates schema intake.
var Intake = pg.Migrations{Component: "intake", Schema: "intake", FS: files, Dir: "."}
