package perimeter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The GeoJSON reader takes a Polygon, a MultiPolygon, a GeometryCollection
// of them, a Feature of one, or a FeatureCollection of such features (their
// union is the perimeter). It scans the JSON itself rather than decode it
// into maps, so that it can stop at the vertex limit, keep no more than the
// positions it counts, and say at which line and column it stopped. Members
// may come in any order; "properties", "bbox", "id" and foreign members are
// skipped, nested at most maxDepth deep. A position's altitude, and any
// number after it, is dropped.

const maxDepth = 64

type geojsonReader struct {
	s       string
	pos     int
	max     int // positions allowed
	count   int // positions read
	empties int // empty coordinate arrays read, bounded like positions
	depth   int // objects and arrays open
	src     source
}

func readGeoJSON(text string, maxPositions int) (source, *readError) {
	r := &geojsonReader{s: text, pos: skipBOM(text), max: maxPositions}
	if r.peek() != '{' {
		if r.pos >= len(r.s) {
			return r.src, r.fail(r.pos, "the perimeter is empty: expected a GeoJSON object")
		}
		return r.src, r.expected(`a GeoJSON object, starting with "{"`)
	}
	o, err := r.object()
	if err != nil {
		return r.src, err
	}
	if r.peek(); r.pos < len(r.s) {
		return r.src, r.fail(r.pos, "unexpected %s after the end of the GeoJSON object", found(r.s, r.pos))
	}
	var polys []srcPolygon
	switch o.typ {
	case "Feature":
		polys, err = r.featurePolygons(o, "")
	case "FeatureCollection":
		if !o.has(memberFeatures) {
			return r.src, r.fail(o.at, `a FeatureCollection without "features"`)
		}
		polys = o.features
	default:
		polys, err = r.geometryPolygons(o, "")
	}
	r.src.polygons = polys
	return r.src, err
}

func (r *geojsonReader) fail(at int, format string, args ...any) *readError {
	return &readError{at: at, msg: fmt.Sprintf(format, args...)}
}

func (r *geojsonReader) expected(what string) *readError {
	return r.fail(r.pos, "expected %s, found %s", what, found(r.s, r.pos))
}

func (r *geojsonReader) peek() byte {
	for r.pos < len(r.s) && isSpace(r.s[r.pos]) {
		r.pos++
	}
	if r.pos < len(r.s) {
		return r.s[r.pos]
	}
	return 0
}

func (r *geojsonReader) enter() *readError {
	if r.depth++; r.depth > maxDepth {
		return r.fail(r.pos, "the JSON is nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (r *geojsonReader) punct(c byte, what string) *readError {
	if r.peek() != c {
		return r.expected(what)
	}
	r.pos++
	return nil
}

// geoObject is a GeoJSON object once read. Nested geometries and features
// are already turned into polygons, so nothing but positions is kept.
type geoObject struct {
	at         int
	typ        string
	members    uint8 // which of the member* bits were present
	coords     coordNode
	geometry   *geoObject // nil for "geometry": null
	geometries []srcPolygon
	features   []srcPolygon
}

const (
	memberType uint8 = 1 << iota
	memberCoordinates
	memberGeometry
	memberGeometries
	memberFeatures
)

func (o *geoObject) has(m uint8) bool { return o.members&m != 0 }

func memberBit(key string) uint8 {
	switch key {
	case "type":
		return memberType
	case "coordinates":
		return memberCoordinates
	case "geometry":
		return memberGeometry
	case "geometries":
		return memberGeometries
	case "features":
		return memberFeatures
	}
	return 0
}

func (r *geojsonReader) object() (*geoObject, *readError) {
	o := &geoObject{at: r.pos}
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	r.pos++ // '{'
	if r.peek() == '}' {
		r.pos++
		return o, nil
	}
	for {
		if r.peek() != '"' {
			return nil, r.expected("a member name in double quotes")
		}
		at := r.pos
		key, err := r.str(true)
		if err != nil {
			return nil, err
		}
		if err := r.punct(':', `":" after the member name`); err != nil {
			return nil, err
		}
		bit := memberBit(key)
		if bit != 0 {
			if o.has(bit) {
				return nil, r.fail(at, "the member %q appears twice in one object", key)
			}
			o.members |= bit
		}
		switch bit {
		case memberType:
			if r.peek() != '"' {
				return nil, r.expected(`a string for "type"`)
			}
			o.typ, err = r.str(true)
		case memberCoordinates:
			if r.peek() != '[' {
				return nil, r.expected(`an array for "coordinates"`)
			}
			o.coords, err = r.coordinates(1)
		case memberGeometry:
			switch r.peek() {
			case 'n':
				err = r.literal("null")
			case '{':
				o.geometry, err = r.object()
			default:
				err = r.expected(`an object or null for "geometry"`)
			}
		case memberGeometries:
			err = r.objects("geometries", func(k int, child *geoObject) *readError {
				polys, err := r.geometryPolygons(child, "geometry "+strconv.Itoa(k))
				o.geometries = append(o.geometries, polys...)
				return err
			})
		case memberFeatures:
			err = r.objects("features", func(k int, child *geoObject) *readError {
				polys, err := r.featurePolygons(child, "feature "+strconv.Itoa(k))
				o.features = append(o.features, polys...)
				return err
			})
		default:
			if key == "crs" {
				err = r.crs()
			} else {
				err = r.skip()
			}
		}
		if err != nil {
			return nil, err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return o, nil
		default:
			return nil, r.expected(`"," or "}" after a member`)
		}
	}
}

// objects reads an array of objects, handing each (numbered from 1) to use
// as soon as it is read.
func (r *geojsonReader) objects(name string, use func(k int, o *geoObject) *readError) *readError {
	if r.peek() != '[' {
		return r.expected(fmt.Sprintf("an array for %q", name))
	}
	if err := r.enter(); err != nil {
		return err
	}
	defer func() { r.depth-- }()
	r.pos++
	if r.peek() == ']' {
		r.pos++
		return nil
	}
	for k := 1; ; k++ {
		if r.peek() != '{' {
			return r.expected(fmt.Sprintf("an object in %q", name))
		}
		o, err := r.object()
		if err != nil {
			return err
		}
		if err := use(k, o); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return nil
		default:
			return r.expected(fmt.Sprintf(`"," or "]" in %q`, name))
		}
	}
}

func joinLabel(outer, inner string) string {
	switch {
	case outer == "":
		return inner
	case inner == "":
		return outer
	}
	return outer + ", " + inner
}

func (r *geojsonReader) featurePolygons(o *geoObject, label string) ([]srcPolygon, *readError) {
	name := label
	if name == "" {
		name = "the feature"
	}
	switch {
	case !o.has(memberType):
		return nil, r.fail(o.at, `%s has no "type" member`, name)
	case o.typ != "Feature":
		return nil, r.fail(o.at, `%s should be a Feature, found a %q`, name, o.typ)
	case !o.has(memberGeometry):
		return nil, r.fail(o.at, `%s has no "geometry" member`, name)
	case o.geometry == nil:
		return nil, r.fail(o.at, `%s has a null geometry: each feature of a perimeter needs a polygon`, name)
	}
	return r.geometryPolygons(o.geometry, label)
}

func (r *geojsonReader) geometryPolygons(o *geoObject, label string) ([]srcPolygon, *readError) {
	name := label
	if name == "" {
		name = "the geometry"
	}
	if !o.has(memberType) {
		return nil, r.fail(o.at, `%s has no "type" member`, name)
	}
	switch o.typ {
	case "Polygon", "MultiPolygon":
		if !o.has(memberCoordinates) {
			return nil, r.fail(o.at, `%s, a %s, has no "coordinates"`, name, o.typ)
		}
		if o.typ == "Polygon" {
			p, err := r.polygon(&o.coords, label, "Polygon")
			if err != nil || len(p.rings) == 0 {
				return nil, err
			}
			return []srcPolygon{p}, nil
		}
		if o.coords.isPos {
			return nil, r.shape(o.coords.at, "MultiPolygon")
		}
		var polys []srcPolygon
		for k := range o.coords.kids {
			p, err := r.polygon(&o.coords.kids[k], joinLabel(label, "polygon "+strconv.Itoa(k+1)), "MultiPolygon")
			if err != nil {
				return nil, err
			}
			if len(p.rings) > 0 {
				polys = append(polys, p)
			}
		}
		return polys, nil
	case "GeometryCollection":
		if !o.has(memberGeometries) {
			return nil, r.fail(o.at, `%s, a GeometryCollection, has no "geometries"`, name)
		}
		polys := o.geometries
		for i := range polys {
			polys[i].label = joinLabel(label, polys[i].label)
		}
		return polys, nil
	case "Point", "MultiPoint", "LineString", "MultiLineString":
		return nil, r.fail(o.at, "a perimeter must be a polygon: %s is a %s; give a Polygon or MultiPolygon", name, o.typ)
	case "Feature", "FeatureCollection":
		return nil, r.fail(o.at, "%s should be a Polygon, MultiPolygon or GeometryCollection, found a %s", name, o.typ)
	}
	return nil, r.fail(o.at, "unknown GeoJSON type %q for %s: expected Polygon, MultiPolygon, GeometryCollection, Feature or FeatureCollection", o.typ, name)
}

// polygon turns a Polygon's coordinates, an array of rings that are arrays
// of positions, into rings; an empty array is an empty polygon.
func (r *geojsonReader) polygon(c *coordNode, label, typ string) (srcPolygon, *readError) {
	p := srcPolygon{label: label}
	if c.isPos || len(c.pos) > 0 {
		return p, r.shape(c.at, typ)
	}
	for i := range c.kids {
		rc := &c.kids[i]
		if rc.isPos || len(rc.kids) > 0 {
			return p, r.shape(rc.at, typ)
		}
		p.rings = append(p.rings, rc.pos)
	}
	return p, nil
}

func (r *geojsonReader) shape(at int, typ string) *readError {
	nest := "[[[lon, lat], ...], ...]"
	if typ == "MultiPolygon" {
		nest = "[[[[lon, lat], ...], ...], ...]"
	}
	return r.fail(at, "coordinates nested the wrong way for a %s: it takes %s", typ, nest)
}

// coordNode is a "coordinates" value as read, before its type is known: a
// position, or an array whose members are positions (kept as pairs, the
// bulk of the memory) and arrays.
type coordNode struct {
	at    int
	isPos bool
	p     [2]float64
	pos   [][2]float64
	kids  []coordNode
}

func (r *geojsonReader) coordinates(level int) (coordNode, *readError) {
	at := r.pos
	if level > 4 {
		return coordNode{}, r.fail(at, "coordinates nested deeper than a MultiPolygon's [[[[lon, lat]]]]")
	}
	r.pos++ // '['
	switch c := r.peek(); {
	case c == '-' || c >= '0' && c <= '9':
		return r.position(at)
	case c != '[' && c != ']':
		return coordNode{}, r.expected(`a number or "[" in coordinates`)
	}
	n := coordNode{at: at}
	if r.peek() == ']' {
		r.pos++
		if r.empties++; r.empties > r.max {
			return n, r.fail(at, "more than %d empty arrays in coordinates", r.max)
		}
		return n, nil
	}
	for {
		if r.peek() != '[' {
			return n, r.expected(`"[" in coordinates (a position is an array of numbers, [longitude, latitude])`)
		}
		kid, err := r.coordinates(level + 1)
		if err != nil {
			return n, err
		}
		if kid.isPos {
			n.pos = append(n.pos, kid.p)
		} else {
			n.kids = append(n.kids, kid)
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return n, nil
		default:
			return n, r.expected(`"," or "]" in coordinates`)
		}
	}
}

func (r *geojsonReader) position(at int) (coordNode, *readError) {
	n := coordNode{at: at, isPos: true}
	for k := 0; ; k++ {
		if c := r.peek(); !(c == '-' || c >= '0' && c <= '9') {
			return n, r.expected("a number in a position")
		}
		v, err := r.number()
		if err != nil {
			return n, err
		}
		if k < 2 {
			n.p[k] = v
		}
		switch r.peek() {
		case ',':
			r.pos++
			continue
		case ']':
			r.pos++
		default:
			return n, r.expected(`"," or "]" after a number`)
		}
		if k == 0 {
			return n, r.fail(at, "a position needs two numbers, [longitude, latitude]; found one")
		}
		break
	}
	if r.count++; r.count > r.max {
		return n, r.fail(at, "%s", tooManyPositions(r.max, r.count))
	}
	return n, nil
}

func tooManyPositions(max, count int) string {
	return fmt.Sprintf("the perimeter has more than %d positions, the most accepted (this is the %s): simplify it, e.g. with QGIS's Simplify or ST_SimplifyPreserveTopology", max, ordinal(count))
}

// number reads a JSON number; out-of-range values read as ±Inf, for the
// coordinate check to report.
func (r *geojsonReader) number() (float64, *readError) {
	at, i, s := r.pos, r.pos, r.s
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		r.pos = i
		return 0, r.expected("a digit")
	}
	if i < len(s) && s[i] == '.' {
		if i++; digits() == 0 {
			r.pos = i
			return 0, r.expected("a digit after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.pos = i
			return 0, r.expected("a digit in the exponent")
		}
	}
	v, err := strconv.ParseFloat(s[at:i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, r.fail(at, "malformed number %s", found(s, at))
	}
	r.pos = i
	return v, nil
}

// str reads a JSON string; decode asks for its value (a substring of the
// text unless it has escapes), else it is only checked.
func (r *geojsonReader) str(decode bool) (string, *readError) {
	at := r.pos
	escaped := false
	for i := at + 1; i < len(r.s); {
		switch c := r.s[i]; {
		case c == '"':
			r.pos = i + 1
			v := r.s[at+1 : i]
			if escaped && decode {
				v = unescape(v)
			}
			return v, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(r.s) {
				return "", r.fail(at, "unterminated string")
			}
			switch r.s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(r.s) {
					return "", r.fail(i, `malformed escape: \u takes four hexadecimal digits`)
				}
				if _, err := strconv.ParseUint(r.s[i+2:i+6], 16, 16); err != nil {
					return "", r.fail(i, `malformed escape: \u takes four hexadecimal digits`)
				}
				i += 6
			default:
				return "", r.fail(i, "malformed escape %s in a string", found(r.s, i))
			}
		case c < 0x20:
			return "", r.fail(i, "a control character (code %d) in a string must be escaped", c)
		default:
			i++
		}
	}
	return "", r.fail(at, "unterminated string")
}

// unescape decodes the escapes str has checked.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch c := s[i+1]; c {
		case 'u':
			u, _ := strconv.ParseUint(s[i+2:i+6], 16, 16)
			i += 6
			ru := rune(u)
			if utf16.IsSurrogate(ru) && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if lo, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
					if pair := utf16.DecodeRune(ru, rune(lo)); pair != utf8.RuneError {
						ru = pair
						i += 6
					}
				}
			}
			b.WriteRune(ru) // a lone surrogate writes U+FFFD
		default:
			b.WriteByte(simpleEscape(c))
			i += 2
		}
	}
	return b.String()
}

func simpleEscape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\' and '/' stand for themselves
}

func (r *geojsonReader) literal(word string) *readError {
	if !strings.HasPrefix(r.s[r.pos:], word) {
		return r.expected("a JSON value")
	}
	r.pos += len(word)
	return nil
}

// skip reads past any JSON value.
func (r *geojsonReader) skip() *readError {
	switch c := r.peek(); {
	case c == '{' || c == '[':
		if err := r.enter(); err != nil {
			return err
		}
		defer func() { r.depth-- }()
		r.pos++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if r.peek() == end {
			r.pos++
			return nil
		}
		for {
			if c == '{' {
				if r.peek() != '"' {
					return r.expected("a member name in double quotes")
				}
				if _, err := r.str(false); err != nil {
					return err
				}
				if err := r.punct(':', `":" after the member name`); err != nil {
					return err
				}
			}
			if err := r.skip(); err != nil {
				return err
			}
			switch r.peek() {
			case ',':
				r.pos++
			case end:
				r.pos++
				return nil
			default:
				return r.expected(fmt.Sprintf("%q or %q", ",", string(end)))
			}
		}
	case c == '"':
		_, err := r.str(false)
		return err
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		_, err := r.number()
		return err
	}
	return r.expected("a JSON value")
}

// crs reads the 2008 GeoJSON "crs" member RFC 7946 dropped. Naming WGS84
// (CRS84, EPSG:4326) or null is harmless; any other CRS contradicts the
// RFC's fixed CRS and is the srid field's violation.
func (r *geojsonReader) crs() *readError {
	switch r.peek() {
	case 'n':
		return r.literal("null")
	case '{':
	default:
		r.crsIssue(`the GeoJSON's "crs" member is not an object naming a CRS; GeoJSON is WGS84 longitude/latitude (RFC 7946): drop the member`)
		return r.skip()
	}
	var typ, name, href string
	err := r.members(func(key string) *readError {
		switch key {
		case "type":
			return r.stringInto(&typ)
		case "properties":
			if r.peek() != '{' {
				return r.skip()
			}
			return r.members(func(key string) *readError {
				switch key {
				case "name":
					return r.stringInto(&name)
				case "href":
					return r.stringInto(&href)
				}
				return r.skip()
			})
		}
		return r.skip()
	})
	if err != nil {
		return err
	}
	switch typ {
	case "name":
		if srid, ok := crsSRID(name); !ok || srid != SRIDWGS84 {
			what := fmt.Sprintf("%q", name)
			if ok {
				what = "EPSG:" + strconv.Itoa(srid)
			}
			r.crsIssue(fmt.Sprintf(`the GeoJSON's "crs" member names %s, but GeoJSON positions are WGS84 longitude/latitude (RFC 7946): reproject to EPSG:4326, or send Lambert-93 coordinates as WKT with srid 2154`, what))
		}
	case "link":
		r.crsIssue(fmt.Sprintf(`the GeoJSON's "crs" member links to %q, which is not followed: GeoJSON positions are WGS84 longitude/latitude (RFC 7946); drop the member`, href))
	default:
		r.crsIssue(fmt.Sprintf(`the GeoJSON's "crs" member has type %q, not understood; GeoJSON positions are WGS84 longitude/latitude (RFC 7946): drop the member`, typ))
	}
	return nil
}

func (r *geojsonReader) crsIssue(s string) {
	if r.src.crsIssue == "" {
		r.src.crsIssue = s
	}
}

// stringInto reads a string member's value into dst; a value of another
// kind is skipped and leaves dst empty.
func (r *geojsonReader) stringInto(dst *string) *readError {
	if r.peek() != '"' {
		return r.skip()
	}
	var err *readError
	*dst, err = r.str(true)
	return err
}

// members reads an object, handing each member's name to read, which must
// read the value.
func (r *geojsonReader) members(read func(key string) *readError) *readError {
	if err := r.enter(); err != nil {
		return err
	}
	defer func() { r.depth-- }()
	r.pos++ // '{'
	if r.peek() == '}' {
		r.pos++
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.expected("a member name in double quotes")
		}
		key, err := r.str(true)
		if err != nil {
			return err
		}
		if err := r.punct(':', `":" after the member name`); err != nil {
			return err
		}
		if err := read(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return nil
		default:
			return r.expected(`"," or "}" after a member`)
		}
	}
}

// crsSRID finds the EPSG code in a CRS name: "EPSG:2154",
// "urn:ogc:def:crs:EPSG::4326", "http://www.opengis.net/def/crs/EPSG/0/4326";
// the OGC's CRS84 is WGS84 longitude/latitude.
func crsSRID(name string) (int, bool) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, "crs84") {
		return SRIDWGS84, true
	}
	if !strings.Contains(lower, "epsg") {
		return 0, false
	}
	i := len(lower)
	for i > 0 && lower[i-1] >= '0' && lower[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(lower[i:])
	if err != nil || i == len(lower) || i == 0 || lower[i-1] != ':' && lower[i-1] != '/' {
		return 0, false
	}
	return n, true
}
