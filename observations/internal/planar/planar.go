// Package planar holds the few planar-geometry predicates the seed needs to
// know, without a database round trip, which communes, grid cells and
// natural areas a generated geometry lies in. Coordinates are EPSG:2154
// metres. The predicates agree with PostGIS ST_Intersects away from exact
// boundary contacts, which random coordinates never hit.
package planar

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
)

// Point is a position in metres.
type Point struct{ X, Y float64 }

// Ring is a closed sequence of points; the last point may repeat the first.
type Ring []Point

// Polygon is an outer ring followed by its holes.
type Polygon []Ring

// MultiPolygon is a set of polygons.
type MultiPolygon []Polygon

// Box is an axis-aligned bounding box.
type Box struct{ MinX, MinY, MaxX, MaxY float64 }

// EmptyBox is the neutral element of Extend.
func EmptyBox() Box { return Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)} }

// Extend grows b to hold p.
func (b Box) Extend(p Point) Box {
	return Box{math.Min(b.MinX, p.X), math.Min(b.MinY, p.Y), math.Max(b.MaxX, p.X), math.Max(b.MaxY, p.Y)}
}

// Intersects reports whether two boxes overlap.
func (b Box) Intersects(o Box) bool {
	return b.MinX <= o.MaxX && o.MinX <= b.MaxX && b.MinY <= o.MaxY && o.MinY <= b.MaxY
}

// Contains reports whether p is in b.
func (b Box) Contains(p Point) bool {
	return p.X >= b.MinX && p.X <= b.MaxX && p.Y >= b.MinY && p.Y <= b.MaxY
}

// BoxOf returns the bounding box of points.
func BoxOf(pts []Point) Box {
	b := EmptyBox()
	for _, p := range pts {
		b = b.Extend(p)
	}
	return b
}

// Box returns the bounding box of m.
func (m MultiPolygon) Box() Box {
	b := EmptyBox()
	for _, p := range m {
		for _, q := range p[0] {
			b = b.Extend(q)
		}
	}
	return b
}

// Area returns the area of m in square metres.
func (m MultiPolygon) Area() float64 {
	a := 0.0
	for _, p := range m {
		for i, r := range p {
			if i == 0 {
				a += math.Abs(r.signedArea())
			} else {
				a -= math.Abs(r.signedArea())
			}
		}
	}
	return a
}

func (r Ring) signedArea() float64 {
	s := 0.0
	for i := range r {
		j := (i + 1) % len(r)
		s += r[i].X*r[j].Y - r[j].X*r[i].Y
	}
	return s / 2
}

// contains is the even-odd ray-crossing test.
func (r Ring) contains(p Point) bool {
	in := false
	n := len(r)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// ContainsPoint reports whether p lies inside a polygon of m (outside its holes).
func (m MultiPolygon) ContainsPoint(p Point) bool {
	for _, poly := range m {
		if !poly[0].contains(p) {
			continue
		}
		inHole := false
		for _, h := range poly[1:] {
			if h.contains(p) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

func orient(a, b, c Point) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }

func onSegment(a, b, p Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) && math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// SegmentsIntersect reports whether segments ab and cd share a point.
func SegmentsIntersect(a, b, c, d Point) bool {
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

// edgesCross reports whether a segment of path (closed if closed) crosses an
// edge of m.
func (m MultiPolygon) edgesCross(path []Point, closed bool) bool {
	pb := BoxOf(path)
	n := len(path) - 1
	if closed {
		n = len(path)
	}
	for _, poly := range m {
		for _, r := range poly {
			if !BoxOf(r).Intersects(pb) {
				continue
			}
			for i := range r {
				c, d := r[i], r[(i+1)%len(r)]
				eb := BoxOf([]Point{c, d})
				if !eb.Intersects(pb) {
					continue
				}
				for k := 0; k < n; k++ {
					if SegmentsIntersect(path[k], path[(k+1)%len(path)], c, d) {
						return true
					}
				}
			}
		}
	}
	return false
}

// IntersectsLine reports whether the line string touches m.
func (m MultiPolygon) IntersectsLine(line []Point) bool {
	for _, p := range line {
		if m.ContainsPoint(p) {
			return true
		}
	}
	return m.edgesCross(line, false)
}

// IntersectsRing reports whether the simple polygon bounded by ring touches m.
func (m MultiPolygon) IntersectsRing(ring Ring) bool {
	for _, p := range ring {
		if m.ContainsPoint(p) {
			return true
		}
	}
	if m.edgesCross(ring, true) {
		return true
	}
	// m may lie wholly inside the ring.
	for _, poly := range m {
		if len(poly[0]) > 0 && ring.contains(poly[0][0]) {
			return true
		}
	}
	return false
}

// Index finds the items whose boxes overlap a box, through a uniform grid.
type Index struct {
	cell       float64
	minX, minY float64
	nx, ny     int
	buckets    [][]int32
}

// NewIndex indexes boxes in square buckets of the given side.
func NewIndex(boxes []Box, cell float64) *Index {
	all := EmptyBox()
	for _, b := range boxes {
		all = all.Extend(Point{b.MinX, b.MinY}).Extend(Point{b.MaxX, b.MaxY})
	}
	ix := &Index{cell: cell, minX: all.MinX, minY: all.MinY}
	if len(boxes) == 0 {
		return ix
	}
	ix.nx = int((all.MaxX-all.MinX)/cell) + 1
	ix.ny = int((all.MaxY-all.MinY)/cell) + 1
	ix.buckets = make([][]int32, ix.nx*ix.ny)
	for i, b := range boxes {
		x0, y0, x1, y1 := ix.span(b)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				k := y*ix.nx + x
				ix.buckets[k] = append(ix.buckets[k], int32(i))
			}
		}
	}
	return ix
}

func (ix *Index) span(b Box) (x0, y0, x1, y1 int) {
	clamp := func(v, n int) int { return max(0, min(v, n-1)) }
	x0 = clamp(int(math.Floor((b.MinX-ix.minX)/ix.cell)), ix.nx)
	y0 = clamp(int(math.Floor((b.MinY-ix.minY)/ix.cell)), ix.ny)
	x1 = clamp(int(math.Floor((b.MaxX-ix.minX)/ix.cell)), ix.nx)
	y1 = clamp(int(math.Floor((b.MaxY-ix.minY)/ix.cell)), ix.ny)
	return
}

// Query appends to dst the items whose boxes may overlap b, each once.
func (ix *Index) Query(dst []int32, b Box) []int32 {
	if ix.nx == 0 || b.MaxX < ix.minX || b.MaxY < ix.minY ||
		b.MinX > ix.minX+float64(ix.nx)*ix.cell || b.MinY > ix.minY+float64(ix.ny)*ix.cell {
		return dst
	}
	start := len(dst)
	x0, y0, x1, y1 := ix.span(b)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
		next:
			for _, id := range ix.buckets[y*ix.nx+x] {
				for _, seen := range dst[start:] {
					if seen == id {
						continue next
					}
				}
				dst = append(dst, id)
			}
		}
	}
	return dst
}

// FromWKB decodes a Polygon or MultiPolygon (WKB or EWKB, 2D).
func FromWKB(b []byte) (MultiPolygon, error) {
	d := wkbReader{b: b}
	typ := d.header()
	var m MultiPolygon
	switch typ {
	case wkbPolygon:
		m = MultiPolygon{d.polygon()}
	case wkbMulti:
		n := d.uint32()
		for i := uint32(0); i < n && d.err == nil; i++ {
			if t := d.header(); t != wkbPolygon && d.err == nil {
				d.err = fmt.Errorf("multipolygon member of type %d", t)
			}
			m = append(m, d.polygon())
		}
	default:
		if d.err == nil {
			d.err = fmt.Errorf("WKB type %d is not a polygon", typ)
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("planar: %w", d.err)
	}
	return m, nil
}

type wkbReader struct {
	b     []byte
	order binary.ByteOrder
	err   error
}

func (d *wkbReader) need(n int) bool {
	if d.err == nil && len(d.b) < n {
		d.err = fmt.Errorf("truncated WKB")
	}
	return d.err == nil
}

func (d *wkbReader) uint32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := d.order.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *wkbReader) float() float64 {
	if !d.need(8) {
		return 0
	}
	v := math.Float64frombits(d.order.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

// header reads byte order and type, skipping an EWKB SRID; Z or M
// coordinates are refused.
func (d *wkbReader) header() uint32 {
	if !d.need(1) {
		return 0
	}
	d.order = binary.ByteOrder(binary.LittleEndian)
	if d.b[0] == 0 {
		d.order = binary.BigEndian
	}
	d.b = d.b[1:]
	typ := d.uint32()
	if typ&sridFlag != 0 {
		d.uint32()
	}
	base := typ &^ (sridFlag | 0xC0000000)
	if typ&0xC0000000 != 0 || base > 7 {
		d.err = fmt.Errorf("only 2D geometries are supported")
	}
	return base
}

func (d *wkbReader) polygon() Polygon {
	var p Polygon
	n := d.uint32()
	for i := uint32(0); i < n && d.err == nil; i++ {
		k := d.uint32()
		if !d.need(int(k) * 16) {
			break
		}
		r := make(Ring, k)
		for j := range r {
			r[j] = Point{d.float(), d.float()}
		}
		if len(r) > 1 && r[0] == r[len(r)-1] {
			r = r[:len(r)-1]
		}
		p = append(p, r)
	}
	return p
}

// EWKB types.
const (
	wkbPoint      = 1
	wkbLineString = 2
	wkbPolygon    = 3
	wkbMulti      = 6
	sridFlag      = 0x20000000
)

func header(b []byte, typ uint32, srid uint32) []byte {
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, typ|sridFlag)
	return binary.LittleEndian.AppendUint32(b, srid)
}

func appendPoints(b []byte, pts []Point) []byte {
	for _, p := range pts {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.X))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Y))
	}
	return b
}

// AppendPointEWKB appends the EWKB of a point.
func AppendPointEWKB(b []byte, p Point, srid uint32) []byte {
	return appendPoints(header(b, wkbPoint, srid), []Point{p})
}

// AppendLineEWKB appends the EWKB of a line string.
func AppendLineEWKB(b []byte, line []Point, srid uint32) []byte {
	b = header(b, wkbLineString, srid)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(line)))
	return appendPoints(b, line)
}

// AppendPolygonEWKB appends the EWKB of a polygon with one ring (closed here).
func AppendPolygonEWKB(b []byte, ring Ring, srid uint32) []byte {
	b = header(b, wkbPolygon, srid)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ring)+1))
	b = appendPoints(b, ring)
	return appendPoints(b, ring[:1])
}

// AppendMultiPolygonEWKB appends the EWKB of a multipolygon.
func AppendMultiPolygonEWKB(b []byte, m MultiPolygon, srid uint32) []byte {
	b = header(b, wkbMulti, srid)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
	for _, poly := range m {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint32(b, wkbPolygon)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(poly)))
		for _, r := range poly {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(r)+1))
			b = appendPoints(b, r)
			b = appendPoints(b, r[:1])
		}
	}
	return b
}

// AppendHex appends the hexadecimal form of b (how COPY's text format takes
// a geometry).
func AppendHex(dst, b []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, hex.EncodedLen(len(b)))...)
	hex.Encode(dst[n:], b)
	return dst
}

// P is the point (x, y) rounded to the centimetre, the precision Lambert-93
// coordinates are published and stored with.
func P(x, y float64) Point { return Point{X: math.Round(x*100) / 100, Y: math.Round(y*100) / 100} }
