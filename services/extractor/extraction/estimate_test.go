package extraction

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/storetest"
)

// storeCodes reads codes a spec can name from the seeded store: the
// natural areas and taxa differ with the seed.
func storeCodes[T any](t *testing.T, db *pgxpool.Pool, query string, args ...any) []T {
	t.Helper()
	rows, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil || len(codes) == 0 {
		t.Fatalf("%s: %v %v", query, codes, err)
	}
	return codes
}

// What Estimate counts is what Extract then delivers, partition by
// partition and in every count, whatever the options.
func TestEstimateIsWhatExtractDelivers(t *testing.T) {
	db := storetest.Pool(t)
	natural := storeCodes[string](t, db, `SELECT a.code FROM oc_dat.v_extract_area a WHERE a.kind = 'espace_naturel'
		AND ST_Intersects(a.geom, ST_GeomFromText($1, 2154)) ORDER BY a.code LIMIT 2`, toulouseBox)
	taxa := storeCodes[int64](t, db, `(SELECT cd_ref FROM oc_dat.v_extract_source WHERE sensi_niveau > 0 AND ST_Intersects(geom, ST_GeomFromText($1, 2154))
		GROUP BY cd_ref ORDER BY count(*) DESC, cd_ref LIMIT 3)
		UNION (SELECT cd_ref FROM oc_dat.v_extract_source WHERE sensi_niveau = 0 AND ST_Intersects(geom, ST_GeomFromText($1, 2154))
		GROUP BY cd_ref ORDER BY count(*) DESC, cd_ref LIMIT 3)`, toulouseBox)
	outside := "POLYGON((100000 6800000,110000 6800000,110000 6810000,100000 6810000,100000 6800000))"
	cases := map[string]Spec{
		"box, adherent, split":              {PerimeterWKT: toulouseBox, F2Entitled: true, SplitByGeometry: true},
		"box, non-adherent, split":          {PerimeterWKT: toulouseBox, SplitByGeometry: true},
		"box, adherent, not split":          {PerimeterWKT: toulouseBox, F2Entitled: true},
		"box, buffer by precision":          {PerimeterWKT: toulouseBox, Buffer: true, F2Entitled: true, SplitByGeometry: true},
		"box, attached most_precise":        {PerimeterWKT: toulouseBox, Attached: AttachedMostPrecise, F2Entitled: true, SplitByGeometry: true},
		"box, most_precise, non-adherent":   {PerimeterWKT: toulouseBox, Attached: AttachedMostPrecise, SplitByGeometry: true},
		"commune Toulouse, adherent":        {Areas: []AreaRef{{KindCommune, "31555"}}, F2Entitled: true, SplitByGeometry: true, Attached: AttachedMostPrecise},
		"communes, non-adherent":            {Areas: []AreaRef{{KindCommune, "31555"}, {KindCommune, "82121"}}, SplitByGeometry: true},
		"département 31, adherent":          {Areas: []AreaRef{{KindDepartement, "31"}}, F2Entitled: true, SplitByGeometry: true},
		"départements, not split":           {Areas: []AreaRef{{KindDepartement, "31"}, {KindDepartement, "82"}}, F2Entitled: true, Attached: AttachedMostPrecise},
		"maille10 cells, adherent":          {Areas: []AreaRef{{KindMaille10, "10kmL93E057N627"}, {KindMaille10, "10kmL93E057N628"}}, F2Entitled: true, SplitByGeometry: true},
		"natural areas":                     {Areas: []AreaRef{{KindEspaceNaturel, natural[0]}}, F2Entitled: true, SplitByGeometry: true},
		"pôle filter":                       {PerimeterWKT: toulouseBox, Poles: []string{"oiseaux", "flore"}, F2Entitled: true, SplitByGeometry: true},
		"period":                            {PerimeterWKT: toulouseBox, From: "2010-01-01", To: "2020-12-31", F2Entitled: true, SplitByGeometry: true},
		"taxon filter":                      {PerimeterWKT: toulouseBox, CdRefs: taxa, F2Entitled: true, SplitByGeometry: true},
		"département, taxa, period, buffer": {Areas: []AreaRef{{KindDepartement, "31"}}, CdRefs: taxa, From: "2000-01-01", Buffer: true, F2Entitled: true, Attached: AttachedMostPrecise},
		"outside the region":                {PerimeterWKT: outside, F2Entitled: true, SplitByGeometry: true},
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			spec.Reference, spec.Stamp = "EST", stamp
			est, err := Estimate(context.Background(), spec, Options{DB: db})
			if err != nil {
				t.Fatal(err)
			}
			res, _ := extract(t, db, spec)
			if est.Counts != res.Counts {
				t.Errorf("estimated counts %+v, extracted %+v", est.Counts, res.Counts)
			}
			var delivered []PartitionCount
			for _, d := range res.Deliverables {
				for _, p := range d.Partitions {
					delivered = append(delivered, PartitionCount{Key: p.Key, Name: p.Name, Rows: p.Rows})
				}
			}
			if !slices.Equal(est.Partitions, delivered) {
				t.Errorf("estimated partitions\n%v\nextracted\n%v", est.Partitions, delivered)
			}
			if spec.F2Entitled && !slices.Equal(est.SensitivePoles, res.SensitivePoles()) {
				t.Errorf("estimated sensitive pôles %v, extracted F2 for %v", est.SensitivePoles, res.SensitivePoles())
			}
			if est.Perimeter != res.Perimeter {
				t.Errorf("perimeter %q, the run's %q", est.Perimeter, res.Perimeter)
			}
			if name != "outside the region" && (res.Selected == 0 || len(est.Partitions) == 0) {
				t.Errorf("nothing selected: the case proves nothing")
			}
		})
	}
}

// Rows blurred to an object the store lacks (here the communes of
// Haute-Garonne) are withheld by both: an estimate asks the store whether
// it has the object, a run fetches it.
func TestEstimateWithholdsWhatTheRunCannotBlur(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	spec := Spec{Reference: "EST", Stamp: stamp, PerimeterWKT: toulouseBox, F2Entitled: true, SplitByGeometry: true, Attached: AttachedMostPrecise}
	before, err := Estimate(ctx, spec, Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM oc_dat.commune WHERE code LIKE '31%'`); err != nil {
		t.Fatal(err)
	}
	est, err := Estimate(ctx, spec, Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if est.WithheldF1 <= before.WithheldF1 {
		t.Fatalf("withheld from F1: %d with the communes of 31, %d without: the case proves nothing", before.WithheldF1, est.WithheldF1)
	}
	res, _ := extract(t, db, spec)
	if est.Counts != res.Counts {
		t.Errorf("estimated counts %+v, extracted %+v", est.Counts, res.Counts)
	}
	var delivered []PartitionCount
	for _, d := range res.Deliverables {
		for _, p := range d.Partitions {
			delivered = append(delivered, PartitionCount{Key: p.Key, Name: p.Name, Rows: p.Rows})
		}
	}
	if !slices.Equal(est.Partitions, delivered) {
		t.Errorf("estimated partitions\n%v\nextracted\n%v", est.Partitions, delivered)
	}
}

// A non-adherent's estimate names the pôles whose sensitive rows are in
// the perimeter (those F1 blurs or withholds), as an adherent's F2 does.
func TestEstimateNamesSensitivePolesWithoutEntitlement(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	adherent, err := Estimate(ctx, Spec{PerimeterWKT: toulouseBox, F2Entitled: true}, Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Estimate(ctx, Spec{PerimeterWKT: toulouseBox}, Options{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if len(adherent.SensitivePoles) < 2 || !slices.Equal(other.SensitivePoles, adherent.SensitivePoles) {
		t.Fatalf("non-adherent: sensitive pôles %v, adherent %v", other.SensitivePoles, adherent.SensitivePoles)
	}
	for _, p := range other.Partitions {
		if p.Key.File == F2 {
			t.Fatalf("a non-adherent's estimate has an F2 partition: %v", p)
		}
	}
}

// Bad input fails as a bad request naming the field, as a run does.
func TestEstimateNamesTheFieldAtFault(t *testing.T) {
	db := storetest.Pool(t)
	cases := map[string]struct {
		spec  Spec
		field string
	}{
		"not WKT":           {Spec{PerimeterWKT: "POLYGON((0 0, 1 1"}, "perimeter.wkt"},
		"self-intersecting": {Spec{PerimeterWKT: "POLYGON((0 0,10 10,10 0,0 10,0 0))"}, "perimeter.wkt"},
		// What intake never sends (it writes a MULTIPOLYGON in EPSG:2154),
		// from an operator's `sinp extract` or estimate.
		"a point":          {Spec{PerimeterWKT: "POINT(574000 6280000)"}, "perimeter.wkt"},
		"a line":           {Spec{PerimeterWKT: "LINESTRING(560000 6270000,590000 6290000)"}, "perimeter.wkt"},
		"a collection":     {Spec{PerimeterWKT: "GEOMETRYCOLLECTION(" + toulouseBox + ")"}, "perimeter.wkt"},
		"degrees, as EWKT": {Spec{PerimeterWKT: "SRID=4326;POLYGON((1.40 43.58,1.48 43.58,1.48 43.64,1.40 43.64,1.40 43.58))"}, "perimeter.wkt"},
		"lower-case EWKT":  {Spec{PerimeterWKT: "srid=3857; " + toulouseBox}, "perimeter.wkt"},
		"unknown commune":  {Spec{Areas: []AreaRef{{KindCommune, "31555"}, {KindCommune, "99999"}}}, "perimeter.areas[1].code"},
		"unknown kind":     {Spec{Areas: []AreaRef{{"region", "76"}}}, "perimeter.areas[0].kind"},
		"no perimeter":     {Spec{}, "perimeter"},
		"bad date":         {Spec{PerimeterWKT: toulouseBox, From: "2020-02-30"}, "period.from"},
		"reversed period":  {Spec{PerimeterWKT: toulouseBox, From: "2021-01-01", To: "2020-01-01"}, "period"},
		"bad pôle code":    {Spec{PerimeterWKT: toulouseBox, Poles: []string{"oiseaux", "x'; DROP"}}, "scope.poles[1]"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Estimate(context.Background(), c.spec, Options{DB: db})
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("%v, want a bad request", err)
			}
			var fields []string
			for _, f := range FieldErrors(err) {
				fields = append(fields, f.Field)
			}
			if !slices.Contains(fields, c.field) {
				t.Fatalf("fields %v in %q, want %s", fields, err, c.field)
			}
		})
	}
}

// An estimate reads through a connection of its own, like a run, and stops
// when its caller gives up.
func TestEstimateNeedsOnlyOnePooledConnectionAndStops(t *testing.T) {
	cfg := storetest.Pool(t).Config()
	cfg.MaxConns = 1
	db, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var calls []int64
	est, err := Estimate(ctx, Spec{PerimeterWKT: toulouseBox, F2Entitled: true, Attached: AttachedMostPrecise},
		Options{DB: db, ProgressEvery: time.Millisecond, Progress: func(placed, _ int64) { calls = append(calls, placed) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != est.Selected {
		t.Errorf("progress %v, want it to end at the %d rows selected", calls, est.Selected)
	}
	// Cancelled once rows flow: the read stops there.
	region := Spec{Areas: []AreaRef{{KindDepartement, "09"}, {KindDepartement, "11"}, {KindDepartement, "12"}, {KindDepartement, "30"},
		{KindDepartement, "31"}, {KindDepartement, "32"}, {KindDepartement, "34"}, {KindDepartement, "46"}, {KindDepartement, "48"},
		{KindDepartement, "65"}, {KindDepartement, "66"}, {KindDepartement, "81"}, {KindDepartement, "82"}}}
	cancelled, stop := context.WithCancel(context.Background())
	defer stop()
	_, err = Estimate(cancelled, region, Options{DB: db, ProgressEvery: time.Millisecond, Progress: func(placed, _ int64) {
		if placed > 0 {
			stop()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled estimate: %v", err)
	}
}
