package extraction

import (
	"errors"
	"fmt"
	"regexp"
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
	F2Entitled      bool
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
	s := Spec{
		Reference:       ev.GetReference(),
		PerimeterWKT:    ev.GetPerimeter().GetWkt(),
		Poles:           ev.GetScope().GetPoles(),
		CdRefs:          ev.GetScope().GetCdRefs(),
		From:            ev.GetPeriod().GetFrom(),
		To:              ev.GetPeriod().GetTo(),
		Buffer:          ev.GetOptions().GetBufferByPrecision(),
		SplitByGeometry: ev.GetOptions().GetSplitByGeometryType(),
		F2Entitled:      ev.GetF2Entitled(),
		Requester:       ev.GetRequester().GetStructureName(),
		Purpose:         ev.GetPurpose(),
		Stamp:           ev.GetMeta().GetOccurredAt().AsTime(),
	}
	if ev.GetOptions().GetAttachedGeometry() == eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE {
		s.Attached = AttachedMostPrecise
	}
	for _, a := range ev.GetPerimeter().GetAreas() {
		s.Areas = append(s.Areas, AreaRef{Kind: a.GetKind(), Code: a.GetCode()})
	}
	// Only adherents receive F2, whatever the event says.
	if ev.GetRequester().GetMembership() != eventsv1.Membership_MEMBERSHIP_ADHERENT {
		s.F2Entitled = false
	}
	return s, s.Validate()
}

// Validate checks the spec; errors name the field.
func (s Spec) Validate() error {
	var errs []error
	if !referenceRe.MatchString(s.Reference) {
		errs = append(errs, fmt.Errorf("reference %q: letters, digits, - and _ only, 1 to 64", s.Reference))
	}
	if s.PerimeterWKT == "" && len(s.Areas) == 0 {
		errs = append(errs, errors.New("perimeter: neither a geometry nor areas"))
	}
	for _, a := range s.Areas {
		switch a.Kind {
		case KindCommune, KindMaille10, KindDepartement, "espace_naturel":
		default:
			errs = append(errs, fmt.Errorf("perimeter.areas: unknown kind %q", a.Kind))
		}
		if !codeRe.MatchString(a.Code) {
			errs = append(errs, fmt.Errorf("perimeter.areas: bad code %q", a.Code))
		}
	}
	for _, p := range s.Poles {
		if !codeRe.MatchString(p) {
			errs = append(errs, fmt.Errorf("scope.poles: bad pôle code %q", p))
		}
	}
	for _, d := range []struct{ name, v string }{{"period.from", s.From}, {"period.to", s.To}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil || !dateRe.MatchString(d.v) {
			errs = append(errs, fmt.Errorf("%s %q: want YYYY-MM-DD", d.name, d.v))
		}
	}
	if s.From != "" && s.To != "" && s.From > s.To {
		errs = append(errs, fmt.Errorf("period: from %s is after to %s", s.From, s.To))
	}
	return errors.Join(errs...)
}
