package perimeter

import (
	"bufio"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

type verdict struct {
	valid       bool
	wkt, reason string
}

// postgisVerdicts reads testdata/postgis-validity.tsv: PostGIS's ST_IsValid
// verdict on 1,300 small random polygons and multipolygons drawn to hit the
// hard cases (corners on edges, shared stretches, holes touching, nesting),
// a hundred of each kind of invalidity PostGIS names.
func postgisVerdicts(t testing.TB) []verdict {
	f, err := os.Open("testdata/postgis-validity.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []verdict
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			fields := strings.Split(line, "\t")
			out = append(out, verdict{fields[0] == "t", fields[1], fields[2]})
		}
	}
	if len(out) < 1000 {
		t.Fatalf("only %d cases read", len(out))
	}
	return out
}

// Parse agrees with PostGIS on every case, and what it accepts reads back
// from its own WKT.
func TestValidityAgreesWithPostGIS(t *testing.T) {
	lim := noAreaLimit()
	for _, c := range postgisVerdicts(t) {
		p, err := Parse(Input{WKT, c.wkt, 2154}, lim)
		switch {
		case c.valid && err != nil:
			t.Errorf("%s\n  PostGIS: %s\n  Parse: %v", c.wkt, c.reason, err)
		case !c.valid && err == nil:
			t.Errorf("%s\n  PostGIS: %s\n  Parse accepted it as %s", c.wkt, c.reason, p.WKT)
		case c.valid:
			checkParse(t, Input{WKT, c.wkt, 2154}, lim)
		}
	}
}

// star is a simple ring of n corners around (x0, y0), radii drawn at
// random: what a hand-drawn perimeter looks like to the sweep.
func star(rng *rand.Rand, n int, x0, y0, radius float64) Ring {
	r := make(Ring, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rho := radius * (0.6 + 0.4*rng.Float64())
		r[i] = [2]float64{math.Round(x0 + rho*math.Cos(a)), math.Round(y0 + rho*math.Sin(a))}
	}
	r[n] = r[0]
	return r
}

// smooth is a simple ring whose radius wanders slowly, like a coastline
// or a département's boundary.
func smooth(rng *rand.Rand, n int, x0, y0, radius float64) Ring {
	r := make(Ring, n+1)
	rho := radius
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		rho = max(0.5*radius, min(1.5*radius, rho+(rng.Float64()-0.5)*radius/50))
		r[i] = [2]float64{math.Round(x0 + rho*math.Cos(a)), math.Round(y0 + rho*math.Sin(a))}
	}
	r[n] = r[0]
	return r
}

// comb is the sweep's worst case: n/4 long teeth, all spanning the same x
// range, so every segment stays open for the whole sweep.
func comb(n int) Ring {
	teeth := n / 4
	r := Ring{}
	for i := range teeth {
		y := 6275000 + float64(i)*20
		r = append(r, [2]float64{570000, y}, [2]float64{600000, y}, [2]float64{600000, y + 10}, [2]float64{570000, y + 10})
	}
	// close along the left side, slightly out so that no segment overlaps
	r = append(r, [2]float64{569990, r[len(r)-1][1]}, [2]float64{569990, 6275000}, r[0])
	return r
}

func ringWKT(r Ring) string {
	var b strings.Builder
	b.WriteString("POLYGON((")
	for i, v := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(number(v[0]) + " " + number(v[1]))
	}
	b.WriteString("))")
	return b.String()
}

func segmentsOfRings(rings ...Ring) []segment {
	var polys []polygon
	for _, r := range rings {
		var rg ring
		for _, v := range r[:len(r)-1] {
			p, _ := toPoint(v[0], v[1])
			rg.pts = append(rg.pts, p)
		}
		polys = append(polys, polygon{rings: []ring{rg}})
	}
	return appendSegments(nil, polys)
}

// allPairs is the brute force the sweep replaces.
func allPairs(segs []segment, visit func(s, t *segment) bool) {
	for i := range segs {
		for j := i + 1; j < len(segs); j++ {
			if segs[i].box.meets(segs[j].box) && !visit(&segs[i], &segs[j]) {
				return
			}
		}
	}
}

// The sweep visits exactly the pairs whose boxes meet, as the brute force
// does, on random scribbles and on drawn shapes.
func TestSweepVisitsEveryPairWhoseBoxesMeet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var rings []Ring
		for range 1 + rng.IntN(4) {
			if trial%2 == 0 {
				rings = append(rings, star(rng, 3+rng.IntN(60), 570000+rng.Float64()*2000, 6275000+rng.Float64()*2000, 1000))
			} else {
				r := Ring{}
				for range 3 + rng.IntN(30) {
					r = append(r, [2]float64{float64(rng.IntN(50)), float64(rng.IntN(50))})
				}
				rings = append(rings, append(r, r[0]))
			}
		}
		segs := segmentsOfRings(rings...)
		key := func(s, t *segment) [2][3]int32 {
			a, b := [3]int32{s.poly, s.ring, s.i}, [3]int32{t.poly, t.ring, t.i}
			if fmt.Sprint(a) > fmt.Sprint(b) {
				a, b = b, a
			}
			return [2][3]int32{a, b}
		}
		want := map[[2][3]int32]bool{}
		allPairs(segs, func(s, t *segment) bool { want[key(s, t)] = true; return true })
		got := map[[2][3]int32]bool{}
		twice := false
		sweep(segs, -1, func(s, u *segment) bool {
			twice = twice || got[key(s, u)]
			got[key(s, u)] = true
			return true
		})
		if twice {
			t.Fatalf("trial %d: a pair was visited twice", trial)
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: sweep visited %d pairs, brute force %d", trial, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("trial %d: sweep missed pair %v", trial, k)
			}
		}
	}
}

// The topology checks of a 5,000-position ring: the sweep against the
// brute force's 12.5 million pairs, on a drawn shape and on the sweep's
// worst case. pairs/op counts the segment pairs whose boxes were compared.
func BenchmarkIntersections(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []struct {
		name string
		ring Ring
	}{
		{"smooth", smooth(rng, 4999, 600000, 6300000, 30000)},
		{"spiky", star(rng, 4999, 600000, 6300000, 30000)},
		{"comb", comb(4996)},
	}
	for _, sh := range shapes {
		if _, err := Parse(Input{WKT, ringWKT(sh.ring), 2154}, noAreaLimit()); err != nil {
			b.Fatalf("%s: %v", sh.name, err)
		}
		segs := segmentsOfRings(sh.ring)
		b.Run(sh.name+"/sweep", func(b *testing.B) {
			pairs := 0
			for b.Loop() {
				pairs = 0
				sweep(segs, -1, func(s, t *segment) bool { pairs++; intersect(s.a, s.b, t.a, t.b); return true })
			}
			b.ReportMetric(float64(pairs), "pairs/op")
		})
		b.Run(sh.name+"/all-pairs", func(b *testing.B) {
			compared := 0
			for b.Loop() {
				compared = 0
				for i := range segs {
					for j := i + 1; j < len(segs); j++ {
						compared++
						if segs[i].box.meets(segs[j].box) {
							intersect(segs[i].a, segs[i].b, segs[j].a, segs[j].b)
						}
					}
				}
			}
			b.ReportMetric(float64(compared), "pairs/op")
		})
	}
}

// orient is exact on the whole coordinate range, doubled coordinates
// included, where the int64 products would overflow: checked against
// math/big on random and on nearly collinear triples.
func TestOrientIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	exact := func(a, b, c point) int {
		l := new(big.Int).Mul(big.NewInt(b.x-a.x), big.NewInt(c.y-a.y))
		r := new(big.Int).Mul(big.NewInt(b.y-a.y), big.NewInt(c.x-a.x))
		return l.Cmp(r)
	}
	coord := func() int64 { return rng.Int64N(4*maxCoord+1) - 2*maxCoord }
	for i := range 200000 {
		a, b := point{coord(), coord()}, point{coord(), coord()}
		c := point{coord(), coord()}
		if i%2 == 1 {
			// c on the line ab, give or take a centimetre
			k := rng.Int64N(5) - 2
			c = point{a.x + k*(b.x-a.x)/4 + rng.Int64N(3) - 1, a.y + k*(b.y-a.y)/4 + rng.Int64N(3) - 1}
		}
		if i%4 < 2 {
			a, b, c = point{a.x / 1e5, a.y / 1e5}, point{b.x / 1e5, b.y / 1e5}, point{c.x / 1e5, c.y / 1e5}
		}
		if got, want := orient(a, b, c), exact(a, b, c); got != want {
			t.Fatalf("orient(%v, %v, %v) = %d, want %d", a, b, c, got, want)
		}
	}
}
