package perimeter

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// The fuzzers' seeds are in testdata/fuzz/FuzzParseWKT and
// testdata/fuzz/FuzzParseGeoJSON: valid perimeters of each kind, and nasty
// texts (deep nesting, huge and long numbers, NaN, 1e400, cut-off input,
// touching and crossing rings), with what earlier runs found.

// fuzzLimits adds an area limit and a region, so that the fuzzers reach
// every check: a box around Occitanie, and one around the origin where
// PostGIS's small test shapes lie.
func fuzzLimits() Limits {
	lim := DefaultLimits()
	lim.MaxAreaKm2 = 100000
	lim.Region = NewRegion(
		Polygon{Ring{{400000, 6100000}, {900000, 6100000}, {900000, 6500000}, {400000, 6500000}, {400000, 6100000}}},
		Polygon{Ring{{-50, -50}, {50, -50}, {50, 50}, {-50, 50}, {-50, -50}}},
	)
	return lim
}

// checkParse is the property both fuzzers test: Parse returns promptly,
// refuses with field violations only, and what it accepts keeps its
// promises and reads back from its own WKT, as SRID 2154, unchanged.
func checkParse(t *testing.T, in Input, lim Limits) {
	start := time.Now()
	p, err := Parse(in, lim)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Parse took %v", d)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || len(e.Violations) == 0 {
			t.Fatalf("Parse error %v is not a list of violations", err)
		}
		for _, v := range e.Violations {
			if v.Field != FieldWKT && v.Field != FieldGeoJSON && v.Field != FieldSRID || v.Description == "" {
				t.Fatalf("violation %+v", v)
			}
		}
		return
	}
	if p.Vertices > lim.withDefaults().MaxVertices || p.AreaKm2 <= 0 || lim.MaxAreaKm2 > 0 && p.AreaKm2 > lim.MaxAreaKm2 {
		t.Fatalf("accepted %d vertices, %v km²", p.Vertices, p.AreaKm2)
	}
	checkConvention(t, p)
	again, err := Parse(Input{WKT, p.WKT, SRIDLambert93}, lim)
	if err != nil {
		t.Fatalf("Parse accepted %q as\n%s\nwhich does not read back: %v", in.Text, p.WKT, err)
	}
	if again.WKT != p.WKT || !reflect.DeepEqual(again.Polygons, p.Polygons) || again.AreaKm2 != p.AreaKm2 || again.Vertices != p.Vertices || again.Reoriented {
		t.Fatalf("%q read as\n%s\nwhich reads back as\n%s", in.Text, p.WKT, again.WKT)
	}
}

func FuzzParseWKT(f *testing.F) {
	f.Add(square2154, false)
	f.Add(box4326, true)
	// PostGIS's hard cases: mutations of shapes that nearly touch or
	// nearly cross reach the topology checks.
	for _, c := range postgisVerdicts(f) {
		f.Add(c.wkt, false)
	}
	lim := fuzzLimits()
	f.Fuzz(func(t *testing.T, text string, lonLat bool) {
		srid := SRIDLambert93
		if lonLat {
			srid = SRIDWGS84
		}
		checkParse(t, Input{WKT, text, srid}, lim)
	})
}

func FuzzParseGeoJSON(f *testing.F) {
	f.Add(box4326GJ)
	lim := fuzzLimits()
	f.Fuzz(func(t *testing.T, text string) {
		checkParse(t, Input{Format: GeoJSON, Text: text}, lim)
	})
}
