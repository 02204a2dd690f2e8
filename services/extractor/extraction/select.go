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
}

// Memory for sorts and hashes, per connection. The sensitive rows are
// sorted (see prepareSelection): in memory (a region's take 100 MB). The
// main rows are not, and a large work_mem there misleads the planner: with
// 256MB it hashed the whole observation table (a second's work before the
// first row) to join the 140,000 geometries of one département, instead of
// hashing those: 2.5 s against 1.5 s (EXPLAIN ANALYZE, 1M store).
const (
	mainWorkMem      = "SET work_mem = '64MB'"
	sensitiveWorkMem = "SET work_mem = '256MB'"
)

// selection is the query of one run in two parts read one after the
// other: main (the rows shown as they are) and sensitive (sorted, so
// PostgreSQL must produce them all before the first: it does so on a
// second connection while main streams). Both are self-contained SQL.
type selection struct {
	main, sensitive string
	perimeter       string // for the readme
}

// prepareSelection sets the session up and builds the query.
func prepareSelection(ctx context.Context, conn *pgx.Conn, spec Spec, l *layout) (*selection, error) {
	for _, s := range append(slices.Clone(sessionSettings), mainWorkMem) {
		if _, err := conn.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("extraction: %s: %w", s, err)
		}
	}
	if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.extract_perimeter, pg_temp.extract_hit`); err != nil {
		return nil, err
	}
	if spec.PerimeterWKT != "" {
		var valid bool
		var reason string
		err := conn.QueryRow(ctx, `SELECT ST_IsValid(g), ST_IsValidReason(g) FROM (SELECT ST_GeomFromText($1, 2154) AS g) x`,
			spec.PerimeterWKT).Scan(&valid, &reason)
		if err != nil {
			// Only the requester's WKT can make this statement fail.
			if _, isPG := errors.AsType[*pgconn.PgError](err); isPG {
				return nil, fmt.Errorf("%w: perimeter: %w", ErrBadRequest, err)
			}
			return nil, fmt.Errorf("extraction: perimeter: %w", err)
		}
		if !valid {
			return nil, fmt.Errorf("%w: perimeter: invalid geometry: %s", ErrBadRequest, reason)
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
		var found int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM oc_dat.v_extract_area a
			JOIN unnest($1::text[], $2::text[]) AS w(kind, code) ON w.kind = a.kind AND w.code = a.code`, kinds, codes).Scan(&found); err != nil {
			return nil, err
		}
		if found != len(spec.Areas) {
			return nil, fmt.Errorf("%w: perimeter: %d of the %d areas listed are unknown to the store", ErrBadRequest, len(spec.Areas)-found, len(spec.Areas))
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
	list := l.selectList("s")
	// The perimeter goes into the query as a constant: the planner then
	// estimates from the column statistics how much of the store it covers
	// (a join with the temporary table left it guessing 92 rows for the
	// whole region, and walking a million index lookups).
	var perimeterHex string
	if err := conn.QueryRow(ctx, `SELECT encode(ST_AsEWKB(geom), 'hex') FROM pg_temp.extract_perimeter`).Scan(&perimeterHex); err != nil {
		return nil, fmt.Errorf("extraction: perimeter: %w", err)
	}
	perimeter := `'` + perimeterHex + `'::geometry`
	var geoSel string
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
		geoSel = `ST_Intersects(s.geom, ` + perimeter + `)`
	}
	attached, err := attachedSQL(ctx, conn)
	if err != nil {
		return nil, err
	}
	geoFrom := `FROM oc_dat.v_extract_source s WHERE ` + geoSel + filters
	attFrom := `FROM oc_dat.v_extract_source s WHERE s.rattachement IS NOT NULL AND s.geom IS NULL AND ` +
		attached + filters
	// Sensitive rows come last, grouped by the object they blur to: the
	// same commune or département polygon then repeats on adjacent rows,
	// where the compressor finds it, instead of megabytes apart. Rows are
	// still placed by the Go rules (classify.go); this order only packs.
	main := fmt.Sprintf(`SELECT %[1]s %[2]s AND %[4]s
UNION ALL
SELECT %[1]s %[3]s AND %[4]s`, list, geoFrom, attFrom, notSensitiveSQL)
	sensitive := fmt.Sprintf(`SELECT %[1]s FROM (SELECT s.* %[2]s AND %[3]s UNION ALL SELECT s.* %[4]s AND %[3]s) s ORDER BY %[5]s`,
		list, geoFrom, sensitiveSQL, attFrom, blurOrderSQL)
	return &selection{main: main, sensitive: sensitive, perimeter: summary}, nil
}

// query is the whole selection in the order rows are read.
func (s *selection) query() string { return s.main + "\nUNION ALL\n(" + s.sensitive + ")" }

// quoteLiteral is s as an SQL string literal (standard_conforming_strings
// is on in the extraction's sessions).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// attachedKinds are the kinds of geographic object an observation without
// geometry may be attached to, with the view's column of its codes.
var attachedKinds = []struct{ kind, col string }{
	{KindCommune, "communes"}, {KindMaille10, "mailles10"}, {KindDepartement, "departements"}, {"espace_naturel", "espaces_naturels"},
}

// hashedAbove is the number of hit objects of a kind above which attached
// observations are matched by a hashed lookup of their codes rather than
// through the GIN index: a GIN overlap query costs every matching row
// times every key. For the region's 4,485 communes, reading the 68,000
// attached non-sensitive rows took 3.4 s through the index, 1.2 s hashed.
var hashedAbove = 1000

// attachedSQL is the condition selecting observations attached to an
// object that reaches inside the perimeter (pg_temp.extract_hit).
func attachedSQL(ctx context.Context, conn *pgx.Conn) (string, error) {
	hits := map[string][]string{}
	rows, err := conn.Query(ctx, `SELECT kind, codes FROM pg_temp.extract_hit`)
	if err != nil {
		return "", fmt.Errorf("extraction: objects in the perimeter: %w", err)
	}
	for rows.Next() {
		var kind string
		var codes []string
		if err := rows.Scan(&kind, &codes); err != nil {
			return "", fmt.Errorf("extraction: objects in the perimeter: %w", err)
		}
		hits[kind] = codes
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("extraction: objects in the perimeter: %w", err)
	}
	var or []string
	for _, k := range attachedKinds {
		codes := hits[k.kind]
		if len(codes) == 0 {
			continue
		}
		// Constants, not a reference to the session's table: the sensitive
		// rows are read on a second connection.
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
		return "false", nil
	}
	return "(" + strings.Join(or, " OR ") + ")", nil
}

// sensitiveSQL is true for the rows EffectiveLevel puts above Precise;
// notSensitiveSQL is its exact complement (a NULL must not drop a row from
// both halves). No partial index serves it: through the view's cast
// (o.sensi_niveau::integer) the planner cannot prove an index predicate on
// the table, and a region's sensitive rows (one in seven, on nearly every
// page) are read as fast by a sequential scan.
const (
	sensitivePredicate = `s.sensi_niveau > 0 OR (s.ds_publique = 'Pr' AND s.diffusion_niveau_precision IN ('1', '2', '3', '4'))`
	sensitiveSQL       = `(` + sensitivePredicate + `)`
	notSensitiveSQL    = `NOT coalesce(` + sensitivePredicate + `, false)`
)

// blurOrderSQL orders sensitive rows by pôle, then by the codes of the
// object their level blurs them to; id makes the order total.
const blurOrderSQL = `s.pole, CASE greatest(s.sensi_niveau, CASE WHEN s.ds_publique = 'Pr' AND s.diffusion_niveau_precision IN ('1', '2', '3')
		THEN s.diffusion_niveau_precision::int ELSE 0 END)
	WHEN 1 THEN s.communes WHEN 2 THEN s.mailles10 ELSE s.departements END, s.departements, s.id`

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
	list := strings.TrimPrefix(l.selectList("s"), "s.pole, s.type_geometrie, ")
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
