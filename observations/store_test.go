package observations_test

import (
	"context"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/seed"
	"sinp.occitanie.fr/observations/stats"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

// What the issue asks of `sinp migrate && sinp seed --observations 100000
// --areas ../shared/data/geo`: statistics showing all six pôles, the four
// geometry kinds, every sensitivity level and attached observations, and a
// perimeter query that uses the spatial index.
func TestSeededStore(t *testing.T) {
	geo := shareddata.Require(t, "geo")
	db := pgtest.NewDB(t, observations.Migrations)
	ctx := context.Background()
	if _, err := seed.Run(ctx, db, seed.Options{Observations: 100000, Seed: 1, AreasDir: geo}); err != nil {
		t.Fatal(err)
	}
	s, err := stats.Compute(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s.Print(&b, 5)
	t.Log("\n" + b.String())
	if s.Observations != 100000 {
		t.Errorf("%d observations", s.Observations)
	}
	nonZero := func(what string, cs []stats.Count, keys ...string) {
		t.Helper()
		got := map[string]int64{}
		for _, c := range cs {
			got[c.Key] = c.Count
		}
		for _, k := range keys {
			if got[k] == 0 {
				t.Errorf("no observation %s %s: %v", what, k, cs)
			}
		}
	}
	nonZero("of pôle", s.ByPole, "flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons")
	nonZero("of geometry", s.ByGeometry, "points", "lignes", "polygones", "obj_geograph")
	nonZero("attached to", s.ByAttachment, "commune", "maille10", "departement", "espace_naturel")
	nonZero("at sensitivity", s.BySensitivity, "0", "1", "2", "3", "4")
	nonZero("private at diffusion level", s.ByDiffusion, "1", "2", "3", "4")
	if len(s.ByDataset) < 200 {
		t.Errorf("%d datasets with observations, want hundreds", len(s.ByDataset))
	}
	var twoCommunes int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.observation WHERE rattachement = 'commune' AND cardinality(communes) = 2`).Scan(&twoCommunes); err != nil || twoCommunes == 0 {
		t.Errorf("no observation attached to two communes (%v)", err)
	}

	explain := func(sql string) string {
		t.Helper()
		rows, err := db.Query(ctx, "EXPLAIN "+sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		return strings.Join(plan, "\n")
	}
	perimeter := `ST_Buffer(ST_SetSRID(ST_MakePoint(770000, 6280000), 2154), 5000)`
	plan := explain(`SELECT * FROM oc_dat.v_extract_source WHERE ST_Intersects(geom, ` + perimeter + `)`)
	if !strings.Contains(plan, "geo_geom_idx") {
		t.Errorf("a perimeter query does not use the spatial index:\n%s", plan)
	}
	// The precisgeo option: the distance varies per row, so the index needs
	// a box widened by the largest precision (README, "Selecting").
	plan = explain(`SELECT * FROM oc_dat.v_extract_source WHERE geom && ST_Expand(` + perimeter + `, 5000)
		AND ST_DWithin(geom, ` + perimeter + `, coalesce(precision_geometrie, 0))`)
	if !strings.Contains(plan, "geo_geom_idx") {
		t.Errorf("a perimeter query buffered by precision does not use the spatial index:\n%s", plan)
	}
	plan = explain(`SELECT id FROM oc_dat.v_extract_source WHERE geom IS NULL AND rattachement = 'commune' AND communes && ARRAY['34172', '31555']`)
	if !strings.Contains(plan, "observation_att_commune_idx") {
		t.Errorf("selecting attached observations by commune does not use the partial GIN index:\n%s", plan)
	}

	var badCells int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.v_extract_area WHERE kind = 'maille10' AND code <>
		format('10kmL93E%sN%s', lpad((ST_XMin(geom) / 10000)::int::text, 3, '0'), lpad((ST_YMin(geom) / 10000)::int::text, 3, '0'))`).Scan(&badCells); err != nil || badCells != 0 {
		t.Errorf("%d grid cells whose code is not their lower-left corner (%v)", badCells, err)
	}
	var kinds int
	if err := db.QueryRow(ctx, `SELECT count(DISTINCT kind) FROM oc_dat.v_extract_area WHERE ST_SRID(geom) = 2154`).Scan(&kinds); err != nil || kinds != 4 {
		t.Errorf("%d kinds of areas in EPSG:2154 (%v)", kinds, err)
	}
}
