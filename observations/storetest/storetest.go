// Package storetest gives tests a seeded observation store:
// real Occitanie communes and the real sensitivity referential, seeded once
// into a template database and cloned for each test.
package storetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/seed"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

// Observations is the size of the seeded store.
const Observations = 30000

// fillKey names the seeded content: change it when the seed options change.
const fillKey = "extractor-teststore-v2"

func fill(t testing.TB) pgtest.Fill {
	geo := shareddata.Require(t, "geo")
	ref := shareddata.Require(t, "sensitivity", "especesensible.sql")
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := seed.Run(ctx, pool, seed.Options{Observations: Observations, Seed: 7, AreasDir: geo, Referential: ref})
		return err
	}
}

// Pool returns a pool on a fresh clone of the seeded store, with extra
// migrations (a service's schema) applied after it.
func Pool(t testing.TB, extra ...pg.Migrations) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewFilledDB(t, fillKey, fill(t), append([]pg.Migrations{observations.Migrations}, extra...)...)
}

// URL is Pool for callers that connect themselves.
func URL(t testing.TB, extra ...pg.Migrations) string {
	t.Helper()
	return pgtest.NewFilledDBURL(t, fillKey, fill(t), append([]pg.Migrations{observations.Migrations}, extra...)...)
}
