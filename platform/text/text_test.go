package text

import (
	"errors"
	"strings"
	"testing"
)

// What a person may type in a field, and what is refused, one row per
// case the attack review and the registry's practice met.
func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name     string
		in       string
		form     Form
		min, max int
		want     string // the cleaned value, when accepted
		refused  error
		says     string
	}{
		{"a purpose with accents and a line break", "Étude d'impact\nd'un parc photovoltaïque", Multiline, 20, 4000,
			"Étude d'impact\nd'un parc photovoltaïque", nil, ""},
		{"trimmed of spaces and invisible characters at both ends", " \u200b\ufeff Jeanne Martin \t\n\u00a0", Line, 1, 200,
			"Jeanne Martin", nil, ""},
		{"a carriage return line feed becomes a line feed", "première ligne\r\nseconde\rtroisième", Multiline, 0, 4000,
			"première ligne\nseconde\ntroisième", nil, ""},
		{"Unicode line separators become line feeds in a multiline field", "a\u2028b\u2029c", Multiline, 0, 100, "a\nb\nc", nil, ""},
		{"a tab is allowed in a multiline field", "col1\tcol2", Multiline, 0, 100, "col1\tcol2", nil, ""},
		{"an optional field may be empty", "   ", Multiline, 0, 100, "", nil, ""},
		{"emoji and CJK are graphic", "🦉 chouette 梟", Line, 3, 100, "🦉 chouette 梟", nil, ""},
		{"a zero-width joiner inside an emoji stays", "👩\u200d🔬 chercheuse", Line, 1, 100, "👩\u200d🔬 chercheuse", nil, ""},

		{"invalid UTF-8", "Jeanne \xff Martin", Line, 1, 200, "", ErrEncoding, "byte 8"},
		{"NUL in a purpose", "Étude\x00 d'impact d'un parc photovoltaïque", Multiline, 20, 4000, "", ErrControl, "NUL"},
		{"a header injection in a name", "Jeanne\r\nX-Injected: 1\x1b[31m", Line, 1, 200, "", ErrControl, "one line"},
		{"an escape sequence", "Jeanne\x1b[31m Martin", Line, 1, 200, "", ErrControl, "U+001B"},
		{"an escape sequence in a multiline field", "remarques\n\x1b[2J", Multiline, 0, 4000, "", ErrControl, "control character"},
		{"a C1 control", "Jeanne\u009b31m", Line, 1, 200, "", ErrControl, "U+009B"},
		{"a next-line control in a line", "Jeanne\u0085X", Line, 1, 200, "", ErrControl, "one line"},
		{"a next-line control in a multiline field", "Jeanne\u0085X", Multiline, 1, 200, "", ErrControl, "control"},
		{"DEL", "abc\x7fdef", Multiline, 0, 200, "", ErrControl, "U+007F"},
		{"a line break in a line", "Faunae\nSARL", Line, 1, 200, "", ErrControl, "one line"},
		{"a tab in a line", "Faunae\tSARL", Line, 1, 200, "", ErrControl, "one line"},
		{"a line separator in a line", "Faunae\u2028SARL", Line, 1, 200, "", ErrControl, "one line"},
		{"a right-to-left override", "facture_\u202Efdp.exe", Line, 1, 200, "", ErrControl, "bidirectional"},
		{"a bidirectional isolate", "avis \u2066favorable\u2069", Multiline, 1, 200, "", ErrControl, "bidirectional"},
		{"25 zero-width spaces are no purpose", strings.Repeat("\u200b", 25), Multiline, 20, 4000, "", ErrTooShort, "0 given"},
		{"zero-width spaces between letters do not count", strings.Repeat("a\u200b", 19), Multiline, 20, 4000, "", ErrTooShort, "19 given"},
		{"spaces do not count", "a b c d e f g h i j k l m n o p q r s", Multiline, 20, 4000, "", ErrTooShort, "19 given"},
		{"combining accents do not count apart from their letter", strings.Repeat("e\u0301", 19), Multiline, 20, 4000, "", ErrTooShort, "19 given"},
		{"a required field left empty", " \u200b ", Line, 1, 200, "", ErrTooShort, "required"},
		{"too long, in bytes", strings.Repeat("é", 101), Line, 1, 200, "", ErrTooLong, "at most 200 bytes (202 given)"},
		{"the maximum is of the cleaned value", "  " + strings.Repeat("a", 10) + "\r\n", Multiline, 1, 10, strings.Repeat("a", 10), nil, ""},
		{"a maximum of 0 accepts only nothing", "a", Line, 0, 0, "", ErrTooLong, "at most 0 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Check(c.in, c.form, c.min, c.max)
			if c.refused == nil {
				if err != nil || got != c.want {
					t.Fatalf("Check(%q) = %q, %v; want %q", c.in, got, err, c.want)
				}
				return
			}
			var e *Error
			if !errors.Is(err, c.refused) || !errors.As(err, &e) || !strings.Contains(err.Error(), c.says) || got != "" {
				t.Fatalf("Check(%q) = %q, %v; want %v saying %q", c.in, got, err, c.refused, c.says)
			}
		})
	}
}

func TestGraphic(t *testing.T) {
	for in, want := range map[string]int{
		"":                    0,
		"Étude":               5,
		"l'étude, 2024 !":     13,
		"\u200b\u200c\u2060 ": 0,
		"e\u0301":             1,
		"€ ± ©":               3,
		"🦉":                   1,
	} {
		if got := Graphic(in); got != want {
			t.Errorf("Graphic(%q) = %d, want %d", in, got, want)
		}
	}
}
