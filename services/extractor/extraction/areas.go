package extraction

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
)

// areaCacheBytes bounds the cached geometries. Sensitive rows arrive grouped
// by their blurring object, so a cache that is emptied when full still
// serves nearly every row, and memory does not grow with the territory an
// extraction covers.
const areaCacheBytes = 4 << 20

// areas serves the WKT of communes, cells and départements, loaded from
// oc_dat.v_extract_area the first time each is needed.
type areas struct {
	db    *pgxpool.Pool
	wkt   map[AreaRef][]byte
	bytes int
}

func newAreas(db *pgxpool.Pool) *areas { return &areas{db: db, wkt: map[AreaRef][]byte{}} }

// WKT returns the object's geometry as a CSV field, or ok false when the
// store does not know it (the row is then withheld rather than shown
// unblurred).
func (a *areas) WKT(ctx context.Context, ref AreaRef) ([]byte, bool, error) {
	if w, ok := a.wkt[ref]; ok {
		return w, w != nil, nil
	}
	var w []byte
	err := a.db.QueryRow(ctx, `SELECT ST_AsText(geom) FROM oc_dat.v_extract_area WHERE kind = $1 AND code = $2`,
		ref.Kind, ref.Code).Scan(&w)
	if pg.IsNoRows(err) {
		a.wkt[ref] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("extraction: geometry of %s %s: %w", ref.Kind, ref.Code, err)
	}
	if a.bytes+len(w) > areaCacheBytes {
		clear(a.wkt)
		a.bytes = 0
	}
	// CSV-encoded once: WKT needs no quoting, but a store could hold
	// anything.
	w = quote(w)
	a.wkt[ref] = w
	a.bytes += len(w)
	return w, true, nil
}
