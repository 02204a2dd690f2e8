package extraction

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/storetest"
)

// A run reads through a connection of its own: a pool of one connection,
// which routing and finishing borrow from, is enough (reading connections
// taken from the pool by a few runs could exhaust it and wait forever).
func TestRunNeedsOnlyOnePooledConnection(t *testing.T) {
	cfg := storetest.Pool(t).Config()
	cfg.MaxConns = 1
	db, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Extract(ctx, Spec{Reference: "ONE-CONN", PerimeterWKT: toulouseBox, F2Entitled: true, Stamp: stamp}, t.TempDir(), Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected == 0 {
		t.Fatal("nothing selected")
	}
}

// Progress counts rows as they are placed, sensitive ones included (they
// are written after the selection is read), never backwards, and its last
// call reports every selected row.
func TestProgressEndsWithEveryRowPlaced(t *testing.T) {
	db := storetest.Pool(t)
	var calls []int64
	opt := Options{DB: db, ProgressEvery: time.Millisecond, Progress: func(placed, _ int64) { calls = append(calls, placed) }}
	res, err := Extract(context.Background(), Spec{Reference: "PROGRESS", PerimeterWKT: toulouseBox, F2Entitled: true, Stamp: stamp}, t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != res.Selected {
		t.Fatalf("progress %v, want it to end at the %d rows selected", calls, res.Selected)
	}
	if !slices.IsSorted(calls) {
		t.Errorf("progress went backwards: %v", calls)
	}
}
