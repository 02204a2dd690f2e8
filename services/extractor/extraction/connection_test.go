package extraction

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/services/extractor/internal/teststore"
)

// A run reads through a connection of its own: a pool of one connection,
// which routing and finishing borrow from, is enough (reading connections
// taken from the pool by a few runs could exhaust it and wait forever).
func TestRunNeedsOnlyOnePooledConnection(t *testing.T) {
	cfg := teststore.Pool(t).Config()
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
