package perimeter

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// Near Toulouse, in both CRSs: a 10 km square in Lambert-93 and a box of
// about 6 by 7 km in longitude/latitude.
const (
	square2154 = "POLYGON((570000 6275000,580000 6275000,580000 6285000,570000 6285000,570000 6275000))"
	box4326    = "POLYGON((1.40 43.58,1.48 43.58,1.48 43.64,1.40 43.64,1.40 43.58))"
	box4326GJ  = `{"type":"Polygon","coordinates":[[[1.40,43.58],[1.48,43.58],[1.48,43.64],[1.40,43.64],[1.40,43.58]]]}`
)

func parseErr(t *testing.T, in Input, lim Limits) *Error {
	t.Helper()
	p, err := Parse(in, lim)
	if err == nil {
		t.Fatalf("Parse(%.120q) accepted it: %s", in.Text, p.WKT)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse(%.120q): error %v is not an *Error", in.Text, err)
	}
	return e
}

func mustParse(t *testing.T, in Input, lim Limits) Perimeter {
	t.Helper()
	p, err := Parse(in, lim)
	if err != nil {
		t.Fatalf("Parse(%.120q): %v", in.Text, err)
	}
	return p
}

func noAreaLimit() Limits {
	l := DefaultLimits()
	l.MaxAreaKm2 = 0
	return l
}

// polygonWKT writes rings of (x, y) pairs as a POLYGON.
func polygonWKT(rings ...[]float64) string {
	var b strings.Builder
	b.WriteString("POLYGON(")
	for i, r := range rings {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < len(r); j += 2 {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(r[j], 'f', -1, 64) + " " + strconv.FormatFloat(r[j+1], 'f', -1, 64))
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}

// Rings on the Lambert-93 grid near Toulouse, offsets in metres from
// (570000, 6275000).
func l93(offsets ...float64) []float64 {
	out := make([]float64, len(offsets))
	for i, v := range offsets {
		if i%2 == 0 {
			out[i] = 570000 + v
		} else {
			out[i] = 6275000 + v
		}
	}
	return out
}

func TestParseRefuses(t *testing.T) {
	small := DefaultLimits()
	small.MaxBytes = 1 << 10
	fewVertices := DefaultLimits()
	fewVertices.MaxVertices = 10
	smallArea := DefaultLimits()
	smallArea.MaxAreaKm2 = 50
	shell := l93(0, 0, 1000, 0, 1000, 1000, 0, 1000, 0, 0)
	deep := `{"type":"Polygon","properties":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"coordinates":[]}`

	for _, c := range []struct {
		name   string
		in     Input
		lim    Limits
		field  string
		phrase string
	}{
		{"text longer than MaxBytes", Input{WKT, "POLYGON((" + strings.Repeat("1 2,", 400) + "1 2))", 2154}, small, FieldWKT, "the perimeter is 1614 bytes long; at most 1 KiB are accepted"},
		{"GeoJSON longer than MaxBytes", Input{GeoJSON, strings.Repeat(" ", 2000) + box4326GJ, 0}, small, FieldGeoJSON, "at most 1 KiB are accepted"},
		{"empty text", Input{WKT, "  ", 2154}, DefaultLimits(), FieldWKT, "the perimeter is empty"},
		{"WKT cut short", Input{WKT, "POLYGON((570000 6275000,580000 6275000", 2154}, DefaultLimits(), FieldWKT, `line 1, column 39: expected "," or ")" after a position, found the end of the text`},
		{"WKT error on line 3", Input{WKT, "POLYGON((\n570000 6275000,\n580000 x6275000))", 2154}, DefaultLimits(), FieldWKT, `line 3, column 8: expected a number, found "x6275000"`},
		{"WKT bad number", Input{WKT, "POLYGON((1.2.3 4, 5 6, 7 8, 1 2))", 2154}, DefaultLimits(), FieldWKT, `line 1, column 13: expected a space, "," or ")" after a number, found ".3"`},
		{"WKT exponent without digits", Input{WKT, "POLYGON((1e 4, 5 6, 7 8, 1 2))", 2154}, DefaultLimits(), FieldWKT, "an exponent needs digits"},
		{"WKT unknown type", Input{WKT, "POLYGONE((0 0,1 0,1 1,0 0))", 2154}, DefaultLimits(), FieldWKT, `expected POLYGON or MULTIPOLYGON, found "POLYGONE"`},
		{"WKT text after the geometry", Input{WKT, square2154 + " POLYGON", 2154}, DefaultLimits(), FieldWKT, `unexpected "POLYGON" after the end of the geometry`},
		{"WKT with a NUL byte after it", Input{WKT, square2154 + "\x00", 2154}, DefaultLimits(), FieldWKT, `unexpected "\x00" after the end of the geometry`},
		{"WKT one number in a position", Input{WKT, "POLYGON((570000, 1 2, 3 4, 570000))", 2154}, DefaultLimits(), FieldWKT, "a position needs two numbers"},
		{"WKT five numbers in a position", Input{WKT, "POLYGON((1 2 3 4 5, 1 2 3 4))", 2154}, DefaultLimits(), FieldWKT, "at most 4 numbers"},
		{"WKT mixed dimensions", Input{WKT, "POLYGON((0 0,1 0 5,1 1,0 0))", 2154}, DefaultLimits(), FieldWKT, "this position has 3 numbers, but the geometry's first (or its Z/M tag) says 2"},
		{"WKT Z tag with 2D positions", Input{WKT, "POLYGON Z((0 0,1 0,1 1,0 0))", 2154}, DefaultLimits(), FieldWKT, "says 3"},
		{"WKT point", Input{WKT, "POINT(1.44 43.6)", 4326}, DefaultLimits(), FieldWKT, "a perimeter must be a polygon: found a POINT"},
		{"WKT linestring", Input{WKT, "linestring(0 0, 1 1)", 2154}, DefaultLimits(), FieldWKT, "a perimeter must be a polygon: found a LINESTRING"},
		{"WKT geometry collection", Input{WKT, "GEOMETRYCOLLECTION(" + square2154 + ")", 2154}, DefaultLimits(), FieldWKT, "found a GEOMETRYCOLLECTION; give a POLYGON or MULTIPOLYGON"},
		{"GeoJSON cut short", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[1.4,43.58],[1.48,43.58]]`, 0}, DefaultLimits(), FieldGeoJSON, `line 1, column 60: expected "," or "]" in coordinates, found the end of the text`},
		{"GeoJSON unterminated string", Input{GeoJSON, `{"type":"Polygon`, 0}, DefaultLimits(), FieldGeoJSON, "line 1, column 9: unterminated string"},
		{"GeoJSON not an object", Input{GeoJSON, `[1, 2]`, 0}, DefaultLimits(), FieldGeoJSON, `expected a GeoJSON object, starting with "{", found "["`},
		{"GeoJSON point", Input{GeoJSON, `{"type":"Point","coordinates":[1.44,43.6]}`, 0}, DefaultLimits(), FieldGeoJSON, "a perimeter must be a polygon: the geometry is a Point"},
		{"GeoJSON line among features", Input{GeoJSON, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":` + box4326GJ + `},
{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1.4,43.5],[1.5,43.6]]}}]}`, 0}, DefaultLimits(), FieldGeoJSON, "line 2, column 30: a perimeter must be a polygon: feature 2 is a LineString"},
		{"GeoJSON unknown type", Input{GeoJSON, `{"type":"Polygone","coordinates":[]}`, 0}, DefaultLimits(), FieldGeoJSON, `unknown GeoJSON type "Polygone"`},
		{"GeoJSON without type", Input{GeoJSON, `{"coordinates":[]}`, 0}, DefaultLimits(), FieldGeoJSON, `the geometry has no "type" member`},
		{"GeoJSON feature without geometry", Input{GeoJSON, `{"type":"Feature","geometry":null,"properties":{}}`, 0}, DefaultLimits(), FieldGeoJSON, "the feature has a null geometry"},
		{"GeoJSON coordinates too deep", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[[[1,2]]]]]}`, 0}, DefaultLimits(), FieldGeoJSON, "coordinates nested deeper than a MultiPolygon's"},
		{"GeoJSON Polygon nested like a MultiPolygon", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[[1,2]]]]}`, 0}, DefaultLimits(), FieldGeoJSON, "coordinates nested the wrong way for a Polygon"},
		{"GeoJSON one number in a position", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[1.4],[1.5,43],[1.5,44],[1.4]]]}`, 0}, DefaultLimits(), FieldGeoJSON, "a position needs two numbers, [longitude, latitude]"},
		{"GeoJSON number with a leading +", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[+1.4,43]]]}`, 0}, DefaultLimits(), FieldGeoJSON, `line 1, column 36: expected a number or "[" in coordinates, found "+1.4"`},
		{"GeoJSON member twice", Input{GeoJSON, `{"type":"Polygon","type":"Point","coordinates":[]}`, 0}, DefaultLimits(), FieldGeoJSON, `the member "type" appears twice`},
		{"GeoJSON nested too deep", Input{GeoJSON, deep, 0}, DefaultLimits(), FieldGeoJSON, "nested more than 64 levels deep"},
		{"GeoJSON text after the object", Input{GeoJSON, box4326GJ + "}", 0}, DefaultLimits(), FieldGeoJSON, `unexpected "}" after the end of the GeoJSON object`},
		{"POLYGON EMPTY", Input{WKT, "POLYGON EMPTY", 2154}, DefaultLimits(), FieldWKT, "the geometry is empty"},
		{"MULTIPOLYGON of EMPTY", Input{WKT, "multipolygon(empty, EMPTY)", 2154}, DefaultLimits(), FieldWKT, "the geometry is empty"},
		{"GeoJSON empty MultiPolygon", Input{GeoJSON, `{"type":"MultiPolygon","coordinates":[]}`, 0}, DefaultLimits(), FieldGeoJSON, "the geometry is empty"},
		{"GeoJSON FeatureCollection without features", Input{GeoJSON, `{"type":"FeatureCollection","features":[]}`, 0}, DefaultLimits(), FieldGeoJSON, "the geometry is empty"},
		{"unknown CRS", Input{WKT, square2154, 3857}, DefaultLimits(), FieldSRID, "unknown CRS EPSG:3857"},
		{"WKT without srid", Input{WKT, square2154, 0}, DefaultLimits(), FieldSRID, "a WKT perimeter needs its srid"},
		{"EWKT prefix disagreeing", Input{WKT, "SRID=4326;" + square2154, 2154}, DefaultLimits(), FieldSRID, "the WKT begins with SRID=4326 but srid is 2154"},
		{"EWKT prefix with an unknown CRS", Input{WKT, "SRID=27572;" + square2154, 0}, DefaultLimits(), FieldSRID, "prefix SRID=27572 names an unknown CRS"},
		{"GeoJSON given as 2154", Input{GeoJSON, box4326GJ, 2154}, DefaultLimits(), FieldSRID, "GeoJSON positions are WGS84 longitude/latitude (RFC 7946), so srid 2154 cannot apply"},
		{"GeoJSON with another srid", Input{GeoJSON, box4326GJ, 3857}, DefaultLimits(), FieldSRID, "unknown CRS EPSG:3857"},
		{"GeoJSON crs naming Lambert-93", Input{GeoJSON, `{"type":"Polygon","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},"coordinates":[[[570000,6275000],[580000,6275000],[580000,6285000],[570000,6275000]]]}`, 0}, DefaultLimits(), FieldSRID, `"crs" member names EPSG:2154`},
		{"GeoJSON crs link", Input{GeoJSON, `{"type":"Polygon","crs":{"type":"link","properties":{"href":"http://example.org/crs"}},"coordinates":[]}`, 0}, DefaultLimits(), FieldSRID, `links to "http://example.org/crs"`},
		{"NaN", Input{WKT, "POLYGON((NaN 43.6,1.5 43.6,1.5 43.7,NaN 43.6))", 4326}, DefaultLimits(), FieldWKT, "position 1 of the outer ring (NaN 43.6) has a coordinate that is not a finite number (and 1 more positions)"},
		{"1e400", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[1.4,43.6],[1e400,43.6],[1.5,43.7],[1.4,43.6]]]}`, 0}, DefaultLimits(), FieldGeoJSON, "position 2 of the outer ring (+Inf 43.6) has a coordinate that is not a finite number"},
		{"longitude out of range", Input{WKT, "POLYGON((1.4 43.6,190 43.6,1.5 43.7,1.4 43.6))", 4326}, DefaultLimits(), FieldWKT, "position 2 of the outer ring (190 43.6) has a longitude outside [-180, 180]"},
		{"latitude and longitude swapped", Input{WKT, "POLYGON((43.6 1.4,43.6 100,43.7 1.5,43.6 1.4))", 4326}, DefaultLimits(), FieldWKT, "has a latitude outside [-90, 90]; positions are longitude first, then latitude"},
		{"latitude out of range", Input{WKT, "POLYGON((100 43.6,100 95,101 43.7,100 43.6))", 4326}, DefaultLimits(), FieldWKT, "position 2 of the outer ring (100 95) has a latitude outside [-90, 90]"},
		{"South Pole", Input{WKT, "POLYGON((0 -90,10 -89,20 -90,0 -90))", 4326}, DefaultLimits(), FieldWKT, "is too near the South Pole to be projected to Lambert-93"},
		{"beyond any Lambert-93 coordinate", Input{WKT, "POLYGON((0 0,1e12 0,1e12 1e12,0 0))", 2154}, DefaultLimits(), FieldWKT, "position 2 of the outer ring (1000000000000 0) is beyond ±100,000 km"},
		{"ring not closed", Input{WKT, "POLYGON((570000 6275000,580000 6275000,580000 6285000,570000 6285000))", 2154}, DefaultLimits(), FieldWKT, "the outer ring is not closed: it starts at (570000 6275000) and ends at (570000 6285000)"},
		{"ring of three positions", Input{WKT, "POLYGON((570000 6275000,580000 6275000,570000 6275000))", 2154}, DefaultLimits(), FieldWKT, "the outer ring has 3 positions; a ring needs at least 4"},
		{"GeoJSON empty ring", Input{GeoJSON, `{"type":"Polygon","coordinates":[[]]}`, 0}, DefaultLimits(), FieldGeoJSON, "the outer ring has 0 positions"},
		{"flat ring", Input{WKT, polygonWKT(l93(0, 0, 10, 10, 20, 20, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring has zero area: all its positions lie on one straight line"},
		{"ring of one repeated point", Input{WKT, polygonWKT(l93(0, 0, 0, 0, 0, 0, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring has zero area: only 1 distinct positions remain"},
		{"points closer than a centimetre", Input{WKT, "POLYGON((570000 6275000,570000.001 6275000,570000.001 6275000.001,570000 6275000))", 2154}, DefaultLimits(), FieldWKT, "only 1 distinct positions remain once repeated ones (at centimetre precision in Lambert-93) are dropped"},
		{"bow tie", Input{WKT, polygonWKT(l93(0, 0, 1000, 1000, 1000, 0, 0, 1000, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring crosses itself at POINT(570500 6275500): the segment from position 1 to 2 crosses the one from position 3 to 4"},
		{"bow tie in longitude/latitude", Input{WKT, "POLYGON((1.40 43.58,1.48 43.64,1.48 43.58,1.40 43.64,1.40 43.58))", 4326}, DefaultLimits(), FieldWKT, "the outer ring crosses itself at POINT(1.44 43.61"},
		{"ring touching itself", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 500, 500, 1000, 1000, 0, 1000, 500, 500, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring touches itself at POINT(570500 6275500)"},
		{"spike", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 1000, 1000, 1000, 2000, 1000, 1000, 0, 1000, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring turns back on itself at POINT(571000 6277000) (position 4)"},
		{"hole crossing the outer ring", Input{WKT, polygonWKT(shell, l93(500, 500, 1500, 500, 1500, 600, 500, 600, 500, 500)), 2154}, DefaultLimits(), FieldWKT, "the outer ring and hole 1 cross at POINT(571000 6275500)"},
		{"hole outside", Input{WKT, polygonWKT(shell, l93(2000, 2000, 2100, 2000, 2100, 2100, 2000, 2000)), 2154}, DefaultLimits(), FieldWKT, "hole 1 lies outside its outer ring (at POINT(572000 6277000))"},
		{"hole in a hole", Input{WKT, polygonWKT(shell, l93(100, 100, 900, 100, 900, 900, 100, 100), l93(700, 300, 800, 300, 800, 400, 700, 300)), 2154}, DefaultLimits(), FieldWKT, "hole 2 lies inside hole 1 (at POINT(570700 6275300)): holes may not be nested"},
		{"hole sharing an edge with the outer ring", Input{WKT, polygonWKT(shell, l93(0, 0, 500, 100, 500, 500, 0, 500, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the outer ring and hole 1 share a stretch of boundary from POINT(570000 6275000)"},
		{"hole touching the outer ring twice", Input{WKT, polygonWKT(shell, l93(0, 0, 500, 100, 1000, 1000, 100, 500, 0, 0)), 2154}, DefaultLimits(), FieldWKT, "the interior of the polygon is cut in two where hole 1 touches another of its rings at POINT(571000 6276000)"},
		{"hole crossing the outer ring at a corner", Input{WKT, polygonWKT(shell, l93(500, 500, 1000, 1000, 1200, 500, 500, 500)), 2154}, DefaultLimits(), FieldWKT, "the outer ring and hole 1 cross at POINT(571000 6276000)"},
		{"polygon crossing a hole and the outer ring at corners", Input{WKT, "MULTIPOLYGON(((570000 6275000,570010 6275000,570010 6275010,570000 6275010,570000 6275000),(570002 6275002,570002 6275008,570008 6275008,570008 6275002,570002 6275002)),((570004 6275005,570005 6275002,570005 6275000,570003 6275002,570002 6275007,570004 6275005)))", 2154}, DefaultLimits(), FieldWKT,
			"polygon 1 and polygon 2 overlap: their boundaries cross at POINT(570003 6275002) (positions 4 to 5 of hole 1 of polygon 1, 4 to 5 of the outer ring of polygon 2)"},
		{"overlapping polygons", Input{WKT, "MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6276000,570000 6275000)),((570500 6275500,571500 6275500,571500 6276500,570500 6276500,570500 6275500)))", 2154}, DefaultLimits(), FieldWKT, "polygon 1 and polygon 2 overlap: their boundaries cross at POINT(57"},
		{"polygon inside another", Input{WKT, "MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6276000,570000 6275000)),((570200 6275200,570300 6275200,570300 6275300,570200 6275200)))", 2154}, DefaultLimits(), FieldWKT, "polygon 2 lies inside polygon 1 (at POINT(570200 6275200))"},
		{"polygons sharing an edge", Input{GeoJSON, `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1.40,43.58],[1.44,43.58],[1.44,43.64],[1.40,43.64],[1.40,43.58]]]}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1.44,43.58],[1.48,43.58],[1.48,43.64],[1.44,43.64],[1.44,43.58]]]}}]}`, 0}, DefaultLimits(), FieldGeoJSON, "feature 1 and feature 2 share a stretch of boundary from POINT(1.44 43.58) (positions 2 to 3 of the outer ring of feature 1, 4 to 5 of the outer ring of feature 2)"},
		{"too many vertices (WKT)", Input{WKT, polygonWKT(l93(0, 0, 100, 0, 200, 0, 300, 0, 400, 0, 500, 0, 600, 0, 700, 0, 800, 0, 900, 0, 500, 500, 0, 0)), 2154}, fewVertices, FieldWKT, "line 1, column 160: the perimeter has more than 10 positions, the most accepted (this is the 11th)"},
		{"too many vertices (GeoJSON)", Input{GeoJSON, `{"type":"Polygon","coordinates":[[` + strings.Repeat("[1.4,43.6],", 20) + `[1.4,43.6]]]}`, 0}, fewVertices, FieldGeoJSON, "more than 10 positions"},
		{"area above the limit", Input{WKT, square2154, 2154}, smallArea, FieldWKT, "the perimeter covers 100 km², more than the 50 km² accepted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := parseErr(t, c.in, c.lim)
			for _, v := range e.Violations {
				if v.Field == c.field && strings.Contains(v.Description, c.phrase) {
					return
				}
			}
			t.Errorf("no violation of %s saying %q; got %v", c.field, c.phrase, e.Violations)
		})
	}
}

// Independent faults are reported together, so that the requester fixes
// them in one go.
func TestParseCollectsIndependentViolations(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Input
		lim  Limits
		want []Violation
	}{
		{"unknown CRS and a syntax error", Input{WKT, "POLYGON((1 2", 3857}, DefaultLimits(), []Violation{
			{FieldSRID, unknownCRS(3857)},
			{FieldWKT, `line 1, column 13: expected "," or ")" after a position, found the end of the text`},
		}},
		{"two rings not closed", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 1000, 1000, 0, 1000), l93(100, 100, 200, 100, 200, 200, 100, 200)), 2154}, DefaultLimits(), []Violation{
			{FieldWKT, "the outer ring is not closed: it starts at (570000 6275000) and ends at (570000 6276000); repeat the first position at the end"},
			{FieldWKT, "hole 1 is not closed: it starts at (570100 6275100) and ends at (570100 6275200); repeat the first position at the end"},
		}},
		{"longitude and latitude both out of range", Input{WKT, "POLYGON((1.4 43.6,200 43.6,1.5 95,1.4 43.6))", 4326}, DefaultLimits(), []Violation{
			{FieldWKT, "position 2 of the outer ring (200 43.6) has a longitude outside [-180, 180]"},
			{FieldWKT, "position 3 of the outer ring (1.5 95) has a latitude outside [-90, 90]; positions are longitude first, then latitude"},
		}},
		{"too large and outside the region", Input{WKT, "POLYGON((100000 100000,300000 100000,300000 300000,100000 300000,100000 100000))", 2154},
			Limits{MaxAreaKm2: 1000, Region: NewRegion(Polygon{Ring{{500000, 6200000}, {800000, 6200000}, {800000, 6400000}, {500000, 6200000}}})}, []Violation{
				{FieldWKT, "the perimeter covers 40000 km², more than the 1000 km² accepted: narrow it, or split the request"},
				{FieldWKT, "the perimeter lies entirely outside the region the platform covers; it must overlap it, at least in part"},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := parseErr(t, c.in, c.lim)
			if fmt.Sprint(e.Violations) != fmt.Sprint(c.want) {
				t.Errorf("violations:\n got %q\nwant %q", e.Violations, c.want)
			}
		})
	}
}

// Thirty broken rings get twenty messages and a count: one fix is needed,
// not thirty.
func TestParseBoundsTheViolationList(t *testing.T) {
	var b strings.Builder
	b.WriteString("MULTIPOLYGON(")
	for i := range 30 {
		if i > 0 {
			b.WriteByte(',')
		}
		x := 570000 + 100*i
		fmt.Fprintf(&b, "((%d 6275000,%d 6275000,%d 6275050,%d 6275050))", x, x+50, x+50, x)
	}
	b.WriteString(")")
	e := parseErr(t, Input{WKT, b.String(), 2154}, DefaultLimits())
	if len(e.Violations) != 21 || e.Violations[20].Description != "10 more problems like these are not listed; fix these first" {
		t.Errorf("%d violations, the last %q", len(e.Violations), e.Violations[len(e.Violations)-1])
	}
}

// The first parse error ends the reading: what follows it is not checked.
func TestParseStopsAtTheFirstParseError(t *testing.T) {
	e := parseErr(t, Input{WKT, "POLYGON((1 2,x 3),(y 4))", 2154}, DefaultLimits())
	if len(e.Violations) != 1 || !strings.Contains(e.Violations[0].Description, `column 14: expected a number, found "x"`) {
		t.Errorf("got %v", e.Violations)
	}
}

func TestParseUnknownFormatIsTheCallersError(t *testing.T) {
	_, err := Parse(Input{Text: square2154, SRID: 2154}, DefaultLimits())
	var e *Error
	if err == nil || errors.As(err, &e) {
		t.Errorf("Parse with no Format: %v, want a plain error", err)
	}
}

func TestParseAccepts(t *testing.T) {
	// ST_AsText(ST_SnapToGrid(ST_Transform(ST_GeomFromText(box4326, 4326), 2154), 0.01))
	toulouseBox := "MULTIPOLYGON(((570733.21 6276969.68,577195.73 6276841.99,577324.08 6283509.13,570868.32 6283636.69,570733.21 6276969.68)))"
	for _, c := range []struct {
		name       string
		in         Input
		wkt        string  // "" to skip
		area       float64 // km², 0 to skip
		vertices   int
		polygons   int
		reoriented bool
	}{
		{"polygon in Lambert-93", Input{WKT, square2154, 2154},
			"MULTIPOLYGON(((570000 6275000,580000 6275000,580000 6285000,570000 6285000,570000 6275000)))", 100, 5, 1, false},
		{"polygon in longitude/latitude over Toulouse", Input{WKT, box4326, 4326}, toulouseBox, 0, 5, 1, false},
		{"the same as GeoJSON", Input{GeoJSON, box4326GJ, 0}, toulouseBox, 0, 5, 1, false},
		{"GeoJSON with srid 4326 said", Input{GeoJSON, box4326GJ, 4326}, toulouseBox, 0, 5, 1, false},
		{"EWKT prefix instead of srid", Input{WKT, "SRID=4326;" + box4326, 0}, toulouseBox, 0, 5, 1, false},
		{"EWKT prefix agreeing with srid", Input{WKT, "srid=4326; " + box4326, 4326}, toulouseBox, 0, 5, 1, false},
		{"lower case, Z values dropped", Input{WKT, "polygon z ((570000 6275000 150,580000 6275000 151,580000 6285000 152,570000 6285000 153,570000 6275000 150))", 2154}, "", 100, 5, 1, false},
		{"untagged ZM values dropped", Input{WKT, "POLYGON((570000 6275000 1 2,580000 6275000 1 2,580000 6285000 1 2,570000 6275000 1 2))", 2154}, "", 50, 4, 1, false},
		{"clockwise outer ring turned", Input{WKT, "POLYGON((570000 6275000,570000 6285000,580000 6285000,580000 6275000,570000 6275000))", 2154},
			"MULTIPOLYGON(((570000 6275000,580000 6275000,580000 6285000,570000 6285000,570000 6275000)))", 100, 5, 1, true},
		{"polygon with a hole", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 1000, 1000, 0, 1000, 0, 0), l93(250, 250, 250, 750, 750, 750, 750, 250, 250, 250)), 2154},
			"MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6276000,570000 6275000),(570250 6275250,570250 6275750,570750 6275750,570750 6275250,570250 6275250)))", 0.75, 10, 1, false},
		{"counter-clockwise hole turned", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 1000, 1000, 0, 1000, 0, 0), l93(250, 250, 750, 250, 750, 750, 250, 750, 250, 250)), 2154},
			"MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6276000,570000 6275000),(570250 6275250,570250 6275750,570750 6275750,570750 6275250,570250 6275250)))", 0.75, 10, 1, true},
		{"hole touching the outer ring at one point", Input{WKT, polygonWKT(l93(0, 0, 1000, 0, 1000, 1000, 0, 1000, 0, 0), l93(0, 0, 500, 500, 500, 100, 0, 0)), 2154}, "", 0.9, 9, 1, false},
		{"two holes meeting the outer ring at one point", Input{WKT, "POLYGON((570000 6275000,570010 6275000,570010 6275010,570000 6275010,570000 6275000),(570005 6275004,570004 6275010,570006 6275004,570005 6275004),(570004 6275010,570007 6275003,570007 6275006,570009 6275007,570004 6275010))", 2154}, "", 0, 14, 1, true},
		{"multipolygon", Input{WKT, "MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6275000)),EMPTY,((572000 6275000,573000 6275000,573000 6276000,572000 6275000)))", 2154}, "", 1, 8, 2, false},
		{"polygons touching at a corner", Input{WKT, "MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6275000)),((571000 6276000,572000 6276000,572000 6277000,571000 6276000)))", 2154}, "", 1, 8, 2, false},
		{"island in a hole", Input{WKT, "MULTIPOLYGON(((570000 6275000,571000 6275000,571000 6276000,570000 6276000,570000 6275000),(570100 6275100,570100 6275900,570900 6275900,570900 6275100,570100 6275100)),((570200 6275200,570800 6275200,570800 6275800,570200 6275800,570200 6275200)))", 2154}, "", 1 - 0.64 + 0.36, 15, 2, false},
		{"repeated positions dropped", Input{WKT, "POLYGON((570000 6275000,570000 6275000,580000 6275000,580000 6285000,580000 6285000.001,570000 6285000,570000 6275000,570000 6275000))", 2154},
			"MULTIPOLYGON(((570000 6275000,580000 6275000,580000 6285000,570000 6285000,570000 6275000)))", 100, 5, 1, false},
		{"GeoJSON Feature", Input{GeoJSON, `{"type":"Feature","id":7,"properties":{"nom":"Toulouse","tags":["a",{"b":[1,2,null,true,false,"\u00e9"]}]},"geometry":` + box4326GJ + `}`, 0}, toulouseBox, 0, 5, 1, false},
		{"GeoJSON FeatureCollection", Input{GeoJSON, `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[[[1.40,43.58],[1.44,43.58],[1.44,43.64],[1.40,43.64],[1.40,43.58]]]}},
{"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[[[[1.45,43.58],[1.48,43.58],[1.48,43.64],[1.45,43.64],[1.45,43.58]]],[]]}}]}`, 0}, "", 0, 10, 2, false},
		{"GeoJSON GeometryCollection", Input{GeoJSON, `{"type":"GeometryCollection","geometries":[` + box4326GJ + `,{"type":"Polygon","coordinates":[]}]}`, 0}, toulouseBox, 0, 5, 1, false},
		{"GeoJSON members in any order, escapes, BOM, altitude, CRS84", Input{GeoJSON, "\uFEFF" + ` { "coordinates" : [ [ [1.40, 43.58, 150], [1.48,43.58,150], [1.48,43.64,150], [1.40,43.64,150], [1.40,43.58,150] ] ],
  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "bbox": [1.4, 43.58, 1.48, 43.64], "typ\u0065" : "Polygon" }`, 0}, toulouseBox, 0, 5, 1, false},
		{"GeoJSON clockwise ring turned", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[1.40,43.58],[1.40,43.64],[1.48,43.64],[1.48,43.58],[1.40,43.58]]]}`, 0}, toulouseBox, 0, 5, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, c.in, DefaultLimits())
			if c.wkt != "" && p.WKT != c.wkt {
				t.Errorf("WKT\n got %s\nwant %s", p.WKT, c.wkt)
			}
			if c.area != 0 && math.Abs(p.AreaKm2-c.area) > 1e-9 {
				t.Errorf("area %v km², want %v", p.AreaKm2, c.area)
			}
			if p.Vertices != c.vertices || len(p.Polygons) != c.polygons || p.Reoriented != c.reoriented {
				t.Errorf("vertices %d, polygons %d, reoriented %v; want %d, %d, %v", p.Vertices, len(p.Polygons), p.Reoriented, c.vertices, c.polygons, c.reoriented)
			}
			wantSRID := c.in.SRID
			if c.in.Format == GeoJSON || wantSRID == 0 {
				wantSRID = 4326
			}
			if p.SubmittedSRID != wantSRID {
				t.Errorf("submitted SRID %d, want %d", p.SubmittedSRID, wantSRID)
			}
			checkConvention(t, p)
		})
	}
}

// A corner at the Capitole lands where PostGIS puts it, to the centimetre.
func TestParseProjectsAsPostGIS(t *testing.T) {
	p := mustParse(t, Input{WKT, "POLYGON((1.444209 43.604652,1.45 43.604652,1.45 43.61,1.444209 43.604652))", 4326}, DefaultLimits())
	if got := p.Polygons[0][0][0]; got != [2]float64{574358.44, 6279637.62} {
		t.Errorf("Toulouse projects to %v, PostGIS says (574358.4417566455 6279637.624341529)", got)
	}
}

// checkConvention checks what Perimeter promises of its rings: closed,
// outer rings counter-clockwise, holes clockwise, WKT saying the same.
func checkConvention(t *testing.T, p Perimeter) {
	t.Helper()
	n := 0
	for i, poly := range p.Polygons {
		for j, r := range poly {
			n += len(r)
			if r[0] != r[len(r)-1] {
				t.Errorf("polygon %d ring %d is not closed", i, j)
			}
			if a := signedArea(r); (a.Sign() > 0) != (j == 0) {
				t.Errorf("polygon %d ring %d has signed area %v: outer rings go counter-clockwise, holes clockwise", i, j, a)
			}
			for k := 1; k < len(r); k++ {
				if r[k] == r[k-1] {
					t.Errorf("polygon %d ring %d repeats position %d", i, j, k)
				}
			}
		}
	}
	if n != p.Vertices {
		t.Errorf("Vertices %d, the rings hold %d", p.Vertices, n)
	}
}

// signedArea is twice the signed area in cm², exactly: slivers of a
// centimetre far from the origin have a sign too.
func signedArea(r Ring) *big.Int {
	cm := func(v float64) *big.Int { return big.NewInt(int64(math.Round(v * 100))) }
	sum := new(big.Int)
	for i := 0; i+1 < len(r); i++ {
		a := new(big.Int).Mul(cm(r[i][0]), cm(r[i+1][1]))
		b := new(big.Int).Mul(cm(r[i+1][0]), cm(r[i][1]))
		sum.Add(sum, a.Sub(a, b))
	}
	return sum
}
