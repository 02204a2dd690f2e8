package rule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verdict is what a pôle says of its F2.
type Verdict int

const (
	Favorable   Verdict = 1
	Unfavorable Verdict = 2
)

func (v Verdict) String() string {
	switch v {
	case 0:
		return "none"
	case Favorable:
		return "favorable"
	case Unfavorable:
		return "unfavorable"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// ParseVerdict reads "favorable" or "unfavorable".
func ParseVerdict(s string) (Verdict, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "favorable":
		return Favorable, nil
	case "unfavorable":
		return Unfavorable, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrBadVerdict, s)
}

// Opinion is one avis of a pôle on its F2, as recorded.
type Opinion struct {
	Pole          string
	Verdict       Verdict
	At            time.Time
	Author        string
	Justification string // required when unfavorable; communicated to the requester
}

// Facts is everything known about one extraction's review.
type Facts struct {
	CompletedAt    time.Time // E
	Entitled       bool      // adherent: has F2; pre-adherents and non-adherents get F1 only
	SensitivePoles []string  // pôles with sensitive rows in the extract, repeats allowed
	Opinions       []Opinion // everything recorded so far, any order
}

// Poles are the pôles under review: the distinct pôles with sensitive rows,
// sorted, and none when the requester is not entitled to F2.
func (f Facts) Poles() []string {
	if !f.Entitled || len(f.SensitivePoles) == 0 {
		return nil
	}
	poles := slices.Clone(f.SensitivePoles)
	slices.Sort(poles)
	return slices.Compact(poles)
}

// Why an opinion is refused. Callers test them with errors.Is; the reasons
// Decide and Accept return wrap them with the detail.
var (
	ErrSettled               = errors.New("rule: F2 already settled")
	ErrNotUnderReview        = errors.New("rule: pôle not under review")
	ErrJustificationRequired = errors.New("rule: an unfavorable opinion needs a justification")
	ErrBeforeReview          = errors.New("rule: opinion before the extraction completed")
	ErrBadVerdict            = errors.New("rule: verdict must be favorable or unfavorable")
)
