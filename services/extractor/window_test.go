package extractor

import (
	"strings"
	"testing"
	"time"
)

func TestWindowAcrossMidnight(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	w, err := ParseWindow("20:00-07:00", paris)
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, paris) }
	for _, tc := range []struct {
		now  time.Time
		open bool
		wait time.Duration
	}{
		{at(21, 0), true, 0},
		{at(3, 0), true, 0},
		{at(7, 0), false, 13 * time.Hour},
		{at(12, 30), false, 7*time.Hour + 30*time.Minute},
		{at(19, 59), false, time.Minute},
	} {
		open, wait := w.Open(tc.now)
		if open != tc.open || wait != tc.wait {
			t.Errorf("at %s: open %v wait %v, want %v %v", tc.now.Format("15:04"), open, wait, tc.open, tc.wait)
		}
	}
	if open, _ := (Window{always: true}).Open(at(12, 0)); !open {
		t.Error("always is not open")
	}
}

func TestBadWindowNamesTheVariable(t *testing.T) {
	for _, s := range []string{"night", "25:00-07:00", "07:00-07:00"} {
		if _, err := ParseWindow(s, time.UTC); err == nil || !strings.Contains(err.Error(), "SINP_EXTRACT_WINDOW") {
			t.Errorf("%q: %v", s, err)
		}
	}
}
