package clock

import "time"

// SetWall makes s read its host's time from wall (a host clock that runs
// ahead or behind).
func SetWall(s *Shared, wall func() time.Time) { s.wall = wall }
