package perimeter

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkParse reads and checks perimeters of 5,000 positions, the
// default limit: a smooth ring in each format, the worst case known, and
// the GeoJSON once more against the real region outline.
func BenchmarkParse(b *testing.B) {
	// 4,999 corners and the closing position.
	l93 := smooth(rand.New(rand.NewPCG(7, 8)), 4999, 600000, 6300000, 30000)
	var wkt4326, gj strings.Builder
	wkt4326.WriteString("POLYGON((")
	gj.WriteString(`{"type":"Feature","properties":{"nom":"bench"},"geometry":{"type":"Polygon","coordinates":[[`)
	for i, v := range l93 {
		if i > 0 {
			wkt4326.WriteByte(',')
			gj.WriteByte(',')
		}
		if i == len(l93)-1 {
			v = l93[0]
		}
		// Six decimals, as GIS software exports longitude/latitude.
		lon, lat := FromLambert93(v[0], v[1])
		x, y := strconv.FormatFloat(lon, 'f', 6, 64), strconv.FormatFloat(lat, 'f', 6, 64)
		wkt4326.WriteString(x + " " + y)
		gj.WriteString("[" + x + "," + y + "]")
	}
	wkt4326.WriteString("))")
	gj.WriteString("]]}}")

	// 1,250 parallel slivers whose boxes all meet: every pair of segments
	// and of polygons is compared.
	var slivers strings.Builder
	slivers.WriteString("MULTIPOLYGON(")
	for i := range 1250 {
		if i > 0 {
			slivers.WriteByte(',')
		}
		x, x1, x2 := strconv.Itoa(570000+2*i), strconv.Itoa(580000+2*i), strconv.Itoa(580001+2*i)
		slivers.WriteString("((" + x + " 6275000," + x1 + " 6285000," + x2 + " 6285000," + x + " 6275000))")
	}
	slivers.WriteString(")")

	lim := noAreaLimit()
	for _, c := range []struct {
		name   string
		in     Input
		region bool
	}{
		{"WKT-2154-5000", Input{WKT, ringWKT(l93), 2154}, false},
		{"WKT-4326-5000", Input{WKT, wkt4326.String(), 4326}, false},
		{"GeoJSON-5000", Input{GeoJSON, gj.String(), 0}, false},
		{"WKT-2154-5000-slivers", Input{WKT, slivers.String(), 2154}, false},
		{"GeoJSON-5000-Occitanie", Input{GeoJSON, gj.String(), 0}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			lim := lim
			if c.region {
				lim.Region = occitanie(b)
			}
			if p, err := Parse(c.in, lim); err != nil || p.Vertices != 5000 {
				b.Fatalf("%d vertices, %v", p.Vertices, err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in.Text)))
			for b.Loop() {
				Parse(c.in, lim)
			}
		})
	}
}
