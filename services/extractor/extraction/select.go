package extraction

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// sessionSettings make the row order of a repeated run identical (no
// synchronised scans starting mid-table, no parallel workers interleaving
// rows) and the text formats fixed.
var sessionSettings = []string{
	"SET synchronize_seqscans = off",
	"SET max_parallel_workers_per_gather = 0",
	"SET DateStyle = 'ISO, YMD'",
	"SET TimeZone = 'UTC'",
	"SET extra_float_digits = 1",
	"SET jit = off",
	// Codes are inlined in the query as '...' literals.
	"SET standard_conforming_strings = on",
	// Memory for hashes (nothing is sorted). A large work_mem misleads the
	// planner: with 256MB it hashed the whole observation table (a second's
	// work before the first row) to join the 140,000 geometries of one
	// département, instead of hashing those: 2.5 s against 1.5 s (EXPLAIN
	// ANALYZE, 1M store).
	"SET work_mem = '64MB'",
}

// setUp runs sessionSettings, then the statements more, on conn.
func setUp(ctx context.Context, conn *pgx.Conn, more ...string) error {
	for _, s := range append(slices.Clone(sessionSettings), more...) {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("extraction: %s: %w", s, err)
		}
	}
	return nil
}

// selection is the query of one run, self-contained SQL: the rows read in
// one pass, in the store's order.
type selection struct {
	// geo selects the observations with a geometry, attached those
	// attached to an object without one: read one after the other, they
	// are the selection in the store's order.
	geo, attached string
	// planned is the whole selection as the planner estimates its rows
	// best (the perimeter test on a constant), for progress.
	planned   string
	perimeter string // for the readme
	// cells are the 10 km cells reaching inside the perimeter: those its
	// sensitive rows are blurred to, but for rows on its very edge.
	cells []string
}

// prepareSelection sets the session up and builds the query, selecting
// list (layout.selectList for a run, layout.placingList for an estimate).
// ewktSRID is the SRID an EWKT text names ("SRID=4326;POLYGON(...)").
func ewktSRID(wkt string) (string, bool) {
	head, _, ok := strings.Cut(strings.TrimSpace(wkt), ";")
	if !ok || len(head) < 5 || !strings.EqualFold(head[:5], "SRID=") {
		return "", false
	}
	return strings.TrimSpace(head[5:]), true
}

func prepareSelection(ctx context.Context, conn *pgx.Conn, spec Spec, list string) (*selection, error) {
	if err := setUp(ctx, conn); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.extract_perimeter, pg_temp.extract_hit`); err != nil {
		return nil, err
	}
	if spec.PerimeterWKT != "" {
		// EWKT's SRID would be overridden, not honoured: coordinates in
		// degrees would be read as metres and select nothing.
		if srid, ok := ewktSRID(spec.PerimeterWKT); ok && srid != "2154" {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, fieldError("perimeter.wkt",
				"SRID=%s: the extractor reads EPSG:2154 (Lambert-93) only; intake converts other systems", srid))
		}
		var valid bool
		var reason, kind string
		err := conn.QueryRow(ctx, `SELECT ST_IsValid(g), ST_IsValidReason(g), ST_GeometryType(g) FROM (SELECT ST_GeomFromText($1, 2154) AS g) x`,
			spec.PerimeterWKT).Scan(&valid, &reason, &kind)
		if err != nil {
			// Only the requester's WKT can make this statement fail.
			if pe, isPG := errors.AsType[*pgconn.PgError](err); isPG {
				problem := pe.Message
				if pe.Hint != "" {
					problem += " (" + pe.Hint + ")"
				}
				return nil, fmt.Errorf("%w: %w", ErrBadRequest, fieldError("perimeter.wkt", "%s", problem))
			}
			return nil, fmt.Errorf("extraction: perimeter: %w", err)
		}
		if kind != "ST_Polygon" && kind != "ST_MultiPolygon" {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, fieldError("perimeter.wkt",
				"a perimeter is a POLYGON or a MULTIPOLYGON, not a %s", strings.ToUpper(strings.TrimPrefix(kind, "ST_"))))
		}
		if !valid {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, fieldError("perimeter.wkt", "invalid geometry: %s", reason))
		}
		if _, err := conn.Exec(ctx, `CREATE TEMP TABLE extract_perimeter AS SELECT ST_GeomFromText($1, 2154) AS geom`, spec.PerimeterWKT); err != nil {
			return nil, fmt.Errorf("extraction: perimeter: %w", err)
		}
	} else {
		kinds, codes := make([]string, len(spec.Areas)), make([]string, len(spec.Areas))
		for i, a := range spec.Areas {
			kinds[i], codes[i] = a.Kind, a.Code
		}
		if _, err := conn.Exec(ctx, `CREATE TEMP TABLE extract_perimeter AS
			SELECT ST_Union(a.geom) AS geom FROM oc_dat.v_extract_area a
			JOIN unnest($1::text[], $2::text[]) AS w(kind, code) ON w.kind = a.kind AND w.code = a.code`, kinds, codes); err != nil {
			return nil, fmt.Errorf("extraction: perimeter from areas: %w", err)
		}
		unknown, err := UnknownAreas(ctx, conn, spec.Areas)
		if err != nil {
			return nil, fmt.Errorf("extraction: perimeter from areas: %w", err)
		}
		if len(unknown) > 0 {
			errs := make([]error, len(unknown))
			for j, i := range unknown {
				a := spec.Areas[i]
				errs[j] = fieldError(fmt.Sprintf("perimeter.areas[%d].code", i), "%s %s is unknown to the store", a.Kind, a.Code)
			}
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, errors.Join(errs...))
		}
	}
	// The objects that reach inside the perimeter select the observations
	// attached to them; a neighbour that only shares a border with the
	// perimeter does not. "Inside" is the perimeter shrunk by a metre: a
	// prepared ST_Intersects on it takes a second where ST_Relate
	// (interiors meet) took 13 s for the whole region.
	if _, err := conn.Exec(ctx, `ALTER TABLE pg_temp.extract_perimeter ADD COLUMN inside geometry`); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `UPDATE pg_temp.extract_perimeter SET inside = CASE WHEN ST_IsEmpty(b) THEN geom ELSE b END
		FROM (SELECT ST_Buffer(geom, -1) AS b FROM pg_temp.extract_perimeter) x`); err != nil {
		return nil, fmt.Errorf("extraction: perimeter: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE extract_hit AS
		SELECT a.kind, array_agg(a.code ORDER BY a.code) AS codes
		FROM oc_dat.v_extract_area a, pg_temp.extract_perimeter p
		WHERE ST_Intersects(a.geom, p.inside) GROUP BY a.kind`); err != nil {
		return nil, fmt.Errorf("extraction: objects in the perimeter: %w", err)
	}

	var summary string
	if err := conn.QueryRow(ctx, `SELECT format('%s km², emprise %s (EPSG:2154)',
			round((ST_Area(geom) / 1e6)::numeric, 1), replace(ST_AsText(ST_Envelope(geom)), 'POLYGON', ''))
		FROM pg_temp.extract_perimeter`).Scan(&summary); err != nil {
		return nil, fmt.Errorf("extraction: perimeter: %w", err)
	}
	if len(spec.Areas) > 0 {
		var names []string
		for _, a := range spec.Areas {
			names = append(names, a.Kind+" "+a.Code)
		}
		summary = strings.Join(names, ", ") + " — " + summary
	}

	filters := filterSQL(spec)
	// The perimeter goes into the query as a constant: the planner then
	// estimates from the column statistics how much of the store it covers
	// (a join with the temporary table left it guessing 92 rows for the
	// whole region, and walking a million index lookups).
	var perimeterHex string
	if err := conn.QueryRow(ctx, `SELECT encode(ST_AsEWKB(geom), 'hex') FROM pg_temp.extract_perimeter`).Scan(&perimeterHex); err != nil {
		return nil, fmt.Errorf("extraction: perimeter: %w", err)
	}
	perimeter := `'` + perimeterHex + `'::geometry`
	var geoSel, plannedSel string
	if spec.Buffer {
		// ST_DWithin with a per-row distance cannot use the index alone: the
		// bounding-box test with the largest precision does.
		var maxPrec float64
		if err := conn.QueryRow(ctx, `SELECT coalesce(max(precision_geometrie), 0) FROM oc_dat.v_extract_source`).Scan(&maxPrec); err != nil {
			return nil, fmt.Errorf("extraction: largest precision: %w", err)
		}
		geoSel = fmt.Sprintf(`s.geom && ST_Expand(%[1]s, %[2]s) AND ST_DWithin(s.geom, %[1]s, coalesce(s.precision_geometrie, 0))`,
			perimeter, strconv.FormatFloat(maxPrec, 'f', -1, 64))
	} else {
		// The bounding-box test on the constant gives the index and the
		// planner's estimate; the exact test reads the perimeter from the
		// session's table. On a constant, PostGIS compares the whole
		// serialized perimeter with its cached copy at every row (112 KB
		// for the region: half of the test's time); on the subquery's
		// value it sees the same pointer. coalesce keeps the planner from
		// estimating the test on an unknown value (92 rows for the region,
		// and a plan of nested loops); it assumes half the rows pass.
		// Region, COPY to /dev/null on the server: 11.1 s -> 9.2 s.
		var envelope string
		if err := conn.QueryRow(ctx, `SELECT encode(ST_AsEWKB(ST_Envelope(geom)), 'hex') FROM pg_temp.extract_perimeter`).Scan(&envelope); err != nil {
			return nil, fmt.Errorf("extraction: perimeter: %w", err)
		}
		geoSel = `s.geom && '` + envelope + `'::geometry AND coalesce(ST_Intersects(s.geom, (SELECT p.geom FROM pg_temp.extract_perimeter p)), false)`
		plannedSel = `ST_Intersects(s.geom, ` + perimeter + `)`
	}
	attached, hits, err := attachedSQL(ctx, conn)
	if err != nil {
		return nil, err
	}
	if plannedSel == "" {
		plannedSel = geoSel
	}
	attFrom := `FROM oc_dat.v_extract_source s WHERE s.rattachement IS NOT NULL AND s.geom IS NULL AND ` +
		attached + filters
	// Rows are placed by the Go rules (classify.go), sensitive ones
	// included: one pass over the store.
	geo := func(sel string) string {
		return fmt.Sprintf("SELECT %s FROM oc_dat.v_extract_source s WHERE %s%s", list, sel, filters)
	}
	att := "SELECT " + list + " " + attFrom
	return &selection{geo: geo(geoSel), attached: att, planned: geo(plannedSel) + "\nUNION ALL\n" + att, perimeter: summary,
		cells: hits[KindMaille10]}, nil
}

// Querier reads the store: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// UnknownAreas are the indexes of the areas oc_dat.v_extract_area does not
// list: those an extraction refuses.
func UnknownAreas(ctx context.Context, q Querier, areas []AreaRef) ([]int, error) {
	kinds, codes := make([]string, len(areas)), make([]string, len(areas))
	for i, a := range areas {
		kinds[i], codes[i] = a.Kind, a.Code
	}
	rows, err := q.Query(ctx, `SELECT w.i - 1 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(kind, code, i)
		WHERE NOT EXISTS (SELECT 1 FROM oc_dat.v_extract_area a WHERE a.kind = w.kind AND a.code = w.code)
		ORDER BY w.i`, kinds, codes)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// quoteLiteral is s as an SQL string literal (standard_conforming_strings
// is on in the extraction's sessions).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// attachedKinds are the kinds of geographic object an observation without
// geometry may be attached to, with the view's column of its codes.
var attachedKinds = []struct{ kind, col string }{
	{KindCommune, "communes"}, {KindMaille10, "mailles10"}, {KindDepartement, "departements"}, {KindEspaceNaturel, "espaces_naturels"},
}

// hashedAbove is the number of hit objects of a kind above which attached
// observations are matched by a hashed lookup of their codes rather than
// through the GIN index: a GIN overlap query costs every matching row
// times every key. For the region's 4,485 communes, reading the 68,000
// attached non-sensitive rows took 3.4 s through the index, 1.2 s hashed.
var hashedAbove = 1000

// attachedSQL is the condition selecting observations attached to an
// object that reaches inside the perimeter (pg_temp.extract_hit), and
// those objects' codes by kind.
func attachedSQL(ctx context.Context, conn *pgx.Conn) (string, map[string][]string, error) {
	hits := map[string][]string{}
	rows, err := conn.Query(ctx, `SELECT kind, codes FROM pg_temp.extract_hit`)
	if err != nil {
		return "", nil, fmt.Errorf("extraction: objects in the perimeter: %w", err)
	}
	for rows.Next() {
		var kind string
		var codes []string
		if err := rows.Scan(&kind, &codes); err != nil {
			return "", nil, fmt.Errorf("extraction: objects in the perimeter: %w", err)
		}
		hits[kind] = codes
	}
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("extraction: objects in the perimeter: %w", err)
	}
	var or []string
	for _, k := range attachedKinds {
		codes := hits[k.kind]
		if len(codes) == 0 {
			continue
		}
		// Constants, not a reference to the session's table: the planner
		// estimates from them (as for the perimeter).
		quoted := make([]string, len(codes))
		for i, c := range codes {
			quoted[i] = quoteLiteral(c)
		}
		array := "ARRAY[" + strings.Join(quoted, ",") + "]::text[]"
		if len(codes) <= hashedAbove {
			or = append(or, fmt.Sprintf(`(s.rattachement = '%s' AND s.%s && %s)`, k.kind, k.col, array))
		} else {
			// = ANY of a constant array is a hash lookup.
			or = append(or, fmt.Sprintf(`(s.rattachement = '%s' AND EXISTS (SELECT 1 FROM unnest(s.%s) c WHERE c = ANY (%s)))`,
				k.kind, k.col, array))
		}
	}
	if len(or) == 0 {
		return "false", hits, nil
	}
	return "(" + strings.Join(or, " OR ") + ")", hits, nil
}

// sensitiveSQL is true for the rows EffectiveLevel puts above Precise:
// those of an adherent's F2, for the benchmark's shell procedure.
const sensitiveSQL = `(s.sensi_niveau > 0 OR (s.ds_publique = 'Pr' AND s.diffusion_niveau_precision IS DISTINCT FROM '5'))`

// filterSQL inlines the taxonomic and period filters (COPY takes no
// parameters; every value was validated by Spec.Validate).
func filterSQL(spec Spec) string {
	var b strings.Builder
	if len(spec.Poles) > 0 {
		b.WriteString(" AND s.pole IN (")
		for i, p := range spec.Poles {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteLiteral(p))
		}
		b.WriteString(")")
	}
	if len(spec.CdRefs) > 0 {
		b.WriteString(" AND s.cd_ref IN (")
		for i, c := range spec.CdRefs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatInt(c, 10))
		}
		b.WriteString(")")
	}
	if spec.From != "" {
		b.WriteString(" AND coalesce(s.date_fin, s.date_debut) >= DATE '" + spec.From + "'")
	}
	if spec.To != "" {
		b.WriteString(" AND s.date_debut <= DATE '" + spec.To + "'")
	}
	return b.String()
}

// estimate asks the planner how many rows the selection will give.
func estimate(ctx context.Context, conn *pgx.Conn, query string) (int64, error) {
	var raw []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+query).Scan(&raw); err != nil {
		return 0, fmt.Errorf("extraction: estimate: %w", err)
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("extraction: estimate: %v", err)
	}
	return int64(plan[0].Plan.Rows), nil
}

// ShellQuery is the selection of an areas perimeter as one line of SQL
// without parameters: the exported columns, formatted as the extractor
// writes them, of the same rows. It is what the platform's former shell
// procedure ran through psql \copy, kept to benchmark the extractor against.
// With a pôle, it is the rows of that pôle's F2 (its sensitive rows, at
// full precision), which the procedure extracted the same way for an
// adherent.
func ShellQuery(areas []AreaRef, f2Pole string) string {
	l, _ := newLayout()
	var refs []string
	for _, a := range areas {
		refs = append(refs, fmt.Sprintf("(%s,%s)", quoteLiteral(a.Kind), quoteLiteral(a.Code)))
	}
	list := strings.TrimPrefix(l.selectList("s"), "s.pole, s.type_geometrie, s.rattachement, ")
	perimeter := `(SELECT ST_Union(geom) FROM oc_dat.v_extract_area WHERE (kind, code) IN (` + strings.Join(refs, ",") + `))`
	var attached []string
	for _, k := range attachedKinds {
		attached = append(attached, fmt.Sprintf(`(s.rattachement = '%s' AND s.%s && (SELECT array_agg(a.code) FROM oc_dat.v_extract_area a, p WHERE a.kind = '%s' AND ST_Intersects(a.geom, p.inside)))`,
			k.kind, k.col, k.kind))
	}
	var f2 string
	if f2Pole != "" {
		f2 = ` AND ` + sensitiveSQL + ` AND s.pole = ` + quoteLiteral(f2Pole)
	}
	return fmt.Sprintf(`WITH p AS MATERIALIZED (SELECT g AS geom, ST_Buffer(g, -1) AS inside FROM (SELECT %s AS g) x) SELECT %s FROM oc_dat.v_extract_source s, p WHERE ST_Intersects(s.geom, p.geom)%s UNION ALL SELECT %s FROM oc_dat.v_extract_source s WHERE s.rattachement IS NOT NULL AND s.geom IS NULL AND (%s)%s`,
		perimeter, list, f2, list, strings.Join(attached, " OR "), f2)
}
