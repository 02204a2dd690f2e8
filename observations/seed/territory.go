package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/observations/internal/planar"
)

// area is a geographic object as the generator sees it.
type area struct {
	code, name, dept string
	kind             string // TYP_EN for natural areas
	geom             planar.MultiPolygon
	box              planar.Box
}

// loadAreas loads the real communes and départements from the GeoJSON files
// of dir (EPSG:4326), reprojected by PostGIS to EPSG:2154.
func loadAreas(ctx context.Context, tx pgx.Tx, dir string) error {
	deptFiles, _ := filepath.Glob(filepath.Join(dir, "departements*.geojson"))
	communeFiles, _ := filepath.Glob(filepath.Join(dir, "communes-*.geojson"))
	if len(deptFiles) == 0 || len(communeFiles) == 0 {
		return fmt.Errorf("--areas %s: want departements*.geojson and communes-*.geojson files there", dir)
	}
	depts := map[string]bool{}
	for _, f := range deptFiles {
		codes, err := insertGeoJSON(ctx, tx, f, `
			INSERT INTO oc_dat.departement (code, nom, geom)
			SELECT code, nom, `+geoJSONTo2154+` FROM unnest($1::text[], $2::text[], $3::text[]) AS t(code, nom, g)`, nil)
		if err != nil {
			return err
		}
		for _, c := range codes {
			depts[c] = true
		}
	}
	for _, f := range communeFiles {
		_, err := insertGeoJSON(ctx, tx, f, `
			INSERT INTO oc_dat.commune (code, nom, departement, geom)
			SELECT code, nom, left(code, 2), `+geoJSONTo2154+` FROM unnest($1::text[], $2::text[], $3::text[]) AS t(code, nom, g)`,
			func(code string) error {
				if len(code) != 5 || !depts[code[:2]] {
					return fmt.Errorf("commune %q is not in a département of %s", code, strings.Join(deptFiles, ", "))
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	return nil
}

// Boundaries are stored in Lambert-93 to the centimetre, as IGN publishes
// them (a reprojection alone leaves 16 meaningless digits that every blurred
// row would carry). Simplified boundaries may self-intersect once
// reprojected: make them valid so that every spatial predicate works.
const geoJSONTo2154 = `ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_ReducePrecision(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326), 2154), 0.01)), 3))`

func insertGeoJSON(ctx context.Context, tx pgx.Tx, path, sql string, check func(code string) error) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--areas: %w", err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				Code string `json:"code"`
				Nom  string `json:"nom"`
			} `json:"properties"`
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("--areas: %s: %w", path, err)
	}
	var codes, names, geoms []string
	for i, f := range fc.Features {
		if f.Properties.Code == "" || len(f.Geometry) == 0 || string(f.Geometry) == "null" {
			return nil, fmt.Errorf("--areas: %s: feature %d has no code or no geometry", path, i+1)
		}
		if check != nil {
			if err := check(f.Properties.Code); err != nil {
				return nil, fmt.Errorf("--areas: %s: feature %d: %w", path, i+1, err)
			}
		}
		codes = append(codes, f.Properties.Code)
		names = append(names, f.Properties.Nom)
		geoms = append(geoms, string(f.Geometry))
	}
	if _, err := tx.Exec(ctx, sql, codes, names, geoms); err != nil {
		return nil, fmt.Errorf("--areas: %s: %w", path, err)
	}
	return codes, nil
}

// outline is a coarse outline of Occitanie in EPSG:2154, the shape of the
// generated territory when no real areas are given.
var outline = planar.Ring{
	planar.P(600000, 6165000), planar.P(513000, 6198000), planar.P(509000, 6180000), planar.P(453000, 6181000), planar.P(428000, 6206000), planar.P(459000, 6254000),
	planar.P(440000, 6316000), planar.P(532000, 6340000), planar.P(575000, 6435000), planar.P(626000, 6431000), planar.P(637000, 6391000), planar.P(679000, 6427000),
	planar.P(699000, 6394000), planar.P(729000, 6431000), planar.P(769000, 6405000), planar.P(783000, 6358000), planar.P(831000, 6355000), planar.P(848000, 6324000),
	planar.P(831000, 6289000), planar.P(709000, 6221000), planar.P(714000, 6148000), planar.P(619000, 6139000),
}

var deptCodes = []string{"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}

// generateAreas makes a territory of Occitanie's shape and size: ~4,500
// communes on a jittered grid (about Occitanie's mean commune area), grouped
// into 13 départements around well-spread centres.
func generateAreas(ctx context.Context, tx pgx.Tx, r *rand.Rand) error {
	const step = 4025.0 // 16.2 km², Occitanie's mean commune area
	box := planar.BoxOf(outline)
	nx, ny := int((box.MaxX-box.MinX)/step)+2, int((box.MaxY-box.MinY)/step)+2
	vert := make([]planar.Point, (nx+1)*(ny+1))
	for j := 0; j <= ny; j++ {
		for i := 0; i <= nx; i++ {
			vert[j*(nx+1)+i] = planar.P(
				box.MinX+float64(i)*step+(r.Float64()-0.5)*0.6*step,
				box.MinY+float64(j)*step+(r.Float64()-0.5)*0.6*step,
			)
		}
	}
	region := planar.MultiPolygon{{outline}}
	type cell struct {
		ring   planar.Ring
		center planar.Point
	}
	var cells []cell
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			ring := planar.Ring{vert[j*(nx+1)+i], vert[j*(nx+1)+i+1], vert[(j+1)*(nx+1)+i+1], vert[(j+1)*(nx+1)+i]}
			c := planar.Point{X: (ring[0].X + ring[2].X) / 2, Y: (ring[0].Y + ring[2].Y) / 2}
			if region.ContainsPoint(c) {
				cells = append(cells, cell{ring, c})
			}
		}
	}
	// Département centres: farthest-point sampling spreads them out.
	centres := []planar.Point{cells[r.IntN(len(cells))].center}
	for len(centres) < len(deptCodes) {
		best, bestD := 0, -1.0
		for k, c := range cells {
			d := math.Inf(1)
			for _, ce := range centres {
				d = math.Min(d, math.Hypot(c.center.X-ce.X, c.center.Y-ce.Y))
			}
			if d > bestD {
				best, bestD = k, d
			}
		}
		centres = append(centres, cells[best].center)
	}
	sort.Slice(centres, func(a, b int) bool { return centres[a].X < centres[b].X })
	perDept := map[string]int{}
	var codes, names, depts []string
	var geoms [][]byte
	for _, c := range cells {
		best, bestD := 0, math.Inf(1)
		for k, ce := range centres {
			if d := math.Hypot(c.center.X-ce.X, c.center.Y-ce.Y); d < bestD {
				best, bestD = k, d
			}
		}
		dept := deptCodes[best]
		perDept[dept]++
		codes = append(codes, fmt.Sprintf("%s%03d", dept, perDept[dept]))
		names = append(names, communeName(r))
		depts = append(depts, dept)
		geoms = append(geoms, planar.AppendMultiPolygonEWKB(nil, planar.MultiPolygon{{c.ring}}, 2154))
	}
	var dnames []string
	for range deptCodes {
		dnames = append(dnames, "Département "+capitalise(pick(r, syllables)+pick(r, syllables)+"ais"))
	}
	return insertGenerated(ctx, tx, dnames, codes, names, depts, geoms)
}

// insertGenerated stores generated communes, and départements as the union
// of their communes.
func insertGenerated(ctx context.Context, tx pgx.Tx, deptNames, codes, names, depts []string, geoms [][]byte) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_commune (code text, nom text, departement text, geom geometry) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("seed: generated areas: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO seed_commune SELECT code, nom, dept, ST_GeomFromEWKB(g)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS t(code, nom, dept, g)`, codes, names, depts, geoms); err != nil {
		return fmt.Errorf("seed: generated areas: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO oc_dat.departement (code, nom, geom)
		SELECT d.code, d.nom, ST_Multi(ST_Union(c.geom))
		FROM unnest($1::text[], $2::text[]) AS d(code, nom) JOIN seed_commune c ON c.departement = d.code
		GROUP BY d.code, d.nom`, deptCodes, deptNames); err != nil {
		return fmt.Errorf("seed: generated départements: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO oc_dat.commune (code, nom, departement, geom) SELECT code, nom, departement, geom FROM seed_commune`); err != nil {
		return fmt.Errorf("seed: generated communes: %w", err)
	}
	return nil
}

// insertCells stores the 10 km cells that cover the communes.
func insertCells(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO oc_dat.maille10 (code, geom)
		SELECT format('10kmL93E%sN%s', lpad(x::text, 3, '0'), lpad(y::text, 3, '0')),
		       ST_MakeEnvelope(x * 10000, y * 10000, x * 10000 + 10000, y * 10000 + 10000, 2154)
		FROM (SELECT ST_Extent(geom) AS e FROM oc_dat.commune) b,
		     generate_series(floor(ST_XMin(b.e) / 10000)::int, floor(ST_XMax(b.e) / 10000)::int) x,
		     generate_series(floor(ST_YMin(b.e) / 10000)::int, floor(ST_YMax(b.e) / 10000)::int) y
		WHERE EXISTS (SELECT 1 FROM oc_dat.commune c
		              WHERE ST_Intersects(c.geom, ST_MakeEnvelope(x * 10000, y * 10000, x * 10000 + 10000, y * 10000 + 10000, 2154)))`)
	if err != nil {
		return fmt.Errorf("seed: grid cells: %w", err)
	}
	return nil
}

// cellCode names the 10 km cell holding p: 10kmL93E074N695 has its
// lower-left corner at x=740000, y=6950000.
func cellCode(p planar.Point) string {
	return fmt.Sprintf("10kmL93E%03dN%03d", int(math.Floor(p.X/10000)), int(math.Floor(p.Y/10000)))
}

func cellSquare(x, y int) planar.Ring {
	x0, y0 := float64(x)*10000, float64(y)*10000
	return planar.Ring{planar.P(x0, y0), planar.P(x0+10000, y0), planar.P(x0+10000, y0+10000), planar.P(x0, y0+10000)}
}

// readAreas reads back communes and départements as stored (EPSG:2154).
func readAreas(ctx context.Context, tx pgx.Tx, table string) ([]area, error) {
	dept := "code"
	if table == "commune" {
		dept = "departement"
	}
	rows, err := tx.Query(ctx, `SELECT code, nom, `+dept+`, ST_AsBinary(geom) FROM oc_dat.`+table+` ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("seed: read %s: %w", table, err)
	}
	defer rows.Close()
	var out []area
	for rows.Next() {
		var a area
		var b []byte
		if err := rows.Scan(&a.code, &a.name, &a.dept, &b); err != nil {
			return nil, err
		}
		if a.geom, err = planar.FromWKB(b); err != nil {
			return nil, fmt.Errorf("seed: %s %s: %w", table, a.code, err)
		}
		a.box = a.geom.Box()
		out = append(out, a)
	}
	return out, rows.Err()
}

func readCells(ctx context.Context, tx pgx.Tx) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT code FROM oc_dat.maille10`)
	if err != nil {
		return nil, err
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return set, nil
}

// Natural areas are generated: ZNIEFF, Natura 2000 sites, reserves and
// biotope orders (TYP_EN codes), drawn around biodiversity hotspots.
type naturalKind struct {
	typ        string
	count      int
	rMin, rMax float64
	prefix     string
	digits     int
	label      string
}

var naturalKinds = []naturalKind{
	{"ZNIEFF1", 110, 500, 4000, "910", 6, "ZNIEFF de type I"},
	{"ZNIEFF2", 25, 5000, 15000, "910", 6, "ZNIEFF de type II"},
	{"N2000", 40, 2000, 10000, "FR91", 5, "Site Natura 2000"},
	{"RNN", 8, 800, 3000, "FR36", 5, "Réserve naturelle nationale"},
	{"RNR", 8, 500, 2500, "FR93", 5, "Réserve naturelle régionale"},
	{"APB", 12, 200, 1000, "FR38", 5, "Arrêté de protection de biotope"},
}

func makeNaturalAreas(r *rand.Rand, centres func() planar.Point, communes []area) []area {
	var out []area
	used := map[string]bool{}
	for _, k := range naturalKinds {
		for range k.count {
			c := centres()
			radius := k.rMin + r.Float64()*(k.rMax-k.rMin)
			ring := starRing(r, c, radius, 12+r.IntN(12))
			var code string
			for code == "" || used[code] {
				code = fmt.Sprintf("%s%0*d", k.prefix, k.digits, r.IntN(int(math.Pow10(k.digits))))
			}
			used[code] = true
			name := pick(r, placeWords) + " " + pick(r, placeNames)
			if len(communes) > 0 {
				name = pick(r, placeWords) + " de " + pick(r, communes).name
			}
			geom := planar.MultiPolygon{{ring}}
			out = append(out, area{code: code, name: k.label + " " + name, kind: k.typ, geom: geom, box: geom.Box()})
		}
	}
	return out
}

// starRing draws a simple polygon around c: vertices at increasing angles,
// each at a radius between 60% and 100% of radius.
func starRing(r *rand.Rand, c planar.Point, radius float64, n int) planar.Ring {
	ring := make(planar.Ring, n)
	offset := r.Float64() * 2 * math.Pi
	for i := range ring {
		a := offset + 2*math.Pi*float64(i)/float64(n)
		d := radius * (0.6 + 0.4*r.Float64())
		ring[i] = planar.P(c.X+d*math.Cos(a), c.Y+d*math.Sin(a))
	}
	return ring
}

func insertNaturalAreas(ctx context.Context, tx pgx.Tx, areas []area) error {
	rows := make([][]any, len(areas))
	for i, a := range areas {
		rows[i] = []any{a.code, a.name, a.kind, planar.AppendMultiPolygonEWKB(nil, a.geom, 2154)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"oc_dat", "espace_naturel"}, []string{"code", "nom", "type_en", "geom"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed: natural areas: %w", err)
	}
	return nil
}
