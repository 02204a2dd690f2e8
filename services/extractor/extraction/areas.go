package extraction

import (
	"cmp"
	"context"
	"fmt"
	"slices"

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
	// ahead are the objects announced by readAhead.
	ahead []AreaRef
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

// readAheadObjects is how many of the objects announced by readAhead one
// query reads.
const readAheadObjects = 64

// readAhead announces the objects WKT will be asked for, in this order
// (sorted by kind, then code): a miss on one of them reads it and the
// next ones in one query, instead of one query each.
func (a *areas) readAhead(objs []AreaRef) { a.ahead = objs }

// WKT returns the object's geometry as a CSV field, or ok false when the
// store does not know it or has no geometry for it (the row is then
// withheld rather than shown unblurred).
func (a *areas) WKT(ctx context.Context, ref AreaRef) ([]byte, bool, error) {
	if w, ok := a.wkt[ref]; ok {
		return w, w != nil, nil
	}
	if !a.presence {
		if i, found := slices.BinarySearchFunc(a.ahead, ref, compareRefs); found {
			if err := a.fetchAhead(ctx, i); err != nil {
				return nil, false, err
			}
			if w, ok := a.wkt[ref]; ok {
				return w, w != nil, nil
			}
		}
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
	if pg.IsNoRows(err) {
		err = nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("extraction: geometry of %s %s: %w", ref.Kind, ref.Code, err)
	}
	a.put(ref, w, true)
	w = a.wkt[ref]
	return w, w != nil, nil
}

// fetchAhead reads the geometries of the announced objects from the i-th,
// keeping those that fit in the cache (the i-th always).
func (a *areas) fetchAhead(ctx context.Context, i int) error {
	batch := a.ahead[i:min(len(a.ahead), i+readAheadObjects)]
	kinds, codes := make([]string, len(batch)), make([]string, len(batch))
	for j, r := range batch {
		kinds[j], codes[j] = r.Kind, r.Code
	}
	rows, err := a.db.Query(ctx, `SELECT w.i::int, `+wktSQL("a.geom")+`
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(kind, code, i)
		LEFT JOIN oc_dat.v_extract_area a ON a.kind = w.kind AND a.code = w.code ORDER BY w.i`, kinds, codes)
	if err != nil {
		return fmt.Errorf("extraction: geometries of %s %s and the next: %w", batch[0].Kind, batch[0].Code, err)
	}
	defer rows.Close()
	for rows.Next() {
		var j int
		var w []byte
		if err := rows.Scan(&j, &w); err != nil {
			return err
		}
		if _, cached := a.wkt[batch[j-1]]; cached {
			continue // counted once in the cache's bytes
		}
		if !a.put(batch[j-1], w, j == 1) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("extraction: geometries of %s %s and the next: %w", batch[0].Kind, batch[0].Code, err)
	}
	return nil
}

// put caches the geometry w of ref (nil: the store has none), CSV-encoded.
// When the cache is full it is emptied first if always, else w is left
// out and put says so.
func (a *areas) put(ref AreaRef, w []byte, always bool) bool {
	cost := knownCost
	if w != nil && !a.presence {
		// CSV-encoded once: WKT needs no quoting, but a store could hold
		// anything.
		w = quote(w)
		cost = len(w)
	}
	if a.bytes+cost > areaCacheBytes {
		if !always {
			return false
		}
		clear(a.wkt)
		a.bytes = 0
	}
	a.wkt[ref] = w
	a.bytes += cost
	return true
}

// compareRefs orders objects by kind, then code.
func compareRefs(x, y AreaRef) int {
	return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Code, y.Code))
}
