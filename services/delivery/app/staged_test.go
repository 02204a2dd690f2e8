package app

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sinp.occitanie.fr/platform/retry"
	"sinp.occitanie.fr/platform/staging"
)

// A staging area whose volume is mounted after delivery started is read
// at the next release; until then, a missing archive is waited for (the
// area has no mark), not counted against the release.
func TestTheStagingAreaIsReadAsItIsNow(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "staging")
	if err := os.Mkdir(dir, 0o750); err != nil { // the empty mount point
		t.Fatal(err)
	}
	s := &Service{StagingDir: dir}
	if _, err := s.staged("R-1/R-1_F1.7z"); !errors.Is(err, staging.ErrUnmarked) || !retry.Transient(err) {
		t.Fatalf("before the volume is mounted: %v", err)
	}
	// The volume, with its mark and an archive, takes the mount point's place.
	vol := filepath.Join(base, "volume")
	if _, err := staging.MarkArea(vol, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(vol, "R-1"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vol, "R-1", "R-1_F1.7z"), []byte("7z"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(vol, dir); err != nil {
		t.Fatal(err)
	}
	f, err := s.staged("R-1/R-1_F1.7z")
	if err != nil {
		t.Fatalf("once mounted: %v", err)
	}
	f.Close()
	// Marked, a missing archive is the release's own trouble: it counts.
	if _, err := s.staged("R-1/R-1_F2_oiseaux.7z"); err == nil || retry.Transient(err) {
		t.Fatalf("a missing archive in a marked area: %v", err)
	}
}
