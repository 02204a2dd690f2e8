// Package clock is the time every service of a process reads. Production
// runs the real clock; demos and tests run a manual clock (moved by an
// operator through the admin API or `sinp clock advance 36h`) or an
// accelerated one, so that a 21-day review can be exercised in seconds.
package clock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock tells the time and wakes waiters when a duration of its own time
// has passed.
type Clock interface {
	Now() time.Time
	// After delivers the clock's time once d of clock time has passed.
	After(d time.Duration) <-chan time.Time
	// Kind is "real", "manual" or "accelerated:<factor>".
	Kind() string
}

// Config selects the clock of a process.
type Config struct {
	// real | manual | manual:<RFC 3339 start> | accelerated:<factor>
	Spec string `env:"SINP_CLOCK" default:"real"`
}

// New builds the clock a spec names. Errors name SINP_CLOCK.
func New(spec string) (Clock, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(spec), ":")
	switch kind {
	case "", "real":
		return Real{}, nil
	case "manual":
		start := time.Now().UTC().Truncate(time.Second)
		if arg != "" {
			t, err := time.Parse(time.RFC3339, arg)
			if err != nil {
				return nil, fmt.Errorf("SINP_CLOCK=%q: start time must be RFC 3339, like manual:2026-03-01T08:00:00Z", spec)
			}
			start = t
		}
		return NewManual(start), nil
	case "accelerated":
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 1 {
			return nil, fmt.Errorf("SINP_CLOCK=%q: factor must be a number >= 1, like accelerated:3600 (one hour per second)", spec)
		}
		return NewAccelerated(time.Now(), f), nil
	}
	return nil, fmt.Errorf("SINP_CLOCK=%q: want real, manual[:start] or accelerated:<factor>", spec)
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time                         { return time.Now() }
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (Real) Kind() string                           { return "real" }

// ErrNotManual is returned when moving a clock that is not manual.
var ErrNotManual = errors.New("the clock of this process is not manual (start it with SINP_CLOCK=manual)")

// Advancer is a clock that can be moved forward.
type Advancer interface {
	Advance(d time.Duration) (time.Time, error)
}

// Manual stands still until advanced.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a manual clock showing start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

func (m *Manual) Kind() string { return "manual" }

func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	at := m.now.Add(d)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, waiter{at: at, ch: ch})
	return ch
}

// Advance moves the clock forward and wakes every waiter whose time came.
func (m *Manual) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, errors.New("a clock only moves forward")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if !w.at.After(m.now) {
			w.ch <- m.now
		} else {
			kept = append(kept, w)
		}
	}
	m.waiters = kept
	return m.now, nil
}

// Accelerated runs factor times faster than the wall clock from its origin.
type Accelerated struct {
	origin time.Time // wall time at creation
	factor float64
}

// NewAccelerated returns a clock that shows origin now and then runs factor
// times faster.
func NewAccelerated(origin time.Time, factor float64) *Accelerated {
	return &Accelerated{origin: origin, factor: factor}
}

func (a *Accelerated) Kind() string {
	return "accelerated:" + strconv.FormatFloat(a.factor, 'f', -1, 64)
}

func (a *Accelerated) Now() time.Time {
	elapsed := time.Since(a.origin)
	return a.origin.Add(time.Duration(float64(elapsed) * a.factor))
}

func (a *Accelerated) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/a.factor), func() { ch <- a.Now() })
	return ch
}
