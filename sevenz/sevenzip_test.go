package sevenz

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sevenZip finds 7-Zip's command-line tool. CI must have it: a missing tool
// there fails the test instead of hiding an incompatibility.
func sevenZip(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("7zz")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("7zz not found and CI is set: install Debian package 7zip (%v)", err)
		}
		t.Skip("7zz not found: install Debian package 7zip to check archives with real 7-Zip")
	}
	return p
}

// has7zz tells whether 7-Zip can be run; CI must have it.
func has7zz(t testing.TB) bool {
	t.Helper()
	if _, err := exec.LookPath("7zz"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("7zz not found and CI is set: install Debian package 7zip (%v)", err)
		}
		return false
	}
	return true
}

func run7zz(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(sevenZip(t), args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRealSevenZipTestsAndExtracts(t *testing.T) {
	sevenZip(t)
	tree := randomTree(11, 1)
	for _, codec := range codecs {
		for _, password := range []string{"", testPassword} {
			name := codec.String()
			if password != "" {
				name += "+aes"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// Default key cycles: what operators' archives use.
				path := writeArchive(t, tree, Options{Codec: codec, Password: password, BlockSize: 1 << 20})
				pw := "-p" + password
				out, err := run7zz(t, "t", pw, path)
				if err != nil || !strings.Contains(out, "Everything is Ok") {
					t.Fatalf("7zz t: %v\n%s", err, out)
				}
				dir := filepath.Join(t.TempDir(), "x")
				if out, err := run7zz(t, "x", pw, "-y", "-o"+dir, path); err != nil {
					t.Fatalf("7zz x: %v\n%s", err, out)
				}
				assertSameMembers(t, readTree(t, dir), sortedByName(tree))
			})
		}
	}
}

func TestRealSevenZipRejectsWrongPassword(t *testing.T) {
	sevenZip(t)
	for _, codec := range codecs {
		path := writeArchive(t, randomTree(12, 0), Options{Codec: codec, Password: testPassword})
		if out, err := run7zz(t, "t", "-pWRONG-PASSWORD", path); err == nil {
			t.Errorf("%v: 7zz t with a wrong password succeeded:\n%s", codec, out)
		}
	}
}
