// Package staging holds what the extractor, which writes the staging area,
// and delivery, which reads it, must agree on: the mark that tells the
// area from an empty directory standing in for it (a volume not mounted,
// whose mount point is then an empty folder, would make every archive look
// gone: deleted, or never staged).
package staging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

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

// MarkArea makes dir the staging area, creating it if need be, unless it
// should already be one: a directory that exists without the mark while
// archives are recorded (staged) is refused, since it stands in for the
// area (a volume not mounted). A new area, or an older one from before the
// mark with its archives in it, is marked.
func MarkArea(dir string, staged bool) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	mark := dir + string(os.PathSeparator) + Mark
	if _, err := os.Stat(mark); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if staged && len(entries) == 0 {
		return fmt.Errorf("%s is empty and holds no mark (%s), yet archives were staged: is its volume mounted?", dir, Mark)
	}
	return os.WriteFile(mark, []byte("the SINP platform's staging area: archives wait here until released\n"), 0o640)
}
