package seed_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/seed"
	"sinp.occitanie.fr/observations/sensitivity"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

// digest fingerprints what the extractor can read.
func digest(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	var d string
	if err := db.QueryRow(context.Background(), `
		SELECT md5(string_agg(md5(v::text), '' ORDER BY v.id)) FROM oc_dat.v_extract_source v`).Scan(&d); err != nil {
		t.Fatal(err)
	}
	var meta string
	if err := db.QueryRow(context.Background(), `
		SELECT md5(string_agg(md5(d::text), '' ORDER BY d.id)) FROM oc_dat.v_extract_dataset d`).Scan(&meta); err != nil {
		t.Fatal(err)
	}
	return d + meta
}

func TestSameSeedSameData(t *testing.T) {
	ctx := context.Background()
	opts := seed.Options{Observations: 3000, Seed: 42}
	a, b, c := pgtest.NewDB(t, observations.Migrations), pgtest.NewDB(t, observations.Migrations), pgtest.NewDB(t, observations.Migrations)
	if _, err := seed.Run(ctx, a, opts); err != nil {
		t.Fatal(err)
	}
	opts.Workers = 1 // parallelism must not matter
	if _, err := seed.Run(ctx, b, opts); err != nil {
		t.Fatal(err)
	}
	if digest(t, a) != digest(t, b) {
		t.Error("two runs with the same seed differ")
	}
	opts.Seed = 43
	if _, err := seed.Run(ctx, c, opts); err != nil {
		t.Fatal(err)
	}
	if digest(t, a) == digest(t, c) {
		t.Error("another seed gives the same data")
	}
	// Seeding again replaces the content.
	opts.Seed = 42
	if _, err := seed.Run(ctx, c, opts); err != nil {
		t.Fatal(err)
	}
	if digest(t, a) != digest(t, c) {
		t.Error("reseeding does not replace the content")
	}
}

// The attachment codes computed while generating are those PostGIS finds,
// and the sensitivity levels are those `sinp sensitivity apply` computes.
func TestRealAreasAndReferential(t *testing.T) {
	geo := shareddata.Require(t, "geo")
	refFile := shareddata.Require(t, "sensitivity", "especesensible.sql")
	db := pgtest.NewDB(t, observations.Migrations)
	ctx := context.Background()
	res, err := seed.Run(ctx, db, seed.Options{Observations: 20000, Seed: 1, AreasDir: geo, Referential: refFile})
	if err != nil {
		t.Fatal(err)
	}
	if res.Communes != 4485 || res.Departements != 13 {
		t.Errorf("%d communes and %d départements loaded, want 4485 and 13", res.Communes, res.Departements)
	}
	t.Logf("%+v", res)

	for _, tc := range []struct{ name, sql string }{
		{"communes", `SELECT count(*) FROM oc_dat.observation o JOIN oc_dat.geo g ON g.id_observation = o.id
			WHERE o.communes <> ARRAY(SELECT c.code FROM oc_dat.commune c WHERE ST_Intersects(c.geom, g.geom) ORDER BY c.code)`},
		{"cells", `SELECT count(*) FROM oc_dat.observation o JOIN oc_dat.geo g ON g.id_observation = o.id
			WHERE o.mailles10 <> ARRAY(SELECT c.code FROM oc_dat.maille10 c WHERE ST_Intersects(c.geom, g.geom) ORDER BY c.code)`},
		{"natural areas", `SELECT count(*) FROM oc_dat.observation o JOIN oc_dat.geo g ON g.id_observation = o.id
			WHERE o.espaces_naturels <> ARRAY(SELECT c.code FROM oc_dat.espace_naturel c WHERE ST_Intersects(c.geom, g.geom) ORDER BY c.code)`},
		{"départements of the communes", `SELECT count(*) FROM oc_dat.observation o WHERE cardinality(o.communes) > 0
			AND o.departements <> ARRAY(SELECT DISTINCT c.departement FROM oc_dat.commune c WHERE c.code = ANY (o.communes) ORDER BY 1)`},
		{"empty départements", `SELECT count(*) FROM oc_dat.observation WHERE cardinality(departements) = 0`},
		{"georeferenced without commune", `SELECT count(*) FROM oc_dat.observation WHERE rattachement IS NULL AND cardinality(communes) = 0`},
		{"attached to an unknown object", `SELECT count(*) FROM oc_dat.observation o WHERE
			EXISTS (SELECT 1 FROM unnest(o.communes) c WHERE c NOT IN (SELECT code FROM oc_dat.commune)) OR
			EXISTS (SELECT 1 FROM unnest(o.mailles10) c WHERE c NOT IN (SELECT code FROM oc_dat.maille10)) OR
			EXISTS (SELECT 1 FROM unnest(o.espaces_naturels) c WHERE c NOT IN (SELECT code FROM oc_dat.espace_naturel))`},
		{"attached without its object", `SELECT count(*) FROM oc_dat.observation WHERE
			(rattachement = 'commune' AND cardinality(communes) NOT IN (1, 2)) OR (rattachement = 'maille10' AND cardinality(mailles10) <> 1) OR
			(rattachement = 'departement' AND cardinality(departements) <> 1) OR (rattachement = 'espace_naturel' AND cardinality(espaces_naturels) <> 1)`},
		{"geometry and attachment disagree", `SELECT count(*) FROM oc_dat.v_extract_source WHERE (geom IS NULL) <> (rattachement IS NOT NULL)`},
	} {
		var n int
		if err := db.QueryRow(ctx, tc.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d observations disagree", tc.name, n)
		}
	}

	// Sensitive taxa are real ones of the referential.
	var realSensitive int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.observation o JOIN oc_dat.sensibilite_regle r
		ON r.cd_nom = o.cd_nom AND r.cd_dept = ANY (o.departements) WHERE o.sensi_niveau > 0 AND NOT o.sensi_manuelle`).Scan(&realSensitive); err != nil || realSensitive == 0 {
		t.Errorf("no sensitive observation of a referential taxon (%v)", err)
	}

	rules, err := sensitivity.ReadFile(refFile)
	if err != nil {
		t.Fatal(err)
	}
	version, err := sensitivity.VersionOf(refFile)
	if err != nil || version != "2018-11-23" {
		t.Fatalf("the referential's version is %q (%v), want its dump's date 2018-11-23", version, err)
	}
	var recorded, computed int64
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sensi_version_referentiel = $1), count(*)
		FROM oc_dat.observation WHERE NOT sensi_manuelle`, version).Scan(&recorded, &computed); err != nil || recorded != computed || computed == 0 {
		t.Errorf("%d of %d computed levels record the referential's version (%v)", recorded, computed, err)
	}
	var dates int64
	if err := db.QueryRow(ctx, `SELECT count(DISTINCT sensi_date_attribution) FROM oc_dat.observation`).Scan(&dates); err != nil || dates < res.Observations/10 {
		t.Errorf("%d distinct attribution instants among %d observations (%v): sensitivity is computed when records arrive", dates, res.Observations, err)
	}
	applied, err := sensitivity.Apply(ctx, db, rules, sensitivity.Options{Name: res.Referential, Version: version, Now: seed.DefaultNow})
	if err != nil {
		t.Fatal(err)
	}
	if applied.Changed != 0 {
		t.Errorf("sensitivity apply changed %d levels the seed computed", applied.Changed)
	}
	for level := 1; level <= 4; level++ {
		if applied.Levels[level] == 0 {
			t.Errorf("no observation at sensitivity level %d: %v", level, applied.Levels)
		}
	}
}

// BenchmarkSeed prints the load rate. For the 1M figure of the README:
//
//	SINP_BENCH_OBSERVATIONS=1000000 go test -run '^$' -bench Seed -benchtime 1x ./seed
func BenchmarkSeed(b *testing.B) {
	n := 100000
	if v := os.Getenv("SINP_BENCH_OBSERVATIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("SINP_BENCH_OBSERVATIONS=%q: %v", v, err)
		}
	}
	opts := seed.Options{Observations: n, Seed: 1}
	if d, err := os.Stat("../../../shared/data/geo"); err == nil && d.IsDir() {
		opts.AreasDir = "../../../shared/data/geo"
		opts.Referential = "../../../shared/data/sensitivity/especesensible.sql"
	}
	db := pgtest.NewDB(b, observations.Migrations)
	b.ResetTimer()
	var res *seed.Result
	for range b.N {
		var err error
		if res, err = seed.Run(context.Background(), db, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(res.RatePerSecond, "obs/s")
	b.ReportMetric(res.LoadPerSecond, "load-obs/s")
	b.ReportMetric(res.IndexSecs, "index-s")
	b.Logf("%d observations: reference %.1fs, load %.1fs, indexes %.1fs, analyze %.1fs, total %.1fs (%.0f obs/s)",
		res.Observations, res.ReferenceSecs, res.LoadSecs, res.IndexSecs, res.AnalyzeSecs, res.TotalSecs, res.RatePerSecond)
}
