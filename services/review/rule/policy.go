// Package rule decides when an extraction's F1 and each pôle's F2 are released
// or withheld (DESIGN.md §3, "Review and release timing"): one pure function of
// (policy, facts so far, now) that timers and storage call instead of re-deciding.
package rule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Mode is how F2 deliverables are released.
type Mode int

const (
	// Progressive releases each pôle's F2 as soon as its favorable opinion
	// has stood for the favorable latency, or at the deadline.
	Progressive Mode = iota
	// Batched releases nothing of F2 before the deadline, then every F2 not
	// under an unfavorable opinion together.
	Batched
)

func (m Mode) String() string {
	switch m {
	case Progressive:
		return "progressive"
	case Batched:
		return "batched"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode reads a mode as configuration spells it: "progressive" or "batched".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "progressive":
		return Progressive, nil
	case "batched":
		return Batched, nil
	}
	return 0, fmt.Errorf("rule: unknown review mode %q (want progressive or batched)", s)
}

// Policy is the configured timing of a review; every instant is counted
// from E, the instant the extraction completed.
type Policy struct {
	F1Latency        time.Duration // E + F1Latency: F1 and metadata released
	FavorableLatency time.Duration // F + FavorableLatency: F2 released after a favorable opinion
	Deadline         time.Duration // E + Deadline: every F2 settled
	Mode             Mode
}

const day = 24 * time.Hour

// DefaultPolicy is DESIGN.md's timing: F1 at E+6d, F2 at min(F+6d, E+21d),
// progressive.
func DefaultPolicy() Policy {
	return Policy{
		F1Latency:        6 * day,
		FavorableLatency: 6 * day,
		Deadline:         21 * day,
		Mode:             Progressive,
	}
}

// Validate reports every field that makes the policy unusable, each named.
// The latencies may not exceed the deadline, so that the deadline really is
// the instant by which everything is settled.
func (p Policy) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("rule: Policy.%s must be positive, got %s", name, d))
		}
	}
	positive("F1Latency", p.F1Latency)
	positive("FavorableLatency", p.FavorableLatency)
	positive("Deadline", p.Deadline)
	if p.FavorableLatency > p.Deadline {
		errs = append(errs, fmt.Errorf("rule: Policy.FavorableLatency (%s) exceeds Policy.Deadline (%s)", p.FavorableLatency, p.Deadline))
	}
	if p.F1Latency > p.Deadline {
		errs = append(errs, fmt.Errorf("rule: Policy.F1Latency (%s) exceeds Policy.Deadline (%s)", p.F1Latency, p.Deadline))
	}
	if p.Mode != Progressive && p.Mode != Batched {
		errs = append(errs, fmt.Errorf("rule: Policy.Mode: unknown mode %d", int(p.Mode)))
	}
	return errors.Join(errs...)
}

// F1At is the instant F1 and metadata are released for an extraction
// completed at e.
func (p Policy) F1At(e time.Time) time.Time { return e.Add(p.F1Latency) }

// DeadlineAt is the instant every F2 of an extraction completed at e is
// settled, whatever the opinions.
func (p Policy) DeadlineAt(e time.Time) time.Time { return e.Add(p.Deadline) }

// String is the policy as its configuration spells it.
func (p Policy) String() string {
	return fmt.Sprintf("SINP_REVIEW_POLICY=%s SINP_REVIEW_F1_AFTER=%s SINP_REVIEW_FAVORABLE_AFTER=%s SINP_REVIEW_DEADLINE=%s",
		p.Mode, p.F1Latency, p.FavorableLatency, p.Deadline)
}

// ErrPolicyDiffers: a replica is configured with another policy than the
// deployment's. Replicas that disagreed would each open the reviews they
// happen to receive with their own, and a deployment meant to be batched
// would release some F2 progressively.
var ErrPolicyDiffers = errors.New("this replica's review policy is not the deployment's")

// Agree decides a replica's start against the deployment's policy
// (deployed nil: none recorded yet). The replica records its configured
// policy when there is none, or when told to change it (change); it starts
// as it is when both agree; otherwise it is refused.
func Agree(configured Policy, deployed *Policy, change bool) (record bool, err error) {
	switch {
	case deployed == nil:
		return true, nil
	case *deployed == configured:
		return false, nil
	case change:
		return true, nil
	}
	return false, fmt.Errorf("%w: it is configured with %s, the deployment runs %s; start it with the same, or change every replica's on purpose with SINP_REVIEW_POLICY_CHANGE=true (open reviews keep theirs)",
		ErrPolicyDiffers, configured, *deployed)
}
