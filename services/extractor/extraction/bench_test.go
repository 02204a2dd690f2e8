package extraction

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/storetest"
)

// benchScopes are the perimeters the benchmarks read: a département and
// the whole seeded region (every département).
func benchScopes(b *testing.B, db *pgxpool.Pool) map[string][]AreaRef {
	var region []AreaRef
	rows, err := db.Query(context.Background(), `SELECT code FROM oc_dat.v_extract_area WHERE kind = 'departement' ORDER BY code`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			b.Fatal(err)
		}
		region = append(region, AreaRef{Kind: KindDepartement, Code: code})
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return map[string][]AreaRef{"departement-31": {{Kind: KindDepartement, Code: "31"}}, "region": region}
}

// BenchmarkExtract is a whole run for an adherent (F1 and every F2),
// archives written and checked: rows/s compares with BenchmarkEstimate.
func BenchmarkExtract(b *testing.B) {
	db := storetest.Pool(b)
	for _, scope := range []string{"departement-31", "region"} {
		areas := benchScopes(b, db)[scope]
		b.Run(scope, func(b *testing.B) {
			spec := Spec{Reference: "BENCH", Areas: areas, F2Entitled: true, SplitByGeometry: true, Stamp: stamp}
			var rows int64
			for b.Loop() {
				dir, err := os.MkdirTemp(b.TempDir(), "run")
				if err != nil {
					b.Fatal(err)
				}
				res, err := Extract(context.Background(), spec, dir, Options{DB: db})
				if err != nil {
					b.Fatal(err)
				}
				rows += res.Selected
				os.RemoveAll(dir)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkEstimate counts what BenchmarkExtract writes: the same
// selection and routing, nothing written.
func BenchmarkEstimate(b *testing.B) {
	db := storetest.Pool(b)
	for _, scope := range []string{"departement-31", "region"} {
		areas := benchScopes(b, db)[scope]
		b.Run(scope, func(b *testing.B) {
			spec := Spec{Areas: areas, F2Entitled: true, SplitByGeometry: true}
			var rows int64
			for b.Loop() {
				est, err := Estimate(context.Background(), spec, Options{DB: db})
				if err != nil {
					b.Fatal(err)
				}
				rows += est.Selected
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
