package perimeter

import (
	"runtime"
	"strings"
	"testing"
)

// bytesAllocated is what f allocates on the heap, whatever it frees.
func bytesAllocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hugeRing is a WKT or GeoJSON polygon of about size bytes: one ring of
// millions of positions near Toulouse.
func hugeRing(format Format, size int) string {
	var b strings.Builder
	b.Grow(size + 64)
	open, sep, end := "POLYGON((", ",", "570000 6275000))"
	pos := func(i int) string { return "5" + pad(i%100000) + " 62" + pad(i/100000%1000) }
	if format == GeoJSON {
		open, end = `{"type":"Polygon","coordinates":[[`, "[1.4,43.6]]]}"
		pos = func(i int) string { return "[1.4" + pad(i%100000) + ",43.6" + pad(i/100000%1000) + "]" }
	}
	b.WriteString(open)
	for i := 0; b.Len() < size; i++ {
		b.WriteString(pos(i))
		b.WriteString(sep)
	}
	b.WriteString(end)
	return b.String()
}

func pad(n int) string {
	s := "00000" + itoa(n)
	return s[len(s)-5:]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// A 50 MB text is refused for its size before anything reads it: the
// refusal costs a few hundred bytes, not a copy of the text.
func TestOversizedTextIsRefusedUnread(t *testing.T) {
	for _, in := range []Input{{Format: WKT, SRID: 2154}, {Format: GeoJSON}} {
		in.Text = hugeRing(in.Format, 50<<20)
		var err error
		allocated := bytesAllocated(func() { _, err = Parse(in, DefaultLimits()) })
		e, ok := err.(*Error)
		if !ok || len(e.Violations) != 1 || !strings.Contains(e.Violations[0].Description, "at most 1 MiB are accepted") {
			t.Fatalf("%v: %v", in.Format, err)
		}
		if allocated > 16<<10 {
			t.Errorf("%v: refusing a 50 MB text allocated %d bytes", in.Format, allocated)
		}
		t.Logf("%v: %s refused, %d bytes allocated: %s", in.Format, byteSize(len(in.Text)), allocated, e.Violations[0].Description)
	}
}

// With the size limit raised past it, a 50 MB ring of millions of
// positions is refused at the vertex limit, having kept no more than the
// positions the limit allows.
func TestVertexLimitBoundsMemory(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxBytes = 64 << 20
	for _, in := range []Input{{Format: WKT, SRID: 2154}, {Format: GeoJSON}} {
		in.Text = hugeRing(in.Format, 50<<20)
		var err error
		allocated := bytesAllocated(func() { _, err = Parse(in, lim) })
		e, ok := err.(*Error)
		if !ok || len(e.Violations) != 1 || !strings.Contains(e.Violations[0].Description, "the perimeter has more than 5000 positions") {
			t.Fatalf("%v: %v", in.Format, err)
		}
		// 5,000 positions are 80 KB as pairs of float64; allow for slice
		// growth and the reader's structures, and stay far below the text.
		if allocated > 1<<20 {
			t.Errorf("%v: refusing %s at the vertex limit allocated %d bytes", in.Format, byteSize(len(in.Text)), allocated)
		}
		t.Logf("%v: %s refused, %d bytes allocated: %s", in.Format, byteSize(len(in.Text)), allocated, e.Violations[0].Description)
	}
}
