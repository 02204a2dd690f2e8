package extractor

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

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

// workDir returns an empty work directory for one attempt of a run.
func (s Staging) workDir(runID string) (string, error) {
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
