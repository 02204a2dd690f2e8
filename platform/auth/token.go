package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const prefix = "sinp1."

// MaxTokenBytes bounds what Verify reads.
const MaxTokenBytes = 4096

// MaxTTL is the longest a token may live: less than revocations are kept
// on the bus (bus.RevocationKeep, 400 days).
const MaxTTL = 399 * 24 * time.Hour

// Errors of Verify; each means "not authenticated".
var (
	ErrNoToken    = errors.New("no token")
	ErrMalformed  = errors.New("malformed token")
	ErrUnknownKey = errors.New("token signed by an unknown key")
	ErrSignature  = errors.New("bad token signature")
	ErrExpired    = errors.New("token expired")
	ErrRevoked    = errors.New("token revoked")
)

// ErrStarting: the verifier has not yet read the revocations published
// before its process started, so it cannot tell a revoked token from a
// good one; the caller is to try again in a moment.
var ErrStarting = errors.New("starting: the published revocations are not all read yet")

// claims is the signed part of a token.
type claims struct {
	KeyID     string `json:"kid"`
	TokenID   string `json:"jti"`
	Session   string `json:"sid,omitempty"`
	Kind      string `json:"knd"`
	Subject   string `json:"sub"`
	Name      string `json:"nam,omitempty"`
	Structure string `json:"str,omitempty"`
	Pole      string `json:"pol,omitempty"`
	Request   string `json:"req,omitempty"`
	IssuedAt  int64  `json:"iat"` // Unix ms
	ExpiresAt int64  `json:"exp"` // Unix ms
}

// Signer issues tokens with one key.
type Signer struct {
	KeyID string
	Key   ed25519.PrivateKey
}

// KeyIDOf names a public key: the start of its SHA-256.
func KeyIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) Signer {
	return Signer{KeyID: KeyIDOf(key.Public().(ed25519.PublicKey)), Key: key}
}

// Public is the signer's public key.
func (s Signer) Public() ed25519.PublicKey { return s.Key.Public().(ed25519.PublicKey) }

// Issue signs a token for p, valid from now for ttl (wall time: a token's
// life is never on the deployment's accelerated clock). TokenID is
// generated when empty. It returns the token and the principal as issued.
func (s Signer) Issue(p Principal, now time.Time, ttl time.Duration) (string, Principal, error) {
	if p.Kind == Nobody {
		return "", p, errors.New("auth.Issue: a token needs a kind")
	}
	if p.Subject == "" {
		return "", p, errors.New("auth.Issue: a token needs a subject")
	}
	if ttl <= 0 || ttl > MaxTTL {
		return "", p, fmt.Errorf("auth.Issue: a token lives more than nothing and at most %s (its revocation must outlive it)", MaxTTL)
	}
	if p.TokenID == "" {
		p.TokenID = RandomID()
	}
	p.IssuedAt = now.Truncate(time.Millisecond)
	p.ExpiresAt = p.IssuedAt.Add(ttl)
	c := claims{KeyID: s.KeyID, TokenID: p.TokenID, Session: p.Session, Kind: p.Kind.String(), Subject: p.Subject,
		Name: p.Name, Structure: p.Structure, Pole: p.Pole, Request: p.Request,
		IssuedAt: p.IssuedAt.UnixMilli(), ExpiresAt: p.ExpiresAt.UnixMilli()}
	body, err := json.Marshal(c)
	if err != nil {
		return "", p, err
	}
	signed := prefix + base64.RawURLEncoding.EncodeToString(body)
	sig := ed25519.Sign(s.Key, []byte(signed))
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), p, nil
}

// RandomID is 128 random bits, base64url.
func RandomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parse checks a token's form and signature against keys, and returns its
// claims; expiry and revocation are the Verifier's.
func parse(token string, key func(kid string) (ed25519.PublicKey, bool)) (claims, error) {
	var c claims
	if token == "" {
		return c, ErrNoToken
	}
	if len(token) > MaxTokenBytes || !strings.HasPrefix(token, prefix) {
		return c, ErrMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	// The decoder skips line breaks: a token with one is not this token.
	if dot <= len(prefix) || strings.ContainsAny(token, "\r\n") {
		return c, ErrMalformed
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(token[len(prefix):dot])
	if err != nil {
		return c, ErrMalformed
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(token[dot+1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return c, ErrMalformed
	}
	if err := json.Unmarshal(body, &c); err != nil || c.KeyID == "" {
		return c, ErrMalformed
	}
	pub, ok := key(c.KeyID)
	if !ok {
		return c, ErrUnknownKey
	}
	if !ed25519.Verify(pub, []byte(token[:dot]), sig) {
		return c, ErrSignature
	}
	return c, nil
}

func (c claims) principal() (Principal, error) {
	k, err := ParseKind(c.Kind)
	if err != nil || c.Subject == "" || c.TokenID == "" {
		return Principal{}, ErrMalformed
	}
	if k == Reviewer && c.Pole == "" || k == Tracking && c.Request == "" {
		return Principal{}, ErrMalformed
	}
	return Principal{Kind: k, Subject: c.Subject, Name: c.Name, Structure: c.Structure, Pole: c.Pole, Request: c.Request,
		TokenID: c.TokenID, Session: c.Session, IssuedAt: time.UnixMilli(c.IssuedAt).UTC(), ExpiresAt: time.UnixMilli(c.ExpiresAt).UTC()}, nil
}

// Revocation names tokens no service accepts any more: one token, a
// session's, or a subject's issued before an instant.
type Revocation struct {
	TokenID      string
	Session      string
	Subject      string
	IssuedBefore time.Time
	// ExpiresAt: every token it names has expired by then; the
	// revocation may be forgotten.
	ExpiresAt time.Time
}

// Verifier checks tokens against the trusted keys and the revocations.
type Verifier struct {
	// held: revocations may be missing (Hold, until Release).
	held atomic.Bool
	mu   sync.RWMutex
	// trusted are the key ids a published key may bear: a key on the bus
	// is believed only if the deployment named it (anyone who can publish
	// on NATS could publish a key of their own).
	trusted  map[string]bool
	keys     map[string]ed25519.PublicKey
	tokens   map[string]time.Time // jti -> forget after
	sessions map[string]time.Time
	subjects map[string]subjectRevocation
}

type subjectRevocation struct{ before, forget time.Time }

// NewVerifier returns a verifier that knows no key yet.
func NewVerifier() *Verifier {
	return &Verifier{trusted: map[string]bool{}, keys: map[string]ed25519.PublicKey{}, tokens: map[string]time.Time{},
		sessions: map[string]time.Time{}, subjects: map[string]subjectRevocation{}}
}

// AddKey trusts a public key (one this process holds, or was given).
func (v *Verifier) AddKey(pub ed25519.PublicKey) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys[KeyIDOf(pub)] = pub
	v.trusted[KeyIDOf(pub)] = true
}

// Trust names key ids whose public keys may be learnt from the bus.
func (v *Verifier) Trust(ids ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		v.trusted[id] = true
	}
}

// Learn adds a published public key if its id is trusted; it reports
// whether it did.
func (v *Verifier) Learn(pub ed25519.PublicKey) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	id := KeyIDOf(pub)
	if !v.trusted[id] {
		return false
	}
	v.keys[id] = pub
	return true
}

// Revoke applies a revocation. One without a future expiry is kept as
// long as any token may live.
func (v *Verifier) Revoke(r Revocation) {
	if !r.ExpiresAt.After(time.Now()) {
		r.ExpiresAt = time.Now().Add(MaxTTL)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.TokenID != "" {
		v.tokens[r.TokenID] = r.ExpiresAt
	}
	if r.Session != "" {
		v.sessions[r.Session] = r.ExpiresAt
	}
	if r.Subject != "" && !r.IssuedBefore.IsZero() {
		if cur := v.subjects[r.Subject]; r.IssuedBefore.After(cur.before) {
			v.subjects[r.Subject] = subjectRevocation{before: r.IssuedBefore, forget: r.ExpiresAt}
		}
	}
}

func (v *Verifier) key(kid string) (ed25519.PublicKey, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok := v.keys[kid]
	return k, ok
}

// Hold makes Verify refuse every valid token with ErrStarting until
// Release: a process holds its verifier until it has read the revocations
// on the bus, so that a token revoked before it started is not accepted
// meanwhile (it fails closed, however long the bus takes).
func (v *Verifier) Hold() { v.held.Store(true) }

// Release ends Hold: the revocations are read.
func (v *Verifier) Release() { v.held.Store(false) }

// Held says whether Verify refuses tokens for now (Hold).
func (v *Verifier) Held() bool { return v.held.Load() }

// Verify returns the principal of a valid token at wall time now.
func (v *Verifier) Verify(token string, now time.Time) (Principal, error) {
	c, err := parse(token, v.key)
	if err != nil {
		return Principal{}, err
	}
	p, err := c.principal()
	if err != nil {
		return Principal{}, err
	}
	if !now.Before(p.ExpiresAt) {
		return Principal{}, ErrExpired
	}
	if v.held.Load() {
		return Principal{}, ErrStarting
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, tokenRevoked := v.tokens[p.TokenID]
	_, sessionRevoked := v.sessions[p.Session]
	sub, subjectRevoked := v.subjects[p.Subject]
	if tokenRevoked || p.Session != "" && sessionRevoked || subjectRevoked && p.IssuedAt.Before(sub.before) {
		return Principal{}, ErrRevoked
	}
	return p, nil
}

// Forget drops revocations whose tokens have all expired.
func (v *Verifier) Forget(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, t := range v.tokens {
		if now.After(t) {
			delete(v.tokens, k)
		}
	}
	for k, t := range v.sessions {
		if now.After(t) {
			delete(v.sessions, k)
		}
	}
	for k, s := range v.subjects {
		if now.After(s.forget) {
			delete(v.subjects, k)
		}
	}
}

// LoadOrCreateKey reads the signing key file (PKCS#8 PEM), creating it
// with a new key, readable by its owner only, when it does not exist.
func LoadOrCreateKey(path string) (Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := createKey(path); err != nil && !errors.Is(err, os.ErrExist) {
			return Signer{}, fmt.Errorf("SINP_AUTH_KEY_FILE=%s: %w", path, err)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return Signer{}, fmt.Errorf("SINP_AUTH_KEY_FILE=%s: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return Signer{}, fmt.Errorf("SINP_AUTH_KEY_FILE=%s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return Signer{}, fmt.Errorf("SINP_AUTH_KEY_FILE=%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return Signer{}, fmt.Errorf("SINP_AUTH_KEY_FILE=%s: not an Ed25519 key", path)
	}
	s := NewSigner(ek)
	if _, err := os.Stat(path + ".pub"); errors.Is(err, os.ErrNotExist) {
		_ = WritePublicKey(path+".pub", s) // for the processes that only verify
	}
	return s, nil
}

// ReadKey reads an existing signing key file without creating one.
func ReadKey(path string) (Signer, error) {
	if _, err := os.Stat(path); err != nil {
		return Signer{}, err
	}
	return LoadOrCreateKey(path)
}

func createKey(path string) error {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// A temporary file renamed into place: a concurrent reader never sees
	// half a key, and of two creators one wins.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	return WritePublicKey(path+".pub", NewSigner(key))
}

// WritePublicKey writes a signer's public key (PKIX PEM), which processes
// without the private key are given (SINP_AUTH_PUBLIC_KEYS) to trust its
// tokens.
func WritePublicKey(path string, s Signer) error {
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
}

// ReadPublicKey reads a PKIX PEM Ed25519 public key file.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: not a PEM public key", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return pub, nil
}
