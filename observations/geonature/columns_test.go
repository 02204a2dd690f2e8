package geonature

import (
	"os"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations/source"
)

// Every column of the catalogue has a decided GeoNature source (or a
// documented NULL), and the README's mapping table lists it.
func TestEveryColumnIsDecided(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range source.Columns {
		if _, ok := columns[c.View]; !ok && c.Group != source.Status {
			t.Errorf("catalogue column %s has no GeoNature source in columns.go", c.View)
		}
		if c.Group != source.Status && !strings.Contains(string(readme), "| `"+c.View+"` |") {
			t.Errorf("README.md's mapping table does not list %s", c.View)
		}
	}
	for view := range columns {
		if _, ok := source.Lookup(view); !ok {
			t.Errorf("columns.go maps %s, which the catalogue no longer has", view)
		}
	}
}
