package extraction

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// AttachedPolicy is the geometry given to observations without their own.
type AttachedPolicy int

const (
	// AttachedNone writes no WKT for attached observations.
	AttachedNone AttachedPolicy = iota
	// AttachedMostPrecise writes the geometry of the most precise object at
	// which the attachment is unique (commune, then cell, then département).
	AttachedMostPrecise
)

// Spec is what to extract for one request.
type Spec struct {
	Reference string
	// Perimeter in EPSG:2154 as WKT; empty when given by Areas only.
	PerimeterWKT string
	Areas        []AreaRef
	Poles        []string
	CdRefs       []int64
	// From and To bound the observation dates (YYYY-MM-DD, inclusive).
	From, To string
	// Buffer selects observations within their precision of the perimeter.
	Buffer          bool
	Attached        AttachedPolicy
	SplitByGeometry bool
	// Excel starts each CSV file (partitions and descriptor) with a UTF-8
	// byte order mark, which Excel needs to read accents right; GDAL, QGIS
	// and most tools do without, and the default has none.
	Excel      bool
	F2Entitled bool
	// Requester and purpose, for the readme.
	Requester string
	Purpose   string
	// Stamp is the time written on every file of the archives (the
	// instruction time), so that a run repeated later gives identical bytes.
	Stamp time.Time
}

var (
	referenceRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	codeRe      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	dateRe      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// SpecFromEvent reads the spec out of a RequestInstructed event.
func SpecFromEvent(ev *eventsv1.RequestInstructed) (Spec, error) {
	s := SpecFrom(ev.GetPerimeter(), ev.GetScope(), ev.GetPeriod(), ev.GetOptions())
	s.Reference = ev.GetReference()
	s.Requester = ev.GetRequester().GetStructureName()
	s.Purpose = ev.GetPurpose()
	s.Stamp = ev.GetMeta().GetOccurredAt().AsTime()
	// Only adherents receive F2, whatever the event says.
	s.F2Entitled = ev.GetF2Entitled() && ev.GetRequester().GetMembership() == eventsv1.Membership_MEMBERSHIP_ADHERENT
	return s, s.Validate()
}

// SpecFrom reads what to select and how to write it out of the messages a
// request carries (RequestInstructed, EstimateExtractionRequest). The
// caller sets the reference, the stamp and the entitlement, and validates.
func SpecFrom(p *eventsv1.Perimeter, scope *eventsv1.TaxonomicScope, period *eventsv1.Period, o *eventsv1.ExtractionOptions) Spec {
	s := Spec{
		PerimeterWKT:    p.GetWkt(),
		Poles:           scope.GetPoles(),
		CdRefs:          scope.GetCdRefs(),
		From:            period.GetFrom(),
		To:              period.GetTo(),
		Buffer:          o.GetBufferByPrecision(),
		SplitByGeometry: o.GetSplitByGeometryType(),
		Excel:           o.GetExcel(),
	}
	if o.GetAttachedGeometry() == eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE {
		s.Attached = AttachedMostPrecise
	}
	for _, a := range p.GetAreas() {
		s.Areas = append(s.Areas, AreaRef{Kind: a.GetKind(), Code: a.GetCode()})
	}
	return s
}

// FieldError is a fault of one field of a request, named as the request's
// messages name it (perimeter.wkt, perimeter.areas[2].code, period.from),
// so that the API can point at the field and ExtractionFailed says which.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// FieldErrors are the field errors err carries, wrapped or joined.
func FieldErrors(err error) []*FieldError {
	switch e := err.(type) {
	case nil:
		return nil
	case *FieldError:
		return []*FieldError{e}
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, c := range e.Unwrap() {
			out = append(out, FieldErrors(c)...)
		}
		return out
	case interface{ Unwrap() error }:
		return FieldErrors(e.Unwrap())
	}
	return nil
}

// AreaKinds are the kinds of geographic object a perimeter may list.
var AreaKinds = []string{KindCommune, KindMaille10, KindDepartement, KindEspaceNaturel}

// ValidCode reports whether s may be a pôle or area code: the extraction
// inlines codes in its SQL, so it takes no other characters.
func ValidCode(s string) bool { return codeRe.MatchString(s) }

// Validate checks the spec; errors are FieldErrors.
func (s Spec) Validate() error {
	var errs []error
	if !referenceRe.MatchString(s.Reference) {
		errs = append(errs, fieldError("reference", "%q: letters, digits, - and _ only, 1 to 64", s.Reference))
	}
	if s.PerimeterWKT == "" && len(s.Areas) == 0 {
		errs = append(errs, fieldError("perimeter", "neither a geometry nor areas"))
	}
	for i, a := range s.Areas {
		if !slices.Contains(AreaKinds, a.Kind) {
			errs = append(errs, fieldError(fmt.Sprintf("perimeter.areas[%d].kind", i), "unknown kind %q (want %s)", a.Kind, strings.Join(AreaKinds, ", ")))
		}
		if !ValidCode(a.Code) {
			errs = append(errs, fieldError(fmt.Sprintf("perimeter.areas[%d].code", i), "bad code %q", a.Code))
		}
	}
	for i, p := range s.Poles {
		if !ValidCode(p) {
			errs = append(errs, fieldError(fmt.Sprintf("scope.poles[%d]", i), "bad pôle code %q", p))
		}
	}
	dates := true
	for _, d := range []struct{ name, v string }{{"period.from", s.From}, {"period.to", s.To}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil || !dateRe.MatchString(d.v) {
			errs = append(errs, fieldError(d.name, "%q: want YYYY-MM-DD", d.v))
			dates = false
		}
	}
	if dates && s.From != "" && s.To != "" && s.From > s.To {
		errs = append(errs, fieldError("period", "from %s is after to %s", s.From, s.To))
	}
	return errors.Join(errs...)
}
