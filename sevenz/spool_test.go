package sevenz

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Spooling input is a matter of memory only: the archive is the same.
func TestSpoolInputGivesSameBytes(t *testing.T) {
	tree := randomTree(41, 2)
	for _, codec := range codecs {
		for _, window := range []int{-1, 0, 300_000} {
			if codec != LZMA2 && window != 0 {
				continue
			}
			t.Run(fmt.Sprintf("%v-window-%d", codec, window), func(t *testing.T) {
				t.Parallel()
				opts := Options{Codec: codec, BlockSize: 200_000, Window: window, Password: testPassword, KeyCycles: fastKey, TempDir: t.TempDir()}
				opts.Rand = newSeeded(3)
				inMemory := writeInterleaved(t, opts, tree)
				opts.Rand, opts.SpoolInput = newSeeded(3), true
				spooled := writeInterleaved(t, opts, tree)
				if !bytes.Equal(inMemory, spooled) {
					t.Fatalf("archives differ: %d bytes in memory, %d spooled", len(inMemory), len(spooled))
				}
				assertNoTempFiles(t, opts.TempDir)
			})
		}
	}
}

// heapAfterGC is the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The extractor keeps about fifty partitions open at once: with SpoolInput
// their blocks wait on disk, not in memory.
func TestSpoolInputKeepsOpenEntriesOutOfMemory(t *testing.T) {
	const entries, each = 48, 1_500_000
	data := sampleCSV(each, 42)
	held := func(spool bool) (heap uint64, files int) {
		dir := t.TempDir()
		pool := NewPool(1)
		defer pool.Close()
		opts := Options{BlockSize: 1 << 20, Pool: pool, SpoolInput: spool, TempDir: dir}
		// A first archive leaves the pool's coders and buffers in place.
		writeArchive(t, []member{{name: "warm.csv", content: data}}, opts)
		before := heapAfterGC()

		w, err := NewWriter(&bytes.Buffer{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		fws := make([]interface{ Write([]byte) (int, error) }, entries)
		for i := range fws {
			if fws[i], err = w.Create(&FileHeader{Name: fmt.Sprintf("part-%02d.csv", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for off := 0; off < len(data); off += 4096 {
			for _, fw := range fws {
				if _, err := fw.Write(data[off:min(len(data), off+4096)]); err != nil {
					t.Fatal(err)
				}
			}
		}
		after := heapAfterGC()
		left, _ := os.ReadDir(dir)
		if err := w.Close(); !errors.Is(err, ErrEntryOpen) {
			t.Fatalf("Close with open entries = %v", err)
		}
		assertNoTempFiles(t, dir)
		return after - min(before, after), len(left)
	}
	inMemory, _ := held(false)
	spooled, files := held(true)
	t.Logf("live heap with %d open entries: %d MiB in memory, %d MiB spooled (%d temporary files)", entries, inMemory>>20, spooled>>20, files)
	if spooled > entries*(spoolBufSize+16<<10)+4<<20 {
		t.Errorf("%d open entries hold %d MiB with SpoolInput, want about %d KiB each", entries, spooled>>20, spoolBufSize>>10)
	}
	if inMemory < entries*each/4 {
		t.Errorf("without SpoolInput %d open entries hold only %d MiB: the test measures nothing", entries, inMemory>>20)
	}
	if files < entries {
		t.Errorf("%d temporary files for %d open entries with SpoolInput", files, entries)
	}
}

// A failing entry (here: the writer closed under it) leaves no input behind.
func TestSpooledInputIsRemovedOnFailure(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(&bytes.Buffer{}, Options{BlockSize: 64 << 10, SpoolInput: true, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.Create(&FileHeader{Name: "a.csv"})
	b, _ := w.Create(&FileHeader{Name: "b.csv"})
	a.Write(sampleCSV(300_000, 1))
	b.Write(sampleCSV(250_000, 2))
	if err := w.Close(); !errors.Is(err, ErrEntryOpen) {
		t.Fatalf("Close with open entries = %v", err)
	}
	assertNoTempFiles(t, dir)
	if _, err := b.Write([]byte("late")); err == nil {
		t.Fatal("writing after an aborted Close succeeded")
	}
	a.Close()
	assertNoTempFiles(t, dir)
}

// Seven archives of one extraction share one Pool: each is the archive
// written alone.
func TestPoolSharedByWritersGivesSameBytes(t *testing.T) {
	trees := [][]member{randomTree(51, 1), randomTree(52, 0), randomTree(53, 1)}
	opts := Options{BlockSize: 256 << 10, Password: testPassword, KeyCycles: fastKey}
	var alone [][]byte
	for i, tree := range trees {
		o := opts
		o.Rand = newSeeded(byte(i))
		alone = append(alone, writeInterleaved(t, o, tree))
	}
	pool := NewPool(2)
	defer pool.Close()
	shared := make([][]byte, len(trees))
	var wg sync.WaitGroup
	for i, tree := range trees {
		o := opts
		o.Rand, o.Pool, o.SpoolInput, o.TempDir = newSeeded(byte(i)), pool, i%2 == 0, t.TempDir()
		wg.Go(func() { shared[i] = writeInterleaved(t, o, tree) })
	}
	wg.Wait()
	for i := range trees {
		if !bytes.Equal(alone[i], shared[i]) {
			t.Errorf("archive %d: %d bytes with a shared pool, %d alone", i, len(shared[i]), len(alone[i]))
		}
	}
}

func TestClosedPoolRefusesBlocks(t *testing.T) {
	pool := NewPool(1)
	w, err := NewWriter(&bytes.Buffer{}, Options{Pool: pool, BlockSize: 64 << 10, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := w.Create(&FileHeader{Name: "a.csv"})
	pool.Close()
	if _, err := fw.Write(sampleCSV(200_000, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write through a closed pool = %v, want ErrClosed", err)
	}
	fw.Close()
	w.Close()
}

// Blocks that refer to the previous block's data read back with both
// bodgit/sevenzip and 7-Zip, whatever the block size and window.
func TestWindowArchivesReadBack(t *testing.T) {
	// Rows repeat from far back: a window finds them, blocks alone do not.
	base := sampleCSV(400_000, 61)
	var content []byte
	for i := range 6 {
		content = append(content, sampleCSV(150_000, uint64(70+i))...)
		content = append(content, base[i*20_000:]...)
	}
	when := time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC)
	tree := []member{
		{name: "F1_faune_polygone.csv", content: content, modified: when},
		{name: "F1_flore_point.csv", content: sampleCSV(700_001, 62), modified: when},
		{name: "petit.csv", content: []byte("id;geometrie\n1;POINT(1 2)\n"), modified: when},
	}
	sizes := map[string]int{}
	for _, g := range []struct {
		block, window int
		spool         bool
	}{{100_003, -1, false}, {100_003, 100_003, false}, {100_003, 200_006, true}, {65_537, 1 << 20, true}} {
		name := fmt.Sprintf("block-%d-window-%d", g.block, g.window)
		opts := Options{BlockSize: g.block, Window: g.window, SpoolInput: g.spool, TempDir: t.TempDir()}
		path := writeArchive(t, tree, opts)
		assertSameMembers(t, readBack(t, path, ""), tree)
		if err := Check(path, ""); err != nil {
			t.Errorf("%s: Check: %v", name, err)
		}
		info, _ := os.Stat(path)
		sizes[name] = int(info.Size())
		if has7zz(t) {
			out, err := run7zz(t, "t", path)
			if err != nil || !strings.Contains(out, "Everything is Ok") {
				t.Fatalf("%s: 7zz t: %v\n%s", name, err, out)
			}
			dir := filepath.Join(t.TempDir(), "x")
			if out, err := run7zz(t, "x", "-y", "-o"+dir, path); err != nil {
				t.Fatalf("%s: 7zz x: %v\n%s", name, err, out)
			}
			assertSameMembers(t, readTree(t, dir), sortedByName(tree))
		}
	}
	if none, one := sizes["block-100003-window--1"], sizes["block-100003-window-100003"]; one >= none*95/100 {
		t.Errorf("a window of one block gives %d bytes, without %d: the repeats were not found", one, none)
	}
}
