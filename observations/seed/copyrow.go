package seed

import (
	"strconv"
	"time"

	"sinp.occitanie.fr/observations/internal/planar"
)

// copyRow appends rows in the text format of COPY ... FROM STDIN: fields
// separated by tabs, \N for NULL, backslash escapes.
type copyRow struct {
	b       []byte
	started bool
}

func (c *copyRow) sep() {
	if c.started {
		c.b = append(c.b, '\t')
	}
	c.started = true
}

func (c *copyRow) end() {
	c.b = append(c.b, '\n')
	c.started = false
}

func (c *copyRow) null() { c.sep(); c.b = append(c.b, '\\', 'N') }

func (c *copyRow) int(n int64) { c.sep(); c.b = strconv.AppendInt(c.b, n, 10) }

func (c *copyRow) float(f float64) { c.sep(); c.b = strconv.AppendFloat(c.b, f, 'f', -1, 64) }

func (c *copyRow) text(s string) {
	c.sep()
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			c.b = append(c.b, '\\', '\\')
		case '\t':
			c.b = append(c.b, '\\', 't')
		case '\n':
			c.b = append(c.b, '\\', 'n')
		case '\r':
			c.b = append(c.b, '\\', 'r')
		default:
			c.b = append(c.b, ch)
		}
	}
}

func (c *copyRow) date(t time.Time) { c.sep(); c.b = t.AppendFormat(c.b, "2006-01-02") }

func (c *copyRow) timestamp(t time.Time) {
	c.sep()
	c.b = t.UTC().AppendFormat(c.b, "2006-01-02 15:04:05+00")
}

// array writes codes as a PostgreSQL array; codes never need quoting.
func (c *copyRow) array(codes []string) {
	c.sep()
	c.b = append(c.b, '{')
	for i, s := range codes {
		if i > 0 {
			c.b = append(c.b, ',')
		}
		c.b = append(c.b, s...)
	}
	c.b = append(c.b, '}')
}

func (c *copyRow) uuid(u [16]byte) { c.sep(); c.b = append(c.b, uuidString(u)...) }

// hex writes a geometry as hexadecimal EWKB, which geometry input accepts.
func (c *copyRow) hex(ewkb []byte) { c.sep(); c.b = planar.AppendHex(c.b, ewkb) }

func uuidString(u [16]byte) string {
	const digits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = digits[x>>4], digits[x&0xf]
		j += 2
	}
	return string(b[:])
}
