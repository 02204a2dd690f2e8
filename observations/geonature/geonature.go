// Package geonature plugs a GeoNature database into the extractor: it
// installs, beside GeoNature's own schemas (gn_synthese, gn_meta, ref_geo,
// ref_nomenclatures, taxonomie), a schema oc_dat holding the five relations
// the extractor reads (v_extract_source, v_extract_area, v_extract_dataset,
// v_extract_nomenclature, v_extract_pole) with the store's names, columns,
// types and comments, so that the extractor runs unchanged against it.
// v_extract_source and the geographic objects are materialized (the
// extractor's plans need their indexes): Refresh brings them up to date.
package geonature

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
)

var (
	// ErrNotGeoNature is returned when the database lacks the GeoNature
	// schemas or tables the views read; the message names them.
	ErrNotGeoNature = errors.New("not a GeoNature database")
	// ErrForeignSchema is returned when oc_dat exists and is not the
	// adapter's: the observation store (`sinp store init`) or anything else.
	ErrForeignSchema = errors.New("schema oc_dat exists and was not created by `sinp store init --source geonature`")
	// ErrNotInstalled is returned by Refresh before Install, or when the
	// installed views are not the ones this version defines.
	ErrNotInstalled = errors.New("the GeoNature adapter is not installed, or is out of date: run `sinp store init --source geonature`")
)

// required are the GeoNature relations the views read.
var required = []string{
	"gn_synthese.synthese", "gn_synthese.cor_area_synthese",
	"gn_meta.t_datasets", "gn_meta.t_acquisition_frameworks",
	"ref_geo.l_areas", "ref_geo.bib_areas_types",
	"ref_nomenclatures.t_nomenclatures", "ref_nomenclatures.bib_nomenclatures_types",
	"taxonomie.taxref",
}

// Progress, when set, is told how the work goes (total <= 0: unknown).
type Progress func(stage string, done, total int64)

// InstallResult says what Install did.
type InstallResult struct {
	// Changed is false when the views were already the ones this version
	// defines: nothing was rebuilt.
	Changed bool   `json:"changed"`
	Digest  string `json:"digest"`
	// Refresh is the first filling of the materialized views (when Changed).
	Refresh *RefreshResult `json:"refresh,omitempty"`
}

// lockKey serialises installs and refreshes of one database.
const lockKey = 7_400_101

// Install creates schema oc_dat with the extractor's views over the
// GeoNature schemas, fills them, and indexes them. It is idempotent: run
// again with the same definitions it changes nothing; with new ones (a new
// catalogue) it rebuilds the views. It refuses a database without
// GeoNature's schemas and an oc_dat it did not create.
func Install(ctx context.Context, db *pgxpool.Pool, progress Progress) (*InstallResult, error) {
	start := time.Now()
	st, err := inspect(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("geonature.Install: %w", err)
	}
	ddl := definitions(st)
	sum := sha256.Sum256([]byte(ddl))
	res := &InstallResult{Digest: hex.EncodeToString(sum[:8])}
	if progress != nil {
		progress("install", 0, -1)
	}
	err = pg.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
			return err
		}
		if err := checkOwnership(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS oc_dat;\n"+reference); err != nil {
			return fmt.Errorf("reference tables: %w", err)
		}
		var current string
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT digest FROM oc_dat.geonature_install), '')`).Scan(&current); err != nil {
			return err
		}
		if current == res.Digest {
			return nil
		}
		for i := len(relations) - 1; i >= 0; i-- {
			r := relations[i]
			if _, err := tx.Exec(ctx, "DROP "+r.kind+" IF EXISTS "+r.name+" CASCADE"); err != nil {
				return fmt.Errorf("dropping %s: %w", r.name, err)
			}
		}
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("creating the views: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO oc_dat.geonature_install (digest) VALUES ($1)
			ON CONFLICT (singleton) DO UPDATE SET digest = EXCLUDED.digest, installed_at = now()`, res.Digest); err != nil {
			return err
		}
		res.Changed = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("geonature.Install: %w", err)
	}
	if res.Changed {
		// Created WITH DATA: what remains is the statistics and the counts.
		rr, err := summarize(ctx, db, start, nil)
		if err != nil {
			return nil, fmt.Errorf("geonature.Install: %w", err)
		}
		res.Refresh = rr
	}
	return res, nil
}

// inspect checks the GeoNature schemas and reads what the definitions
// depend on.
func inspect(ctx context.Context, db *pgxpool.Pool) (site, error) {
	var st site
	var missing []string
	rows, err := db.Query(ctx, `SELECT r FROM unnest($1::text[]) r WHERE to_regclass(r) IS NULL`, required)
	if err != nil {
		return st, err
	}
	absent, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return st, err
	}
	schemas := map[string]bool{}
	for _, r := range absent {
		schema, _, _ := strings.Cut(r, ".")
		var exists bool
		if err := db.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL`, schema).Scan(&exists); err != nil {
			return st, err
		}
		switch {
		case !exists && !schemas[schema]:
			schemas[schema] = true
			missing = append(missing, "schema "+schema)
		case exists:
			missing = append(missing, "table "+r)
		}
	}
	var postgis bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&postgis); err != nil {
		return st, err
	}
	if !postgis {
		missing = append(missing, "extension postgis")
	}
	if len(missing) > 0 {
		return st, fmt.Errorf("%w: missing %s", ErrNotGeoNature, strings.Join(missing, ", "))
	}
	err = db.QueryRow(ctx, `SELECT
		coalesce((SELECT postgis_typmod_srid(atttypmod) FROM pg_attribute
			WHERE attrelid = 'ref_geo.l_areas'::regclass AND attname = 'geom' AND NOT attisdropped), 0),
		coalesce((SELECT postgis_typmod_srid(atttypmod) FROM pg_attribute
			WHERE attrelid = 'gn_synthese.synthese'::regclass AND attname = 'the_geom_local' AND NOT attisdropped), 0),
		(SELECT reset_val FROM pg_settings WHERE name = 'TimeZone')`).Scan(&st.areaSRID, &st.localSRID, &st.zone)
	if err != nil {
		return st, err
	}
	if st.areaSRID == 0 {
		// An untyped geometry column: read it as its rows say.
		if err := db.QueryRow(ctx, `SELECT coalesce((SELECT ST_SRID(geom) FROM ref_geo.l_areas WHERE geom IS NOT NULL LIMIT 1), 2154)`).Scan(&st.areaSRID); err != nil {
			return st, err
		}
	}
	return st, nil
}

// checkOwnership refuses an oc_dat the adapter did not create.
func checkOwnership(ctx context.Context, tx pgx.Tx) error {
	var exists, ours, store bool
	err := tx.QueryRow(ctx, `SELECT to_regnamespace('oc_dat') IS NOT NULL,
		to_regclass('oc_dat.geonature_install') IS NOT NULL,
		to_regclass('oc_dat.schema_migrations') IS NOT NULL`).Scan(&exists, &ours, &store)
	switch {
	case err != nil:
		return err
	case store:
		return fmt.Errorf("%w: it holds the observation store (sinp store init --source oc_dat)", ErrForeignSchema)
	case exists && !ours:
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = 'oc_dat'::regnamespace`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: it holds %d relations; it is left alone", ErrForeignSchema, n)
		}
	}
	return nil
}

// Relation is one materialized view refreshed.
type Relation struct {
	Name       string  `json:"name"`
	Rows       int64   `json:"rows"`
	Concurrent bool    `json:"concurrent"`
	Seconds    float64 `json:"seconds"`
}

// RefreshResult is what Refresh did, and how the synthese maps.
type RefreshResult struct {
	Relations []Relation `json:"relations"`
	// Synthese is the number of rows of gn_synthese.synthese; Observations
	// those v_extract_source holds.
	Synthese     int64 `json:"synthese"`
	Observations int64 `json:"observations"`
	// Left out of v_extract_source: neither a geometry nor an attachment
	// to a known object (the extractor could never select them), or a
	// taxon that maps to no pôle (absent from taxref, or a group2_inpn
	// missing from oc_dat.pole_groupe).
	Unlocated int64 `json:"skipped_unlocated"`
	NoPole    int64 `json:"skipped_no_pole"`
	// Areas by kind.
	Areas   map[string]int64 `json:"areas"`
	Seconds float64          `json:"seconds"`
}

// Refresh brings the materialized views up to date with GeoNature: the
// geographic objects, then the observations. A populated view is refreshed
// CONCURRENTLY, so the extractor keeps reading the previous content
// meanwhile.
func Refresh(ctx context.Context, db *pgxpool.Pool, progress Progress) (*RefreshResult, error) {
	start := time.Now()
	st, err := inspect(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("geonature.Refresh: %w", err)
	}
	sum := sha256.Sum256([]byte(definitions(st)))
	var current string
	var exists bool
	err = db.QueryRow(ctx, `SELECT to_regclass('oc_dat.geonature_install') IS NOT NULL`).Scan(&exists)
	if err == nil && exists {
		err = db.QueryRow(ctx, `SELECT coalesce(max(digest), '') FROM oc_dat.geonature_install`).Scan(&current)
	}
	if err != nil {
		return nil, fmt.Errorf("geonature.Refresh: %w", err)
	}
	if current != hex.EncodeToString(sum[:8]) {
		return nil, fmt.Errorf("geonature.Refresh: %w", ErrNotInstalled)
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("geonature.Refresh: %w", err)
	}
	defer conn.Release()
	// A session lock: REFRESH ... CONCURRENTLY cannot run in a transaction.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return nil, fmt.Errorf("geonature.Refresh: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) }()
	var rels []Relation
	for i, name := range materialized {
		if progress != nil {
			progress("refresh "+name, int64(i), int64(len(materialized)))
		}
		t := time.Now()
		var populated bool
		if err := conn.QueryRow(ctx, `SELECT relispopulated FROM pg_class WHERE oid = $1::regclass`, name).Scan(&populated); err != nil {
			return nil, fmt.Errorf("geonature.Refresh: %s: %w", name, err)
		}
		sql := "REFRESH MATERIALIZED VIEW "
		if populated {
			sql += "CONCURRENTLY "
		}
		if _, err := conn.Exec(ctx, sql+name); err != nil {
			return nil, fmt.Errorf("geonature.Refresh: %s: %w", name, err)
		}
		rels = append(rels, Relation{Name: name, Concurrent: populated, Seconds: time.Since(t).Seconds()})
	}
	if progress != nil {
		progress("analyze", int64(len(materialized)), int64(len(materialized)))
	}
	res, err := summarize(ctx, db, start, rels)
	if err != nil {
		return nil, fmt.Errorf("geonature.Refresh: %w", err)
	}
	return res, nil
}

// summarize analyzes the materialized views and counts what they hold.
func summarize(ctx context.Context, db *pgxpool.Pool, start time.Time, rels []Relation) (*RefreshResult, error) {
	if rels == nil {
		for _, name := range materialized {
			rels = append(rels, Relation{Name: name})
		}
	}
	res := &RefreshResult{Areas: map[string]int64{}}
	for i, r := range rels {
		if _, err := db.Exec(ctx, "ANALYZE "+r.Name); err != nil {
			return nil, err
		}
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+r.Name).Scan(&rels[i].Rows); err != nil {
			return nil, err
		}
	}
	res.Relations = rels
	err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM gn_synthese.synthese),
		(SELECT count(*) FROM oc_dat.v_extract_source),
		(SELECT count(*) FROM gn_synthese.synthese s
			WHERE s.the_geom_4326 IS NULL AND s.the_geom_local IS NULL
			AND NOT EXISTS (SELECT 1 FROM oc_dat.geonature_area a WHERE a.id_area = s.id_area_attachment))`).
		Scan(&res.Synthese, &res.Observations, &res.Unlocated)
	if err != nil {
		return nil, err
	}
	res.NoPole = res.Synthese - res.Observations - res.Unlocated
	rows, err := db.Query(ctx, `SELECT kind, count(*) FROM oc_dat.geonature_area GROUP BY kind`)
	if err != nil {
		return nil, err
	}
	var kind string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&kind, &n}, func() error { res.Areas[kind] = n; return nil }); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}
