package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"sinp.occitanie.fr/sevenz"
	"sinp.occitanie.fr/sevenz/internal/samplecsv"
)

// archives is how many archives the open files are spread over, as one
// extraction writes up to seven deliverables at once.
const archives = 7

// measureMemory writes open files of about entryMB each, spread over seven
// archives that share one Pool, with SpoolInput and the default window: rows
// arrive from one stream, each to a file drawn at random, as the
// extractor's partitions interleave. It prints the peak heap (sampled) and the
// peak RSS (the kernel's VmHWM).
func measureMemory(ctx context.Context, open, entryMB, workers, blockMB int, dir string) error {
	work := dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "sevenzbench-memory-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	pool := sevenz.NewPool(workers)
	defer pool.Close()
	opts := sevenz.Options{Pool: pool, SpoolInput: true, BlockSize: blockMB << 20, TempDir: work}

	var ws []*sevenz.Writer
	var files []*os.File
	for i := range min(archives, open) {
		f, err := os.Create(filepath.Join(work, fmt.Sprintf("deliverable-%d.7z", i)))
		if err != nil {
			return err
		}
		defer f.Close()
		w, err := sevenz.NewWriter(f, opts)
		if err != nil {
			return err
		}
		ws, files = append(ws, w), append(files, f)
	}

	fws := make([]io.WriteCloser, open)
	for i := range fws {
		var err error
		if fws[i], err = ws[i%len(ws)].Create(&sevenz.FileHeader{Name: fmt.Sprintf("partition-%02d.csv", i), Modified: time.Now()}); err != nil {
			return err
		}
	}
	// One stream of rows, as the extractor's database query delivers them,
	// each row going to the partition it belongs to. The rows come through
	// a pipe: no input is held in memory beyond a row buffer.
	pr, pw := io.Pipe()
	go func() {
		_, err := samplecsv.Write(pw, int64(open)*int64(entryMB)*1_000_000, 1)
		pw.CloseWithError(err)
	}()
	rows := bufio.NewReaderSize(pr, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))

	var peak peaks
	stop := peak.sample(50 * time.Millisecond)
	start, before := time.Now(), cpuTime()
	var written int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := rows.ReadSlice('\n')
		if len(row) > 0 {
			if _, werr := fws[rng.IntN(open)].Write(row); werr != nil {
				return werr
			}
			written += int64(len(row))
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
	}
	for _, fw := range fws {
		if err := fw.Close(); err != nil {
			return err
		}
	}
	var packed int64
	for i, w := range ws {
		if err := w.Close(); err != nil {
			return err
		}
		st, err := files[i].Stat()
		if err != nil {
			return err
		}
		packed += st.Size()
	}
	elapsed, cpu := time.Since(start), cpuTime()-before
	stop()
	fmt.Printf("%d files of %d MB interleaved into %d archives, Pool of %d, blocks of %d MiB, SpoolInput, default window\n",
		open, entryMB, len(ws), workers, blockMB)
	fmt.Printf("input %d bytes, archives %d bytes (%.2f%%), %.1f s, cpu %.1f s, %.1f MB/s\n",
		written, packed, 100*float64(packed)/float64(written), elapsed.Seconds(), cpu.Seconds(), float64(written)/1e6/elapsed.Seconds())
	fmt.Printf("peak heap in use %.1f MiB (sampled every 50 ms), peak RSS %.1f MiB\n",
		float64(peak.heapInuse)/(1<<20), float64(vmHWM())/(1<<20))
	return nil
}

// peaks samples the heap while the files are written.
type peaks struct {
	mu        sync.Mutex
	heapInuse uint64
}

func (p *peaks) sample(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			p.mu.Lock()
			p.heapInuse = max(p.heapInuse, m.HeapInuse)
			p.mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// vmHWM is the process's peak resident set, in bytes.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
