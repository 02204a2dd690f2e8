package extraction

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/services/extractor/internal/teststore"
)

// The two connections of a run read one snapshot: an observation changed
// by someone else after the run began is seen by neither as changed, so it
// cannot move from the main rows to the sensitive ones (or vanish) midway.
func TestSecondConnectionSharesTheSnapshot(t *testing.T) {
	ctx := context.Background()
	db := teststore.Pool(t)
	var id int64
	var before int
	if err := db.QueryRow(ctx, `SELECT id, sensi_niveau FROM oc_dat.observation WHERE sensi_niveau = 0 ORDER BY id LIMIT 1`).Scan(&id, &before); err != nil {
		t.Fatal(err)
	}
	first, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	second, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Release()
	snapshot, err := exportSnapshot(ctx, first.Conn())
	if err != nil {
		t.Fatal(err)
	}
	// Written and committed by a third connection after the first began,
	// before the second did.
	if _, err := db.Exec(ctx, `UPDATE oc_dat.observation SET sensi_niveau = 3 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := importSnapshot(ctx, second.Conn(), snapshot); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*pgx.Conn{"first": first.Conn(), "second": second.Conn()} {
		var seen int
		if err := c.QueryRow(ctx, `SELECT sensi_niveau FROM oc_dat.observation WHERE id = $1`, id).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen != before {
			t.Errorf("%s connection sees sensi_niveau %d, the snapshot held %d", name, seen, before)
		}
	}
	var now int
	if err := db.QueryRow(ctx, `SELECT sensi_niveau FROM oc_dat.observation WHERE id = $1`, id).Scan(&now); err != nil || now != 3 {
		t.Fatalf("the update is not visible outside the snapshot: %d, %v", now, err)
	}
	for _, c := range []*pgx.Conn{first.Conn(), second.Conn()} {
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
}

// A run reads through connections of its own: a pool of one connection,
// which routing and finishing borrow from, is enough (two runs' reading
// connections taken from the pool could exhaust it and wait forever).
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
