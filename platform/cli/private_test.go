package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// A token saved over an older, world-readable file is readable by its
// owner only, and nothing else is left in the folder.
func TestWritePrivateReplacesAnOlderFilesMode(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePrivate(f, []byte("sinp1.new.token\n")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(f); string(b) != "sinp1.new.token\n" {
		t.Fatalf("holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %v", entries)
	}
}
