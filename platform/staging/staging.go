// Package staging holds what the extractor, which writes the staging area,
// and delivery, which reads it, must agree on: the mark that tells the
// area from an empty directory standing in for it (a volume not mounted,
// whose mount point is then an empty folder, would make every archive look
// gone: deleted, or never staged).
package staging

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sinp.occitanie.fr/platform/retry"
)

// Mark is the file at the area's root that says it is the staging area.
const Mark = ".sinp-staging"

// ErrUnmarked: the directory holds no mark.
var ErrUnmarked = errors.New("the staging area holds no mark (" + Mark + "): is its volume mounted?")

// Marked reports, as the infrastructure's trouble (retry.Unavailable), a
// root without the mark, or one that cannot be read.
func Marked(root *os.Root) error {
	_, err := root.Stat(Mark)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return retry.Unavailable(fmt.Errorf("%s: %w", root.Name(), ErrUnmarked))
	case err != nil:
		return retry.Unavailable(fmt.Errorf("%s: %w", root.Name(), err))
	}
	return nil
}

// MarkArea makes dir the staging area and returns its id. known is the id
// the deployment recorded (empty: none yet). With one recorded, dir must
// carry the mark with that id: an empty folder standing in for the area (a
// volume not mounted), or another deployment's area, is refused. With none,
// dir's mark is adopted, or a new one written: a new area, or one from
// before the mark.
func MarkArea(dir, known string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	mark := filepath.Join(dir, Mark)
	b, err := os.ReadFile(mark)
	switch {
	case err == nil:
		id := markID(b)
		if known != "" && id != known {
			return "", fmt.Errorf("%s holds the mark of staging area %q, not this deployment's %q: another deployment's area?", dir, id, known)
		}
		if id == "" {
			return "", fmt.Errorf("%s: its mark %s names no area", dir, Mark)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	case known != "":
		return "", fmt.Errorf("%s holds no mark (%s), yet this deployment's staging area is %q: is its volume mounted? (If the area is lost for good, writing its mark again, \"id=%s\" in %s, accepts the loss: the staged archives not yet published are gone.)",
			dir, Mark, known, known, mark)
	}
	id := rand.Text()
	body := "The SINP platform's staging area: archives wait here until they are released.\nid=" + id + "\n"
	if err := os.WriteFile(mark, []byte(body), 0o640); err != nil {
		return "", err
	}
	return id, nil
}

func markID(b []byte) string {
	for line := range strings.SplitSeq(string(b), "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "id="); ok {
			return strings.TrimSpace(id)
		}
	}
	return ""
}
