package perimeter

import (
	"cmp"
	"math/bits"
	"slices"
)

// The topology checks are those of OGC simple features, as PostGIS
// ST_IsValid applies them: a ring does not cross or touch itself; the rings
// of a polygon cross nowhere, touch at single points only, and leave the
// interior in one piece; holes lie inside their outer ring and not inside
// one another; the polygons of a multipolygon share no interior and touch
// at points only. All predicates are exact integer arithmetic on the
// centimetre grid.

// orient is the sign of the turn a→b→c: 1 left, -1 right, 0 straight,
// exactly: in int64 while the differences are below 2³¹ (any perimeter in
// France), else with 128-bit products.
func orient(a, b, c point) int {
	dx1, dy1, dx2, dy2 := b.x-a.x, c.y-a.y, b.y-a.y, c.x-a.x
	const small = 1 << 31
	if uint64(dx1+small) < 2*small && uint64(dy1+small) < 2*small && uint64(dx2+small) < 2*small && uint64(dy2+small) < 2*small {
		d := dx1*dy1 - dx2*dy2
		switch {
		case d > 0:
			return 1
		case d < 0:
			return -1
		}
		return 0
	}
	return compare128(mul128(dx1, dy1), mul128(dx2, dy2))
}

type int128 struct {
	hi int64
	lo uint64
}

func mul128(a, b int64) int128 {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	hi, lo := bits.Mul64(ua, ub)
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return int128{int64(hi), lo}
}

func compare128(x, y int128) int {
	if x.hi != y.hi {
		return cmp.Compare(x.hi, y.hi)
	}
	return cmp.Compare(x.lo, y.lo)
}

func sign(v int64) int { return cmp.Compare(v, 0) }

// meeting is how two segments meet.
type meeting int8

const (
	apart       meeting = iota
	touching            // at one point, the end of at least one of them
	crossing            // their insides cross at one point
	overlapping         // collinear, sharing more than a point
)

// intersect says how segments p1p2 and q1q2 meet and, unless they cross,
// where (a point on both).
func intersect(p1, p2, q1, q2 point) (meeting, point) {
	d1, d2 := orient(q1, q2, p1), orient(q1, q2, p2)
	if d1 == 0 && d2 == 0 {
		return collinear(p1, p2, q1, q2)
	}
	d3, d4 := orient(p1, p2, q1), orient(p1, p2, q2)
	if d1*d2 < 0 && d3*d4 < 0 {
		return crossing, point{}
	}
	switch {
	case d1 == 0 && within(q1, q2, p1):
		return touching, p1
	case d2 == 0 && within(q1, q2, p2):
		return touching, p2
	case d3 == 0 && within(p1, p2, q1):
		return touching, q1
	case d4 == 0 && within(p1, p2, q2):
		return touching, q2
	}
	return apart, point{}
}

// within reports whether c, known to be on the line ab, is on the segment.
func within(a, b, c point) bool {
	return min(a.x, b.x) <= c.x && c.x <= max(a.x, b.x) && min(a.y, b.y) <= c.y && c.y <= max(a.y, b.y)
}

func collinear(p1, p2, q1, q2 point) (meeting, point) {
	along := func(p point) int64 { return p.x }
	if p1.x == p2.x && q1.x == q2.x {
		along = func(p point) int64 { return p.y }
	}
	lo := max(min(along(p1), along(p2)), min(along(q1), along(q2)))
	hi := min(max(along(p1), along(p2)), max(along(q1), along(q2)))
	if lo > hi {
		return apart, point{}
	}
	var at point
	for _, c := range [4]point{p1, p2, q1, q2} {
		if along(c) == lo && within(p1, p2, c) && within(q1, q2, c) {
			at = c
			break
		}
	}
	if lo == hi {
		return touching, at
	}
	return overlapping, at
}

// crossingAt is where two crossing segments cross, for the message only.
func crossingAt(p1, p2, q1, q2 point) (x, y float64) {
	rx, ry := float64(p2.x-p1.x), float64(p2.y-p1.y)
	sx, sy := float64(q2.x-q1.x), float64(q2.y-q1.y)
	t := (float64(q1.x-p1.x)*sy - float64(q1.y-p1.y)*sx) / (rx*sy - ry*sx)
	return float64(p1.x) + t*rx, float64(p1.y) + t*ry
}

type box struct{ minX, minY, maxX, maxY int64 }

func (b box) meets(o box) bool {
	return b.minX <= o.maxX && o.minX <= b.maxX && b.minY <= o.maxY && o.minY <= b.maxY
}

func boxOf(pts []point) box {
	b := box{pts[0].x, pts[0].y, pts[0].x, pts[0].y}
	for _, p := range pts[1:] {
		b = box{min(b.minX, p.x), min(b.minY, p.y), max(b.maxX, p.x), max(b.maxY, p.y)}
	}
	return b
}

type segment struct {
	a, b       point
	box        box
	poly, ring int32
	i          int32 // a is corner i of its ring
}

func appendSegments(segs []segment, polys []polygon) []segment {
	n := 0
	for _, poly := range polys {
		for _, rg := range poly.rings {
			n += len(rg.pts)
		}
	}
	segs = slices.Grow(segs, n)
	for p, poly := range polys {
		for r, rg := range poly.rings {
			n := len(rg.pts)
			for i := range n {
				a, b := rg.pts[i], rg.pts[(i+1)%n]
				segs = append(segs, segment{a: a, b: b, box: box{min(a.x, b.x), min(a.y, b.y), max(a.x, b.x), max(a.y, b.y)},
					poly: int32(p), ring: int32(r), i: int32(i)})
			}
		}
	}
	return segs
}

// sweep calls visit once for each pair of segments whose boxes meet, until
// visit returns false (sweep then returns false); with split >= 0, only for
// pairs of one segment of segs[:split] and one of segs[split:], in that
// order. It is a sort-and-sweep: segments in order of their low end along
// one axis, each compared with those still open. Along the axis where the
// segments are short it comes close to n log n for drawn shapes, and it is
// never worse than the brute force's n²/2 pairs (BenchmarkIntersections).
func sweep(segs []segment, split int, visit func(s, t *segment) bool) bool {
	spans := sortedSpans(segs)
	var open [2][]int32
	for k := range spans {
		sp := &spans[k]
		side, other := 0, 0
		if split >= 0 {
			if int(sp.seg) >= split {
				side = 1
			}
			other = 1 - side
		}
		list := open[other]
		m := 0
		for _, j := range list {
			o := &spans[j]
			if o.hi < sp.lo {
				continue // closed
			}
			list[m] = j
			m++
			if o.olo > sp.ohi || sp.olo > o.ohi {
				continue
			}
			s, t := &segs[o.seg], &segs[sp.seg]
			if side == 0 && split >= 0 {
				s, t = t, s
			}
			if !visit(s, t) {
				return false
			}
		}
		open[other] = list[:m]
		open[side] = append(open[side], int32(k))
	}
	return true
}

// span is a segment's extent along the sweep axis (lo, hi) and the other.
type span struct {
	lo, hi, olo, ohi int64
	seg              int32
}

func sortedSpans(segs []segment) []span {
	byY := sweepAlongY(segs)
	spanOf := func(i int) span {
		b := segs[i].box
		if byY {
			return span{b.minY, b.maxY, b.minX, b.maxX, int32(i)}
		}
		return span{b.minX, b.maxX, b.minY, b.maxY, int32(i)}
	}
	spans := make([]span, len(segs))
	const indexBits = 29
	if len(segs) >= 1<<indexBits {
		for i := range segs {
			spans[i] = spanOf(i)
		}
		slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
		return spans
	}
	// Sorting packed keys (low end, then index) is several times faster
	// than sorting the spans; coordinates are within ±maxCoord < 2³⁴.
	keys := make([]uint64, len(segs))
	for i := range segs {
		keys[i] = uint64(spanOf(i).lo+maxCoord)<<indexBits | uint64(i)
	}
	slices.Sort(keys)
	for k, key := range keys {
		spans[k] = spanOf(int(key & (1<<indexBits - 1)))
	}
	return spans
}

// sweepAlongY chooses the axis along which fewer segments are open at a
// time: the total length of the segments' extents over the extent of the
// whole, a comb's long teeth making one axis much worse than the other.
func sweepAlongY(segs []segment) bool {
	if len(segs) == 0 {
		return false
	}
	all := segs[0].box
	var sx, sy float64
	for _, s := range segs {
		b := s.box
		all = box{min(all.minX, b.minX), min(all.minY, b.minY), max(all.maxX, b.maxX), max(all.maxY, b.maxY)}
		sx += float64(b.maxX - b.minX)
		sy += float64(b.maxY - b.minY)
	}
	return sy*float64(all.maxX-all.minX) < sx*float64(all.maxY-all.minY)
}

// maxProblems bounds the topology violations reported: a scribble can
// cross itself millions of times, and ten are enough to show the fault.
const maxProblems = 10

type touchKey struct {
	poly, r1, r2 int32
	at           point
}

type ringPair struct{ p1, r1, p2, r2 int32 }

func (c *checker) problem(format string, args ...any) {
	c.fail(c.field, format, args...)
	c.problems++
}

func (c *checker) checkTopology() {
	segs := appendSegments(nil, c.polys)
	c.touched = make(map[point]struct{})
	c.contacts = make(map[touchKey]struct{})
	c.reported = make(map[ringPair]struct{})
	if !sweep(segs, -1, c.meet) {
		c.fail(c.field, "further problems of this kind were not listed; fix these first")
		return
	}
	if c.problems == 0 {
		c.checkContacts()
	}
	if c.problems == 0 {
		c.checkNesting()
	}
}

// span numbers a segment by the submitted positions at its ends.
func (c *checker) span(s *segment) (from, to int) {
	rg := &c.polys[s.poly].rings[s.ring]
	from = int(rg.src[s.i]) + 1
	if int(s.i)+1 < len(rg.pts) {
		return from, int(rg.src[s.i+1]) + 1
	}
	return from, rg.submitted
}

func (c *checker) meet(s, t *segment) bool {
	if s.poly == t.poly && s.ring == t.ring {
		n := int32(len(c.polys[s.poly].rings[s.ring].pts))
		switch {
		case (s.i+1)%n == t.i:
			c.spike(s, t)
		case (t.i+1)%n == s.i:
			c.spike(t, s)
		default:
			c.selfMeeting(s, t)
		}
		return c.problems < maxProblems
	}
	kind, at := intersect(s.a, s.b, t.a, t.b)
	switch kind {
	case apart:
	case touching:
		a1, a2 := c.around(s, at)
		b1, b2 := c.around(t, at)
		if !crossesAt(at, a1, a2, b1, b2) {
			c.touched[at] = struct{}{}
			if s.poly == t.poly {
				r1, r2 := min(s.ring, t.ring), max(s.ring, t.ring)
				c.contacts[touchKey{s.poly, r1, r2, at}] = struct{}{}
			}
			break
		}
		kind = crossing // through a corner: a crossing all the same
		fallthrough
	default:
		// One report per pair of rings: the first place is enough to act on.
		if s.poly > t.poly || s.poly == t.poly && s.ring > t.ring {
			s, t = t, s
		}
		pair := ringPair{s.poly, s.ring, t.poly, t.ring}
		if _, seen := c.reported[pair]; seen {
			break
		}
		c.reported[pair] = struct{}{}
		place := c.placePoint(at)
		if k, _ := intersect(s.a, s.b, t.a, t.b); k == crossing {
			place = c.place(crossingAt(s.a, s.b, t.a, t.b))
		}
		sf, st := c.span(s)
		tf, tt := c.span(t)
		sn, tn := c.ringName(int(s.poly), int(s.ring)), c.ringName(int(t.poly), int(t.ring))
		switch {
		case s.poly == t.poly && kind == crossing:
			c.problem("%s and %s cross at %s (positions %d to %d of the first, %d to %d of the second): rings may touch at a point but not cross", sn, tn, place, sf, st, tf, tt)
		case s.poly == t.poly:
			c.problem("%s and %s share a stretch of boundary from %s (positions %d to %d of the first, %d to %d of the second): rings may touch at a point only", sn, tn, place, sf, st, tf, tt)
		case kind == crossing:
			c.problem("%s and %s overlap: their boundaries cross at %s (positions %d to %d of %s, %d to %d of %s); the polygons of a multipolygon must not overlap, merge them into one",
				c.polygonName(int(s.poly)), c.polygonName(int(t.poly)), place, sf, st, sn, tf, tt, tn)
		default:
			c.problem("%s and %s share a stretch of boundary from %s (positions %d to %d of %s, %d to %d of %s); polygons of a multipolygon may touch at points only, merge them into one",
				c.polygonName(int(s.poly)), c.polygonName(int(t.poly)), place, sf, st, sn, tf, tt, tn)
		}
	}
	return c.problems < maxProblems
}

// around is where ring s's boundary comes from and goes to at point at,
// which lies on segment s.
func (c *checker) around(s *segment, at point) (from, to point) {
	pts := c.polys[s.poly].rings[s.ring].pts
	n := len(pts)
	switch at {
	case s.a:
		return pts[(int(s.i)+n-1)%n], s.b
	case s.b:
		return s.a, pts[(int(s.i)+2)%n]
	}
	return s.a, s.b
}

// crossesAt says whether two boundaries that meet at p, one passing
// a1→p→a2 and the other b1→p→b2, cross there rather than touch: b1 and b2
// lie strictly on different sides of a1-p-a2. A ray along one of a's is on
// neither side (that overlap is reported as such).
func crossesAt(p, a1, a2, b1, b2 point) bool {
	return inSector(p, a1, a2, b1) && inSector(p, a2, a1, b2) || inSector(p, a2, a1, b1) && inSector(p, a1, a2, b2)
}

// inSector says whether ray p→v lies strictly inside the sector swept
// counter-clockwise from ray p→u to ray p→w.
func inSector(p, u, w, v point) bool {
	uw, uv, vw := orient(p, u, w), orient(p, u, v), orient(p, v, w)
	switch {
	case uw > 0:
		return uv > 0 && vw > 0
	case uw < 0:
		return uv > 0 || vw > 0
	}
	// u and w straight across: the left half-plane (same direction is a
	// spike, reported on its own).
	return uv > 0 && !sameDirection(p, u, w)
}

func sameDirection(p, u, w point) bool {
	return sign(u.x-p.x) == sign(w.x-p.x) && sign(u.y-p.y) == sign(w.y-p.y)
}

// spike catches consecutive segments s then t (t starts where s ends) that
// fold back onto each other; consecutive segments meet nowhere else.
func (c *checker) spike(s, t *segment) {
	// Collinear, and going back: t's far end lies on s's side of the joint.
	if orient(s.a, s.b, t.b) != 0 || sign(s.a.x-s.b.x) != sign(t.b.x-s.b.x) || sign(s.a.y-s.b.y) != sign(t.b.y-s.b.y) {
		return
	}
	_, at := c.span(s)
	c.problem("%s turns back on itself at %s (position %d): the segments before and after it overlap", c.ringName(int(s.poly), int(s.ring)), c.placePoint(s.b), at)
}

func (c *checker) selfMeeting(s, t *segment) {
	kind, at := intersect(s.a, s.b, t.a, t.b)
	if kind == apart {
		return
	}
	if kind != crossing {
		// A ring passing twice through a corner meets itself there up to
		// four times: once is enough.
		key := touchKey{s.poly, s.ring, s.ring, at}
		if _, seen := c.contacts[key]; seen {
			return
		}
		c.contacts[key] = struct{}{}
	}
	name := c.ringName(int(s.poly), int(s.ring))
	sf, st := c.span(s)
	tf, tt := c.span(t)
	if sf > tf {
		sf, st, tf, tt = tf, tt, sf, st
	}
	switch kind {
	case crossing:
		c.problem("%s crosses itself at %s: the segment from position %d to %d crosses the one from position %d to %d", name, c.place(crossingAt(s.a, s.b, t.a, t.b)), sf, st, tf, tt)
	case touching:
		c.problem("%s touches itself at %s (segments from position %d to %d and from %d to %d): a ring may pass through a point only once; make two polygons, or two rings, of it", name, c.placePoint(at), sf, st, tf, tt)
	default:
		c.problem("%s runs back along itself from %s (segments from position %d to %d and from %d to %d)", name, c.placePoint(at), sf, st, tf, tt)
	}
}

// checkContacts runs once no rings cross. A polygon's rings and the points
// where they touch form a graph (ring — point — ring); a cycle in it walls
// off part of the interior (a hole touching the outer ring at two points,
// a chain of holes from one side to the other), which OGC forbids. Rings
// all meeting at one point make no cycle.
func (c *checker) checkContacts() {
	keys := make([]touchKey, 0, len(c.contacts))
	for k := range c.contacts {
		if k.r1 != k.r2 {
			keys = append(keys, k)
		}
	}
	// In submission order, so that the message is the same on every run.
	slices.SortFunc(keys, func(a, b touchKey) int {
		return cmp.Or(cmp.Compare(a.poly, b.poly), cmp.Compare(a.r1, b.r1), cmp.Compare(a.r2, b.r2), cmp.Compare(a.at.x, b.at.x), cmp.Compare(a.at.y, b.at.y))
	})
	type node struct {
		poly int32
		ring int32 // -1 for a touch point
		at   point
	}
	parent := make(map[node]node)
	find := func(n node) node {
		for {
			p, ok := parent[n]
			if !ok || p == n {
				return n
			}
			if gp, ok := parent[p]; ok {
				parent[n] = gp
			}
			n = p
		}
	}
	edges := make(map[node]struct{}) // ring nodes carrying the point they touch at
	for _, k := range keys {
		pt := node{k.poly, -1, k.at}
		for _, r := range [2]int32{k.r1, k.r2} {
			edge := node{k.poly, r, k.at}
			if _, seen := edges[edge]; seen {
				continue
			}
			edges[edge] = struct{}{}
			rn := node{k.poly, r, point{}}
			a, b := find(rn), find(pt)
			if a != b {
				parent[a] = b
				continue
			}
			whose := "the polygon"
			if l := c.src.polygons[k.poly].label; l != "" {
				whose = l
			}
			c.problem("the interior of %s is cut in two where %s touches another of its rings at %s: together with the other points where its rings touch, this walls off part of it; rings may touch only where the interior stays in one piece",
				whose, c.ringName(int(k.poly), int(r)), c.placePoint(k.at))
			if c.problems >= maxProblems {
				return
			}
		}
	}
}

type where int8

const (
	outside where = iota
	inside
	onBoundary
)

// locate places q, given with doubled coordinates, against a ring by
// crossing number, exactly.
func locate(q point, pts []point) where {
	in := false
	n := len(pts)
	for i := range n {
		a := point{2 * pts[i].x, 2 * pts[i].y}
		j := (i + 1) % n
		b := point{2 * pts[j].x, 2 * pts[j].y}
		o := orient(a, b, q)
		if o == 0 && within(a, b, q) {
			return onBoundary
		}
		if (a.y > q.y) != (b.y > q.y) && (b.y > a.y) == (o > 0) {
			in = !in
		}
	}
	if in {
		return inside
	}
	return outside
}

// placeRing places ring r against another ring by one of its corners that
// touches nothing (so is not on the other's boundary), else by the middle
// of one of its segments.
func (c *checker) placeRing(pts, other []point) (where, point) {
	for _, p := range pts {
		if _, ok := c.touched[p]; !ok {
			return locate(point{2 * p.x, 2 * p.y}, other), p
		}
	}
	for i := range pts {
		q := point{pts[i].x + pts[(i+1)%len(pts)].x, pts[i].y + pts[(i+1)%len(pts)].y}
		if w := locate(q, other); w != onBoundary {
			return w, pts[i]
		}
	}
	return onBoundary, pts[0]
}

// insidePolygon says whether ring pts lies in the interior of polygon p:
// inside its outer ring and in none of its holes.
func (c *checker) insidePolygon(pts []point, p int) (bool, point) {
	rings := c.polys[p].rings
	w, at := c.placeRing(pts, rings[0].pts)
	if w != inside {
		return false, at
	}
	for _, h := range rings[1:] {
		if w, _ := c.placeRing(pts, h.pts); w == inside {
			return false, at
		}
	}
	return true, at
}

// checkNesting runs once no boundaries cross: each ring then lies wholly
// inside or outside each other ring, and one corner tells which.
func (c *checker) checkNesting() {
	boxes := make([][]box, len(c.polys))
	for p, poly := range c.polys {
		boxes[p] = make([]box, len(poly.rings))
		for r, rg := range poly.rings {
			boxes[p][r] = boxOf(rg.pts)
		}
	}
	for p, poly := range c.polys {
		shell := poly.rings[0].pts
		for h := 1; h < len(poly.rings) && c.problems < maxProblems; h++ {
			if w, at := c.placeRing(poly.rings[h].pts, shell); w == outside {
				c.problem("%s lies outside its outer ring (at %s): a hole must be inside the polygon it cuts; a separate area is another polygon of a MULTIPOLYGON", c.ringName(p, h), c.placePoint(at))
			}
		}
		for h := 1; h < len(poly.rings) && c.problems < maxProblems; h++ {
			for k := 1; k < len(poly.rings); k++ {
				if h == k || !boxes[p][h].meets(boxes[p][k]) {
					continue
				}
				if w, at := c.placeRing(poly.rings[h].pts, poly.rings[k].pts); w == inside {
					c.problem("%s lies inside %s (at %s): holes may not be nested; an island in a hole is another polygon of a MULTIPOLYGON", c.ringName(p, h), c.ringName(p, k), c.placePoint(at))
				}
			}
		}
	}
	for p := range c.polys {
		for q := range c.polys {
			if p == q || !boxes[p][0].meets(boxes[q][0]) || c.problems >= maxProblems {
				continue
			}
			if in, at := c.insidePolygon(c.polys[p].rings[0].pts, q); in {
				c.problem("%s lies inside %s (at %s): the polygons of a multipolygon must not overlap", c.polygonName(p), c.polygonName(q), c.placePoint(at))
			}
		}
	}
}
