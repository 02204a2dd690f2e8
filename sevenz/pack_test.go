package sevenz

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTree lays ms out on disk under root.
func writeTree(t *testing.T, root string, ms []member) {
	t.Helper()
	for _, m := range ms {
		p := filepath.Join(root, filepath.FromSlash(m.name))
		if m.dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, m.content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Times last: writing files changes their directory's time.
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if !m.modified.IsZero() {
			os.Chtimes(filepath.Join(root, filepath.FromSlash(m.name)), m.modified, m.modified)
		}
	}
}

func TestPackFilesStoresTreesRelativeToTheirParent(t *testing.T) {
	src := t.TempDir()
	tree := randomTree(21, 0)
	writeTree(t, filepath.Join(src, "livraison"), tree)
	single := filepath.Join(src, "synthese.csv")
	os.WriteFile(single, []byte("cdNom;nb\n60585;12\n"), 0o600)
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(single, when, when)

	out := filepath.Join(t.TempDir(), "export.7z")
	sum, err := PackFiles(context.Background(), out, []string{filepath.Join(src, "livraison") + "/", single}, Options{Password: testPassword, KeyCycles: fastKey})
	if err != nil {
		t.Fatalf("PackFiles: %v", err)
	}
	if err := Verify(out, testPassword); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	want := []member{{name: "livraison", dir: true}}
	var bytes int64
	files, dirs := 1, 1
	for _, m := range tree {
		m.name = "livraison/" + m.name
		want = append(want, m)
		bytes += int64(len(m.content))
		if m.dir {
			dirs++
		} else {
			files++
		}
	}
	want = append(want, member{name: "synthese.csv", content: []byte("cdNom;nb\n60585;12\n"), modified: when})
	got := sortedByName(readBack(t, out, testPassword))
	want = sortedByName(want)
	got[0].modified = want[0].modified // the top folder's time is the test's
	assertSameMembers(t, got, want)

	info, _ := os.Stat(out)
	if sum.Files != files || sum.Dirs != dirs || sum.Bytes != bytes+18 || sum.Packed != info.Size() {
		t.Errorf("summary %+v, want %d files, %d dirs, %d bytes, %d packed", sum, files, dirs, bytes+18, info.Size())
	}
	left, _ := os.ReadDir(filepath.Dir(out))
	if len(left) != 1 {
		t.Errorf("beside the archive: %v", left)
	}
}

func TestPackFilesLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "export.7z")
	src := filepath.Join(dir, "src.csv")
	os.WriteFile(src, sampleCSV(100_000, 3), 0o644)

	if _, err := PackFiles(context.Background(), out, []string{src, filepath.Join(dir, "missing.csv")}, Options{}); err == nil {
		t.Fatal("PackFiles of a missing file succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PackFiles(ctx, out, []string{src}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("PackFiles with a cancelled context = %v", err)
	}
	if _, err := PackFiles(context.Background(), out, []string{src}, Options{Password: "short"}); !errors.Is(err, ErrPasswordTooShort) {
		t.Fatalf("PackFiles with a short password = %v", err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "src.csv" {
		t.Fatalf("left behind: %v", left)
	}
}

func TestPackFilesRefusesDuplicateNames(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(a, "x.csv"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(b, "x.csv"), []byte("b"), 0o644)
	_, err := PackFiles(context.Background(), filepath.Join(t.TempDir(), "o.7z"), []string{filepath.Join(a, "x.csv"), filepath.Join(b, "x.csv")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "both be stored as x.csv") {
		t.Fatalf("err = %v, want a duplicate-name error", err)
	}
}

func TestVerifyDetectsCorruption(t *testing.T) {
	tree := []member{{name: "a.csv", content: sampleCSV(200_000, 5)}}
	for _, codec := range codecs {
		path := writeArchive(t, tree, Options{Codec: codec})
		raw, _ := os.ReadFile(path)
		raw[signatureHeaderSize+len(raw)/4] ^= 0x40 // inside the packed stream
		os.WriteFile(path, raw, 0o644)
		if err := Verify(path, ""); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%v: Verify of a damaged archive = %v, want ErrCorrupt", codec, err)
		}
	}
}

func TestPasswordFromFile(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"Sensible-Export-2024\n":   "Sensible-Export-2024",
		"Sensible-Export-2024\r\n": "Sensible-Export-2024",
		" spaces count too  ":      " spaces count too  ",
	} {
		p := filepath.Join(dir, "pw")
		os.WriteFile(p, []byte(content), 0o600)
		if got, err := PasswordFromFile(p); err != nil || got != want {
			t.Errorf("PasswordFromFile(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	p := filepath.Join(dir, "short")
	os.WriteFile(p, []byte("secret\n"), 0o600)
	if _, err := PasswordFromFile(p); !errors.Is(err, ErrPasswordTooShort) {
		t.Errorf("short password file: %v", err)
	}
}
