package lzma

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ulikunitz/xz/lzma"

	"sinp.occitanie.fr/sevenz/internal/samplecsv"
)

// decode reads an LZMA2 stream with an independent decoder.
func decode(t testing.TB, stream []byte, dict int) []byte {
	t.Helper()
	r, err := lzma.Reader2Config{DictCap: max(dict, lzma.MinDictCap)}.NewReader2(bytes.NewReader(stream))
	if err != nil {
		t.Fatalf("NewReader2: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got
}

func sample(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 8192)
	samplecsv.Write(&b, int64(size), 7)
	return b.Bytes()[:size]
}

// sampleF1 is size bytes of samplecsv.WriteGrouped.
func sampleF1(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 64<<10)
	samplecsv.WriteGrouped(&b, int64(size), 7)
	return b.Bytes()[:size]
}

func TestBlocksDecodeWithAnotherDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := map[string][]byte{
		"one byte": {'x'},
		"tiny":     []byte("ab"),
		"csv":      sample(3_000_000),
		"random":   random,
		"runs":     bytes.Repeat([]byte("aaaaaaaaab"), 50_000),
		// Incompressible chunks are stored; the model restarts after them.
		"mixed": append(append(sample(200_000), random[:100_000]...), sample(2_500_000)...),
	}
	for name, data := range cases {
		for _, level := range []int{1, 2, 3, 5, 9} {
			p := Level(level)
			e := NewEncoder(p)
			// Two blocks in one stream, as the parallel writer concatenates them.
			half := len(data) / 2
			stream := e.AppendBlock(nil, data[:half])
			stream = e.AppendBlock(stream, data[half:])
			stream = AppendEnd(stream)
			got := decode(t, stream, p.Window(len(data)))
			if !bytes.Equal(got, data) {
				t.Fatalf("%s level %d: round trip differs (got %d bytes, want %d)", name, level, len(got), len(data))
			}
		}
	}
}

// Long repeats go through repRun: runs of rep0 matches of maxMatchLen bytes
// that end on a mismatch, on a chunk's unpacked limit, at the end of the
// block, or start in the history; repeats at the distance of an older rep;
// F1's grouped polygons. Every case must decode, and a long
// repeat must cost almost nothing.
func TestLongRepeatsDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var rows []byte // one polygon on rows whose other fields vary in length
	poly := append([]byte("POLYGON(("), random(30_000)...)
	for i := range 60 {
		rows = append(rows, random(200+rng.IntN(600))...)
		rows = append(rows, poly[:len(poly)-rng.IntN(2)*i]...)
	}
	var reps []byte // two blocks alternating: their distances come back as rep1..rep3
	a, b := random(5_000), random(7_000)
	for i := range 40 {
		reps = append(reps, a...)
		reps = append(reps, b[:3_000+i*100]...)
		reps = append(reps, random(rng.IntN(20))...)
	}
	unit := random(2_200_000) // repeats across the 2 MiB unpacked chunk limit
	cases := map[string][]byte{
		"grouped f1":   sampleF1(4 << 20),
		"rows":         rows,
		"rep distance": reps,
		"chunk limits": append(append(append([]byte(nil), unit[:100_000]...), unit[:100_000]...), bytes.Repeat(unit[:maxMatchLen*3+5], 3_000)...),
		// A stored chunk, then a repeat longer than a chunk.
		"random then repeats": append(append(random(100_000), unit...), unit...),
		"ends in a run":       bytes.Repeat(random(1_000), 300),
	}
	for name, data := range cases {
		for _, level := range []int{2, 5} {
			p := Level(level)
			stream := AppendEnd(NewEncoder(p).AppendBlock(nil, data))
			if got := decode(t, stream, p.Window(len(data))); !bytes.Equal(got, data) {
				t.Fatalf("%s level %d: round trip differs (got %d bytes, want %d)", name, level, len(got), len(data))
			}
			// Blocks of odd size whose history holds the repeats' start.
			stream = encodeWindowed(p, data, 333_333, 1_000_003)
			if got := decode(t, stream, 1_333_336); !bytes.Equal(got, data) {
				t.Fatalf("%s level %d, windowed: round trip differs (got %d bytes, want %d)", name, level, len(got), len(data))
			}
		}
	}
	long := append(random(10_000), bytes.Repeat(random(50_000), 100)...)
	if n := len(NewEncoder(Level(2)).AppendBlock(nil, long)); n > 80_000 {
		t.Errorf("%d bytes for 50 KB repeated 100 times after 10 KB: the repeats are not matched", n)
	}
}

// encodeWindowed cuts data into blocks of bs bytes, each encoded apart with
// up to window bytes of the data before it as history, as the parallel
// writer does, and concatenates them into one stream.
func encodeWindowed(p Params, data []byte, bs, window int) []byte {
	var stream []byte
	for start := 0; start < len(data); start += bs {
		from := max(0, start-window)
		end := min(len(data), start+bs)
		stream = NewEncoder(p).AppendContinued(stream, data[from:end], start-from, int64(start))
	}
	return AppendEnd(stream)
}

func TestContinuedBlocksDecodeWithAnotherDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 700_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := map[string][]byte{
		"csv": sample(3_000_000),
		// Stored chunks begin the stream, so the next block must send the
		// properties with its state reset.
		"random then csv": append(append([]byte(nil), random...), sample(1_500_000)...),
		"repeated random": append(append([]byte(nil), random...), random...),
	}
	// Odd sizes: the position state must follow the stream, not the block.
	for _, g := range []struct{ bs, window int }{{333_333, 333_333}, {500_001, 1_000_003}, {1 << 20, 4097}} {
		for name, data := range cases {
			for _, level := range []int{1, 2, 5} {
				stream := encodeWindowed(Level(level), data, g.bs, g.window)
				got := decode(t, stream, g.window+g.bs)
				if !bytes.Equal(got, data) {
					t.Fatalf("%s, blocks of %d, window %d, level %d: round trip differs (got %d bytes, want %d)",
						name, g.bs, g.window, level, len(got), len(data))
				}
			}
		}
	}
}

// A block that repeats data from the block before compresses to almost
// nothing when it may refer to it.
func TestHistoryIsUsed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 1<<20)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	data := append(append([]byte(nil), random...), random...)
	alone := len(encodeWindowed(Level(2), data, 1<<20, 0))
	continued := len(encodeWindowed(Level(2), data, 1<<20, 1<<20))
	if continued > len(random)+len(random)/50 {
		t.Errorf("second copy not found in the history: %d bytes for %d bytes of which half repeats (%d without history)", continued, len(data), alone)
	}
}

// adapt must move every probability exactly as the format's decoder does.
func TestAdaptIsTheFormatsUpdate(t *testing.T) {
	for pv := range uint32(probLimit + 1) {
		for b := range uint32(2) {
			want := pv + (probLimit-pv)>>moveBits
			if b == 1 {
				want = pv - pv>>moveBits
			}
			if got := adapt(pv, -b); got != prob(want) {
				t.Fatalf("adapt(%d) after a %d = %d, want %d", pv, b, got, want)
			}
		}
	}
}

func TestDictPropCoversWindow(t *testing.T) {
	for _, n := range []int{1, 4096, 4097, 1 << 20, 3 << 20, 8 << 20} {
		w := Level(3).Window(n)
		p := DictProp(w)
		size := (2 | int(p)&1) << (int(p)/2 + 11)
		if size < w {
			t.Errorf("DictProp(%d) = %d announces %d bytes", w, p, size)
		}
	}
}

// BenchmarkLevels encodes 16 MiB of sample CSV in two blocks on one core per
// level and reports the compressed size as a fraction of the input: plain
// is samplecsv.Write, f1 samplecsv.WriteGrouped (an F1 delivery's blurred
// rows, grouped by area).
func BenchmarkLevels(b *testing.B) {
	for _, input := range []string{"plain", "f1"} {
		data := sample(16 << 20)
		if input == "f1" {
			data = sampleF1(16 << 20)
		}
		for level := 1; level <= 9; level++ {
			b.Run(fmt.Sprintf("%s/level-%d", input, level), func(b *testing.B) {
				e := NewEncoder(Level(level))
				b.SetBytes(int64(len(data)))
				var out []byte
				for b.Loop() {
					out = e.AppendBlock(out[:0], data[:8<<20])
					out = e.AppendBlock(out, data[8<<20:])
				}
				b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
			})
		}
	}
}

// BenchmarkWindow encodes blurred F1-shaped CSV (polygons repeated far apart)
// in 8 MiB blocks on one core, each block with 0, 8 or 16 MiB of history,
// and reports the compressed size as a fraction of the input.
// LZMA_BENCH_MB sets the input size (default 48), LZMA_PLAIN=1 takes the
// plain sample instead, LZMA_WINDOWS the windows in MiB (0,8,16),
// LZMA_HASHLOG the match finder's table and LZMA_STRIDE the history's
// insertion stride, for tuning.
func BenchmarkWindow(b *testing.B) {
	mb := 48
	if v, err := strconv.Atoi(os.Getenv("LZMA_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	var buf bytes.Buffer
	samplecsv.WriteBlurred(&buf, int64(mb)<<20, 1)
	data := buf.Bytes()[:mb<<20]
	hashLog := uint(0)
	if v, err := strconv.Atoi(os.Getenv("LZMA_HASHLOG")); err == nil {
		hashLog = uint(v)
	}
	if v, err := strconv.Atoi(os.Getenv("LZMA_STRIDE")); err == nil {
		historyStride = v
	}
	if os.Getenv("LZMA_PLAIN") != "" {
		buf.Reset()
		samplecsv.Write(&buf, int64(mb)<<20, 1)
		data = buf.Bytes()[:mb<<20]
	}
	const bs = 8 << 20
	windows := []int{0, bs, 2 * bs}
	if v := os.Getenv("LZMA_WINDOWS"); v != "" {
		windows = nil
		for _, w := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(w)
			windows = append(windows, n<<20)
		}
	}
	for _, window := range windows {
		b.Run(fmt.Sprintf("window-%dMiB", window>>20), func(b *testing.B) {
			p := Level(2)
			p.HashLog = hashLog
			b.SetBytes(int64(len(data)))
			e := NewEncoder(p)
			var out []byte
			for b.Loop() {
				out = out[:0]
				for start := 0; start < len(data); start += bs {
					end := min(len(data), start+bs)
					if window == 0 {
						out = e.AppendBlock(out, data[start:end])
						continue
					}
					from := max(0, start-window)
					out = e.AppendContinued(out, data[from:end], start-from, int64(start))
				}
			}
			b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
		})
	}
}

// BenchmarkCSVFile encodes a real extract at level 2 on one core as the
// writer does (8 MiB blocks, each continuing the stream with one block of
// history) and reports the compressed size as a fraction of the input.
// It runs only when LZMA_CSV names a file (never committed: extracts hold
// real observations); LZMA_CSV_MB is how many MiB to read (default 96),
// LZMA_CSV_OFF_MB where to start (default 0).
func BenchmarkCSVFile(b *testing.B) {
	path := os.Getenv("LZMA_CSV")
	if path == "" {
		b.Skip("LZMA_CSV is not set")
	}
	mb, off := 96, 0
	if v, err := strconv.Atoi(os.Getenv("LZMA_CSV_MB")); err == nil && v > 0 {
		mb = v
	}
	if v, err := strconv.Atoi(os.Getenv("LZMA_CSV_OFF_MB")); err == nil && v > 0 {
		off = v
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, mb<<20)
	n, err := f.ReadAt(data, int64(off)<<20)
	if n == 0 {
		b.Fatalf("read %s: %v", path, err)
	}
	data = data[:n]
	const bs = 8 << 20
	e := NewEncoder(Level(2))
	b.SetBytes(int64(len(data)))
	var out []byte
	for b.Loop() {
		out = out[:0]
		for start := 0; start < len(data); start += bs {
			from := max(0, start-bs)
			out = e.AppendContinued(out, data[from:min(len(data), start+bs)], start-from, int64(start))
		}
	}
	b.ReportMetric(float64(len(out))/float64(len(data)), "ratio")
	b.ReportMetric(float64(len(out)), "bytes")
}
