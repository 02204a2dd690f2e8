package source_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations/source"
	"sinp.occitanie.fr/platform/shareddata"
)

// Every field of the standard's sample exchange file is delivered under
// the standard's spelling, derived by the extractor, or listed as omitted
// with its reason; and a column the catalogue calls standard is one of
// the standard's fields or of its sensitivity and DEE blocks.
func TestStandardFieldsAccountedFor(t *testing.T) {
	path := shareddata.Require(t, "standard", "dee_test_occtax_v1.2.1.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("the sample exchange file is empty")
	}
	standard := map[string]bool{}
	for _, name := range strings.Split(strings.TrimSpace(sc.Text()), ";") {
		standard[name] = true
	}
	if len(standard) < 80 {
		t.Fatalf("read %d standard fields from the sample's header", len(standard))
	}
	delivered := map[string]source.Group{}
	for _, c := range source.Exported() {
		delivered[c.CSV] = c.Group
	}
	for _, d := range source.DerivedColumns {
		if _, dup := delivered[d.CSV]; dup {
			t.Errorf("derived column %s repeats a view column", d.CSV)
		}
		delivered[d.CSV] = d.Group
		if _, ok := source.Lookup(d.After); !ok {
			t.Errorf("derived column %s follows %s, which the view does not have", d.CSV, d.After)
		}
	}
	omitted := map[string]bool{}
	for _, o := range source.Omitted {
		if o.Reason == "" {
			t.Errorf("omitted field %s has no reason", o.CSV)
		}
		if !standard[o.CSV] {
			t.Errorf("omitted field %s is not a field of the standard", o.CSV)
		}
		if _, ok := delivered[o.CSV]; ok {
			t.Errorf("field %s is both delivered and omitted", o.CSV)
		}
		omitted[o.CSV] = true
	}
	for name := range standard {
		if _, ok := delivered[name]; !ok && !omitted[name] {
			t.Errorf("standard field %s is neither delivered nor listed as omitted", name)
		}
	}
	// Fields of the standard's sensitivity and DEE blocks, which the
	// sample file (a v1.2.1 sample without them) does not show.
	blocks := map[string]bool{"sensible": true, "sensiNiveau": true, "sensiDateAttribution": true,
		"sensiReferentiel": true, "sensiVersionReferentiel": true, "dEEDateDerniereModification": true}
	for name, g := range delivered {
		if g == source.Standard && !standard[name] && !blocks[name] {
			t.Errorf("column %s is called standard, but the standard has no such field", name)
		}
		if g == source.Addition && standard[name] {
			t.Errorf("column %s is called an addition, but it is a standard field", name)
		}
	}
}
