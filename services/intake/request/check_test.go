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
