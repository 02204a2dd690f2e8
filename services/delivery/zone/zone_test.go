package zone

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func open(t *testing.T) (*Root, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func TestOnlyNamesTheSystemMakesAreAccepted(t *testing.T) {
	for name, ok := range map[string]bool{
		"R-2026-000001": true, "R-2026-000001_F2_oiseaux.7z": true, "acc-2nlw64yvwcmvg": true,
		"..": false, "../acc-other": false, "a/b": false, ".hidden": false, "": false, "R..1": false,
		"fichier élevé.7z": false, "R-1\x00.7z": false, "ｆｕｌｌｗｉｄｔｈ": false, "a\\b": false,
		strings.Repeat("a", 129): false, strings.Repeat("a", 128): true,
	} {
		if ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v", name, !ok)
		}
	}
	if _, err := For("", "../etc"); !errors.Is(err, ErrName) {
		t.Errorf("zone of a reference '../etc': %v", err)
	}
	if z, err := For("acc-1", "R-1"); err != nil || z != "acc-1" {
		t.Errorf("an account's zone: %q %v", z, err)
	}
	if z, err := For("", "R-1"); err != nil || z != "req-R-1" {
		t.Errorf("a tracking holder's zone: %q %v", z, err)
	}
}

// A file appears whole and checked, or not at all; a redelivered
// publication finds it complete and keeps it.
func TestAFileAppearsWholeOrNotAtAll(t *testing.T) {
	r, dir := open(t)
	data := []byte(strings.Repeat("7z archive bytes ", 1000))
	if _, err := r.Place("acc-1", "R-1", "R-1_F1.7z", strings.NewReader(string(data[:100])), int64(len(data)), sum(data)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a short source: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "acc-1", "R-1"))
	if len(entries) != 0 {
		t.Fatalf("a failed copy left %v", entries)
	}
	p, err := r.Place("acc-1", "R-1", "R-1_F1.7z", strings.NewReader(string(data)), int64(len(data)), sum(data))
	if err != nil || p.Already || p.Path != "R-1/R-1_F1.7z" {
		t.Fatalf("placed %+v (%v)", p, err)
	}
	again, err := r.Place("acc-1", "R-1", "R-1_F1.7z", strings.NewReader(""), int64(len(data)), sum(data))
	if err != nil || !again.Already {
		t.Fatalf("placed again: %+v (%v)", again, err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "acc-1", "R-1", "R-1_F1.7z"))
	if sum(got) != sum(data) {
		t.Fatal("the file changed")
	}
	// A file of the same name but other content is replaced.
	other := []byte("something else")
	if err := os.WriteFile(filepath.Join(dir, "acc-1", "R-1", "R-1_F2_flore.7z"), other, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Place("acc-1", "R-1", "R-1_F2_flore.7z", strings.NewReader(string(data)), int64(len(data)), sum(data)); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(filepath.Join(dir, "acc-1", "R-1", "R-1_F2_flore.7z"))
	if sum(got) != sum(data) {
		t.Fatal("a planted file survived")
	}
}

// Links planted in a zone (by whoever can write there through SFTP) lead
// nowhere outside it: not to the system, not to another requester's zone.
func TestPlantedLinksCannotEscapeTheZone(t *testing.T) {
	r, dir := open(t)
	secret := []byte("another requester's F2")
	if _, err := r.Place("acc-other", "R-2", "R-2_F2_flore.7z", strings.NewReader(string(secret)), int64(len(secret)), sum(secret)); err != nil {
		t.Fatal(err)
	}
	zone := filepath.Join(dir, "acc-mallory")
	if err := os.MkdirAll(filepath.Join(zone, "R-3"), 0o750); err != nil {
		t.Fatal(err)
	}
	plants := map[string]string{
		"R-3/R-3_F1.7z":       "/etc/passwd",
		"R-3/stolen.7z":       "../../acc-other/R-2/R-2_F2_flore.7z",
		"R-3/abs.7z":          filepath.Join(dir, "acc-other", "R-2", "R-2_F2_flore.7z"),
		"R-4":                 filepath.Join(dir, "acc-other", "R-2"),
		"R-5":                 "../acc-other/R-2",
		"manifest.json":       "/etc/shadow",
		"R-3/R-3_F2_flore.7z": "../../acc-other/R-2/R-2_F2_flore.7z",
	}
	for from, to := range plants {
		if err := os.Symlink(to, filepath.Join(zone, from)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"R-3/R-3_F1.7z", "R-3/stolen.7z", "R-3/abs.7z", "R-4/R-2_F2_flore.7z", "R-5/R-2_F2_flore.7z"} {
		if f, _, err := r.Open("acc-mallory", p); err == nil {
			f.Close()
			t.Errorf("opened %s through a planted link", p)
		}
	}
	for _, p := range []string{"../acc-other/R-2/R-2_F2_flore.7z", "R-2/../../acc-other/R-2/R-2_F2_flore.7z", "/etc/passwd", "R-3/..", ""} {
		if f, _, err := r.Open("acc-mallory", p); err == nil {
			f.Close()
			t.Errorf("opened %q", p)
		}
	}
	// Writing into a planted link to another zone's folder fails; writing a
	// file over a planted link replaces the link, not its target.
	data := []byte("mallory's own F1")
	if _, err := r.Place("acc-mallory", "R-4", "R-4_F1.7z", strings.NewReader(string(data)), int64(len(data)), sum(data)); err == nil {
		if _, err := os.Stat(filepath.Join(dir, "acc-other", "R-2", "R-4_F1.7z")); err == nil {
			t.Error("a publication landed in another requester's zone through a planted link")
		}
	}
	if _, err := r.Place("acc-mallory", "R-3", "R-3_F2_flore.7z", strings.NewReader(string(data)), int64(len(data)), sum(data)); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "acc-other", "R-2", "R-2_F2_flore.7z"))
	if sum(got) != sum(secret) {
		t.Fatal("a publication wrote through a planted link into another zone")
	}
	if err := r.WriteManifests("acc-mallory", nil); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(filepath.Join(zone, "manifest.json")); err != nil || st.Mode()&os.ModeSymlink != 0 {
		t.Fatal("the manifest is still a planted link")
	}
}

// A pipe planted where a file is read (by whoever can write in the zone)
// does not block the reader, nor is it served.
func TestAPlantedPipeIsNotAFile(t *testing.T) {
	r, dir := open(t)
	if err := os.MkdirAll(filepath.Join(dir, "acc-a", "R-1"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "acc-a", "R-1", "R-1_F2_flore.7z"), 0o640); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, _, err := r.Open("acc-a", "R-1/R-1_F2_flore.7z")
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a pipe was opened as a file")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a planted pipe blocks")
	}
}

func TestManifestsListTheFilesWithTheirChecksums(t *testing.T) {
	r, dir := open(t)
	data := []byte("archive")
	p, err := r.Place("acc-1", "R-1", "R-1_F1.7z", strings.NewReader(string(data)), int64(len(data)), sum(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteManifests("acc-1", []Entry{{Path: p.Path, SHA256: p.SHA256, Bytes: p.Bytes, DeliverableID: "R-1/F1", Kind: "F1", Nature: "archive"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "acc-1", "MANIFEST.sha256"))
	if string(got) != sum(data)+"  R-1/R-1_F1.7z\n" {
		t.Fatalf("MANIFEST.sha256: %q", got)
	}
	js, _ := os.ReadFile(filepath.Join(dir, "acc-1", "manifest.json"))
	if !strings.Contains(string(js), `"deliverable_id": "R-1/F1"`) || strings.Contains(string(js), "password") {
		t.Fatalf("manifest.json: %s", js)
	}
}
