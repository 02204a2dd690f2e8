package staging

import (
	"errors"
	"os"
	"path/filepath"
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
	for _, c := range []struct {
		name    string
		prepare func(dir string)
		staged  bool
		refused bool
	}{
		{"a new area", func(string) {}, false, false},
		{"an empty folder, nothing staged yet", func(dir string) { _ = os.Mkdir(dir, 0o750) }, false, false},
		{"an empty folder while archives are staged (a volume not mounted)", func(dir string) { _ = os.Mkdir(dir, 0o750) }, true, true},
		{"an area from before the mark, its archives in it", func(dir string) {
			_ = os.MkdirAll(filepath.Join(dir, "R-1"), 0o750)
			_ = os.WriteFile(filepath.Join(dir, "R-1", "R-1_F1.7z"), []byte("7z"), 0o640)
		}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(base, filepath.Base(t.Name()))
			c.prepare(dir)
			if err := MarkArea(dir, c.staged); (err != nil) != c.refused {
				t.Fatalf("MarkArea: %v", err)
			}
			err := marked(dir)
			if c.refused {
				if !errors.Is(err, ErrUnmarked) || !retry.Transient(err) {
					t.Fatalf("an unmarked area: %v, want a transient ErrUnmarked", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := MarkArea(dir, true); err != nil {
				t.Fatalf("marked again: %v", err)
			}
		})
	}
}
