// Package shareddata locates the real reference data (SINP nomenclatures,
// Occitanie communes, the sensitivity referential, GeoNature samples) that
// tests and benchmarks read from ../shared/data beside the repository. The
// data is never copied into the repository.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sinp.occitanie.fr/platform/testenv"
)

// Dir returns the shared data folder: SINP_SHARED_DATA when set, else
// ../shared/data relative to the repository root (the folder holding
// go.work), found by walking up from the working directory.
func Dir() (string, error) {
	if d := os.Getenv("SINP_SHARED_DATA"); d != "" {
		return d, check(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			data := filepath.Join(filepath.Dir(d), "shared", "data")
			return data, check(data)
		}
		if filepath.Dir(d) == d {
			return "", errors.New("shareddata: no go.work above the working directory; set SINP_SHARED_DATA")
		}
	}
}

func check(d string) error {
	if _, err := os.Stat(filepath.Join(d, "README.md")); err != nil {
		return errors.New("shareddata: " + d + " is absent (it is present in CI; elsewhere set SINP_SHARED_DATA)")
	}
	return nil
}

// Require returns the path of a file or folder inside the shared data. When
// the data is absent the test is skipped with the reason, except under CI
// (CI set), where it fails: there the data must be present.
func Require(t testing.TB, elem ...string) string {
	t.Helper()
	d, err := Dir()
	if err == nil {
		p := filepath.Join(append([]string{d}, elem...)...)
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Missing(t, "shared data: %v", err)
	return ""
}
