package planar

import (
	"math/rand/v2"
	"testing"
)

func TestWKBRoundTrip(t *testing.T) {
	m := MultiPolygon{
		{{P(0, 0), P(10, 0), P(10, 10), P(0, 10)}, {P(2, 2), P(4, 2), P(4, 4)}},
		{{P(20, 20), P(30, 20), P(25, 30)}},
	}
	got, err := FromWKB(AppendMultiPolygonEWKB(nil, m, 2154))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 2 || len(got[0][1]) != 3 || got[1][0][2] != P(25, 30) {
		t.Fatalf("round trip gave %v", got)
	}
	if _, err := FromWKB(AppendPointEWKB(nil, P(1, 2), 2154)); err == nil {
		t.Error("a point decoded as a polygon")
	}
	if _, err := FromWKB([]byte{1, 3, 0}); err == nil {
		t.Error("truncated WKB accepted")
	}
}

func TestPredicates(t *testing.T) {
	square := MultiPolygon{{{P(0, 0), P(10, 0), P(10, 10), P(0, 10)}, {P(4, 4), P(6, 4), P(6, 6), P(4, 6)}}}
	for _, tc := range []struct {
		p    Point
		want bool
	}{{P(1, 1), true}, {P(5, 5), false}, {P(11, 5), false}, {P(9.9, 9.9), true}} {
		if got := square.ContainsPoint(tc.p); got != tc.want {
			t.Errorf("ContainsPoint(%v) = %v", tc.p, got)
		}
	}
	if !square.IntersectsLine([]Point{P(-5, 2), P(15, 2)}) {
		t.Error("a line crossing the square does not intersect it")
	}
	if square.IntersectsLine([]Point{P(4.5, 4.5), P(5.5, 5.5)}) {
		t.Error("a line inside the hole intersects the square")
	}
	if !square.IntersectsRing(Ring{P(-100, -100), P(100, -100), P(100, 100), P(-100, 100)}) {
		t.Error("a polygon holding the square does not intersect it")
	}
	if square.IntersectsRing(Ring{P(20, 20), P(30, 20), P(30, 30)}) {
		t.Error("a far polygon intersects the square")
	}
}

func TestIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var boxes []Box
	for range 500 {
		x, y := r.Float64()*1000, r.Float64()*1000
		boxes = append(boxes, Box{x, y, x + r.Float64()*50, y + r.Float64()*50})
	}
	ix := NewIndex(boxes, 40)
	for range 200 {
		x, y := r.Float64()*1000, r.Float64()*1000
		q := Box{x, y, x + 30, y + 30}
		got := map[int32]bool{}
		for _, i := range ix.Query(nil, q) {
			if got[i] {
				t.Fatalf("item %d returned twice", i)
			}
			got[i] = true
		}
		for i, b := range boxes {
			if b.Intersects(q) && !got[int32(i)] {
				t.Fatalf("box %d overlaps %v but was not returned", i, q)
			}
		}
	}
}
