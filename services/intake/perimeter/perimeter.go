package perimeter

import (
	"fmt"
	"strings"
)

// Format is how the requester wrote the perimeter.
type Format int

const (
	WKT     Format = iota + 1 // OGC Well-Known Text, optionally with an EWKT "SRID=n;" prefix
	GeoJSON                   // RFC 7946, always WGS84 longitude/latitude
)

func (f Format) String() string {
	switch f {
	case WKT:
		return "WKT"
	case GeoJSON:
		return "GeoJSON"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// The fields a Violation names, as the SubmitRequest message spells them.
const (
	FieldWKT     = "perimeter.wkt"
	FieldGeoJSON = "perimeter.geojson"
	FieldSRID    = "perimeter.srid"
)

// The coordinate reference systems a perimeter may be submitted in.
const (
	SRIDLambert93 = 2154 // RGF93 / Lambert-93, metres
	SRIDWGS84     = 4326 // WGS84 longitude/latitude, degrees
)

// Input is a perimeter as the requester submitted it.
type Input struct {
	Format Format
	Text   string // the submitted text
	// SRID is 2154 or 4326 for WKT (0 if the text carries an EWKT prefix).
	// GeoJSON is always 4326 (RFC 7946): 0 or 4326.
	SRID int
}

// Limits are the platform's bounds on a perimeter; they are configuration.
type Limits struct {
	MaxBytes    int     // longer texts are refused before parsing; 0 means the default (1 MiB)
	MaxVertices int     // positions as submitted; 0 means the default (5000, GBIF's cap)
	MaxAreaKm2  float64 // area in EPSG:2154; 0 means no limit
	Region      *Region // when set, a perimeter entirely outside it is refused
}

// DefaultLimits are the limits the intake service starts from.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 1 << 20, MaxVertices: 5000, MaxAreaKm2: 20000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxVertices <= 0 {
		l.MaxVertices = d.MaxVertices
	}
	return l
}

// Violation is one thing wrong with the perimeter, for one field.
type Violation struct {
	Field       string // FieldWKT, FieldGeoJSON or FieldSRID
	Description string // for the requester, in a GIS person's words
}

// Error is the requester's mistake: one or more violations. Parse returns
// it as *Error; the service maps each violation to a BadRequest field
// violation.
type Error struct {
	Violations []Violation
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid perimeter: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	return b.String()
}

// Ring is a closed ring of EPSG:2154 positions (x, y in metres): the last
// position repeats the first.
type Ring [][2]float64

// Polygon is an outer ring followed by its holes.
type Polygon []Ring

// MultiPolygon is a set of polygons whose interiors do not overlap.
type MultiPolygon []Polygon

// Perimeter is a checked perimeter, in EPSG:2154.
type Perimeter struct {
	// WKT is the MULTIPOLYGON in EPSG:2154, always a MULTIPOLYGON so that
	// one column type holds every request; coordinates to the centimetre,
	// each the shortest decimal that reads back to the same value.
	WKT string
	// Polygons is the same geometry: outer rings counter-clockwise, holes
	// clockwise, rings closed, no repeated consecutive positions.
	Polygons      MultiPolygon
	AreaKm2       float64 // planar area in EPSG:2154
	Vertices      int     // positions in WKT, closing ones included
	SubmittedSRID int     // 2154 or 4326, kept for display
	Reoriented    bool    // a ring was the wrong way round and was turned
}

// Parse reads, checks and projects a submitted perimeter. The error is an
// *Error when the perimeter is at fault; any other error is the caller's
// (an unknown Format).
func Parse(in Input, lim Limits) (Perimeter, error) {
	lim = lim.withDefaults()
	var field string
	switch in.Format {
	case WKT:
		field = FieldWKT
	case GeoJSON:
		field = FieldGeoJSON
	default:
		return Perimeter{}, fmt.Errorf("perimeter.Parse: unknown format %v", in.Format)
	}
	c := &checker{field: field, lim: lim}
	if len(in.Text) > lim.MaxBytes {
		c.fail(field, "the perimeter is %s long; at most %s are accepted: simplify it (fewer vertices, fewer decimals)",
			byteSize(len(in.Text)), byteSize(lim.MaxBytes))
		return Perimeter{}, c.err()
	}
	var src source
	var rerr *readError
	if in.Format == WKT {
		src, rerr = readWKT(in.Text, lim.MaxVertices)
	} else {
		src, rerr = readGeoJSON(in.Text, lim.MaxVertices)
	}
	c.srid = c.checkSRID(in, &src)
	if rerr != nil {
		c.fail(field, "%s", rerr.describe(in.Text))
	}
	if len(c.violations) > 0 {
		return Perimeter{}, c.err()
	}
	return c.check(&src)
}
