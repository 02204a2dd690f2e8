package lzma

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
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

// BenchmarkLevels encodes the sample CSV on one core per level and reports
// the compressed size as a fraction of the input.
func BenchmarkLevels(b *testing.B) {
	data := sample(16 << 20)
	for level := 1; level <= 9; level++ {
		b.Run(fmt.Sprintf("level-%d", level), func(b *testing.B) {
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
