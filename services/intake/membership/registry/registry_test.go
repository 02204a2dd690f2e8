package registry

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"sinp.occitanie.fr/platform/shareddata"
)

var today = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const header = "id_adher;structure;date_demande;proposition;remarque\n"

// The technical committee's list of June 2020: 41 pre-adherents, 13 of
// them proposed for promotion.
func TestTheRealRegistry(t *testing.T) {
	f, err := os.Open(shareddata.Require(t, "registry", "pre-adherents-2020.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := Parse(f, today)
	if err != nil {
		t.Fatal(err)
	}
	proposed := 0
	for _, e := range entries {
		if e.Proposed {
			proposed++
		}
	}
	if len(entries) != 41 || proposed != 13 {
		t.Fatalf("%d structures, %d proposed; want 41 and 13", len(entries), proposed)
	}
	first, last := entries[0], entries[40]
	if first.Line != 2 || first.RegistryID != "6" || first.Name != "Faunae" || !first.Proposed ||
		!first.RequestedAt.Equal(time.Date(2019, 4, 29, 0, 0, 0, 0, time.UTC)) || first.Remarks != "Demande l'avis des pôles" {
		t.Errorf("first row: %+v", first)
	}
	if last.Line != 42 || last.RegistryID != "70" || last.Name != "Pays de Lourdes et des vallées de Gaves" || last.Proposed || last.Remarks != "" {
		t.Errorf("last row: %+v", last)
	}
}

func TestAGoodFile(t *testing.T) {
	in := "\ufeffID_ADHER ; structure;date_demande;proposition;remarque\r\n" +
		"06;Faunae;2019-04-29;Promotion;\"Demande l'avis; des pôles\"\r\n" +
		"\r\n" +
		"7;\"Eco-Med; Sud\";2019-04-30;;\"une remarque\nsur deux lignes\"\r\n" +
		"8;Après;2019-05-01;;\r\n"
	entries, err := Parse(strings.NewReader(in), today)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d entries: %+v", len(entries), entries)
	}
	a, b, c := entries[0], entries[1], entries[2]
	if a.RegistryID != "6" || !a.Proposed || a.Remarks != "Demande l'avis; des pôles" || a.Line != 2 {
		t.Errorf("a BOM, spaces in the header, a leading zero, a capital, a quoted ';': %+v", a)
	}
	if b.Name != "Eco-Med; Sud" || b.Remarks != "une remarque\nsur deux lignes" || b.Line != 4 {
		t.Errorf("a quoted name and remarks on two lines: %+v", b)
	}
	if c.Line != 6 || c.Name != "Après" {
		t.Errorf("the row after a two-line one: %+v", c)
	}
}

// A bad row refuses the whole file, naming the line and the column.
func TestBadFilesAreRefusedNamingLineAndColumn(t *testing.T) {
	rows := []struct {
		name   string
		csv    string
		line   int
		column string
		text   string
	}{
		{"empty", "", 1, "", "empty"},
		{"header only", header, 2, "", "no structure"},
		{"a comma-separated file", "id_adher,structure,date_demande,proposition,remarque\n6,Faunae,2019-04-29,,\n", 1, "id_adher,structure,date_demande,proposition,remarque", "unknown column"},
		{"a column missing", "id_adher;structure;date_demande;proposition\n6;Faunae;2019-04-29;\n", 1, "remarque", "missing column"},
		{"a column twice", "id_adher;structure;structure;date_demande;proposition;remarque\n", 1, "structure", "twice"},
		{"no id", header + ";Faunae;2019-04-29;;\n", 2, "id_adher", "required"},
		{"an id that is not a number", header + "6;Faunae;2019-04-29;;\nA7;CRB;2019-05-16;;\n", 3, "id_adher", "not a registry number"},
		{"an id given twice", header + "6;Faunae;2019-04-29;;\n13;CRB;2019-05-16;;\n006;Faunae bis;2019-05-16;;\n", 4, "id_adher", "already on line 2"},
		{"no name", header + "6; ;2019-04-29;;\n", 2, "structure", "required"},
		{"no date", header + "6;Faunae;;;\n", 2, "date_demande", "required"},
		{"a French date", header + "6;Faunae;29/04/2019;;\n", 2, "date_demande", "not a date"},
		{"an impossible date", header + "6;Faunae;2019-02-30;;\n", 2, "date_demande", "not a date"},
		{"a date to come", header + "6;Faunae;2027-01-01;;\n", 2, "date_demande", "future"},
		{"an unknown proposition", header + "6;Faunae;2019-04-29;adhésion;\n", 2, "proposition", "want \"promotion\""},
		{"a field missing", header + "6;Faunae;2019-04-29;\n", 2, "remarque", "missing"},
		{"an unquoted ';'", header + "6;Faunae;2019-04-29;;Demande; l'avis\n", 2, "remarque", "quoted"},
		{"a broken quote", header + "6;Faunae;2019-04-29;;\"Demande \"l'avis\n", 2, "", "quote"},
		{"Latin-1", header + "6;Faunae;2019-04-29;;Demande l'avis des p\xf4les\n", 2, "", "UTF-8"},
		{"a control character in a name", header + "6;Fau\x07nae;2019-04-29;;\n", 2, "structure", "control"},
		{"too large", header + strings.Repeat("x", MaxBytes), 1, "", "larger than"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			entries, err := Parse(strings.NewReader(r.csv), today)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("accepted (%d entries, %v)", len(entries), err)
			}
			if entries != nil {
				t.Errorf("a refused file returned %d entries", len(entries))
			}
			p := e.Problems[0]
			if p.Line != r.line || p.Column != r.column || !strings.Contains(p.Text, r.text) {
				t.Errorf("first problem %q (line %d, column %q), want line %d, column %q, mentioning %q", p, p.Line, p.Column, r.line, r.column, r.text)
			}
		})
	}
}

// Every bad row is named, not only the first, up to MaxProblems.
func TestEveryProblemIsNamed(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("6;Faunae;2019-04-29;;\n")
	for range 30 {
		b.WriteString("x;;;;\n")
	}
	_, err := Parse(strings.NewReader(b.String()), today)
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != MaxProblems || e.More != 90-MaxProblems {
		t.Fatalf("%v", err)
	}
	if e.Problems[0].Line != 3 || e.Problems[3].Line != 4 {
		t.Errorf("problems %v", e.Problems[:4])
	}
}
