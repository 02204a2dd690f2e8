package clock

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestManualWakesWaitersOnlyWhenTheirTimeComes(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	m := NewManual(start)
	woke := make(chan struct{})
	go func() {
		_ = m.Until(ctx, start.Add(6*24*time.Hour))
		close(woke)
	}()
	if _, err := m.Advance(ctx, 36*time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
		t.Fatal("woke after 36h for a 6-day wait")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := m.Advance(ctx, 5*24*time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("did not wake after 6 days 12 hours")
	}
	if _, err := m.Advance(ctx, -time.Hour, ""); err == nil {
		t.Fatal("moved backwards")
	}
	if _, err := m.Set(ctx, start, "", ""); err == nil {
		t.Fatal("set backwards")
	}
}

func TestSpecErrorsNameTheVariable(t *testing.T) {
	for _, spec := range []string{"sundial", "accelerated:fast", "accelerated:0.5", "manual:yesterday", "real:1"} {
		if _, err := ParseSpec(spec); err == nil || !strings.Contains(err.Error(), "SINP_CLOCK") {
			t.Errorf("ParseSpec(%q) = %v, want an error naming SINP_CLOCK", spec, err)
		}
	}
	s, err := ParseSpec("manual:2026-03-01T08:00:00Z")
	if err != nil || s.Kind != KindManual || !s.Start.Equal(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("manual spec: %+v %v", s, err)
	}
	s, err = ParseSpec("accelerated:3600")
	if err != nil || s.Factor != 3600 || s.String() != "accelerated:3600" {
		t.Fatalf("accelerated spec: %+v %v", s, err)
	}
}

func TestStateReadsEachKind(t *testing.T) {
	wall := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	later := wall.Add(2 * time.Second)
	if got := (State{Kind: KindManual, Base: base, Wall: wall}).At(later); !got.Equal(base) {
		t.Errorf("manual at +2s = %v", got)
	}
	if got := (State{Kind: KindAccelerated, Base: base, Wall: wall, Factor: 3600}).At(later); !got.Equal(base.Add(2 * time.Hour)) {
		t.Errorf("accelerated 3600 at +2s = %v", got)
	}
	if got := (State{Kind: KindReal}).At(later); !got.Equal(later) {
		t.Errorf("real = %v", got)
	}
	if d, ok := (State{Kind: KindAccelerated, Factor: 3600}).WallFor(time.Hour); !ok || d < time.Second || d > time.Second+2*time.Millisecond {
		t.Errorf("an accelerated hour takes %v of wall time", d)
	}
	if _, ok := (State{Kind: KindManual}).WallFor(time.Hour); ok {
		t.Error("a manual clock moves by itself")
	}
}

// A clock left running fast for centuries, or set far ahead, stops at
// Latest rather than wrap around to 1970.
func TestTheClockStopsRatherThanOverflow(t *testing.T) {
	wall := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	st := State{Kind: KindAccelerated, Base: wall, Wall: wall, Factor: 1e6}
	if got := st.At(wall.Add(30 * 24 * time.Hour)); !got.Equal(Latest) {
		t.Fatalf("a month at a million times: %v", got)
	}
	if got := st.At(wall.Add(time.Hour)); got.Before(wall) || got.After(Latest) {
		t.Fatalf("an hour at a million times: %v", got)
	}
	if _, err := ParseSpec("accelerated:10000000"); err == nil {
		t.Fatal("a factor of ten million accepted")
	}
}
