package perimeter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The WKT reader takes the two polygonal types as PostGIS's
// ST_GeomFromEWKT does: case-insensitive keywords, an optional "SRID=n;" prefix,
// POLYGON or MULTIPOLYGON with an optional Z, M or ZM tag, EMPTY (also for
// a member of a MULTIPOLYGON). Z and M values are read and dropped; an
// untagged text may give 3 or 4 numbers per position if all its positions
// have the same count. NaN and Infinity read as numbers, for the
// coordinate check to name them.

type wktReader struct {
	s     string
	pos   int
	max   int // positions allowed
	count int // positions read
	dims  int // numbers per position: fixed by the tag, or by the first position
	src   source
}

func readWKT(text string, maxPositions int) (source, *readError) {
	r := &wktReader{s: text, pos: skipBOM(text), max: maxPositions}
	err := r.geometry()
	return r.src, err
}

func (r *wktReader) fail(at int, format string, args ...any) *readError {
	return &readError{at: at, msg: fmt.Sprintf(format, args...)}
}

func (r *wktReader) expected(what string) *readError {
	return r.fail(r.pos, "expected %s, found %s", what, found(r.s, r.pos))
}

func (r *wktReader) space() {
	for r.pos < len(r.s) && isSpace(r.s[r.pos]) {
		r.pos++
	}
}

func (r *wktReader) peek() byte {
	r.space()
	if r.pos < len(r.s) {
		return r.s[r.pos]
	}
	return 0
}

// word reads a keyword (letters only), or "" if none is here.
func (r *wktReader) word() (string, int) {
	r.space()
	start := r.pos
	for r.pos < len(r.s) && (r.s[r.pos]|0x20 >= 'a' && r.s[r.pos]|0x20 <= 'z') {
		r.pos++
	}
	return r.s[start:r.pos], start
}

func (r *wktReader) punct(c byte, what string) *readError {
	if r.peek() != c {
		return r.expected(what)
	}
	r.pos++
	return nil
}

func (r *wktReader) geometry() *readError {
	w, at := r.word()
	if strings.EqualFold(w, "SRID") {
		if err := r.prefix(); err != nil {
			return err
		}
		w, at = r.word()
	}
	multi := false
	switch {
	case strings.EqualFold(w, "POLYGON"):
	case strings.EqualFold(w, "MULTIPOLYGON"):
		multi = true
	case w == "":
		r.pos = at
		if r.pos >= len(r.s) {
			return r.fail(at, "the perimeter is empty: expected POLYGON or MULTIPOLYGON")
		}
		return r.expected("POLYGON or MULTIPOLYGON")
	default:
		// Name the other WKT types rather than call them unknown.
		switch t := strings.ToUpper(w); t {
		case "POINT", "LINESTRING", "MULTIPOINT", "MULTILINESTRING", "GEOMETRYCOLLECTION", "CIRCULARSTRING",
			"COMPOUNDCURVE", "CURVEPOLYGON", "MULTICURVE", "MULTISURFACE", "TRIANGLE", "TIN", "POLYHEDRALSURFACE":
			return r.fail(at, "a perimeter must be a polygon: found a %s; give a POLYGON or MULTIPOLYGON", t)
		}
		r.pos = at
		return r.expected("POLYGON or MULTIPOLYGON")
	}
	if err := r.tag(); err != nil {
		return err
	}
	w, at = r.word()
	if strings.EqualFold(w, "EMPTY") {
		return r.end()
	}
	r.pos = at
	var err *readError
	if multi {
		err = r.multipolygon()
	} else {
		err = r.polygon("")
	}
	if err != nil {
		return err
	}
	return r.end()
}

// prefix reads "=n;" after SRID.
func (r *wktReader) prefix() *readError {
	if err := r.punct('=', `"=" after SRID`); err != nil {
		return err
	}
	r.space()
	start := r.pos
	for r.pos < len(r.s) && r.s[r.pos] >= '0' && r.s[r.pos] <= '9' {
		r.pos++
	}
	if start == r.pos {
		return r.expected("an SRID number after SRID=")
	}
	n, err := strconv.Atoi(r.s[start:r.pos])
	if err != nil || n == 0 {
		return r.fail(start, "SRID=%s is not a valid SRID", r.s[start:r.pos])
	}
	r.src.ewktSRID = n
	return r.punct(';', `";" after the SRID (as in SRID=4326;POLYGON(...))`)
}

func (r *wktReader) tag() *readError {
	w, at := r.word()
	switch {
	case strings.EqualFold(w, "Z"), strings.EqualFold(w, "M"):
		r.dims = 3
	case strings.EqualFold(w, "ZM"):
		r.dims = 4
	case w == "" || strings.EqualFold(w, "EMPTY"):
		r.pos = at
	default:
		r.pos = at
		return r.expected(`"(", EMPTY, or a Z, M or ZM tag`)
	}
	return nil
}

func (r *wktReader) end() *readError {
	if r.space(); r.pos < len(r.s) {
		return r.fail(r.pos, "unexpected %s after the end of the geometry", found(r.s, r.pos))
	}
	return nil
}

func (r *wktReader) multipolygon() *readError {
	if err := r.punct('(', `"(" to open the list of polygons`); err != nil {
		return err
	}
	for n := 1; ; n++ {
		if w, at := r.word(); strings.EqualFold(w, "EMPTY") {
			// an empty member adds nothing
		} else {
			r.pos = at
			if err := r.polygon("polygon " + strconv.Itoa(n)); err != nil {
				return err
			}
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ')':
			r.pos++
			return nil
		default:
			return r.expected(`"," or ")" after a polygon`)
		}
	}
}

func (r *wktReader) polygon(label string) *readError {
	if err := r.punct('(', `"(" to open a polygon`); err != nil {
		return err
	}
	p := srcPolygon{label: label}
	for {
		rg, err := r.ring()
		if err != nil {
			return err
		}
		p.rings = append(p.rings, rg)
		switch r.peek() {
		case ',':
			r.pos++
		case ')':
			r.pos++
			r.src.polygons = append(r.src.polygons, p)
			return nil
		default:
			return r.expected(`"," or ")" after a ring`)
		}
	}
}

func (r *wktReader) ring() ([][2]float64, *readError) {
	if err := r.punct('(', `"(" to open a ring`); err != nil {
		return nil, err
	}
	var rg [][2]float64
	for {
		p, err := r.position()
		if err != nil {
			return nil, err
		}
		rg = append(rg, p)
		switch r.peek() {
		case ',':
			r.pos++
		case ')':
			r.pos++
			return rg, nil
		default:
			return nil, r.expected(`"," or ")" after a position`)
		}
	}
}

func (r *wktReader) position() ([2]float64, *readError) {
	r.space()
	at := r.pos
	var v [4]float64
	n := 0
	for ; n < 4; n++ {
		c := r.peek()
		if n > 0 && (c == ',' || c == ')') {
			break
		}
		if n >= 2 && !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c|0x20 == 'n' || c|0x20 == 'i') {
			return v2(v), r.expected(`"," or ")" after a position`)
		}
		x, err := r.number()
		if err != nil {
			return v2(v), err
		}
		v[n] = x
	}
	switch {
	case n < 2:
		return v2(v), r.fail(at, "a position needs two numbers, x and y; found one")
	case n == 4 && r.peek() != ',' && r.peek() != ')':
		return v2(v), r.expected(`"," or ")": a position has at most 4 numbers (x y z m)`)
	case r.dims == 0:
		r.dims = n
	case n != r.dims:
		return v2(v), r.fail(at, "this position has %d numbers, but the geometry's first (or its Z/M tag) says %d", n, r.dims)
	}
	r.count++
	if r.count > r.max {
		return v2(v), r.fail(at, "the perimeter has more than %d positions, the most accepted (this is the %s): simplify it, e.g. with QGIS's Simplify or ST_SimplifyPreserveTopology", r.max, ordinal(r.count))
	}
	return v2(v), nil
}

func v2(v [4]float64) [2]float64 { return [2]float64{v[0], v[1]} }

// number reads a decimal number, or NaN / Inf / Infinity (any case, signed),
// and requires a delimiter after it.
func (r *wktReader) number() (float64, *readError) {
	r.space()
	start := r.pos
	i := r.pos
	if i < len(r.s) && (r.s[i] == '+' || r.s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(r.s) && r.s[i] >= '0' && r.s[i] <= '9'; i++ {
		digits++
	}
	if i < len(r.s) && r.s[i] == '.' {
		for i++; i < len(r.s) && r.s[i] >= '0' && r.s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		j := i
		for j < len(r.s) && j-i < 8 && (r.s[j]|0x20 >= 'a' && r.s[j]|0x20 <= 'z') {
			j++
		}
		switch strings.ToLower(r.s[i:j]) {
		case "nan":
			r.pos = j
			return math.NaN(), r.delimiter()
		case "inf", "infinity":
			r.pos = j
			if r.s[start] == '-' {
				return math.Inf(-1), r.delimiter()
			}
			return math.Inf(1), r.delimiter()
		}
		return 0, r.expected("a number")
	}
	if i < len(r.s) && (r.s[i] == 'e' || r.s[i] == 'E') {
		j := i + 1
		if j < len(r.s) && (r.s[j] == '+' || r.s[j] == '-') {
			j++
		}
		k := j
		for k < len(r.s) && r.s[k] >= '0' && r.s[k] <= '9' {
			k++
		}
		if k == j {
			r.pos = i
			return 0, r.fail(start, "malformed number %s: an exponent needs digits", found(r.s, start))
		}
		i = k
	}
	// A range error gives ±Inf, which the coordinate check reports;
	// underflow reads as zero.
	v, err := strconv.ParseFloat(r.s[start:i], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, r.fail(start, "malformed number %s", found(r.s, start))
	}
	r.pos = i
	return v, r.delimiter()
}

func (r *wktReader) delimiter() *readError {
	if r.pos < len(r.s) {
		if c := r.s[r.pos]; !isSpace(c) && c != ',' && c != ')' {
			return r.expected(`a space, "," or ")" after a number`)
		}
	}
	return nil
}
