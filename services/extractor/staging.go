package extractor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/retry"
	"sinp.occitanie.fr/platform/staging"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/extractor/extraction"
)

// Staging is the area archives wait in until their release: requesters
// cannot reach it (delivery publishes from it). Runs write in a work
// directory; an archive enters <root>/<reference>/ by an atomic rename only
// once it has been read back whole, so no reader ever sees half an archive.
type Staging struct {
	Root string
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// marked checks that the area is there (its mark), not an empty directory
// standing in for it: archives written there would vanish when its volume
// is mounted again, deletions would find them "gone".
func (s Staging) marked() error {
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		return retry.Unavailable(fmt.Errorf("staging: %w", err))
	}
	defer root.Close()
	return staging.Marked(root)
}

// workDir returns an empty work directory for one attempt of a run.
func (s Staging) workDir(runID string) (string, error) {
	if err := s.marked(); err != nil {
		return "", err
	}
	dir := filepath.Join(s.Root, ".work", unsafeName.ReplaceAllString(runID, "_"))
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("staging: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("staging: %w", err)
	}
	return dir, nil
}

// StagedPath is where a deliverable's archive is staged, relative to the
// root.
func StagedPath(reference, archiveName string) string {
	return filepath.Join(unsafeName.ReplaceAllString(reference, "_"), archiveName)
}

// promote moves a run's verified archives into the staging area.
func (s Staging) promote(reference string, res *extraction.Result) error {
	if err := s.marked(); err != nil {
		return err
	}
	dir := filepath.Join(s.Root, unsafeName.ReplaceAllString(reference, "_"))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	for _, d := range res.Deliverables {
		if err := os.Chmod(d.Path, 0o640); err != nil {
			return fmt.Errorf("staging: %w", err)
		}
		if err := os.Rename(d.Path, filepath.Join(s.Root, StagedPath(reference, d.ArchiveName))); err != nil {
			return fmt.Errorf("staging: %w", err)
		}
	}
	// The renames are durable before the run is recorded as completed.
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Why a staged copy ends.
const (
	endExpired  = "expired"
	endWithheld = "withheld"
)

// stagedEnd is a deliverable's staged copy that an event ends.
type stagedEnd struct {
	Reference, DeliverableID string
	// Kind, when set, is the only kind of archive the event may end.
	Kind, Why string
}

// stagedCopyEnds says which staged copy an event ends: its published file
// expired (delivery removed it from the drop zone), or its F2 was withheld
// for good (only a notice is published). No one reads the staged archive
// again, and a full-precision copy must not outlive its use. A release
// does not end it: delivery copies from it. An event that names no
// deliverable of its own request, or withholds anything but an F2, is
// refused: delivery would refuse it too, and the archive may still be
// released.
func stagedCopyEnds(ev bus.Event) (stagedEnd, error) {
	var e stagedEnd
	switch ev := ev.(type) {
	case *eventsv1.ArchiveExpired:
		e = stagedEnd{Reference: ev.GetReference(), DeliverableID: ev.GetDeliverableId(), Why: endExpired}
	case *eventsv1.ReleaseWithheld:
		d := ev.GetDeliverable()
		e = stagedEnd{Reference: ev.GetReference(), DeliverableID: d.GetDeliverableId(), Kind: "F2", Why: endWithheld}
		if d.GetKind() != eventsv1.FileKind_FILE_KIND_F2 {
			return e, fmt.Errorf("ReleaseWithheld of %s: only an F2 is withheld, not %s", e.DeliverableID, d.GetKind())
		}
	default:
		return e, fmt.Errorf("%T does not end a staged copy", ev)
	}
	if e.Reference == "" || !strings.HasPrefix(e.DeliverableID, e.Reference+"/") {
		return e, fmt.Errorf("%T: deliverable %q is not one of request %q", ev, e.DeliverableID, e.Reference)
	}
	return e, nil
}

// remove deletes a staged archive (one already gone is removed), then its
// reference's directory if nothing else is left in it. The path is the
// one recorded at staging, relative to the root, and never leaves it.
func (s Staging) remove(stagedPath string) error {
	if !filepath.IsLocal(stagedPath) || filepath.Dir(stagedPath) == "." {
		return fmt.Errorf("staging: %q is not a staged archive's path", stagedPath)
	}
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		// The area itself is missing (a volume not mounted): waited for.
		return retry.Unavailable(fmt.Errorf("staging: %w", err))
	}
	defer root.Close()
	// Without the mark, a missing archive says nothing: not removed.
	if err := staging.Marked(root); err != nil {
		return err
	}
	if err := root.Remove(stagedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("staging: %w", err)
	}
	// The request's folder goes once empty; a link is not a folder (what
	// it leads to may hold archives still to be released).
	dir := filepath.Dir(stagedPath)
	if fi, err := root.Lstat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	if err := root.Remove(dir); err == nil {
		return syncDir(s.Root)
	}
	// Not empty: other archives of the request wait.
	f, err := root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("staging: %w", err)
	}
	defer f.Close()
	return f.Sync()
}
