package account

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits bound failed password attempts (sign-ins and wrong current
// passwords alike): more than PerAccount failures for one email, or
// PerAddress from one address, within Window, and attempts are refused
// until the oldest of them leaves the window.
type Limits struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
}

// DefaultLimits: 5 per account and 20 per address in 15 minutes.
func DefaultLimits() Limits { return Limits{PerAccount: 5, PerAddress: 20, Window: 15 * time.Minute} }

// Throttled says whether an attempt must be refused given the failures
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

// MaxEmailBytes is the longest email an account may have (RFC 5321's
// path limit); a longer one names no account.
const MaxEmailBytes = 254

// emailProblem says what makes email (trimmed) unusable as a sign-in
// name, or "". It is checked before any query: a failure must always be
// countable, and an index entry has a size limit.
func emailProblem(email string) string {
	switch {
	case email == "":
		return "required"
	case len(email) > MaxEmailBytes:
		return "at most 254 bytes"
	case !utf8.ValidString(email):
		return "not valid UTF-8"
	}
	for _, r := range email {
		if unicode.IsControl(r) {
			return "no control characters"
		}
	}
	return ""
}

// sessionFacts are what decides whether a session may still mint tokens.
type sessionFacts struct {
	Created, Expires time.Time
	Revoked          bool
	// The account's last password change, and whether it is disabled:
	// a session opened before either must not outlive it, even one whose
	// revocation missed it (committed just after).
	PasswordChanged time.Time
	AccountDisabled bool
}

func (f sessionFacts) usable(now time.Time) bool {
	return !f.Revoked && !f.AccountDisabled && now.Before(f.Expires) && !f.Created.Before(f.PasswordChanged)
}
