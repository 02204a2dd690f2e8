package archivekey

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
)

func TestEachDeliverableHasItsOwnPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "f2.secret")
	s, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(path)
	if err != nil || again.Password("R-1/F2/flore") != s.Password("R-1/F2/flore") {
		t.Fatal("the secret changed between two loads")
	}
	a, b := s.Password("R-1/F2/flore"), s.Password("R-1/F2/oiseaux")
	if a == b || len(a) != 26 {
		t.Fatalf("passwords %q and %q", a, b)
	}
	other, _ := LoadOrCreate(filepath.Join(t.TempDir(), "f2.secret"))
	if other.Password("R-1/F2/flore") == a {
		t.Fatal("two deployments give the same password")
	}
}

func TestASecretIsNamedWithoutBeingRevealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f2.secret")
	s, _ := LoadOrCreate(path)
	other, _ := LoadOrCreate(filepath.Join(t.TempDir(), "f2.secret"))
	if again, _ := LoadOrCreate(path); len(s.ID()) != 16 || s.ID() == other.ID() || again.ID() != s.ID() {
		t.Fatalf("ids %q and %q", s.ID(), other.ID())
	}
	if strings.Contains(hex.EncodeToString(s), s.ID()) || strings.Contains(s.Password("R-1/F2/flore"), s.ID()) {
		t.Fatal("the id shows the secret or a password")
	}
}
