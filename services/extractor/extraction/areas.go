package extraction

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
)

// areas serves the WKT of communes, cells and départements, loaded from
// oc_dat.v_extract_area the first time each is needed. Its size is bounded
// by the territory, not by the number of rows.
type areas struct {
	db  *pgxpool.Pool
	wkt map[AreaRef][]byte
}

func newAreas(db *pgxpool.Pool) *areas { return &areas{db: db, wkt: map[AreaRef][]byte{}} }

// WKT returns the object's geometry as a CSV field, or ok false when the store does not
// know it (the row is then withheld rather than shown unblurred).
func (a *areas) WKT(ctx context.Context, ref AreaRef) ([]byte, bool, error) {
	if w, ok := a.wkt[ref]; ok {
		return w, w != nil, nil
	}
	var w string
	err := a.db.QueryRow(ctx, `SELECT ST_AsText(geom) FROM oc_dat.v_extract_area WHERE kind = $1 AND code = $2`,
		ref.Kind, ref.Code).Scan(&w)
	if pg.IsNoRows(err) {
		a.wkt[ref] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("extraction: geometry of %s %s: %w", ref.Kind, ref.Code, err)
	}
	// Stored CSV-encoded: WKT needs no quoting, but a store could hold
	// anything.
	a.wkt[ref] = quote([]byte(w))
	return a.wkt[ref], true, nil
}
