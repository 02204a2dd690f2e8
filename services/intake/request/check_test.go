package request

import (
	"strconv"
	"strings"
	"testing"
	"time"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/perimeter"
)

var today = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

const toulouse = "POLYGON((570000 6270000,580000 6270000,580000 6280000,570000 6280000,570000 6270000))"

func good() Submission {
	return Submission{
		Purpose:         "Étude d'impact d'un projet de centrale photovoltaïque au sol",
		Perimeter:       &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Wkt{Wkt: toulouse}, Srid: 2154},
		Scope:           &eventsv1.TaxonomicScope{Poles: []string{"oiseaux", "flore"}},
		Period:          &eventsv1.Period{From: "2010-01-01", To: "2025-12-31"},
		CharterAccepted: true,
	}
}

func declared() *intakev1.DeclaredRequester {
	return &intakev1.DeclaredRequester{Name: "Jeanne Martin", Email: "jeanne.martin@ecologie-conseil.fr", StructureName: "Écologie Conseil"}
}

func areas(a ...*eventsv1.AreaRef) *intakev1.PerimeterInput {
	return &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Areas{Areas: &intakev1.AreaList{Areas: a}}}
}

// Each bad submission is refused naming the field at fault, with words the
// requester can act on.
func TestABadRequestIsRefusedNamingTheField(t *testing.T) {
	lim := DefaultLimits()
	lim.Perimeter = perimeter.Limits{MaxBytes: 4096, MaxVertices: 50, MaxAreaKm2: 500}
	for _, c := range []struct {
		name     string
		signedIn bool
		edit     func(*Submission)
		field    string
		says     string
	}{
		{"WKT that does not parse", true, func(s *Submission) { s.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((0 0, 1 1"} }, "perimeter.wkt", "line 1"},
		{"GeoJSON that does not parse", true, func(s *Submission) {
			s.Perimeter = &intakev1.PerimeterInput{Shape: &intakev1.PerimeterInput_Geojson{Geojson: `{"type": "Polygon", "coordinates": [[[1.4, 43.6],`}}
		}, "perimeter.geojson", ""},
		{"self-intersecting", true, func(s *Submission) {
			s.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((570000 6270000,580000 6280000,580000 6270000,570000 6280000,570000 6270000))"}
		}, "perimeter.wkt", "crosses itself"},
		{"unknown CRS", true, func(s *Submission) { s.Perimeter.Srid = 3857 }, "perimeter.srid", "EPSG:3857"},
		{"too many vertices", true, func(s *Submission) {
			var pts []string
			for i := range 60 {
				pts = append(pts, strconv.Itoa(570000+i*10)+" 6270000")
			}
			pts = append(pts, "575000 6280000", "570000 6270000")
			s.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((" + strings.Join(pts, ",") + "))"}
		}, "perimeter.wkt", "positions"},
		{"larger than allowed", true, func(s *Submission) {
			s.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((500000 6200000,600000 6200000,600000 6300000,500000 6300000,500000 6200000))"}
		}, "perimeter.wkt", "km²"},
		{"too long", true, func(s *Submission) {
			s.Perimeter.Shape = &intakev1.PerimeterInput_Wkt{Wkt: "POLYGON((" + strings.Repeat("570000 6270000,", 400) + "))"}
		}, "perimeter.wkt", "long"},
		{"no perimeter", true, func(s *Submission) { s.Perimeter = nil }, "perimeter", "required"},
		{"an unknown area kind", true, func(s *Submission) { s.Perimeter = areas(&eventsv1.AreaRef{Kind: "canton", Code: "3101"}) }, "perimeter.areas[0].kind", "canton"},
		{"a malformed commune code", true, func(s *Submission) { s.Perimeter = areas(&eventsv1.AreaRef{Kind: "commune", Code: "Toulouse"}) }, "perimeter.areas[0].code", "INSEE"},
		{"a malformed grid cell", true, func(s *Submission) {
			s.Perimeter = areas(&eventsv1.AreaRef{Kind: "departement", Code: "31"}, &eventsv1.AreaRef{Kind: "maille10", Code: "E057N627"})
		}, "perimeter.areas[1].code", "10kmL93"},
		{"an unknown pôle", true, func(s *Submission) { s.Scope.Poles = []string{"oiseaux", "lichens"} }, "scope.poles[1]", "lichens"},
		{"a cd_ref that cannot be one", true, func(s *Submission) { s.Scope.CdRefs = []int64{-3} }, "scope.cd_refs[0]", "cd_ref"},
		{"a reversed period", true, func(s *Submission) { s.Period = &eventsv1.Period{From: "2020-01-01", To: "2019-01-01"} }, "period", "reversed"},
		{"a period in the future", true, func(s *Submission) { s.Period = &eventsv1.Period{To: "2027-06-01"} }, "period.to", "future"},
		{"a date that is not one", true, func(s *Submission) { s.Period = &eventsv1.Period{From: "2020-02-30"} }, "period.from", "date"},
		{"the charter not accepted", true, func(s *Submission) { s.CharterAccepted = false }, "charter_accepted", "charter"},
		{"a purpose too short", true, func(s *Submission) { s.Purpose = "étude" }, "purpose", "20 characters"},
		{"a purpose of zero-width spaces", true, func(s *Submission) { s.Purpose = strings.Repeat("\u200b", 25) }, "purpose", "20 characters"},
		{"a purpose padded with spaces", true, func(s *Submission) { s.Purpose = "a b c d e f g h i j k l m n o p q r s" }, "purpose", "19 given"},
		{"a NUL in the purpose", true, func(s *Submission) { s.Purpose = "Étude\x00 d'impact d'un parc photovoltaïque" }, "purpose", "NUL"},
		{"a purpose too long", true, func(s *Submission) { s.Purpose = strings.Repeat("é", 2001) }, "purpose", "4000 bytes"},
		{"without an account, a forged header in the name", false, func(s *Submission) {
			s.Declared = declared()
			s.Declared.Name = "Jeanne\r\nX-Injected: 1\x1b[31m"
		}, "declared.name", "one line"},
		{"without an account, an escape sequence in the structure", false, func(s *Submission) {
			s.Declared = declared()
			s.Declared.StructureName = "Écologie \x1b[31mConseil"
		}, "declared.structure_name", "control"},
		{"without an account, a name of zero-width spaces", false, func(s *Submission) { s.Declared = declared(); s.Declared.Name = "\u200b\u200b" }, "declared.name", "required"},
		{"without an account, a right-to-left override in the type", false, func(s *Submission) {
			s.Declared = declared()
			s.Declared.StructureType = "bureau \u202Eexe"
		}, "declared.structure_type", "bidirectional"},
		{"without an account, an email with a line break", false, func(s *Submission) {
			s.Declared = declared()
			s.Declared.Email = "jeanne@ecologie-conseil.fr\nBcc: x@y.fr"
		}, "declared.email", "email"},
		{"a signed-in requester declaring itself", true, func(s *Submission) { s.Declared = declared() }, "declared", "account"},
		{"without an account, no name", false, func(s *Submission) { s.Declared = declared(); s.Declared.Name = "" }, "declared.name", "required"},
		{"without an account, a bad email", false, func(s *Submission) { s.Declared = declared(); s.Declared.Email = "jeanne at home" }, "declared.email", "email"},
		{"without an account, no structure", false, func(s *Submission) { s.Declared = declared(); s.Declared.StructureName = " " }, "declared.structure_name", "structure"},
		{"an unknown attached policy", true, func(s *Submission) {
			s.Options = &eventsv1.ExtractionOptions{AttachedGeometry: eventsv1.AttachedGeometry(9)}
		}, "options.attached_geometry", "most_precise"},
	} {
		s := good()
		c.edit(&s)
		_, bad := Check(s, c.signedIn, today, lim)
		found := false
		for _, v := range bad {
			if v.Field == c.field && strings.Contains(v.Description, c.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: violations %v, want one on %s saying %q", c.name, bad, c.field, c.says)
		}
	}
}

// A good submission passes and is normalised: pôles sorted, duplicates
// dropped, the perimeter in EPSG:2154, the default attached policy set.
func TestAGoodRequestPassesNormalised(t *testing.T) {
	s := good()
	s.Scope.Poles = []string{"oiseaux", "flore", "oiseaux"}
	c, bad := Check(s, true, today, DefaultLimits())
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	if strings.Join(c.Scope.Poles, ",") != "flore,oiseaux" || !strings.HasPrefix(c.Perimeter.Wkt, "MULTIPOLYGON") ||
		c.Options.AttachedGeometry != eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE || c.AreaKm2 < 99 || c.AreaKm2 > 101 {
		t.Fatalf("%+v", c)
	}
	s = good()
	s.Declared = declared()
	s.Perimeter = areas(&eventsv1.AreaRef{Kind: "commune", Code: "31555"}, &eventsv1.AreaRef{Kind: "commune", Code: "31555"},
		&eventsv1.AreaRef{Kind: "maille10", Code: "10kmL93E057N627"})
	c, bad = Check(s, false, today, DefaultLimits())
	if len(bad) > 0 || len(c.Perimeter.Areas) != 2 {
		t.Fatalf("%v %v", c.Perimeter, bad)
	}
}

// The declared requester and the purpose are kept cleaned: trimmed,
// line breaks one way.
func TestDeclaredTextIsCleaned(t *testing.T) {
	s := good()
	s.Purpose = "  Étude d'impact\r\nd'un parc photovoltaïque\u200b "
	s.Declared = &intakev1.DeclaredRequester{Name: " Jeanne Martin\u00a0", Email: " jeanne.martin@ecologie-conseil.fr ", StructureName: "Écologie Conseil "}
	c, bad := Check(s, false, today, DefaultLimits())
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	if c.Purpose != "Étude d'impact\nd'un parc photovoltaïque" || c.Declared.Name != "Jeanne Martin" ||
		c.Declared.Email != "jeanne.martin@ecologie-conseil.fr" || c.Declared.StructureName != "Écologie Conseil" {
		t.Errorf("cleaned: %q %+v", c.Purpose, c.Declared)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	for _, c := range []struct {
		key         string
		accountLess bool
		ok          bool
	}{
		{"", true, true},
		{"form-1", false, true},
		{"k-1", true, false},
		{"jeanne.martin@ecologie-conseil.fr", true, false}, // guessable, and not the alphabet
		{"3f2a9c4e-8b1d-4f6a-9e2b-7c5d1a0e8f34", true, true},
		{"q8Xv2LmZ0pW7rT4kNc9YbA", true, true}, // 16 random bytes in base64url
		{"q8Xv2LmZ0pW7rT4kNc9Yb", true, false}, // 21
		{strings.Repeat("ab", 16), true, false},
		{"k\x00", false, false},
		{"k 1", false, false},
		{"clé-1", false, false},
		{strings.Repeat("k", MaxKey+1), false, false},
	} {
		if bad := CheckKey(c.key, c.accountLess); (len(bad) == 0) != c.ok || (len(bad) > 0 && bad[0].Field != "idempotency_key") {
			t.Errorf("CheckKey(%q, account-less %v) = %v", c.key, c.accountLess, bad)
		}
	}
}

func TestADecisionsTextIsChecked(t *testing.T) {
	for _, c := range []struct {
		name  string
		d     Decision
		field string // "" when accepted
	}{
		{"an acceptance needs no reason", Decision{Accept: true}, ""},
		{"a rejection says why", Decision{Reason: "hors du périmètre régional"}, ""},
		{"in ten characters at least", Decision{Reason: "imprécise !"}, ""},
		{"spaces do not count", Decision{Reason: "t r o p v a g"}, "reason"},
		{"nor zero-width spaces", Decision{Reason: strings.Repeat("\u200b", 12)}, "reason"},
		{"a NUL", Decision{Reason: "hors\x00 du périmètre régional"}, "reason"},
		{"control characters in the remarks", Decision{Accept: true, Remarks: "vu\x1b[2J"}, "remarks"},
		{"remarks too long", Decision{Accept: true, Remarks: strings.Repeat("a", MaxReason+1)}, "remarks"},
		{"a key that is not one", Decision{Accept: true, Key: "k\n1"}, "idempotency_key"},
	} {
		_, bad := CheckDecision(c.d)
		if c.field == "" && len(bad) > 0 || c.field != "" && (len(bad) != 1 || bad[0].Field != c.field) {
			t.Errorf("%s: %v", c.name, bad)
		}
	}
	d, _ := CheckDecision(Decision{Reason: " hors du\r\npérimètre ", Remarks: "\u200bvu "})
	if d.Reason != "hors du\npérimètre" || d.Remarks != "vu" {
		t.Errorf("cleaned: %q %q", d.Reason, d.Remarks)
	}
	if _, bad := CheckCancellation("plus\u202E besoin"); len(bad) != 1 || bad[0].Field != "reason" {
		t.Errorf("a cancellation's reason with a bidirectional override: %v", bad)
	}
}

// Account-less submissions are counted by address (grpcserver.Subscriber:
// an IPv6 one by its /64), and refused from the AnonymousPerAddress-th within the window
// until the oldest leaves it.
func TestAccountLessSubmissionsAreCountedByAddress(t *testing.T) {
	l := Limits{AnonymousPerAddress: 3, AnonymousWindow: time.Hour}
	if limited, _ := l.Throttled(2, today); limited {
		t.Error("the third submission refused")
	}
	if limited, until := l.Throttled(3, today); !limited || !until.Equal(today.Add(time.Hour)) {
		t.Errorf("the fourth: %v until %s", limited, until)
	}
}

// The requester's output options reach the checked request as asked.
func TestOutputOptionsAreKept(t *testing.T) {
	for _, o := range []*eventsv1.ExtractionOptions{
		{BufferByPrecision: true},
		{SplitByGeometryType: true},
		{Excel: true},
		{BufferByPrecision: true, SplitByGeometryType: true, Excel: true},
	} {
		s := good()
		s.Options = o
		c, bad := Check(s, true, today, DefaultLimits())
		if len(bad) > 0 {
			t.Fatal(bad)
		}
		if c.Options.BufferByPrecision != o.BufferByPrecision || c.Options.SplitByGeometryType != o.SplitByGeometryType || c.Options.Excel != o.Excel {
			t.Errorf("asked %v, checked %v", o, c.Options)
		}
	}
}
