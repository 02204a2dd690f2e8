package request

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"sinp.occitanie.fr/platform/grpcserver"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/perimeter"
)

// Limits bound what a request may ask.
type Limits struct {
	Perimeter perimeter.Limits
	// At most this many geographic objects in a perimeter given as a list.
	MaxAreas int
	// The purpose: at least MinPurpose characters, at most MaxPurpose bytes.
	MinPurpose, MaxPurpose int
	MaxCdRefs              int
	// Requests a requester may have open at once.
	MaxOpen int
}

// DefaultLimits are those of the configuration's defaults.
func DefaultLimits() Limits {
	return Limits{Perimeter: perimeter.DefaultLimits(), MaxAreas: 500, MinPurpose: 20, MaxPurpose: 4000, MaxCdRefs: 1000, MaxOpen: 5}
}

// Poles are the pôle codes a scope may name (oc_dat.pole).
var Poles = []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}

// Area kinds a perimeter list may name, and the form of their codes.
var areaCodes = map[string]*regexp.Regexp{
	"commune":        regexp.MustCompile(`^(\d{5}|2[AB]\d{3})$`),
	"departement":    regexp.MustCompile(`^(\d{2}|2[AB]|97\d)$`),
	"maille10":       regexp.MustCompile(`^10kmL93E\d{3}N\d{3}$`),
	"espace_naturel": regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Submission is a request as its requester gives it.
type Submission struct {
	Declared        *intakev1.DeclaredRequester
	Purpose         string
	Perimeter       *intakev1.PerimeterInput
	Scope           *eventsv1.TaxonomicScope
	Period          *eventsv1.Period
	Options         *eventsv1.ExtractionOptions
	CharterAccepted bool
}

// Checked is a submission whose every field is valid on its own; the
// codes the store must know are checked next (CheckScope).
type Checked struct {
	Purpose   string
	Perimeter *eventsv1.Perimeter
	AreaKm2   float64
	Scope     *eventsv1.TaxonomicScope
	Period    *eventsv1.Period
	Options   *eventsv1.ExtractionOptions
}

// Check validates a submission on its own: every problem is a violation
// naming its field. signedIn says whether the requester has an account
// (then it must not declare itself); today is the deployment's date.
func Check(s Submission, signedIn bool, today time.Time, lim Limits) (Checked, []grpcserver.Violation) {
	var bad []grpcserver.Violation
	add := func(field, format string, args ...any) {
		bad = append(bad, grpcserver.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	c := Checked{Purpose: strings.TrimSpace(s.Purpose)}

	switch d := s.Declared; {
	case signedIn && d != nil && (d.Name != "" || d.Email != "" || d.StructureName != ""):
		add("declared", "a signed-in requester is known by its account and the registry: leave it empty")
	case !signedIn:
		if strings.TrimSpace(d.GetName()) == "" {
			add("declared.name", "required: who asks")
		}
		if addr, err := mail.ParseAddress(strings.TrimSpace(d.GetEmail())); err != nil || addr.Address != strings.TrimSpace(d.GetEmail()) {
			add("declared.email", "an email address like nom@structure.fr, to follow the request")
		}
		if strings.TrimSpace(d.GetStructureName()) == "" {
			add("declared.structure_name", "required: the structure the data is for")
		}
		for field, v := range map[string]string{"declared.name": d.GetName(), "declared.email": d.GetEmail(),
			"declared.structure_name": d.GetStructureName(), "declared.structure_type": d.GetStructureType()} {
			if len(v) > 200 {
				add(field, "at most 200 bytes")
			}
		}
	}

	if n := utf8.RuneCountInString(c.Purpose); n < lim.MinPurpose {
		add("purpose", "describe the study the data is for, in %d characters at least (%d given)", lim.MinPurpose, n)
	} else if len(c.Purpose) > lim.MaxPurpose {
		add("purpose", "at most %d bytes", lim.MaxPurpose)
	}
	if !s.CharterAccepted {
		add("charter_accepted", "the charter of use of SINP data must be accepted")
	}

	c.Perimeter, c.AreaKm2 = checkPerimeter(s.Perimeter, lim, add)
	c.Scope = checkScope(s.Scope, lim, add)
	c.Period = checkPeriod(s.Period, today, add)

	c.Options = &eventsv1.ExtractionOptions{AttachedGeometry: eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE}
	if o := s.Options; o != nil {
		c.Options.BufferByPrecision, c.Options.SplitByGeometryType = o.BufferByPrecision, o.SplitByGeometryType
		switch o.AttachedGeometry {
		case eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_UNSPECIFIED, eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE:
			c.Options.AttachedGeometry = eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE
		case eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE:
			c.Options.AttachedGeometry = o.AttachedGeometry
		default:
			add("options.attached_geometry", "none or most_precise")
		}
	}
	return c, bad
}

func checkPerimeter(in *intakev1.PerimeterInput, lim Limits, add func(string, string, ...any)) (*eventsv1.Perimeter, float64) {
	switch shape := in.GetShape().(type) {
	case *intakev1.PerimeterInput_Wkt, *intakev1.PerimeterInput_Geojson:
		pin := perimeter.Input{Format: perimeter.WKT, Text: in.GetWkt(), SRID: int(in.GetSrid())}
		if _, ok := shape.(*intakev1.PerimeterInput_Geojson); ok {
			pin = perimeter.Input{Format: perimeter.GeoJSON, Text: in.GetGeojson(), SRID: int(in.GetSrid())}
		}
		p, err := perimeter.Parse(pin, lim.Perimeter)
		if err != nil {
			var perr *perimeter.Error
			if errorsAs(err, &perr) {
				for _, v := range perr.Violations {
					add(v.Field, "%s", v.Description)
				}
			} else {
				add("perimeter", "%v", err)
			}
			return nil, 0
		}
		return &eventsv1.Perimeter{Wkt: p.WKT, SubmittedSrid: int32(p.SubmittedSRID)}, p.AreaKm2
	case *intakev1.PerimeterInput_Areas:
		areas := shape.Areas.GetAreas()
		if len(areas) == 0 {
			add("perimeter.areas", "at least one commune, département, 10 km cell or natural area")
			return nil, 0
		}
		if len(areas) > lim.MaxAreas {
			add("perimeter.areas", "at most %d geographic objects (%d given): use a geometry instead", lim.MaxAreas, len(areas))
			return nil, 0
		}
		out := &eventsv1.Perimeter{}
		seen := map[string]bool{}
		for i, a := range areas {
			kind, code := strings.TrimSpace(a.GetKind()), strings.TrimSpace(a.GetCode())
			re, ok := areaCodes[kind]
			switch {
			case !ok:
				add(fmt.Sprintf("perimeter.areas[%d].kind", i), "%q: want commune, departement, maille10 or espace_naturel", kind)
			case !re.MatchString(code):
				add(fmt.Sprintf("perimeter.areas[%d].code", i), "%q is not a %s code (%s)", code, kind, example(kind))
			case !seen[kind+"/"+code]:
				seen[kind+"/"+code] = true
				out.Areas = append(out.Areas, &eventsv1.AreaRef{Kind: kind, Code: code})
			}
		}
		return out, 0
	}
	add("perimeter", "required: a geometry (wkt or geojson) or a list of geographic objects (areas)")
	return nil, 0
}

func example(kind string) string {
	switch kind {
	case "commune":
		return "the INSEE code, like 31555"
	case "departement":
		return "like 31"
	case "maille10":
		return "like 10kmL93E057N627"
	}
	return "letters, digits, - and _"
}

func checkScope(s *eventsv1.TaxonomicScope, lim Limits, add func(string, string, ...any)) *eventsv1.TaxonomicScope {
	out := &eventsv1.TaxonomicScope{}
	for i, p := range s.GetPoles() {
		p = strings.TrimSpace(p)
		if !slices.Contains(Poles, p) {
			add(fmt.Sprintf("scope.poles[%d]", i), "unknown pôle %q (known: %s)", p, strings.Join(Poles, ", "))
			continue
		}
		if !slices.Contains(out.Poles, p) {
			out.Poles = append(out.Poles, p)
		}
	}
	if len(s.GetCdRefs()) > lim.MaxCdRefs {
		add("scope.cd_refs", "at most %d taxa (%d given): name pôles instead", lim.MaxCdRefs, len(s.GetCdRefs()))
		return out
	}
	for i, r := range s.GetCdRefs() {
		if r <= 0 || r > 99_999_999 {
			add(fmt.Sprintf("scope.cd_refs[%d]", i), "%d is not a TAXREF cd_ref", r)
			continue
		}
		if !slices.Contains(out.CdRefs, r) {
			out.CdRefs = append(out.CdRefs, r)
		}
	}
	slices.Sort(out.Poles)
	slices.Sort(out.CdRefs)
	return out
}

func checkPeriod(p *eventsv1.Period, today time.Time, add func(string, string, ...any)) *eventsv1.Period {
	out := &eventsv1.Period{}
	if p == nil {
		return out
	}
	dates := map[string]time.Time{}
	for _, f := range []struct{ field, v string }{{"period.from", p.From}, {"period.to", p.To}} {
		v := strings.TrimSpace(f.v)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		switch {
		case err != nil || !dateRe.MatchString(v):
			add(f.field, "%q: want a date like 2015-06-30", v)
			continue
		case t.Year() < 1800:
			add(f.field, "%s: before 1800", v)
			continue
		case t.After(today):
			add(f.field, "%s is in the future (today is %s)", v, today.Format(time.DateOnly))
			continue
		}
		dates[f.field] = t
	}
	from, okFrom := dates["period.from"]
	to, okTo := dates["period.to"]
	if okFrom && okTo && from.After(to) {
		add("period", "reversed: from %s is after to %s", p.From, p.To)
	}
	if okFrom {
		out.From = from.Format(time.DateOnly)
	}
	if okTo {
		out.To = to.Format(time.DateOnly)
	}
	return out
}

func errorsAs(err error, target **perimeter.Error) bool { return errors.As(err, target) }
