package sevenz

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bodgit/sevenzip"

	"sinp.occitanie.fr/sevenz/internal/samplecsv"
)

// member is a file or directory as a user puts it in and gets it back.
type member struct {
	name     string
	dir      bool
	content  []byte
	modified time.Time
}

var testPassword = "Sensible-Export-2024"

// fastKey keeps encrypted test archives quick to open; the default number of
// cycles is exercised by the 7-Zip tests.
const fastKey = 10

func sampleCSV(size int, seed uint64) []byte {
	var b bytes.Buffer
	b.Grow(size + 8192)
	samplecsv.Write(&b, int64(size), seed)
	return b.Bytes()[:size]
}

// randomTree draws the kind of content an extract delivers: directories,
// empty files, tiny files, a few large CSV files and non-ASCII names.
func randomTree(seed uint64, large int) []member {
	rng := rand.New(rand.NewPCG(seed, 99))
	when := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	tick := func() time.Time { when = when.Add(time.Duration(rng.IntN(1e6)) * time.Second); return when }
	names := []string{"observations", "données sensibles", "Hérault", "Pyrénées-Orientales", "日本", "Ωmega"}
	var ms []member
	for i, d := range names[:3+rng.IntN(3)] {
		dir := fmt.Sprintf("%s-%d", d, i)
		ms = append(ms, member{name: dir, dir: true, modified: tick()})
		for j := range 1 + rng.IntN(4) {
			name := fmt.Sprintf("%s/partition-%d-%s.csv", dir, j, names[rng.IntN(len(names))])
			var content []byte
			switch rng.IntN(4) {
			case 0: // empty
			case 1:
				content = []byte(fmt.Sprintf("id;nom\n%d;é\n", rng.IntN(100)))
			case 2:
				content = sampleCSV(1+rng.IntN(200_000), rng.Uint64())
			default:
				content = make([]byte, rng.IntN(50_000))
				for k := range content {
					content[k] = byte(rng.Uint32())
				}
			}
			ms = append(ms, member{name: name, content: content, modified: tick()})
		}
	}
	ms = append(ms, member{name: "vide", dir: true, modified: tick()})
	for i := range large {
		ms = append(ms, member{name: fmt.Sprintf("export-complet-%d.csv", i), content: sampleCSV(3_000_000+rng.IntN(2_000_000), rng.Uint64()), modified: tick()})
	}
	return ms
}

// writeMembers writes ms one after the other, in chunks of odd sizes.
func writeMembers(t testing.TB, w *Writer, ms []member) {
	t.Helper()
	for _, m := range ms {
		h := &FileHeader{Name: m.name, Modified: m.modified}
		if m.dir {
			h.Mode = fs.ModeDir | 0o755
		}
		fw, err := w.Create(h)
		if err != nil {
			t.Fatalf("Create(%s): %v", m.name, err)
		}
		for rest := m.content; len(rest) > 0; {
			k := min(len(rest), 1+len(rest)%70_001)
			if _, err := fw.Write(rest[:k]); err != nil {
				t.Fatalf("Write(%s): %v", m.name, err)
			}
			rest = rest[k:]
		}
		if err := fw.Close(); err != nil {
			t.Fatalf("Close(%s): %v", m.name, err)
		}
	}
}

func writeArchive(t testing.TB, ms []member, opts Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "extract.7z")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	writeMembers(t, w, ms)
	if err := w.Close(); err != nil {
		t.Fatalf("Writer.Close: %v", err)
	}
	return path
}

// readBack reads an archive with bodgit/sevenzip, in archive order.
func readBack(t testing.TB, path, password string) []member {
	t.Helper()
	r, err := sevenzip.OpenReaderWithPassword(path, password)
	if err != nil {
		t.Fatalf("sevenzip.OpenReader: %v", err)
	}
	defer r.Close()
	var ms []member
	for _, f := range r.File {
		m := member{name: strings.TrimSuffix(f.Name, "/"), dir: f.FileInfo().IsDir(), modified: f.Modified}
		if !m.dir {
			rc, err := f.Open()
			if err != nil {
				t.Fatalf("open %s: %v", f.Name, err)
			}
			m.content, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("read %s: %v", f.Name, err)
			}
		}
		ms = append(ms, m)
	}
	return ms
}

func assertSameMembers(t testing.TB, got, want []member) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("archive has %d members, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name || g.dir != w.dir {
			t.Fatalf("member %d is %q (dir %v), want %q (dir %v)", i, g.name, g.dir, w.name, w.dir)
		}
		if !bytes.Equal(g.content, w.content) {
			t.Fatalf("%s: content differs (%d bytes, want %d)", w.name, len(g.content), len(w.content))
		}
		if !g.modified.Equal(w.modified) {
			t.Fatalf("%s: modified %v, want %v", w.name, g.modified, w.modified)
		}
	}
}

// readTree reads a directory tree extracted by 7-Zip, sorted by name.
func readTree(t testing.TB, root string) []member {
	t.Helper()
	var ms []member
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		m := member{name: filepath.ToSlash(rel), dir: d.IsDir(), modified: info.ModTime().UTC()}
		if !m.dir {
			if m.content, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func sortedByName(ms []member) []member {
	out := append([]member(nil), ms...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// seeded is a deterministic stand-in for crypto/rand.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) io.Reader { return seeded{rand.NewChaCha8([32]byte{seed})} }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func crc32Of(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
