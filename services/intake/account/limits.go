package account

import "time"

// Limits bound failed sign-ins: more than PerAccount failures for one
// email, or PerAddress from one address, within Window, and sign-in is
// refused until the oldest of them leaves the window.
type Limits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
}

// DefaultLimits: 5 per account and 20 per address in 15 minutes.
func DefaultLimits() Limits { return Limits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute} }

// Throttled says whether a sign-in must be refused given the failures
// already counted in the window, and when to try again.
func (l Limits) Throttled(byAccount, byAddress int, oldestAccount, oldestAddress time.Time) (bool, time.Time) {
	switch {
	case byAccount >= l.PerAccount:
		return true, oldestAccount.Add(l.Window)
	case byAddress >= l.PerAddress:
		return true, oldestAddress.Add(l.Window)
	}
	return false, time.Time{}
}
