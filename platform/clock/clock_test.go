package clock

import (
	"strings"
	"testing"
	"time"
)

func TestManualWakesWaitersOnlyWhenTheirTimeComes(t *testing.T) {
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	m := NewManual(start)
	sixDays := m.After(6 * 24 * time.Hour)
	if _, err := m.Advance(36 * time.Hour); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sixDays:
		t.Fatal("woke after 36h for a 6-day wait")
	default:
	}
	now, _ := m.Advance(5 * 24 * time.Hour)
	select {
	case got := <-sixDays:
		if !got.Equal(now) {
			t.Fatalf("woke with %v, clock shows %v", got, now)
		}
	default:
		t.Fatal("did not wake after 6 days 12 hours")
	}
	if _, err := m.Advance(-time.Hour); err == nil {
		t.Fatal("moved backwards")
	}
}

func TestAcceleratedRunsFaster(t *testing.T) {
	a := NewAccelerated(time.Now(), 3600)
	before := a.Now()
	<-a.After(2 * time.Hour) // two seconds of wall time would be 7200x too long
	if got := a.Now().Sub(before); got < 2*time.Hour {
		t.Fatalf("only %v of clock time passed", got)
	}
}

func TestSpecErrorsNameTheVariable(t *testing.T) {
	for _, spec := range []string{"sundial", "accelerated:fast", "accelerated:0.5", "manual:yesterday"} {
		if _, err := New(spec); err == nil || !strings.Contains(err.Error(), "SINP_CLOCK") {
			t.Errorf("New(%q) = %v, want an error naming SINP_CLOCK", spec, err)
		}
	}
	c, err := New("manual:2026-03-01T08:00:00Z")
	if err != nil || c.Now().Format(time.RFC3339) != "2026-03-01T08:00:00Z" || c.Kind() != "manual" {
		t.Fatalf("manual clock: %v %v", c, err)
	}
	if c, _ := New("accelerated:3600"); c.Kind() != "accelerated:3600" {
		t.Fatalf("kind %q", c.Kind())
	}
}
