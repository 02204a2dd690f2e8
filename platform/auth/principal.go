// Package auth is the runtime's authentication seam. Every call carries a
// Principal, set from a signed token that every service verifies itself
// (signature, expiry, revocation), without reading another service's
// schema: the public keys and the revocations travel on NATS. Each API
// declares who may call each of its methods in a Rules table; a method
// without a rule is refused.
//
// Tokens are Ed25519-signed (standard library), short-lived, and never
// logged: "sinp1.<claims>.<signature>", both parts base64url.
package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is what a principal is.
type Kind int

const (
	// Nobody: a call without a token.
	Nobody Kind = iota
	// Requester is the account of a person of a structure.
	Requester
	// Tracking holds the tracking token of one account-less request and
	// opens that request only.
	Tracking
	// Reviewer belongs to one pôle's reviewer group.
	Reviewer
	// Administrator is the DREAL instructing requests.
	Administrator
	// Operator runs the platform (clock, dead letters).
	Operator
	// Service is a platform service calling another for its own work
	// (intake asking the extractor to check a request's codes).
	Service
)

var kindNames = []string{"nobody", "requester", "tracking", "reviewer", "administrator", "operator", "service"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind reads a kind by name.
func ParseKind(s string) (Kind, error) {
	i := slices.Index(kindNames, strings.ToLower(strings.TrimSpace(s)))
	if i <= 0 {
		return Nobody, fmt.Errorf("unknown principal kind %q (want requester, tracking, reviewer, administrator, operator or service)", s)
	}
	return Kind(i), nil
}

// Principal is who calls.
type Principal struct {
	Kind Kind
	// Subject is the account id (for Tracking, the request's tracking id).
	Subject string
	Name    string
	// Structure is a requester's structure id.
	Structure string
	// Pole is a reviewer's pôle.
	Pole string
	// Request is the one request a tracking token opens.
	Request string
	// TokenID and Session identify the token and the sign-in it comes
	// from, for revocation.
	TokenID   string
	Session   string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Is reports whether the principal is one of kinds.
func (p Principal) Is(kinds ...Kind) bool { return slices.Contains(kinds, p.Kind) }

// String names the principal for logs and audit records (never a secret).
func (p Principal) String() string {
	switch p.Kind {
	case Nobody:
		return "nobody"
	case Reviewer:
		return fmt.Sprintf("reviewer:%s@%s", p.Subject, p.Pole)
	case Tracking:
		return "tracking:" + p.Request
	}
	return p.Kind.String() + ":" + p.Subject
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of a call (Nobody when none).
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}
