package sevenz

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestCheckAcceptsWhatWasWritten(t *testing.T) {
	tree := randomTree(31, 1)
	for _, codec := range codecs {
		for _, password := range []string{"", testPassword} {
			path := writeArchive(t, tree, Options{Codec: codec, Password: password, KeyCycles: fastKey, BlockSize: 1 << 20})
			if err := Check(path, password); err != nil {
				t.Errorf("%v (password %q): Check: %v", codec, password, err)
			}
		}
	}
	for name, ms := range map[string][]member{"empty": nil, "directories only": {{name: "a", dir: true}}} {
		if err := Check(writeArchive(t, ms, Options{}), ""); err != nil {
			t.Errorf("%s: Check: %v", name, err)
		}
	}
}

// assertCheckFails asserts that Check refuses the archive and says which.
func assertCheckFails(t *testing.T, path, password, what string) {
	t.Helper()
	err := Check(path, password)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("%s: Check = %v, want ErrCorrupt naming %s", what, err, path)
	}
}

// Every byte of an archive is under a CRC: no single damaged byte passes.
func TestCheckFindsAnyFlippedByte(t *testing.T) {
	tree := []member{
		{name: "partitions/F1_faune_point.csv", content: sampleCSV(1500, 1)},
		{name: "vide.csv"},
		{name: "LISEZMOI.txt", content: []byte("Extraction SINP Occitanie\n")},
	}
	for _, codec := range codecs {
		for _, password := range []string{"", testPassword} {
			path := writeArchive(t, tree, Options{Codec: codec, Password: password, KeyCycles: fastKey})
			good, _ := os.ReadFile(path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range good {
				mask := []byte{0x01, 0x80, 0x5A}[i%3]
				f.WriteAt([]byte{good[i] ^ mask}, int64(i))
				if Check(path, password) == nil {
					t.Fatalf("%v (password %q): byte %d of %d flipped by %#x, and Check passes", codec, password, i, len(good), mask)
				}
				f.WriteAt(good[i:i+1], int64(i))
			}
			f.Close()
			if err := Check(path, password); err != nil {
				t.Fatalf("%v (password %q): restored archive: %v", codec, password, err)
			}
		}
	}
}

func TestCheckNamesTheDamagedFile(t *testing.T) {
	a := sampleCSV(3_000_000, 2)
	b := sampleCSV(2_000_000, 3)
	path := writeArchive(t, []member{{name: "F1_flore.csv", content: a}, {name: "F2_faune.csv", content: b}}, Options{BlockSize: 1 << 20})
	raw, _ := os.ReadFile(path)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 5 {
		bad := append([]byte(nil), raw...)
		// Inside the second file's packed stream, well past the first's.
		i := len(raw) - 1000 - rng.IntN(100_000)
		bad[i] ^= 0x10
		os.WriteFile(path, bad, 0o644)
		err := Check(path, "")
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "F2_faune.csv") {
			t.Fatalf("byte %d damaged: Check = %v, want ErrCorrupt naming F2_faune.csv", i, err)
		}
	}
}

func TestCheckRefusesTruncatedOrExtendedArchives(t *testing.T) {
	tree := randomTree(32, 1)
	for _, password := range []string{"", testPassword} {
		path := writeArchive(t, tree, Options{Password: password, KeyCycles: fastKey, BlockSize: 1 << 20})
		good, _ := os.ReadFile(path)
		for _, n := range []int{0, 10, 32, 33, len(good) / 2, len(good) - 100, len(good) - 1} {
			os.WriteFile(path, good[:n], 0o644)
			assertCheckFails(t, path, password, fmt.Sprintf("truncated to %d of %d bytes", n, len(good)))
		}
		os.WriteFile(path, append(append([]byte(nil), good...), 0), 0o644)
		assertCheckFails(t, path, password, "one byte added")
	}
}

func TestCheckNeedsTheRightPassword(t *testing.T) {
	path := writeArchive(t, randomTree(33, 0), Options{Password: testPassword, KeyCycles: fastKey})
	assertCheckFails(t, path, "", "no password")
	assertCheckFails(t, path, "Not-The-Right-Password", "wrong password")
}
