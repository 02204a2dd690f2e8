// Package territory says what the observation store covers and knows:
// which geographic objects, pôles and taxa a request names that the store
// does not have, what the known objects cover, the region's outline and
// its pôles. It reads the views the extraction reads (oc_dat.v_extract_area,
// v_extract_source) and the pôle view (v_extract_pole), nothing else.
package territory

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/services/extractor/extraction"
)

// Store reads the observation store.
type Store struct {
	DB *pgxpool.Pool
}

// Scope is what a request names: geographic objects, pôles, taxa.
type Scope struct {
	Areas  []extraction.AreaRef
	Poles  []string
	CdRefs []int64
}

// Check is what the store does not know of a scope, in the order given
// (each once), and what the known objects cover.
type Check struct {
	UnknownAreas  []extraction.AreaRef
	UnknownPoles  []string
	UnknownCdRefs []int64
	// AreasWKT is the union of the known objects, EPSG:2154: the
	// perimeter an extraction of them would select in. Empty when none is
	// known.
	AreasWKT string
	AreasKm2 float64
}

// Check looks the scope up. An area is known when an extraction accepts it
// (extraction.UnknownAreas); a pôle when v_extract_pole lists it; a taxon
// when the store holds an observation of that cd_ref (one index probe per
// taxon: a taxon of the referential without observations would select
// nothing).
func (s Store) Check(ctx context.Context, sc Scope) (*Check, error) {
	c := &Check{}
	unknown, err := extraction.UnknownAreas(ctx, s.DB, sc.Areas)
	if err != nil {
		return nil, fmt.Errorf("territory: areas: %w", err)
	}
	seen := map[extraction.AreaRef]bool{}
	for _, i := range unknown {
		if a := sc.Areas[i]; !seen[a] {
			seen[a] = true
			c.UnknownAreas = append(c.UnknownAreas, a)
		}
	}
	if len(sc.Areas) > len(unknown) {
		kinds, codes := make([]string, len(sc.Areas)), make([]string, len(sc.Areas))
		for i, a := range sc.Areas {
			kinds[i], codes[i] = a.Kind, a.Code
		}
		var wkt *string
		var km2 *float64
		err := s.DB.QueryRow(ctx, `SELECT ST_AsText(u), ST_Area(u) / 1e6 FROM (
			SELECT ST_Union(a.geom) AS u FROM oc_dat.v_extract_area a
			JOIN (SELECT DISTINCT kind, code FROM unnest($1::text[], $2::text[]) AS w(kind, code)) w
			  ON w.kind = a.kind AND w.code = a.code) x`, kinds, codes).Scan(&wkt, &km2)
		if err != nil {
			return nil, fmt.Errorf("territory: union of the areas: %w", err)
		}
		if wkt != nil && km2 != nil {
			c.AreasWKT, c.AreasKm2 = *wkt, *km2
		}
	}
	if len(sc.Poles) > 0 {
		rows, err := s.DB.Query(ctx, `SELECT w.p FROM unnest($1::text[]) WITH ORDINALITY AS w(p, i)
			WHERE NOT EXISTS (SELECT 1 FROM oc_dat.v_extract_pole v WHERE v.code = w.p) ORDER BY w.i`, sc.Poles)
		if err != nil {
			return nil, fmt.Errorf("territory: pôles: %w", err)
		}
		if c.UnknownPoles, err = collectOnce(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("territory: pôles: %w", err)
		}
	}
	if len(sc.CdRefs) > 0 {
		rows, err := s.DB.Query(ctx, `SELECT w.c FROM unnest($1::bigint[]) WITH ORDINALITY AS w(c, i)
			WHERE NOT EXISTS (SELECT 1 FROM oc_dat.v_extract_source s WHERE s.cd_ref = w.c) ORDER BY w.i`, sc.CdRefs)
		if err != nil {
			return nil, fmt.Errorf("territory: taxa: %w", err)
		}
		if c.UnknownCdRefs, err = collectOnce(rows, pgx.RowTo[int64]); err != nil {
			return nil, fmt.Errorf("territory: taxa: %w", err)
		}
	}
	return c, nil
}

// collectOnce collects rows, dropping repeats (a code listed twice is
// unknown once).
func collectOnce[T comparable](rows pgx.Rows, fn pgx.RowToFunc[T]) ([]T, error) {
	all, err := pgx.CollectRows(rows, fn)
	if err != nil {
		return nil, err
	}
	seen := map[T]bool{}
	var out []T
	for _, v := range all {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// OutlineTolerance is how far, in metres, the region's outline may stray
// from the union of the départements: ST_SimplifyPreserveTopology drops
// the vertices that only matter below it, so that a store loaded with
// full-resolution boundaries does not answer megabytes; coordinates are
// written to the centimetre.
const OutlineTolerance float64 = 10

// Region is what the store covers.
type Region struct {
	// OutlineWKT is the union of the store's départements, simplified by
	// OutlineTolerance, EPSG:2154; empty when the store has none.
	OutlineWKT string
	// Poles are the pôle codes in the platform's order.
	Poles []string
}

// Region reads the region's outline and its pôles.
func (s Store) Region(ctx context.Context) (*Region, error) {
	r := &Region{}
	var wkt *string
	err := s.DB.QueryRow(ctx, `SELECT ST_AsText(ST_SimplifyPreserveTopology(ST_Union(geom), $1), 2)
		FROM oc_dat.v_extract_area WHERE kind = $2`, OutlineTolerance, extraction.KindDepartement).Scan(&wkt)
	if err != nil {
		return nil, fmt.Errorf("territory: outline: %w", err)
	}
	if wkt != nil {
		r.OutlineWKT = *wkt
	}
	rows, err := s.DB.Query(ctx, `SELECT code FROM oc_dat.v_extract_pole ORDER BY sort_order, code`)
	if err != nil {
		return nil, fmt.Errorf("territory: pôles: %w", err)
	}
	if r.Poles, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("territory: pôles: %w", err)
	}
	return r, nil
}
