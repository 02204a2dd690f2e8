package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a deliverable stands.
type State int

const (
	Pending State = iota
	Released
	Withheld
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Released:
		return "released"
	case Withheld:
		return "withheld"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Rule is the clause of DESIGN.md that settles a deliverable.
type Rule int

const (
	RuleNone        Rule = iota // still pending
	RuleF1                      // F1 and metadata at E + F1Latency
	RuleFavorable               // F2 at min(F + FavorableLatency, E + Deadline) under a standing favorable opinion
	RuleTacit                   // F2 at E + Deadline without any opinion (tacit consent)
	RuleBatched                 // F2 at E + Deadline in batched mode, not under an unfavorable opinion
	RuleUnfavorable             // F2 withheld for good at E + Deadline under a standing unfavorable opinion
)

func (r Rule) String() string {
	switch r {
	case RuleNone:
		return "none"
	case RuleF1:
		return "f1"
	case RuleFavorable:
		return "favorable"
	case RuleTacit:
		return "tacit"
	case RuleBatched:
		return "batched"
	case RuleUnfavorable:
		return "unfavorable"
	}
	return fmt.Sprintf("rule(%d)", int(r))
}

// Decision is the fate of one deliverable at the instant Decide was asked.
type Decision struct {
	State State
	// Pending: the instant it settles if no new opinion arrives. Settled:
	// the instant it settled (always <= now).
	Due time.Time
	// What happens (pending) or happened (settled) at Due.
	Will     State
	WillRule Rule
	// The rule that settled it; RuleNone while pending.
	Rule Rule
	// Of the standing unfavorable opinion, for the requester's notice.
	Justification string
	// F: the instant the standing favorable opinion began; zero otherwise.
	Favorable time.Time
	// The standing opinion at Due when settled, at now when pending; 0 for none.
	Opinion Verdict
}

// Settled says whether the deliverable is released or withheld for good.
func (d Decision) Settled() bool { return d.State != Pending }

// PoleDecision is the decision on one pôle's F2.
type PoleDecision struct {
	Pole     string
	Decision Decision
}

// Refusal is an opinion of Facts.Opinions that changed nothing, and why.
type Refusal struct {
	Index  int   // into Facts.Opinions
	Reason error // wraps one of the Err sentinels
}

// Outcome is the review of one extraction at one instant.
type Outcome struct {
	F1      Decision
	F2      []PoleDecision // one per pôle under review, sorted by pôle
	Refused []Refusal      // sorted by Index
	// The earliest instant after now at which a deliverable settles if no
	// new opinion arrives; zero when everything is settled. A timer set
	// for it is all the review needs besides new opinions.
	Next time.Time
}

// Settled says whether every deliverable is settled: the request is complete.
func (o Outcome) Settled() bool { return o.Next.IsZero() }

// Pole returns the decision on one pôle's F2, if that pôle is under review.
func (o Outcome) Pole(pole string) (Decision, bool) {
	i, ok := slices.BinarySearchFunc(o.F2, pole, func(d PoleDecision, p string) int { return strings.Compare(d.Pole, p) })
	if !ok {
		return Decision{}, false
	}
	return o.F2[i].Decision, true
}

// standing is a pôle's opinion as it stands between two opinions.
type standing struct {
	verdict       Verdict
	favorable     time.Time // F, set when the opinion became favorable
	justification string
}

// settlement is when and how an F2 settles if its standing opinion no
// longer changes.
func (p Policy) settlement(e time.Time, s standing) (time.Time, State, Rule) {
	deadline := p.DeadlineAt(e)
	switch {
	case s.verdict == Unfavorable:
		return deadline, Withheld, RuleUnfavorable
	case p.Mode == Batched:
		return deadline, Released, RuleBatched
	case s.verdict == Favorable:
		if at := s.favorable.Add(p.FavorableLatency); at.Before(deadline) {
			return at, Released, RuleFavorable
		}
		return deadline, Released, RuleFavorable
	}
	return deadline, Released, RuleTacit
}

// Decide is the review of an extraction at instant now: which deliverables
// are released or withheld, which opinions were refused, and when to look
// again. It reads no clock and does not modify f. Opinions dated after now
// have not happened yet as far as now is concerned: they are neither applied
// nor refused. p is assumed valid (Validate).
func Decide(p Policy, f Facts, now time.Time) Outcome {
	// Instants compare by wall clock only: the deployment's clock is a
	// database row, and a stray monotonic reading must not reorder events.
	now = now.Round(0)
	e := f.CompletedAt.Round(0)

	out := Outcome{F1: Decision{Due: p.F1At(e), Will: Released, WillRule: RuleF1}}
	if !now.Before(out.F1.Due) {
		out.F1.State, out.F1.Rule = Released, RuleF1
	}

	poles := f.Poles()
	stand := make([]standing, len(poles))

	type event struct {
		index int
		at    time.Time
	}
	events := make([]event, 0, len(f.Opinions))
	for i, o := range f.Opinions {
		if at := o.At.Round(0); !at.After(now) {
			events = append(events, event{i, at})
		}
	}
	// Ties keep the order of Facts.Opinions: the order they were recorded.
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })

	for _, ev := range events {
		o := f.Opinions[ev.index]
		k, under := slices.BinarySearch(poles, o.Pole)
		var s *standing
		if under {
			s = &stand[k]
		}
		if err := p.refuse(e, s, o, ev.at); err != nil {
			out.Refused = append(out.Refused, Refusal{Index: ev.index, Reason: err})
			continue
		}
		switch o.Verdict {
		case Favorable:
			// A favorable opinion repeating a standing favorable one does
			// not restart the latency.
			if s.verdict != Favorable {
				*s = standing{verdict: Favorable, favorable: ev.at}
			}
		case Unfavorable:
			*s = standing{verdict: Unfavorable, justification: o.Justification}
		}
	}
	slices.SortFunc(out.Refused, func(a, b Refusal) int { return a.Index - b.Index })

	if len(poles) > 0 {
		out.F2 = make([]PoleDecision, len(poles))
	}
	for k, pole := range poles {
		s := stand[k]
		due, will, rule := p.settlement(e, s)
		d := Decision{Due: due, Will: will, WillRule: rule, Opinion: s.verdict, Favorable: s.favorable, Justification: s.justification}
		if !now.Before(due) {
			d.State, d.Rule = will, rule
		}
		out.F2[k] = PoleDecision{Pole: pole, Decision: d}
	}

	consider := func(d Decision) {
		if d.State == Pending && (out.Next.IsZero() || d.Due.Before(out.Next)) {
			out.Next = d.Due
		}
	}
	consider(out.F1)
	for _, d := range out.F2 {
		consider(d.Decision)
	}
	return out
}

// refuse says why opinion o, given at instant at, changes nothing; s is the
// standing opinion of its pôle, nil when the pôle is not under review.
func (p Policy) refuse(e time.Time, s *standing, o Opinion, at time.Time) error {
	switch {
	case s == nil:
		return fmt.Errorf("%w: %q has no F2 under review in this extraction", ErrNotUnderReview, o.Pole)
	case at.Before(e):
		return fmt.Errorf("%w: opinion of %s, extraction completed %s", ErrBeforeReview, at.Format(time.RFC3339Nano), e.Format(time.RFC3339Nano))
	case o.Verdict != Favorable && o.Verdict != Unfavorable:
		return fmt.Errorf("%w: got %s", ErrBadVerdict, o.Verdict)
	case o.Verdict == Unfavorable && strings.TrimSpace(o.Justification) == "":
		return fmt.Errorf("%w: pôle %q", ErrJustificationRequired, o.Pole)
	}
	// Judged against the state at the opinion's instant: settled at or
	// before it means too late, whatever the opinion says.
	if due, will, _ := p.settlement(e, *s); !at.Before(due) {
		return fmt.Errorf("%w: F2 of pôle %q %s at %s", ErrSettled, o.Pole, will, due.Format(time.RFC3339Nano))
	}
	return nil
}

// Accept says whether opinion o, given now (o.At), would be recorded: nil,
// or a reason wrapping ErrSettled, ErrNotUnderReview,
// ErrJustificationRequired, ErrBeforeReview or ErrBadVerdict. It is Decide's
// own judgement of o placed after every opinion already recorded, so the two
// never disagree.
func (p Policy) Accept(f Facts, o Opinion) error {
	opinions := make([]Opinion, len(f.Opinions), len(f.Opinions)+1)
	copy(opinions, f.Opinions)
	f.Opinions = append(opinions, o)
	last := len(f.Opinions) - 1
	for _, r := range Decide(p, f, o.At).Refused {
		if r.Index == last {
			return r.Reason
		}
	}
	return nil
}
