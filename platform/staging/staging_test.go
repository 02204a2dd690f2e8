package staging

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sinp.occitanie.fr/platform/retry"
)

func TestTheAreaIsToldFromAnEmptyStandIn(t *testing.T) {
	marked := func(dir string) error {
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		return Marked(root)
	}
	base := t.TempDir()
	dir := func(name string) string { return filepath.Join(base, name) }
	// A new area: marked, with an id the deployment records.
	id, err := MarkArea(dir("new"), "")
	if err != nil || id == "" || marked(dir("new")) != nil {
		t.Fatalf("a new area: %q, %v", id, err)
	}
	if again, err := MarkArea(dir("new"), id); err != nil || again != id {
		t.Fatalf("the area again: %q, %v", again, err)
	}
	// An area from before the mark, its archives in it: marked.
	_ = os.MkdirAll(filepath.Join(dir("older"), "R-1"), 0o750)
	_ = os.WriteFile(filepath.Join(dir("older"), "R-1", "R-1_F1.7z"), []byte("7z"), 0o640)
	if older, err := MarkArea(dir("older"), ""); err != nil || older == "" {
		t.Fatalf("an older area: %v", err)
	}
	// The deployment knows its area: an empty stand-in (whether or not
	// anything is staged now) and another deployment's area are refused.
	_ = os.Mkdir(dir("mountpoint"), 0o750)
	if _, err := MarkArea(dir("mountpoint"), id); err == nil || !strings.Contains(err.Error(), "is its volume mounted?") {
		t.Fatalf("an empty stand-in: %v", err)
	}
	if err := marked(dir("mountpoint")); !errors.Is(err, ErrUnmarked) || !retry.Transient(err) {
		t.Fatalf("an unmarked folder: %v, want a transient ErrUnmarked", err)
	}
	if _, err := MarkArea(dir("older"), id); err == nil || !strings.Contains(err.Error(), "another deployment") {
		t.Fatalf("another deployment's area: %v", err)
	}
}
