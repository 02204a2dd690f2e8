package perimeter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// source is the geometry as the requester submitted it, in the submitted
// CRS, before any check.
type source struct {
	polygons []srcPolygon
	ewktSRID int    // WKT: the SRID of an EWKT prefix, 0 if none
	crsIssue string // GeoJSON: why a "crs" member does not name WGS84, "" if none
}

type srcPolygon struct {
	label string // how messages name it: "polygon 2", "feature 3", "" for a lone polygon
	rings [][][2]float64
}

// Internally a position is an integer number of centimetres in EPSG:2154,
// so that every geometric predicate is exact (see orient). Coordinates
// beyond ±100,000 km are refused: no Lambert-93 coordinate is, and the
// bound keeps doubled coordinates and their differences inside int64.
type point struct{ x, y int64 }

const maxCoord = 1e10 // 100,000 km in centimetres

func (p point) metres() [2]float64 {
	return [2]float64{float64(p.x) / 100, float64(p.y) / 100}
}

// toPoint rounds EPSG:2154 metres to the centimetre; ok is false beyond
// ±100,000 km (or for NaN).
func toPoint(x, y float64) (p point, ok bool) {
	cx, cy := math.Round(x*100), math.Round(y*100)
	if !(math.Abs(cx) <= maxCoord && math.Abs(cy) <= maxCoord) {
		return point{}, false
	}
	return point{int64(cx), int64(cy)}, true
}

// ring is a checked ring: distinct consecutive corners, not closed.
type ring struct {
	pts       []point
	src       []int32 // pts[i] is submitted position src[i] (0-based)
	submitted int     // positions as submitted, the closing one included
}

type polygon struct {
	rings []ring // the outer ring, then the holes
}

// checker carries one Parse through its stages; each stage adds
// violations, and a stage runs only if the ones before it found nothing.
type checker struct {
	field      string
	srid       int
	lim        Limits
	src        *source
	polys      []polygon
	violations []Violation
	unlisted   int // violations beyond maxViolations
	problems   int // topology problems reported

	touched  map[point]struct{}    // where two different rings touch
	contacts map[touchKey]struct{} // distinct (polygon, ring pair, point) touches
	reported map[ringPair]struct{} // ring pairs whose crossing is already reported
}

// maxViolations bounds the list a requester gets back: a thousand broken
// rings need one fix, not a thousand messages.
const maxViolations = 20

func (c *checker) fail(field, format string, args ...any) {
	if len(c.violations) >= maxViolations {
		c.unlisted++
		return
	}
	c.violations = append(c.violations, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (c *checker) err() error {
	v := c.violations
	if c.unlisted > 0 {
		v = append(v, Violation{Field: c.field, Description: fmt.Sprintf("%d more problems like these are not listed; fix these first", c.unlisted)})
	}
	return &Error{Violations: v}
}

func knownSRID(s int) bool { return s == SRIDLambert93 || s == SRIDWGS84 }

func unknownCRS(srid int) string {
	return fmt.Sprintf("unknown CRS EPSG:%d: submit the perimeter in EPSG:2154 (Lambert-93, metres) or EPSG:4326 (WGS84 longitude/latitude)", srid)
}

// checkSRID settles the CRS the positions are in: GeoJSON's is fixed,
// WKT's comes from the srid field or the EWKT prefix, which must agree.
func (c *checker) checkSRID(in Input, src *source) int {
	if in.Format == GeoJSON {
		switch in.SRID {
		case 0, SRIDWGS84:
		case SRIDLambert93:
			c.fail(FieldSRID, "GeoJSON positions are WGS84 longitude/latitude (RFC 7946), so srid 2154 cannot apply: give srid 4326 (or none), or submit Lambert-93 coordinates as WKT")
		default:
			c.fail(FieldSRID, "%s; GeoJSON positions are always WGS84 longitude/latitude (RFC 7946): give srid 4326 or none", unknownCRS(in.SRID))
		}
		if src.crsIssue != "" {
			c.fail(FieldSRID, "%s", src.crsIssue)
		}
		return SRIDWGS84
	}
	srid := in.SRID
	if srid != 0 && !knownSRID(srid) {
		c.fail(FieldSRID, "%s", unknownCRS(srid))
	}
	switch e := src.ewktSRID; {
	case e != 0 && !knownSRID(e):
		c.fail(FieldSRID, "the WKT's prefix SRID=%d names an unknown CRS: only 2154 (Lambert-93) and 4326 (WGS84) are accepted", e)
	case e != 0 && srid == 0:
		srid = e
	case e != 0 && srid != e:
		c.fail(FieldSRID, "the WKT begins with SRID=%d but srid is %d: they must agree (or drop the prefix)", e, srid)
	case e == 0 && srid == 0:
		c.fail(FieldSRID, "a WKT perimeter needs its srid: 2154 (Lambert-93, metres) or 4326 (WGS84 longitude/latitude)")
	}
	return srid
}

// check runs the stages after a successful read.
func (c *checker) check(src *source) (Perimeter, error) {
	c.src = src
	if len(src.polygons) == 0 {
		c.fail(c.field, "the geometry is empty: a perimeter needs at least one polygon")
		return Perimeter{}, c.err()
	}
	for _, stage := range []func(){c.checkCoordinates, c.checkRings, c.checkTopology} {
		if stage(); len(c.violations) > 0 {
			return Perimeter{}, c.err()
		}
	}
	reoriented := c.orient()
	area := c.areaKm2()
	if c.lim.MaxAreaKm2 > 0 && area > c.lim.MaxAreaKm2 {
		c.fail(c.field, "the perimeter covers %s km², more than the %s km² accepted: narrow it, or split the request", decimals(area, 1), decimals(c.lim.MaxAreaKm2, 1))
	}
	c.checkRegion()
	if len(c.violations) > 0 {
		return Perimeter{}, c.err()
	}
	p := Perimeter{
		WKT:           c.wkt(),
		AreaKm2:       area,
		SubmittedSRID: c.srid,
		Reoriented:    reoriented,
	}
	p.Polygons = make(MultiPolygon, len(c.polys))
	for i, poly := range c.polys {
		p.Polygons[i] = make(Polygon, len(poly.rings))
		for j, r := range poly.rings {
			out := make(Ring, len(r.pts)+1)
			for k, pt := range r.pts {
				out[k] = pt.metres()
			}
			out[len(r.pts)] = out[0]
			p.Polygons[i][j] = out
			p.Vertices += len(out)
		}
	}
	return p, nil
}

// ringName says which ring, in the order the requester wrote them.
func (c *checker) ringName(p, r int) string {
	name := "the outer ring"
	if r > 0 {
		name = "hole " + strconv.Itoa(r)
	}
	if l := c.src.polygons[p].label; l != "" {
		name += " of " + l
	}
	return name
}

func (c *checker) polygonName(p int) string {
	if l := c.src.polygons[p].label; l != "" {
		return l
	}
	return "polygon " + strconv.Itoa(p+1)
}

// place writes a Lambert-93 location (in centimetres) in the CRS the
// requester used, as WKT they can paste into a GIS.
func (c *checker) place(x, y float64) string {
	mx, my := x/100, y/100
	if c.srid == SRIDWGS84 {
		lon, lat := FromLambert93(mx, my)
		return "POINT(" + decimals(lon, 7) + " " + decimals(lat, 7) + ")"
	}
	return "POINT(" + decimals(mx, 2) + " " + decimals(my, 2) + ")"
}

func (c *checker) placePoint(p point) string { return c.place(float64(p.x), float64(p.y)) }

// tally counts positions failing one check and keeps the first, so that
// one violation per kind says where to look and how many there are.
type tally struct {
	n         int
	p, r, pos int
	v         [2]float64
}

func (t *tally) add(p, r, pos int, v [2]float64) {
	if t.n == 0 {
		t.p, t.r, t.pos, t.v = p, r, pos, v
	}
	t.n++
}

func (c *checker) report(t *tally, what string) {
	if t.n == 0 {
		return
	}
	more := ""
	if t.n > 1 {
		more = fmt.Sprintf(" (and %d more positions)", t.n-1)
	}
	c.fail(c.field, "position %d of %s (%s %s) %s%s", t.pos+1, c.ringName(t.p, t.r), number(t.v[0]), number(t.v[1]), what, more)
}

// checkCoordinates refuses numbers no CRS can hold: NaN, infinities (1e400
// reads as one), longitudes and latitudes out of range.
func (c *checker) checkCoordinates() {
	var notFinite, lon, lat, swapped tally
	for p, poly := range c.src.polygons {
		for r, rg := range poly.rings {
			for i, v := range rg {
				switch {
				case math.IsNaN(v[0]) || math.IsNaN(v[1]) || math.IsInf(v[0], 0) || math.IsInf(v[1], 0):
					notFinite.add(p, r, i, v)
				case c.srid != SRIDWGS84:
				case math.Abs(v[0]) > 180:
					lon.add(p, r, i, v)
				case math.Abs(v[1]) > 90 && math.Abs(v[0]) <= 90:
					swapped.add(p, r, i, v)
				case math.Abs(v[1]) > 90:
					lat.add(p, r, i, v)
				}
			}
		}
	}
	c.report(&notFinite, "has a coordinate that is not a finite number")
	c.report(&lon, "has a longitude outside [-180, 180]")
	c.report(&swapped, "has a latitude outside [-90, 90]; positions are longitude first, then latitude")
	c.report(&lat, "has a latitude outside [-90, 90]")
}

// checkRings projects each ring to centimetres and checks it on its own:
// enough positions, closed, not flat. Consecutive repeated positions,
// including those rounding made equal, are dropped.
func (c *checker) checkRings() {
	var far tally
	c.polys = make([]polygon, len(c.src.polygons))
	for p, sp := range c.src.polygons {
		c.polys[p].rings = make([]ring, len(sp.rings))
		for r, sr := range sp.rings {
			name := c.ringName(p, r)
			if len(sr) < 4 {
				c.fail(c.field, "%s has %d positions; a ring needs at least 4 (three corners, then the first repeated to close it)", name, len(sr))
				continue
			}
			if first, last := sr[0], sr[len(sr)-1]; first != last {
				c.fail(c.field, "%s is not closed: it starts at (%s %s) and ends at (%s %s); repeat the first position at the end",
					name, number(first[0]), number(first[1]), number(last[0]), number(last[1]))
				continue
			}
			rg := ring{pts: make([]point, 0, len(sr)), src: make([]int32, 0, len(sr)), submitted: len(sr)}
			for i, v := range sr {
				x, y := v[0], v[1]
				if c.srid == SRIDWGS84 {
					x, y = ToLambert93(x, y)
				}
				pt, ok := toPoint(x, y)
				if !ok {
					far.add(p, r, i, v)
					continue
				}
				if n := len(rg.pts); n > 0 && rg.pts[n-1] == pt {
					continue
				}
				rg.pts = append(rg.pts, pt)
				rg.src = append(rg.src, int32(i))
			}
			if far.n > 0 {
				continue
			}
			if n := len(rg.pts); n > 1 && rg.pts[n-1] == rg.pts[0] {
				rg.pts, rg.src = rg.pts[:n-1], rg.src[:n-1]
			}
			c.polys[p].rings[r] = rg
			switch {
			case len(rg.pts) < 3:
				c.fail(c.field, "%s has zero area: only %d distinct positions remain once repeated ones (at centimetre precision in Lambert-93) are dropped", name, len(rg.pts))
			case flat(rg.pts):
				c.fail(c.field, "%s has zero area: all its positions lie on one straight line", name)
			}
		}
	}
	if c.srid == SRIDWGS84 {
		c.report(&far, "is too near the South Pole to be projected to Lambert-93 (EPSG:2154)")
	} else {
		c.report(&far, "is beyond ±100,000 km: it is not a Lambert-93 coordinate")
	}
}

func flat(pts []point) bool {
	for _, q := range pts[2:] {
		if orient(pts[0], pts[1], q) != 0 {
			return false
		}
	}
	return true
}

// orient turns every ring to the convention, outer rings counter-clockwise
// and holes clockwise, and says whether any had to be turned.
func (c *checker) orient() bool {
	turned := false
	for _, p := range c.polys {
		for r, rg := range p.rings {
			if counterClockwise(rg.pts) != (r == 0) {
				// Keep the first corner first: reverse the rest.
				for i, j := 1, len(rg.pts)-1; i < j; i, j = i+1, j-1 {
					rg.pts[i], rg.pts[j] = rg.pts[j], rg.pts[i]
					rg.src[i], rg.src[j] = rg.src[j], rg.src[i]
				}
				turned = true
			}
		}
	}
	return turned
}

// counterClockwise is exact for a simple ring: the turn at its lowest
// (then leftmost) corner, a corner of the convex hull, has the ring's
// orientation.
func counterClockwise(pts []point) bool {
	m := 0
	for i, q := range pts {
		if q.y < pts[m].y || q.y == pts[m].y && q.x < pts[m].x {
			m = i
		}
	}
	n := len(pts)
	return orient(pts[(m+n-1)%n], pts[m], pts[(m+1)%n]) > 0
}

// areaKm2 is the planar area in EPSG:2154, holes deducted.
func (c *checker) areaKm2() float64 {
	total := 0.0
	for _, p := range c.polys {
		for r, rg := range p.rings {
			a := math.Abs(twiceArea(rg.pts)) / 2
			if r > 0 {
				a = -a
			}
			total += a
		}
	}
	return total / 1e10 // cm² to km²
}

// twiceArea is the shoelace sum, taken from the first corner so that the
// products stay small and precise.
func twiceArea(pts []point) float64 {
	s := 0.0
	o := pts[0]
	for i := 1; i+1 < len(pts); i++ {
		ax, ay := float64(pts[i].x-o.x), float64(pts[i].y-o.y)
		bx, by := float64(pts[i+1].x-o.x), float64(pts[i+1].y-o.y)
		s += ax*by - bx*ay
	}
	return s
}

// checkRegion refuses a perimeter that does not reach the region at all,
// and guesses the usual reason: coordinates in the wrong CRS or order.
func (c *checker) checkRegion() {
	region := c.lim.Region
	if region == nil || region.meets(c.polys) {
		return
	}
	const outside = "the perimeter lies entirely outside the region"
	switch {
	case c.srid == SRIDLambert93 && c.looksLonLat():
		c.fail(FieldSRID, "%s; its coordinates look like longitude/latitude: submit with srid 4326", outside)
	case c.srid == SRIDWGS84 && region.meets(c.swapped()):
		c.fail(c.field, "%s, but would fall inside it with longitude and latitude swapped: give each position as longitude, then latitude", outside)
	default:
		c.fail(c.field, "%s the platform covers; it must overlap it, at least in part", outside)
	}
}

func (c *checker) looksLonLat() bool {
	for _, p := range c.src.polygons {
		for _, r := range p.rings {
			for _, v := range r {
				if math.Abs(v[0]) > 180 || math.Abs(v[1]) > 90 {
					return false
				}
			}
		}
	}
	return true
}

// swapped is the perimeter read as latitude/longitude, for the hint only.
func (c *checker) swapped() []polygon {
	out := make([]polygon, 0, len(c.src.polygons))
	for _, p := range c.src.polygons {
		var sp polygon
		for _, r := range p.rings {
			var rg ring
			for _, v := range r {
				if math.Abs(v[0]) > 90 {
					return nil
				}
				pt, ok := toPoint(ToLambert93(v[1], v[0]))
				if !ok {
					return nil
				}
				if n := len(rg.pts); n == 0 || rg.pts[n-1] != pt {
					rg.pts = append(rg.pts, pt)
				}
			}
			if len(rg.pts) < 3 {
				return nil
			}
			sp.rings = append(sp.rings, rg)
		}
		out = append(out, sp)
	}
	return out
}

// wkt writes the checked geometry as a MULTIPOLYGON in EPSG:2154 metres.
func (c *checker) wkt() string {
	var b strings.Builder
	n := 0
	for _, p := range c.polys {
		for _, r := range p.rings {
			n += len(r.pts) + 1
		}
	}
	b.Grow(16 + n*22)
	buf := make([]byte, 0, 32)
	b.WriteString("MULTIPOLYGON(")
	for i, p := range c.polys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j, r := range p.rings {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for k := 0; k <= len(r.pts); k++ {
				if k > 0 {
					b.WriteByte(',')
				}
				m := r.pts[k%len(r.pts)].metres()
				buf = strconv.AppendFloat(buf[:0], m[0], 'f', -1, 64)
				buf = append(buf, ' ')
				buf = strconv.AppendFloat(buf, m[1], 'f', -1, 64)
				b.Write(buf)
			}
			b.WriteByte(')')
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}
