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
	db *pgxpool.Pool
	// presence answers only whether the store has the object's geometry,
	// without fetching it: an estimate writes no WKT, and its rows come in
	// the store's order, where a cache of geometries would thrash.
	presence bool
	wkt      map[AreaRef][]byte
	bytes    int
}

func newAreas(db *pgxpool.Pool) *areas { return &areas{db: db, wkt: map[AreaRef][]byte{}} }

// newAreaPresence is areas for an estimate: WKT returns a placeholder.
func newAreaPresence(db *pgxpool.Pool) *areas {
	return &areas{db: db, presence: true, wkt: map[AreaRef][]byte{}}
}

// known is the placeholder geometry of an object the store has, for an
// estimate (non-nil: found).
var known = []byte{}

// knownCost is what a presence entry counts against areaCacheBytes.
const knownCost = 64

// WKT returns the object's geometry as a CSV field, or ok false when the
// store does not know it or has no geometry for it (the row is then
// withheld rather than shown unblurred).
func (a *areas) WKT(ctx context.Context, ref AreaRef) ([]byte, bool, error) {
	if w, ok := a.wkt[ref]; ok {
		return w, w != nil, nil
	}
	var w []byte
	var err error
	if a.presence {
		var has bool
		err = a.db.QueryRow(ctx, `SELECT geom IS NOT NULL FROM oc_dat.v_extract_area WHERE kind = $1 AND code = $2`,
			ref.Kind, ref.Code).Scan(&has)
		if has {
			w = known
		}
	} else {
		err = a.db.QueryRow(ctx, `SELECT `+wktSQL("geom")+` FROM oc_dat.v_extract_area WHERE kind = $1 AND code = $2`,
			ref.Kind, ref.Code).Scan(&w)
	}
	if pg.IsNoRows(err) || (err == nil && w == nil) {
		a.wkt[ref] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("extraction: geometry of %s %s: %w", ref.Kind, ref.Code, err)
	}
	cost := knownCost
	if !a.presence {
		// CSV-encoded once: WKT needs no quoting, but a store could hold
		// anything.
		w = quote(w)
		cost = len(w)
	}
	if a.bytes+cost > areaCacheBytes {
		clear(a.wkt)
		a.bytes = 0
	}
	a.wkt[ref] = w
	a.bytes += cost
	return w, true, nil
}
