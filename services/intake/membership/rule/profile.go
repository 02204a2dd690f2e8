package rule

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"sinp.occitanie.fr/services/intake/perimeter"
)

// Poles are the codes of the six thematic pôles. They mirror the rows of
// oc_dat.pole in the observation store (see observations/seed), which is
// the data that defines them; this copy exists only to refuse an unknown
// code at the door, and must change when that table does.
var Poles = []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}

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
	p.Name = strings.TrimSpace(p.Name)
	p.Type = strings.TrimSpace(p.Type)
	switch {
	case p.Name == "":
		fail("name", "required: the structure's name")
	default:
		text(fail, "name", p.Name, MaxName)
	}
	if p.Type == "" && requireType {
		fail("type", "required: e.g. bureau d'études, association, collectivité, établissement public, organisme de recherche")
	}
	text(fail, "type", p.Type, MaxType)

	seen := map[string]bool{}
	for i, code := range p.Poles {
		code = strings.ToLower(strings.TrimSpace(code))
		if !IsPole(code) {
			fail(fmt.Sprintf("poles[%d]", i), "unknown pôle %q: the pôles are %s", clip(code), strings.Join(Poles, ", "))
		}
		seen[code] = true
	}
	p.Poles = canonical(Poles, seen)

	seen = map[string]bool{}
	for i, code := range p.Departements {
		code = strings.TrimSpace(code)
		if !IsDepartement(code) {
			fail(fmt.Sprintf("departements[%d]", i), "%q is not a département of Occitanie: want one of %s", clip(code), strings.Join(Departements, " "))
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
	c.Name, c.Email, c.Phone = strings.TrimSpace(c.Name), strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone)
	text(fail, "contact.name", c.Name, MaxContact)
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > MaxContact {
			fail("contact.email", "%q is not an e-mail address (want name@domain)", clip(c.Email))
		}
	}
	if c.Phone != "" {
		ok := len(c.Phone) <= MaxPhone && strings.ContainsAny(c.Phone, "0123456789")
		for _, r := range c.Phone {
			ok = ok && (unicode.IsDigit(r) || strings.ContainsRune(" +-.()", r))
		}
		if !ok {
			fail("contact.phone", "%q is not a telephone number (digits, spaces, + - . ( ); at most %d characters)", clip(c.Phone), MaxPhone)
		}
	}
	return p, bad
}

// text refuses what a person would not have typed: invalid UTF-8,
// control characters, more than max bytes.
func text(fail func(field, format string, args ...any), field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		fail(field, "not UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		fail(field, "contains a control character (a line break?)")
	case len(s) > max:
		fail(field, "%d bytes long; at most %d", len(s), max)
	}
}

// CheckRemarks checks free text that may span lines (remarks, arguments).
func CheckRemarks(s string, max int) string {
	switch {
	case !utf8.ValidString(s):
		return "not UTF-8"
	case len(s) > max:
		return fmt.Sprintf("%d bytes long; at most %d", len(s), max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		return "contains a control character"
	}
	return ""
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

// clip shortens what is echoed back in an error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
