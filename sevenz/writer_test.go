package sevenz

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

var codecs = []Codec{LZMA2, Deflate, Copy}

func TestRoundTripWithIndependentReader(t *testing.T) {
	tree := randomTree(1, 1)
	for _, codec := range codecs {
		for _, password := range []string{"", testPassword} {
			name := codec.String()
			if password != "" {
				name += "+aes"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				opts := Options{Codec: codec, Password: password, KeyCycles: fastKey, BlockSize: 1 << 20}
				path := writeArchive(t, tree, opts)
				assertSameMembers(t, readBack(t, path, password), tree)
				if err := Verify(path, password); err != nil {
					t.Fatalf("Verify: %v", err)
				}
			})
		}
	}
}

func TestEncryptedArchiveHidesNamesAndContent(t *testing.T) {
	tree := []member{{name: "espèces-protégées.csv", content: []byte("Aquila chrysaetos;nid;POINT(712345.1 6234567.2)\n")}}
	path := writeArchive(t, tree, Options{Codec: Copy, Password: testPassword, KeyCycles: fastKey})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Aquila", "POINT", "p\x00r\x00o\x00t"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("encrypted archive contains %q in clear", secret)
		}
	}
}

func TestWrongPasswordFailsCleanly(t *testing.T) {
	tree := randomTree(2, 0)
	path := writeArchive(t, tree, Options{Password: testPassword, KeyCycles: fastKey})
	err := Verify(path, "Not-The-Right-Password")
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify with a wrong password = %v, want ErrCorrupt", err)
	}
	if err := Verify(path, ""); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify without password = %v, want ErrCorrupt", err)
	}
}

func TestShortPasswordIsRefused(t *testing.T) {
	for _, pw := range []string{"a", "123456789", "éèàùçâêîô"} {
		if _, err := NewWriter(&bytes.Buffer{}, Options{Password: pw}); !errors.Is(err, ErrPasswordTooShort) {
			t.Errorf("password %q (%d characters): err = %v, want ErrPasswordTooShort", pw, len([]rune(pw)), err)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, Options{Password: "éèàùçâêîôû", KeyCycles: fastKey}); err != nil {
		t.Errorf("ten accented characters refused: %v", err)
	}
}

// The extractor streams one query's rows into many partition files at once.
func TestInterleavedEntriesKeepCreateOrder(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			opts := Options{Codec: codec, BlockSize: 64 << 10, TempDir: t.TempDir()}
			var out bytes.Buffer
			w, err := NewWriter(&out, opts)
			if err != nil {
				t.Fatal(err)
			}
			rows := bytes.Split(sampleCSV(1_500_000, 3), []byte("\n"))
			names := []string{"dept-34.csv", "dept-30.csv", "dept-11.csv", "dept-66.csv"}
			var files []*entry
			want := make([][]byte, len(names))
			for _, n := range names {
				fw, err := w.Create(&FileHeader{Name: n})
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, fw.(*entry))
			}
			for i, row := range rows {
				k := (i * 7) % len(names)
				if k == 3 {
					continue // dept-66 stays empty
				}
				row = append(row, '\n')
				want[k] = append(want[k], row...)
				if _, err := files[k].Write(row); err != nil {
					t.Fatal(err)
				}
			}
			// Close out of order: the archive keeps Create order.
			for _, k := range []int{2, 0, 3, 1} {
				if err := files[k].Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "a.7z")
			os.WriteFile(path, out.Bytes(), 0o644)
			var ms []member
			for i, n := range names {
				ms = append(ms, member{name: n, content: want[i]})
			}
			assertSameMembers(t, readBack(t, path, ""), ms)
			assertNoTempFiles(t, opts.TempDir)
		})
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	left, _ := os.ReadDir(dir)
	for _, f := range left {
		t.Errorf("temporary file left behind: %s", f.Name())
	}
}

// writeInterleaved writes ms with their chunks interleaved across open
// entries, which exercises spooling and reordering.
func writeInterleaved(t *testing.T, opts Options, ms []member) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	type open struct {
		fw   interface{ Write([]byte) (int, error) }
		rest []byte
		c    func() error
	}
	var opens []*open
	for _, m := range ms {
		h := &FileHeader{Name: m.name, Modified: m.modified}
		if m.dir {
			h.Mode = fs.ModeDir
		}
		fw, err := w.Create(h)
		if err != nil {
			t.Fatal(err)
		}
		opens = append(opens, &open{fw: fw, rest: m.content, c: fw.Close})
	}
	for active := true; active; {
		active = false
		for _, o := range opens {
			if len(o.rest) > 0 {
				k := min(len(o.rest), 40_000)
				if _, err := o.fw.Write(o.rest[:k]); err != nil {
					t.Fatal(err)
				}
				o.rest = o.rest[k:]
				active = true
			}
		}
	}
	for i := len(opens) - 1; i >= 0; i-- {
		if err := opens[i].c(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeConcurrently creates the entries in order, then writes and closes
// each from its own goroutine.
func writeConcurrently(t *testing.T, opts Options, ms []member) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ms))
	for _, m := range ms {
		h := &FileHeader{Name: m.name, Modified: m.modified}
		if m.dir {
			h.Mode = fs.ModeDir
		}
		fw, err := w.Create(h)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for rest := m.content; len(rest) > 0; {
				k := min(len(rest), 30_000)
				if _, err := fw.Write(rest[:k]); err != nil {
					errs <- err
					return
				}
				rest = rest[k:]
			}
			errs <- fw.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestSameInputGivesSameBytes(t *testing.T) {
	tree := randomTree(4, 1)
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			opts := Options{Codec: codec, BlockSize: 256 << 10, Password: testPassword, KeyCycles: fastKey}

			prev := runtime.GOMAXPROCS(1)
			opts.Concurrency, opts.Rand = 1, newSeeded(7)
			path := writeArchive(t, tree, opts)
			runtime.GOMAXPROCS(prev)
			sequential, _ := os.ReadFile(path)

			opts.Concurrency, opts.Rand = 4, newSeeded(7)
			interleaved := writeInterleaved(t, opts, tree)
			if !bytes.Equal(sequential, interleaved) {
				t.Fatalf("archives differ: %d and %d bytes", len(sequential), len(interleaved))
			}

			opts.Concurrency, opts.Rand = 3, newSeeded(7)
			concurrent := writeConcurrently(t, opts, tree)
			if !bytes.Equal(sequential, concurrent) {
				t.Fatalf("archives differ: %d and %d bytes", len(sequential), len(concurrent))
			}
		})
	}
}

// A pipe cannot seek: streams are spooled, and the bytes are the same.
func TestUnseekableOutputGivesSameBytes(t *testing.T) {
	tree := randomTree(5, 0)
	opts := Options{TempDir: t.TempDir()}
	path := writeArchive(t, tree, opts)
	seekable, _ := os.ReadFile(path)

	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeMembers(t, w, tree)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seekable, buf.Bytes()) {
		t.Fatalf("unseekable output differs: %d bytes, seekable %d", buf.Len(), len(seekable))
	}
	assertNoTempFiles(t, opts.TempDir)
}

// An archive can be appended to a file that already holds other data.
func TestArchiveAtAnOffsetOfAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "with-prefix.7z")
	f, _ := os.Create(path)
	f.Write(make([]byte, 1000))
	w, err := NewWriter(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree := randomTree(6, 0)
	writeMembers(t, w, tree)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	raw, _ := os.ReadFile(path)
	alone := filepath.Join(t.TempDir(), "alone.7z")
	os.WriteFile(alone, raw[1000:], 0o644)
	assertSameMembers(t, readBack(t, alone, ""), tree)
}

func TestCloseWithAnOpenEntryFailsAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	w, err := NewWriter(&out, Options{TempDir: dir, BlockSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.Create(&FileHeader{Name: "a.csv"})
	b, _ := w.Create(&FileHeader{Name: "b.csv"})
	a.Write(sampleCSV(300_000, 1))
	b.Write(sampleCSV(300_000, 2)) // spooled: a is still open
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrEntryOpen) {
		t.Fatalf("Close with an open entry = %v, want ErrEntryOpen", err)
	}
	assertNoTempFiles(t, dir)
	if _, err := a.Write([]byte("late")); err == nil {
		t.Fatal("writing after an aborted Close succeeded")
	}
}

func TestUnsafeNamesAreRefused(t *testing.T) {
	w, err := NewWriter(&bytes.Buffer{}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, name := range []string{"", "../etc/passwd", "a/../../b", `..\win`} {
		if _, err := w.Create(&FileHeader{Name: name}); err == nil {
			t.Errorf("Create(%q) accepted", name)
		}
	}
	fw, err := w.Create(&FileHeader{Name: "/abs/./x.csv"})
	if err != nil {
		t.Fatalf("Create(/abs/./x.csv): %v", err)
	}
	if got := fw.(*entry).hdr.name; got != "abs/x.csv" {
		t.Errorf("stored name %q, want abs/x.csv", got)
	}
	fw.Close()
}

func TestEmptyArchive(t *testing.T) {
	path := writeArchive(t, nil, Options{})
	if err := Verify(path, ""); err != nil {
		t.Fatalf("Verify(empty archive): %v", err)
	}
}

func TestDirectoriesOnly(t *testing.T) {
	tree := []member{{name: "a", dir: true, modified: time.Unix(1700000000, 0).UTC()}, {name: "a/b", dir: true}}
	path := writeArchive(t, tree, Options{})
	assertSameMembers(t, readBack(t, path, ""), tree)
}

func ExampleNewWriter() {
	var out bytes.Buffer // an *os.File avoids spooling
	w, err := NewWriter(&out, Options{})
	if err != nil {
		panic(err)
	}
	fw, _ := w.Create(&FileHeader{Name: "occurrences.csv", Modified: time.Now()})
	fmt.Fprintln(fw, "idSINPOccTax;cdNom;geometrie")
	fmt.Fprintln(fw, "7f1c…;60585;POINT(712345.1 6234567.2)")
	fw.Close()
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Println(bytes.HasPrefix(out.Bytes(), []byte("7z\xbc\xaf\x27\x1c")))
	// Output: true
}

// Finished partitions waiting behind an open one hold no file descriptor:
// an extract may have hundreds of them.
func TestWaitingEntriesHoldNoDescriptors(t *testing.T) {
	fds := func() int {
		d, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(d)
	}
	opts := Options{TempDir: t.TempDir(), BlockSize: 64 << 10, Codec: Copy}
	var out bytes.Buffer
	w, err := NewWriter(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := w.Create(&FileHeader{Name: "first.csv"})
	first.Write([]byte("still open\n"))
	before := fds()
	var want []member
	want = append(want, member{name: "first.csv", content: []byte("still open\n")})
	for i := range 300 {
		name := fmt.Sprintf("partition-%03d.csv", i)
		content := bytes.Repeat([]byte{byte(i)}, 1000+i*300)
		fw, _ := w.Create(&FileHeader{Name: name})
		fw.Write(content)
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		want = append(want, member{name: name, content: content})
	}
	if after := fds(); after-before > 4 {
		t.Errorf("%d more descriptors open with 300 finished entries waiting", after-before)
	}
	first.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.7z")
	os.WriteFile(path, out.Bytes(), 0o644)
	assertSameMembers(t, readBack(t, path, ""), want)
	assertNoTempFiles(t, opts.TempDir)
}
