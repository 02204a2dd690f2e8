package samplecsv

import (
	"bytes"
	"strings"
	"testing"
)

func TestRowsHaveThePlatformsShape(t *testing.T) {
	var b bytes.Buffer
	n, err := Write(&b, 2_000_000, 1)
	if err != nil || n != int64(b.Len()) || n < 2_000_000 {
		t.Fatalf("Write = %d, %v (buffer %d bytes)", n, err, b.Len())
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	cols := len(Columns())
	if cols < 80 {
		t.Fatalf("%d columns, want about 80 or more", cols)
	}
	for i, l := range lines {
		if got := strings.Count(l, ";") + 1; got != cols {
			t.Fatalf("row %d has %d fields, want %d: %s", i, got, cols, l)
		}
	}
	if avg := b.Len() / len(lines); avg < 600 || avg > 800 {
		t.Errorf("rows average %d bytes, want about 700", avg)
	}
	for _, want := range []string{"POINT(", "LINESTRING(", "POLYGON((", ";LC;", "-4"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in the sample", want)
		}
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	var a, b, c bytes.Buffer
	Write(&a, 300_000, 5)
	Write(&b, 300_000, 5)
	Write(&c, 300_000, 6)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different bytes")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same bytes")
	}
}

// F1 deliveries repeat their areas' polygons on every blurred row.
func TestBlurredRowsRepeatAreaPolygons(t *testing.T) {
	var b bytes.Buffer
	if _, err := WriteBlurred(&b, 20_000_000, 1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	cols := len(Columns())
	seen := map[string]int{}
	blurred := 0
	for i, l := range lines {
		if got := strings.Count(l, ";") + 1; got != cols {
			t.Fatalf("row %d has %d fields, want %d", i, got, cols)
		}
		geom := strings.Split(l, ";")[cols-len(statusColumns)-1]
		if len(geom) > 1000 {
			blurred++
			seen[geom]++
		}
	}
	if share := float64(blurred) / float64(len(lines)-1); share < 0.13 || share > 0.2 {
		t.Errorf("%.1f%% of rows blurred, want about one in six", 100*share)
	}
	if len(seen) < 100 || len(seen) > 300 {
		t.Errorf("%d distinct area polygons, want a few hundred", len(seen))
	}
	longest := 0
	for g := range seen {
		longest = max(longest, len(g))
	}
	if longest < 30_000 || longest > 43_000 {
		t.Errorf("longest polygon %d bytes, want a département's 25-42 KB", longest)
	}
}

// Extraction order groups blurred rows by area: most blurred rows repeat the
// polygon of the blurred row before them.
func TestGroupedRowsRepeatTheirNeighboursPolygon(t *testing.T) {
	var b bytes.Buffer
	if _, err := WriteGrouped(&b, 20_000_000, 1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	cols := len(Columns())
	blurred, same := 0, 0
	prev := ""
	for i, l := range lines {
		if got := strings.Count(l, ";") + 1; got != cols {
			t.Fatalf("row %d has %d fields, want %d", i, got, cols)
		}
		geom := strings.Split(l, ";")[cols-len(statusColumns)-1]
		if len(geom) <= 1000 {
			continue
		}
		blurred++
		if geom == prev {
			same++
		}
		prev = geom
	}
	if share := float64(blurred) / float64(len(lines)-1); share < 0.13 || share > 0.2 {
		t.Errorf("%.1f%% of rows blurred, want about one in six", 100*share)
	}
	if share := float64(same) / float64(blurred); share < 0.8 {
		t.Errorf("%.1f%% of blurred rows repeat the previous blurred row's polygon, want most", 100*share)
	}
}
