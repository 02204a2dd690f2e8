package sevenz

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"sinp.occitanie.fr/sevenz/internal/samplecsv"
)

// benchSample is the CSV the benchmarks compress: SEVENZ_BENCH_MB megabytes
// (20 by default) from internal/samplecsv with a fixed seed.
var benchSample = sync.OnceValue(func() []byte {
	return sampleCSV(benchMB()*1_000_000, 1)
})

// benchF1 is an F1 delivery of the same size: samplecsv.WriteGrouped's
// blurred rows, whose area polygons repeat within groups of rows.
var benchF1 = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	size := benchMB() * 1_000_000
	b.Grow(size + 64<<10)
	samplecsv.WriteGrouped(&b, int64(size), 1)
	return b.Bytes()[:size]
})

func benchMB() int {
	if v, err := strconv.Atoi(os.Getenv("SEVENZ_BENCH_MB")); err == nil && v > 0 {
		return v
	}
	return 20
}

// BenchmarkWriter reports input MB/s and the archive's size as a fraction of
// the input (ratio), for each codec and level, writing to a file; the -f1
// cases compress benchF1 instead of the plain sample.
//
//	go test -run XXX -bench Writer -benchtime 3x
func BenchmarkWriter(b *testing.B) {
	for _, c := range []struct {
		codec    Codec
		level    int
		password string
		f1       bool
	}{
		{LZMA2, 1, "", false}, {LZMA2, 2, "", false}, {LZMA2, 3, "", false}, {LZMA2, 5, "", false}, {LZMA2, 9, "", false},
		{LZMA2, DefaultLZMA2Level, testPassword, false},
		{LZMA2, 1, "", true}, {LZMA2, 2, "", true}, {LZMA2, 3, "", true},
		{Deflate, 1, "", false}, {Deflate, 5, "", false}, {Deflate, 9, "", false},
		{Copy, 0, "", false},
	} {
		name := fmt.Sprintf("%v-%d", c.codec, c.level)
		if c.password != "" {
			name += "-aes"
		}
		data := benchSample()
		if c.f1 {
			name += "-f1"
			data = benchF1()
		}
		b.Run(name, func(b *testing.B) {
			opts := Options{Codec: c.codec, Level: c.level, Password: c.password, TempDir: b.TempDir()}
			path := filepath.Join(b.TempDir(), "bench.7z")
			b.SetBytes(int64(len(data)))
			var size int64
			for b.Loop() {
				size = writeOne(b, path, data, opts)
			}
			b.ReportMetric(float64(size)/float64(len(data)), "ratio")
		})
	}
}

func writeOne(b *testing.B, path string, data []byte, opts Options) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, opts)
	if err != nil {
		b.Fatal(err)
	}
	fw, err := w.Create(&FileHeader{Name: "occurrences.csv"})
	if err != nil {
		b.Fatal(err)
	}
	// Rows arrive a few at a time, as the extractor writes them.
	for rest := data; len(rest) > 0; {
		k := min(len(rest), 64<<10)
		if _, err := fw.Write(rest[:k]); err != nil {
			b.Fatal(err)
		}
		rest = rest[k:]
	}
	if err := fw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// BenchmarkPartitions writes the sample spread over 16 open entries at once,
// as the extractor does when it partitions one query's rows.
func BenchmarkPartitions(b *testing.B) {
	data := benchSample()
	path := filepath.Join(b.TempDir(), "bench.7z")
	b.SetBytes(int64(len(data)))
	var size int64
	for b.Loop() {
		f, _ := os.Create(path)
		w, err := NewWriter(f, Options{TempDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		parts := make([]interface {
			Write([]byte) (int, error)
			Close() error
		}, 16)
		for i := range parts {
			parts[i], _ = w.Create(&FileHeader{Name: fmt.Sprintf("partition-%02d.csv", i)})
		}
		for i, rest := 0, data; len(rest) > 0; i++ {
			k := min(len(rest), 7000)
			parts[i%len(parts)].Write(rest[:k])
			rest = rest[k:]
		}
		for _, p := range parts {
			p.Close()
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		info, _ := f.Stat()
		size = info.Size()
		f.Close()
	}
	b.ReportMetric(float64(size)/float64(len(data)), "ratio")
}

// BenchmarkCheck and BenchmarkVerify read back the default archive of the
// sample; MB/s is of archive bytes.
//
//	go test -run XXX -bench 'Check|Verify' -benchtime 5x
func BenchmarkCheck(b *testing.B)  { benchReadBack(b, Check) }
func BenchmarkVerify(b *testing.B) { benchReadBack(b, Verify) }

func benchReadBack(b *testing.B, read func(path, password string) error) {
	path := filepath.Join(b.TempDir(), "bench.7z")
	size := writeOne(b, path, benchSample(), Options{TempDir: b.TempDir()})
	b.SetBytes(size)
	for b.Loop() {
		if err := read(path, ""); err != nil {
			b.Fatal(err)
		}
	}
}
