package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func signer(t *testing.T) Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(k)
}

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestATokenCarriesItsPrincipalUntilItExpires(t *testing.T) {
	s := signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	tok, issued, err := s.Issue(Principal{Kind: Reviewer, Subject: "acc-7", Name: "Léa", Pole: "oiseaux", Session: "s1"}, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(tok, now.Add(15*time.Minute-time.Millisecond))
	if err != nil || p.Kind != Reviewer || p.Subject != "acc-7" || p.Pole != "oiseaux" || p.Name != "Léa" || p.TokenID != issued.TokenID {
		t.Fatalf("verified %+v (%v)", p, err)
	}
	if _, err := v.Verify(tok, now.Add(15*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v", err)
	}
}

func TestForgedAndForeignTokensAreRefused(t *testing.T) {
	s, other := signer(t), signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	tok, _, _ := s.Issue(Principal{Kind: Requester, Subject: "acc-1"}, now, time.Hour)
	foreign, _, _ := other.Issue(Principal{Kind: Operator, Subject: "mallory"}, now, time.Hour)
	// The claims of a requester token with "operator" spliced in, old signature kept.
	dot := strings.LastIndexByte(tok, '.')
	body, _ := base64.RawURLEncoding.DecodeString(tok[len(prefix):dot])
	forged := prefix + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(body), `"requester"`, `"operator"`, 1))) + tok[dot:]
	if forged == tok {
		t.Fatal("the forgery changed nothing")
	}
	for name, c := range map[string]struct {
		token string
		want  error
	}{
		"empty":           {"", ErrNoToken},
		"garbage":         {"hello", ErrMalformed},
		"two parts":       {"sinp1.abc", ErrMalformed},
		"bad base64":      {"sinp1.!!!.???", ErrMalformed},
		"unknown key":     {foreign, ErrUnknownKey},
		"truncated sig":   {tok[:len(tok)-3], ErrMalformed},
		"flipped sig":     {tok[:len(tok)-2] + flip(tok[len(tok)-2:]), ErrSignature},
		"spliced claims":  {forged, ErrSignature},
		"oversized":       {prefix + strings.Repeat("A", MaxTokenBytes), ErrMalformed},
		"other prefix v2": {"sinp2" + tok[4:], ErrMalformed},
	} {
		if _, err := v.Verify(c.token, now); !errors.Is(err, c.want) && !(c.want == ErrSignature && errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestRevocationsRefuseWhatTheyName(t *testing.T) {
	s := signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	issue := func(sub, session string, at time.Time) string {
		tok, _, _ := s.Issue(Principal{Kind: Requester, Subject: sub, Session: session}, at, time.Hour)
		return tok
	}
	one, _, _ := s.Issue(Principal{Kind: Requester, Subject: "a", TokenID: "jti-1"}, now, time.Hour)
	sess := issue("b", "sess-b", now)
	old, newer := issue("c", "", now), issue("c", "", now.Add(time.Minute))
	other := issue("d", "", now)
	v.Revoke(Revocation{TokenID: "jti-1", ExpiresAt: now.Add(time.Hour)})
	v.Revoke(Revocation{Session: "sess-b", ExpiresAt: now.Add(time.Hour)})
	v.Revoke(Revocation{Subject: "c", IssuedBefore: now.Add(time.Second), ExpiresAt: now.Add(2 * time.Hour)})
	for name, tok := range map[string]string{"token": one, "session": sess, "subject's older token": old} {
		if _, err := v.Verify(tok, now.Add(2*time.Minute)); !errors.Is(err, ErrRevoked) {
			t.Errorf("%s: %v, want revoked", name, err)
		}
	}
	for name, tok := range map[string]string{"subject's newer token": newer, "another subject": other} {
		if _, err := v.Verify(tok, now.Add(2*time.Minute)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Every method × every kind of principal: only what the table allows
// passes; an undeclared method is refused to everyone, operators included.
func TestTheRulesTableDecidesEveryCall(t *testing.T) {
	s := signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	a := &Authenticator{Verifier: v, Now: func() time.Time { return now }, Rules: Rules{
		"/x.Clock/Now":     Allow(Requester, Tracking, Reviewer, Administrator, Operator),
		"/x.Clock/Advance": Allow(Operator),
		"/x.Members/List":  Public(),
		"/x.Review/Give":   Allow(Reviewer),
	}}
	tokens := map[Kind]string{Nobody: ""}
	for _, k := range []Kind{Requester, Tracking, Reviewer, Administrator, Operator} {
		tokens[k], _, _ = s.Issue(Principal{Kind: k, Subject: "x-" + k.String(), Pole: "flore", Request: "R-1"}, now, time.Hour)
	}
	allowed := map[string][]Kind{
		"/x.Clock/Now":         {Requester, Tracking, Reviewer, Administrator, Operator},
		"/x.Clock/Advance":     {Operator},
		"/x.Members/List":      {Nobody, Requester, Tracking, Reviewer, Administrator, Operator},
		"/x.Review/Give":       {Reviewer},
		"/x.Secret/Undeclared": nil,
	}
	for method, who := range allowed {
		for k, tok := range tokens {
			p, err := a.Check(method, tok)
			want := false
			for _, w := range who {
				want = want || w == k
			}
			switch {
			case want && err != nil:
				t.Errorf("%s by %s: refused (%v)", method, k, err)
			case want && p.Kind != k:
				t.Errorf("%s by %s: principal %s", method, k, p.Kind)
			case !want && err == nil:
				t.Errorf("%s by %s: allowed", method, k)
			case !want && k == Nobody && status.Code(err) != codes.Unauthenticated && method != "/x.Secret/Undeclared":
				t.Errorf("%s without a token: %v, want Unauthenticated", method, err)
			case !want && k != Nobody && status.Code(err) != codes.PermissionDenied:
				t.Errorf("%s by %s: %v, want PermissionDenied", method, k, err)
			}
		}
	}
	// A bad token is refused even where no token is needed.
	if _, err := a.Check("/x.Members/List", "sinp1.bad.token"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a public method with a bad token: %v", err)
	}
}

func TestTheKeyFileIsCreatedOnceAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth", "signing.key")
	a, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKey(path)
	if err != nil || a.KeyID != b.KeyID {
		t.Fatalf("second load: %v %v", b.KeyID, err)
	}
	if st, err := osStat(path); err != nil || st&0o077 != 0 {
		t.Fatalf("key file mode %o (%v)", st, err)
	}
}

// A held verifier (its process has not read the revocations yet) refuses
// every valid token as not yet checkable, Unavailable over gRPC and 503
// over HTTP, and a bad or expired one as before; public calls without a
// token pass. Once released, tokens pass again, revoked ones excepted.
func TestAHeldVerifierFailsClosed(t *testing.T) {
	s := signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	a := &Authenticator{Verifier: v, Now: func() time.Time { return now }, Rules: Rules{
		"/x.Requests/List": Allow(Requester), "/x.Members/List": Public()}}
	good, _, _ := s.Issue(Principal{Kind: Requester, Subject: "a"}, now, time.Hour)
	revoked, _, _ := s.Issue(Principal{Kind: Requester, Subject: "b", TokenID: "jti-b"}, now, time.Hour)
	expired, _, _ := s.Issue(Principal{Kind: Requester, Subject: "a"}, now.Add(-2*time.Hour), time.Hour)
	v.Hold()
	for name, tok := range map[string]string{"a good token": good, "a token revoked before the start": revoked} {
		if _, err := a.Check("/x.Requests/List", tok); status.Code(err) != codes.Unavailable {
			t.Errorf("held, %s: %v, want Unavailable", name, err)
		}
		r := httptest.NewRequest("GET", "/dropzone/R-1/R-1_F1.7z", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if _, code, _ := a.HTTP(r); code != http.StatusServiceUnavailable {
			t.Errorf("held, %s over HTTP: %d, want 503", name, code)
		}
	}
	if _, err := a.Check("/x.Requests/List", expired); status.Code(err) != codes.Unauthenticated {
		t.Errorf("held, an expired token: %v", err)
	}
	if _, err := a.Check("/x.Members/List", ""); err != nil {
		t.Errorf("held, a public call: %v", err)
	}
	// What the bus held is read: the revocation, then the release.
	v.Revoke(Revocation{TokenID: "jti-b", ExpiresAt: now.Add(time.Hour)})
	v.Release()
	if _, err := a.Check("/x.Requests/List", good); err != nil {
		t.Errorf("released, a good token: %v", err)
	}
	if _, err := a.Check("/x.Requests/List", revoked); status.Code(err) != codes.Unauthenticated {
		t.Errorf("released, the revoked token: %v", err)
	}
}

// A token's base64 is read strictly: one whose last character differs
// only in the bits the encoding leaves unused is not the same token.
func TestATokensEncodingIsCanonical(t *testing.T) {
	s := signer(t)
	v := NewVerifier()
	v.AddKey(s.Public())
	tok, _, _ := s.Issue(Principal{Kind: Requester, Subject: "a"}, now, time.Hour)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	// 64 signature bytes take 86 characters, the last of which carries 2
	// bits: its low 4 are 0 in the canonical form.
	twin := tok[:len(tok)-1] + string(alphabet[last|1])
	if _, err := v.Verify(tok, now); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(twin, now); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a non-canonical twin: %v", err)
	}
	broken := tok[:len(tok)-10] + "\r\n" + tok[len(tok)-10:]
	if _, err := v.Verify(broken, now); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a token with a line break in its signature: %v", err)
	}
}
