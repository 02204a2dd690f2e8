package rule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"sinp.occitanie.fr/platform/text"
)

// PromotionState is where a promotion stands.
type PromotionState int

const (
	// Open: the pôles give their positions; the administrator has not
	// decided.
	Open PromotionState = iota + 1
	// Promoted: the administrator made the structure an adherent.
	Promoted
	// Refused: the administrator kept it pre-adherent (or it withdrew
	// while the promotion was open).
	Refused
)

func (s PromotionState) String() string {
	switch s {
	case Open:
		return "open"
	case Promoted:
		return "promoted"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("promotion(%d)", int(s))
}

// ParsePromotionState reads "open", "promoted" or "refused".
func ParsePromotionState(s string) (PromotionState, error) {
	for _, st := range []PromotionState{Open, Promoted, Refused} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("rule: unknown promotion state %q", s)
}

// Position is one pôle's position on a promotion: an approval, or an
// objection with its argument.
type Position struct {
	Pole     string
	Approves bool
	// Argument is required for an objection; an approval may carry one.
	Argument string
	Reviewer string
	At       time.Time
}

// Promotion is the passage of a pre-adherent to adherent.
type Promotion struct {
	State    PromotionState
	OpenedAt time.Time
	OpenedBy string
	// Remarks are the administrator's, on opening.
	Remarks string
	// Positions holds one position per pôle that gave one, its latest:
	// a pôle revises its position in place until the decision.
	Positions []Position

	DecidedAt time.Time
	DecidedBy string
	// DecisionRemarks are the administrator's, on deciding.
	DecisionRemarks string
	// SilentAtDecision are the pôles that had given no position when the
	// administrator decided, in the order of Poles: the remarks answer
	// for their silence.
	SilentAtDecision []string
}

// Position returns a pôle's position, if it gave one.
func (p *Promotion) Position(pole string) (Position, bool) {
	i := slices.IndexFunc(p.Positions, func(x Position) bool { return x.Pole == pole })
	if i < 0 {
		return Position{}, false
	}
	return p.Positions[i], true
}

// Objections are the positions that object, in the order of Poles.
func (p *Promotion) Objections() []Position {
	var out []Position
	for _, code := range Poles {
		if pos, ok := p.Position(code); ok && !pos.Approves {
			out = append(out, pos)
		}
	}
	return out
}

// Silent are the pôles that gave no position yet, in the order of Poles.
func (p *Promotion) Silent() []string {
	var out []string
	for _, code := range Poles {
		if _, ok := p.Position(code); !ok {
			out = append(out, code)
		}
	}
	return out
}

// Membership is a structure's standing in the registry: its status and
// its promotion (the open one, or the one decided last).
type Membership struct {
	Status    Status
	Promotion *Promotion
}

func (m *Membership) open() bool { return m.Promotion != nil && m.Promotion.State == Open }

// Enter puts a structure in the registry. It always enters as a
// pre-adherent: adherent comes only by promotion, seen by every pôle.
func (m *Membership) Enter(at time.Time, by, remarks string) (Change, error) {
	if m.Status != None {
		return Change{}, fmt.Errorf("%w (%s)", ErrAlreadyIn, m.Status)
	}
	m.Status = PreAdherent
	return Change{At: at, From: None, To: PreAdherent, By: by, Remarks: strings.TrimSpace(remarks)}, nil
}

// Open starts the promotion of a pre-adherent; one is open at a time.
func (m *Membership) Open(at time.Time, by, remarks string) error {
	if m.Status != PreAdherent {
		return fmt.Errorf("%w: the structure is %s", ErrNotPreAdherent, m.Status)
	}
	if m.open() {
		return fmt.Errorf("%w since %s", ErrPromotionOpen, m.Promotion.OpenedAt.Format(time.DateOnly))
	}
	m.Promotion = &Promotion{State: Open, OpenedAt: at, OpenedBy: by, Remarks: strings.TrimSpace(remarks)}
	return nil
}

// Record gives or revises a pôle's position on the open promotion. An
// objection needs its argument (some graphic characters, not only
// spaces or invisible ones): the administrator weighs it, and the
// structure learns it. The argument is text already checked
// (platform/text).
func (m *Membership) Record(pos Position) error {
	if !IsPole(pos.Pole) {
		return fmt.Errorf("%w %q (the pôles are %s)", ErrUnknownPole, pos.Pole, strings.Join(Poles, ", "))
	}
	if !m.open() {
		return m.noOpenPromotion()
	}
	pos.Argument = strings.TrimSpace(pos.Argument)
	if !pos.Approves && text.Graphic(pos.Argument) == 0 {
		return ErrArgumentRequired
	}
	p := m.Promotion
	p.Positions = slices.DeleteFunc(p.Positions, func(x Position) bool { return x.Pole == pos.Pole })
	p.Positions = append(p.Positions, pos)
	return nil
}

func (m *Membership) noOpenPromotion() error {
	if m.Promotion == nil {
		return fmt.Errorf("%w for this structure", ErrNoOpenPromotion)
	}
	return fmt.Errorf("%w: the last one was %s on %s", ErrNoOpenPromotion, m.Promotion.State, m.Promotion.DecidedAt.Format(time.DateOnly))
}

// MinSilentRemarks is how many graphic characters (letters, digits,
// punctuation, symbols) the remarks of a decision taken while some pôle
// is silent need at least.
const MinSilentRemarks = 20

// Decide ends the open promotion: promote makes the structure an adherent,
// otherwise it stays pre-adherent. A promotion collects each pôle's
// position before the administrator decides: while a pôle is silent the
// administrator may still decide (a pôle cannot hold a structure back by
// saying nothing), but says in the remarks, MinSilentRemarks characters
// at least, why the decision does not wait for it; the silent pôles are
// kept with the decision. Remarks also say why when refusing and when
// promoting over an objection. The remarks are text already checked
// (platform/text).
func (m *Membership) Decide(promote bool, at time.Time, by, remarks string) (Change, error) {
	if !m.open() {
		return Change{}, m.noOpenPromotion()
	}
	remarks = strings.TrimSpace(remarks)
	p := m.Promotion
	if err := p.remarksNeeded(promote, remarks); err != nil {
		return Change{}, err
	}
	p.DecidedAt, p.DecidedBy, p.DecisionRemarks, p.SilentAtDecision = at, by, remarks, p.Silent()
	c := Change{At: at, From: m.Status, By: by, Remarks: remarks}
	if promote {
		p.State, m.Status = Promoted, Adherent
	} else {
		p.State = Refused
	}
	c.To = m.Status
	return c, nil
}

// remarksNeeded says what remarks a decision lacks, naming whom they
// must answer: a refusal, the objecting pôles, the silent ones.
func (p *Promotion) remarksNeeded(promote bool, remarks string) error {
	need, why := 0, []string(nil)
	if !promote {
		need, why = 1, append(why, "a refusal says why")
	} else if obj := p.Objections(); len(obj) > 0 {
		names := make([]string, len(obj))
		for i, o := range obj {
			names[i] = o.Pole
		}
		need, why = 1, append(why, "promoting over the objection of "+strings.Join(names, ", ")+" says why")
	}
	if silent := p.Silent(); len(silent) > 0 {
		need = MinSilentRemarks
		why = append(why, fmt.Sprintf("the pôles %s have given no position: deciding without it says why, in %d characters at least",
			strings.Join(silent, ", "), MinSilentRemarks))
	}
	if g := text.Graphic(remarks); g < need {
		return fmt.Errorf("%w: %s (%d characters given)", ErrRemarksRequired, strings.Join(why, "; "), g)
	}
	return nil
}

// Withdraw ends a pre-adherent's or an adherent's membership. A promotion
// still open is closed as refused: nobody is promoted out of the registry.
func (m *Membership) Withdraw(at time.Time, by, remarks string) (Change, error) {
	switch m.Status {
	case Withdrawn:
		return Change{}, ErrAlreadyWithdrawn
	case None:
		return Change{}, ErrNotIn
	}
	remarks = strings.TrimSpace(remarks)
	if m.open() {
		p := m.Promotion
		p.State, p.DecidedAt, p.DecidedBy = Refused, at, by
		p.DecisionRemarks = strings.TrimSpace("withdrawn while the promotion was open. " + remarks)
	}
	c := Change{At: at, From: m.Status, To: Withdrawn, By: by, Remarks: remarks}
	m.Status = Withdrawn
	return c, nil
}

// Readmit takes a withdrawn structure back, as a pre-adherent only: to be
// an adherent again it goes through a promotion like any other.
func (m *Membership) Readmit(at time.Time, by, remarks string) (Change, error) {
	if m.Status != Withdrawn {
		return Change{}, fmt.Errorf("%w: the structure is %s", ErrNotWithdrawn, m.Status)
	}
	m.Status = PreAdherent
	return Change{At: at, From: Withdrawn, To: PreAdherent, By: by, Remarks: strings.TrimSpace(remarks)}, nil
}
