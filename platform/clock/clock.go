// Package clock is the time of the whole deployment. Production runs the
// real clock; demos and tests run a manual clock (moved only by an
// operator: `sinp clock advance 36h`) or an accelerated one (3600: one
// hour per second), so that a 21-day review can be exercised in seconds.
//
// The clock's state lives in PostgreSQL (platform.clock, see Shared) and
// every process reads it: all services agree on "now", an advance made
// through one process is seen by all within a second, an accelerated
// clock keeps its origin across restarts, and no process ever sees time
// move backwards. Real and Manual are in-memory clocks for unit tests.
package clock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
	// Until returns once the clock reads t or later, or with ctx's error
	// when ctx ends first.
	Until(ctx context.Context, t time.Time) error
	// Kind is "real", "manual" or "accelerated:<factor>".
	Kind() string
}

// Sleep waits d of clock time.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	return c.Until(ctx, c.Now().Add(d))
}

// Mover is a clock an operator can move: forward by a duration, to an
// instant, or to another kind (which keeps the current reading).
type Mover interface {
	Advance(ctx context.Context, d time.Duration, by string) (time.Time, error)
	// Set moves the clock to at (zero: keep the reading) and, when spec is
	// not empty, switches it to that kind.
	Set(ctx context.Context, at time.Time, spec, by string) (time.Time, error)
}

// Config selects the clock of a deployment.
type Config struct {
	// Empty: the deployment's clock as platform.clock records it (real for
	// a new deployment). Else real | manual | manual:<RFC 3339 start> |
	// accelerated:<factor>; a process whose spec disagrees with the
	// recorded clock refuses to start.
	Spec string `env:"SINP_CLOCK"`
}

// Kinds of clock.
const (
	KindReal        = "real"
	KindManual      = "manual"
	KindAccelerated = "accelerated"
)

// Spec is a parsed SINP_CLOCK.
type Spec struct {
	Kind   string    // "" (follow the deployment), real, manual, accelerated
	Start  time.Time // manual: the first reading, zero for "now"
	Factor float64   // accelerated
	raw    string
}

func (s Spec) String() string {
	switch s.Kind {
	case KindAccelerated:
		return KindAccelerated + ":" + strconv.FormatFloat(s.Factor, 'f', -1, 64)
	case "":
		return "(the deployment's)"
	}
	return s.Kind
}

// ParseSpec reads a SINP_CLOCK value. Errors name SINP_CLOCK.
func ParseSpec(spec string) (Spec, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(spec), ":")
	s := Spec{Kind: kind, raw: spec}
	switch kind {
	case "":
		return s, nil
	case KindReal:
		if arg != "" {
			return s, fmt.Errorf("SINP_CLOCK=%q: the real clock takes no argument", spec)
		}
		return s, nil
	case KindManual:
		if arg != "" {
			t, err := time.Parse(time.RFC3339Nano, arg)
			if err != nil {
				return s, fmt.Errorf("SINP_CLOCK=%q: start time must be RFC 3339, like manual:2026-03-01T08:00:00Z", spec)
			}
			s.Start = t.UTC()
		}
		return s, nil
	case KindAccelerated:
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 1 || f > 1e6 {
			return s, fmt.Errorf("SINP_CLOCK=%q: factor must be a number from 1 to 1000000, like accelerated:3600 (one hour per second)", spec)
		}
		s.Factor = f
		return s, nil
	}
	return s, fmt.Errorf("SINP_CLOCK=%q: want real, manual[:start] or accelerated:<factor>", spec)
}

// State is a clock's definition at one moment: it read Base at wall time
// Wall and runs Factor times faster than the wall clock since (manual: not
// at all; real: Base = Wall and factor 1).
type State struct {
	Kind       string
	Base       time.Time
	Wall       time.Time
	Factor     float64
	Generation int64
	UpdatedBy  string
	UpdatedAt  time.Time
}

// Latest is the last instant a clock shows: it stops there rather than
// overflow (an accelerated clock left running for weeks, a mistyped set).
var Latest = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)

// At is the clock's reading at wall time w, never after Latest.
func (s State) At(w time.Time) time.Time {
	switch s.Kind {
	case KindManual:
		return clamp(s.Base)
	case KindAccelerated:
		ahead := w.Sub(s.Wall).Seconds() * s.Factor
		if room := Latest.Sub(s.Base).Seconds(); ahead >= room {
			return Latest
		}
		return clamp(s.Base.Add(time.Duration(ahead * float64(time.Second))))
	}
	return clamp(w)
}

func clamp(t time.Time) time.Time {
	if t.After(Latest) {
		return Latest
	}
	return t
}

// WallFor is how much wall time passes while the clock moves by d
// (manual: never; ok is false).
func (s State) WallFor(d time.Duration) (wall time.Duration, ok bool) {
	switch s.Kind {
	case KindManual:
		return 0, false
	case KindAccelerated:
		return time.Duration(float64(d)/s.Factor) + time.Millisecond, true
	}
	return d, true
}

// KindName is "real", "manual" or "accelerated:<factor>".
func (s State) KindName() string {
	return Spec{Kind: s.Kind, Factor: s.Factor}.String()
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }
func (Real) Kind() string   { return KindReal }
func (Real) Until(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// ErrNotMovable is returned when moving the real clock.
var ErrNotMovable = errors.New("the deployment's clock is real: it cannot be moved (start the deployment with SINP_CLOCK=manual, or switch it with `sinp clock set --kind manual`)")

// ErrBackwards is returned when a move would take the clock back in time.
var ErrBackwards = errors.New("a clock only moves forward")

// Manual is an in-memory clock that stands still until advanced, for
// unit tests.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	changed chan struct{}
}

// NewManual returns a manual clock showing start.
func NewManual(start time.Time) *Manual { return &Manual{now: start, changed: make(chan struct{})} }

func (m *Manual) Kind() string { return KindManual }

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *Manual) Until(ctx context.Context, t time.Time) error {
	for {
		m.mu.Lock()
		now, changed := m.now, m.changed
		m.mu.Unlock()
		if !now.Before(t) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Advance moves the clock forward and wakes every waiter whose time came.
func (m *Manual) Advance(_ context.Context, d time.Duration, _ string) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrBackwards
	}
	return m.move(func(now time.Time) time.Time { return now.Add(d) })
}

// Set moves the clock to at; an in-memory manual clock stays manual.
func (m *Manual) Set(_ context.Context, at time.Time, spec, _ string) (time.Time, error) {
	if spec != "" && spec != KindManual {
		return time.Time{}, fmt.Errorf("an in-memory manual clock cannot become %s", spec)
	}
	m.mu.Lock()
	before := m.now
	m.mu.Unlock()
	if !at.IsZero() && at.Before(before) {
		return time.Time{}, fmt.Errorf("%w: %s is before %s", ErrBackwards, at.Format(time.RFC3339), before.Format(time.RFC3339))
	}
	return m.move(func(now time.Time) time.Time {
		if at.IsZero() || at.Before(now) {
			return now
		}
		return at
	})
}

func (m *Manual) move(to func(time.Time) time.Time) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = to(m.now)
	close(m.changed)
	m.changed = make(chan struct{})
	return m.now, nil
}
