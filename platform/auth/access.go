package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Rule says who may call a method.
type Rule struct {
	public bool
	kinds  []Kind
}

// Public lets anyone call, token or not (a token given must still be
// valid: a bad one is refused, never ignored).
func Public() Rule { return Rule{public: true} }

// Allow lets principals of the given kinds call. What they may see or do
// inside (their own requests, their own pôle) is the handler's to check.
func Allow(kinds ...Kind) Rule { return Rule{kinds: kinds} }

// Rules maps full gRPC method names ("/sinp.admin.v1.ClockService/Advance")
// to their rule. A method absent from the table is refused.
type Rules map[string]Rule

// Merge returns one table holding every rule of the given tables.
func Merge(tables ...Rules) Rules {
	out := Rules{}
	for _, t := range tables {
		for m, r := range t {
			out[m] = r
		}
	}
	return out
}

// Authenticator checks every call against a rules table.
type Authenticator struct {
	Verifier *Verifier
	Rules    Rules
	// Now is the wall clock (tokens live on it, not on the deployment's).
	Now func() time.Time
}

// Check returns who may make the call, or the gRPC error refusing it:
// Unauthenticated without a valid token, PermissionDenied for a kind the
// method does not allow or a method without a rule.
func (a *Authenticator) Check(method, token string) (Principal, error) {
	rule, ok := a.Rules[method]
	if !ok {
		return Principal{}, status.Errorf(codes.PermissionDenied, "%s declares no access rule: refused", method)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if token == "" {
		if rule.public {
			return Principal{}, nil
		}
		return Principal{}, status.Error(codes.Unauthenticated, "this call needs a token (authorization: Bearer ...)")
	}
	p, err := a.Verifier.Verify(token, now())
	if errors.Is(err, ErrStarting) {
		return Principal{}, status.Error(codes.Unavailable, ErrStarting.Error()+": try again in a moment")
	}
	if err != nil {
		return Principal{}, status.Error(codes.Unauthenticated, refusal(err))
	}
	if !rule.public && !p.Is(rule.kinds...) {
		return Principal{}, status.Errorf(codes.PermissionDenied, "a %s may not call %s", p.Kind, method)
	}
	return p, nil
}

// refusal says why a token is refused without echoing it.
func refusal(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "token expired: sign in again"
	case errors.Is(err, ErrRevoked):
		return "token revoked"
	}
	return "invalid token"
}

// Authenticate is the gRPC server hook (grpcserver.Authenticate).
func (a *Authenticator) Authenticate(ctx context.Context, method string) (context.Context, error) {
	p, err := a.Check(method, TokenFromGRPC(ctx))
	if err != nil {
		return nil, err
	}
	return NewContext(ctx, p), nil
}

// TokenFromGRPC reads "authorization: Bearer <token>" from a call.
func TokenFromGRPC(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if t, ok := bearer(v); ok {
			return t
		}
	}
	return ""
}

// TokenFromHTTP reads a bearer token from an HTTP request's Authorization
// header.
func TokenFromHTTP(r *http.Request) string {
	t, _ := bearer(r.Header.Get("Authorization"))
	return t
}

func bearer(v string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// WithToken returns a client context sending token.
func WithToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// HTTP verifies a request's bearer token against kinds (none: any valid
// token) and returns the principal, or the HTTP status and message to
// answer with.
func (a *Authenticator) HTTP(r *http.Request, kinds ...Kind) (Principal, int, string) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	p, err := a.Verifier.Verify(TokenFromHTTP(r), now())
	if errors.Is(err, ErrStarting) {
		return p, http.StatusServiceUnavailable, ErrStarting.Error() + ": try again in a moment"
	}
	if err != nil {
		return p, http.StatusUnauthorized, refusal(err)
	}
	if len(kinds) > 0 && !p.Is(kinds...) {
		return p, http.StatusForbidden, "not allowed"
	}
	return p, http.StatusOK, ""
}
