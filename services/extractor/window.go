package extractor

import (
	"fmt"
	"strings"
	"time"
)

// Window is the time of day extractions may start (off-peak hours). The
// zero Window is always open.
type Window struct {
	always     bool
	start, end time.Duration // since midnight; start > end wraps midnight
	loc        *time.Location
}

// ParseWindow reads "always" or "HH:MM-HH:MM" (e.g. "20:00-07:00") in loc.
func ParseWindow(s string, loc *time.Location) (Window, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "always" {
		return Window{always: true}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("SINP_EXTRACT_WINDOW=%q: want always or HH:MM-HH:MM, like 20:00-07:00", s)
	}
	start, err1 := clockTime(from)
	end, err2 := clockTime(to)
	if err1 != nil || err2 != nil || start == end {
		return Window{}, fmt.Errorf("SINP_EXTRACT_WINDOW=%q: want always or HH:MM-HH:MM with two different times", s)
	}
	return Window{start: start, end: end, loc: loc}, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Open reports whether an extraction may start at now, and if not, how long
// until it may.
func (w Window) Open(now time.Time) (bool, time.Duration) {
	if w.always {
		return true, 0
	}
	local := now.In(w.loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, w.loc)
	tod := local.Sub(midnight)
	var open bool
	if w.start < w.end {
		open = tod >= w.start && tod < w.end
	} else {
		open = tod >= w.start || tod < w.end
	}
	if open {
		return true, 0
	}
	wait := w.start - tod
	if wait < 0 {
		wait += 24 * time.Hour
	}
	return false, wait
}

func (w Window) String() string {
	if w.always {
		return "always"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s", int(w.start.Hours()), int(w.start.Minutes())%60, int(w.end.Hours()), int(w.end.Minutes())%60, w.loc)
}
