package archivekey

import (
	"path/filepath"
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
