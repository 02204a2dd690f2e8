package rule

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"sinp.occitanie.fr/platform/pole"
	"sinp.occitanie.fr/platform/text"
	"sinp.occitanie.fr/services/intake/perimeter"
)

// Poles are the codes of the six thematic pôles (platform/pole). They
// mirror the rows of oc_dat.pole in the observation store (see
// observations/seed), which is the data that defines them; the list exists
// only to refuse an unknown code at the door, and must change when that
// table does.
var Poles = pole.Codes

// IsPole reports whether code is one of Poles.
func IsPole(code string) bool { return slices.Contains(Poles, code) }

// Departements are the INSEE codes of the thirteen départements of
// Occitanie, the only ones a structure's geographic scope may name.
var Departements = []string{"09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"}

// IsDepartement reports whether code is one of Departements.
func IsDepartement(code string) bool { return slices.Contains(Departements, code) }

// Bounds on what a person types, so that a row stays a row.
const (
	MaxName     = 300
	MaxType     = 100
	MaxContact  = 200
	MaxPhone    = 40
	MaxRemarks  = 4000
	MaxArgument = 4000
	// MaxScopeVertices bounds a geographic scope drawn as a geometry.
	MaxScopeVertices = 20000
)

// Contact is whom to write to at a structure.
type Contact struct {
	Name, Email, Phone string
}

// Profile is what the registry says of a structure besides its status.
type Profile struct {
	Name string
	// Type, e.g. bureau d'études, association, collectivité: free text.
	Type string
	// Poles is the taxonomic scope (pôle codes); empty for all.
	Poles []string
	// Departements and ScopeWKT are the geographic scope: département
	// codes and/or a surface in EPSG:2154; both empty for the region.
	Departements []string
	ScopeWKT     string
	Contact      Contact
}

// Violation is one field of a profile that is wrong, named as the
// Structure message spells it ("name", "poles[2]", "contact.email").
type Violation struct {
	Field   string
	Problem string
}

// Checked returns the profile cleaned (spaces trimmed, codes deduplicated
// and in their canonical order, the scope geometry as a Lambert-93
// MULTIPOLYGON) and what is wrong with it. requireType is for a new
// structure: the registry's import knows no type, a person creating one
// does.
func (p Profile) Checked(requireType bool) (Profile, []Violation) {
	var bad []Violation
	fail := func(field, format string, args ...any) {
		bad = append(bad, Violation{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	line := func(field, v string, maxBytes int, required string) string {
		minGraphic := 0
		if required != "" {
			minGraphic = 1
		}
		v, err := text.Check(v, text.Line, minGraphic, maxBytes)
		switch {
		case errors.Is(err, text.ErrTooShort):
			fail(field, "%s", required)
		case err != nil:
			fail(field, "%v", err)
		}
		return v
	}
	p.Name = line("name", p.Name, MaxName, "required: the structure's name")
	typeRequired := ""
	if requireType {
		typeRequired = "required: e.g. bureau d'études, association, collectivité, établissement public, organisme de recherche"
	}
	p.Type = line("type", p.Type, MaxType, typeRequired)

	seen := map[string]bool{}
	for i, code := range p.Poles {
		code = strings.ToLower(strings.TrimSpace(code))
		if !IsPole(code) {
			fail(fmt.Sprintf("poles[%d]", i), "unknown pôle %q: the pôles are %s", Clip(code), strings.Join(Poles, ", "))
		}
		seen[code] = true
	}
	p.Poles = canonical(Poles, seen)

	seen = map[string]bool{}
	for i, code := range p.Departements {
		code = strings.TrimSpace(code)
		if !IsDepartement(code) {
			fail(fmt.Sprintf("departements[%d]", i), "%q is not a département of Occitanie: want one of %s", Clip(code), strings.Join(Departements, " "))
		}
		seen[code] = true
	}
	p.Departements = canonical(Departements, seen)

	if wkt := strings.TrimSpace(p.ScopeWKT); wkt != "" {
		in := perimeter.Input{Format: perimeter.WKT, Text: wkt, SRID: perimeter.SRIDLambert93}
		if len(wkt) >= 5 && strings.EqualFold(wkt[:5], "SRID=") {
			in.SRID = 0
		}
		scope, err := perimeter.Parse(in, perimeter.Limits{MaxVertices: MaxScopeVertices})
		if perr, ok := err.(*perimeter.Error); ok {
			for _, v := range perr.Violations {
				fail("scope_wkt", "%s", v.Description)
			}
		} else if err != nil {
			fail("scope_wkt", "%v", err)
		}
		p.ScopeWKT = scope.WKT
	}

	c := &p.Contact
	c.Name = line("contact.name", c.Name, MaxContact, "")
	c.Email, c.Phone = strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone)
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > MaxContact {
			fail("contact.email", "%q is not an e-mail address (want name@domain)", Clip(c.Email))
		}
	}
	if c.Phone != "" {
		ok := len(c.Phone) <= MaxPhone && strings.ContainsAny(c.Phone, "0123456789")
		for _, r := range c.Phone {
			ok = ok && (unicode.IsDigit(r) || strings.ContainsRune(" +-.()", r))
		}
		if !ok {
			fail("contact.phone", "%q is not a telephone number (digits, spaces, + - . ( ); at most %d characters)", Clip(c.Phone), MaxPhone)
		}
	}
	return p, bad
}

// canonical is the codes of all that are in seen, in all's order.
func canonical(all []string, seen map[string]bool) []string {
	var out []string
	for _, code := range all {
		if seen[code] {
			out = append(out, code)
		}
	}
	return out
}

// Clip shortens what is echoed back in an error (40 bytes, whole
// characters).
func Clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
