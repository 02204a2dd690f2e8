// Package account is intake's accounts and sign-in: requester accounts (a
// person of a structure), pôle reviewers (bound to one pôle),
// administrators (DREAL) and operators. Passwords are argon2id hashes;
// sign-in returns a short-lived signed access token and a refresh token
// kept only hashed; failed sign-ins are rate limited per account and per
// address; a sign-out, a disabled account or a changed password is
// published (TokenRevoked) so that every service refuses the tokens within
// seconds.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/pg"
)

// Emitter adds events to intake's outbox.
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Structures tells whether a structure exists in the membership registry.
type Structures func(ctx context.Context, q pg.Querier, id string) (bool, error)

// Poles are the pôle codes a reviewer may belong to.
var Poles = []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}

// Service is the accounts' use cases.
type Service struct {
	DB         *pgxpool.Pool
	Emitter    Emitter
	Signer     *auth.Signer
	Structures Structures
	// Tokens live on the wall clock, never on the deployment's
	// accelerated one.
	Now        func() time.Time
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	Limits     Limits
	Log        *slog.Logger
}

// Errors of the use cases.
var (
	ErrBadCredentials = errors.New("wrong email or password")
	ErrNotFound       = errors.New("no such account")
	ErrExists         = errors.New("an account with this email exists")
	ErrSession        = errors.New("this refresh token is not valid (expired, signed out or already used)")
)

// ThrottledError refuses a sign-in until RetryAt.
type ThrottledError struct{ RetryAt time.Time }

func (e ThrottledError) Error() string {
	return "too many failed sign-ins: try again after " + e.RetryAt.UTC().Format(time.RFC3339)
}

// Account is one account, without its password.
type Account struct {
	ID          string
	Email       string
	Name        string
	Kind        auth.Kind
	Pole        string
	StructureID string
	Disabled    bool
	CreatedAt   time.Time
}

// Principal is who the account's tokens speak for.
func (a Account) Principal(session string) auth.Principal {
	return auth.Principal{Kind: a.Kind, Subject: a.ID, Name: a.Name, Structure: a.StructureID, Pole: a.Pole, Session: session}
}

// Tokens are what a sign-in gives.
type Tokens struct {
	Access         string
	AccessExpires  time.Time
	Refresh        string
	RefreshExpires time.Time
}

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func refreshHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

const accountColumns = `id, email, name, kind, pole, structure_id, disabled_at IS NOT NULL, created_at`

func scanAccount(row pgx.Row) (Account, string, error) {
	var a Account
	var kind, hash string
	err := row.Scan(&a.ID, &a.Email, &a.Name, &kind, &a.Pole, &a.StructureID, &a.Disabled, &a.CreatedAt, &hash)
	if pg.IsNoRows(err) {
		return a, "", ErrNotFound
	}
	if err != nil {
		return a, "", err
	}
	a.Kind, err = auth.ParseKind(kind)
	return a, hash, err
}

// SignIn checks an email and password from an address and opens a session.
func (s *Service) SignIn(ctx context.Context, email, password, address string) (Tokens, Account, error) {
	now := s.Now()
	email = strings.TrimSpace(email)
	var byAccount, byAddress int
	var oldestAccount, oldestAddress *time.Time
	if err := s.DB.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM intake.sign_in_failure WHERE lower(email) = lower($1) AND at > $3),
			(SELECT min(at) FROM intake.sign_in_failure WHERE lower(email) = lower($1) AND at > $3),
			(SELECT count(*) FROM intake.sign_in_failure WHERE address = $2 AND at > $3),
			(SELECT min(at) FROM intake.sign_in_failure WHERE address = $2 AND at > $3)`,
		email, address, now.Add(-s.Limits.Window)).Scan(&byAccount, &oldestAccount, &byAddress, &oldestAddress); err != nil {
		return Tokens{}, Account{}, err
	}
	if limited, until := s.Limits.Throttled(byAccount, byAddress, deref(oldestAccount), deref(oldestAddress)); limited {
		return Tokens{}, Account{}, ThrottledError{RetryAt: until}
	}
	a, hash, err := scanAccount(s.DB.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account WHERE lower(email) = lower($1)`, email))
	if errors.Is(err, ErrNotFound) {
		hash = decoyHash() // as long as for a real account
	} else if err != nil {
		return Tokens{}, Account{}, err
	}
	ok, verr := VerifyPassword(password, hash)
	if err != nil || verr != nil || !ok || a.Disabled {
		if _, err := s.DB.Exec(ctx, `INSERT INTO intake.sign_in_failure (email, address, at) VALUES ($1, $2, $3)`, email, address, now); err != nil {
			return Tokens{}, Account{}, err
		}
		if verr != nil && err == nil {
			s.Log.Error("account: unreadable password hash", "account", a.ID)
		}
		return Tokens{}, Account{}, ErrBadCredentials
	}
	var t Tokens
	err = pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		sid := randomID("ses-", 10)
		t.Refresh = "sinpr1." + base64.RawURLEncoding.EncodeToString(randomBytes(32))
		t.RefreshExpires = now.Add(s.RefreshTTL)
		if _, err := tx.Exec(ctx, `INSERT INTO intake.session (id, account_id, refresh_hash, created_at, expires_at, address) VALUES ($1, $2, $3, $4, $5, $6)`,
			sid, a.ID, refreshHash(t.Refresh), now, t.RefreshExpires, address); err != nil {
			return err
		}
		return s.issue(&t, a, sid, now)
	})
	return t, a, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (s *Service) issue(t *Tokens, a Account, session string, now time.Time) error {
	tok, p, err := s.Signer.Issue(a.Principal(session), now, s.AccessTTL)
	if err != nil {
		return err
	}
	t.Access, t.AccessExpires = tok, p.ExpiresAt
	return nil
}

// Refresh exchanges a refresh token for new tokens; the old refresh token
// stops working (rotation).
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, Account, error) {
	now := s.Now()
	var t Tokens
	var a Account
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var sid, accountID string
		var expires time.Time
		var revoked bool
		err := tx.QueryRow(ctx, `SELECT id, account_id, expires_at, revoked_at IS NOT NULL FROM intake.session
			WHERE refresh_hash = $1 FOR UPDATE`, refreshHash(refresh)).Scan(&sid, &accountID, &expires, &revoked)
		if pg.IsNoRows(err) {
			return ErrSession
		}
		if err != nil {
			return err
		}
		if revoked || !now.Before(expires) {
			return ErrSession
		}
		if a, _, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account WHERE id = $1`, accountID)); err != nil {
			return err
		}
		if a.Disabled {
			return ErrSession
		}
		t.Refresh = "sinpr1." + base64.RawURLEncoding.EncodeToString(randomBytes(32))
		t.RefreshExpires = expires
		if _, err := tx.Exec(ctx, `UPDATE intake.session SET refresh_hash = $2 WHERE id = $1`, sid, refreshHash(t.Refresh)); err != nil {
			return err
		}
		return s.issue(&t, a, sid, now)
	})
	return t, a, err
}

// SignOut ends the session of a refresh token and revokes its access
// tokens everywhere.
func (s *Service) SignOut(ctx context.Context, refresh string) error {
	now := s.Now()
	return pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var sid string
		err := tx.QueryRow(ctx, `UPDATE intake.session SET revoked_at = $2 WHERE refresh_hash = $1 AND revoked_at IS NULL RETURNING id`,
			refreshHash(refresh), now).Scan(&sid)
		if pg.IsNoRows(err) {
			return ErrSession
		}
		if err != nil {
			return err
		}
		_, err = s.Emitter.Emit(ctx, tx, auth.RevocationEvent(auth.Revocation{Session: sid, ExpiresAt: now.Add(s.AccessTTL)}, "signed out"))
		return err
	})
}

// Get reads an account.
func (s *Service) Get(ctx context.Context, id string) (Account, error) {
	a, _, err := scanAccount(s.DB.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account WHERE id = $1`, id))
	return a, err
}

// NewAccount is what creating an account takes.
type NewAccount struct {
	Email, Name string
	Kind        auth.Kind
	Pole        string
	StructureID string
	Password    string
}

// Create adds an account. An administrator creates requesters, reviewers
// and administrators; an operator any kind.
func (s *Service) Create(ctx context.Context, by auth.Principal, n NewAccount) (Account, error) {
	n.Email, n.Name, n.Pole, n.StructureID = strings.TrimSpace(n.Email), strings.TrimSpace(n.Name), strings.TrimSpace(n.Pole), strings.TrimSpace(n.StructureID)
	var bad []grpcserver.Violation
	if addr, err := mail.ParseAddress(n.Email); err != nil || addr.Address != n.Email || len(n.Email) > 254 {
		bad = append(bad, grpcserver.Violation{Field: "email", Description: "an email address like nom@structure.fr"})
	}
	if n.Name == "" || len(n.Name) > 200 {
		bad = append(bad, grpcserver.Violation{Field: "name", Description: "required, at most 200 bytes"})
	}
	switch n.Kind {
	case auth.Requester:
		if n.StructureID == "" {
			bad = append(bad, grpcserver.Violation{Field: "structure_id", Description: "a requester belongs to a structure of the registry"})
		} else if ok, err := s.Structures(ctx, s.DB, n.StructureID); err != nil {
			return Account{}, err
		} else if !ok {
			bad = append(bad, grpcserver.Violation{Field: "structure_id", Description: fmt.Sprintf("no structure %q in the registry", n.StructureID)})
		}
		if n.Pole != "" {
			bad = append(bad, grpcserver.Violation{Field: "pole", Description: "only a reviewer has a pôle"})
		}
	case auth.Reviewer:
		if !slices.Contains(Poles, n.Pole) {
			bad = append(bad, grpcserver.Violation{Field: "pole", Description: "a reviewer belongs to one pôle: " + strings.Join(Poles, ", ")})
		}
	case auth.Administrator, auth.Operator:
		if n.Pole != "" {
			bad = append(bad, grpcserver.Violation{Field: "pole", Description: "only a reviewer has a pôle"})
		}
	default:
		bad = append(bad, grpcserver.Violation{Field: "kind", Description: "requester, reviewer, administrator or operator"})
	}
	if n.Kind == auth.Operator && by.Kind != auth.Operator {
		return Account{}, errForbidden("only an operator creates operators")
	}
	if err := CheckPassword(n.Password); err != nil {
		bad = append(bad, grpcserver.Violation{Field: "password", Description: err.Error()})
	}
	if len(bad) > 0 {
		return Account{}, grpcserver.Invalid(bad...)
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return Account{}, err
	}
	a := Account{ID: randomID("acc-", 8), Email: n.Email, Name: n.Name, Kind: n.Kind, Pole: n.Pole, StructureID: n.StructureID, CreatedAt: s.Now()}
	_, err = s.DB.Exec(ctx, `INSERT INTO intake.account (id, email, name, kind, pole, structure_id, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.ID, a.Email, a.Name, a.Kind.String(), a.Pole, a.StructureID, hash, a.CreatedAt)
	if err != nil && strings.Contains(err.Error(), "account_email") {
		return Account{}, ErrExists
	}
	return a, err
}

// ForbiddenError is an action the caller's kind may not take.
type ForbiddenError struct{ Why string }

func (e ForbiddenError) Error() string { return e.Why }

func errForbidden(why string) error { return ForbiddenError{why} }

// List returns accounts by email, limit after the cursor email.
func (s *Service) List(ctx context.Context, after string, limit int) ([]Account, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+accountColumns+`, '' FROM intake.account WHERE lower(email) > lower($1) ORDER BY lower(email) LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Account, error) {
		a, _, err := scanAccount(row)
		return a, err
	})
}

// Disable closes an account: its sessions end, its tokens are revoked.
func (s *Service) Disable(ctx context.Context, by auth.Principal, id, reason string) (Account, error) {
	now := s.Now()
	var a Account
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		if a, _, err = scanAccount(tx.QueryRow(ctx, `UPDATE intake.account SET disabled_at = coalesce(disabled_at, $2) WHERE id = $1
			RETURNING `+accountColumns+`, ''`, id, now)); err != nil {
			return err
		}
		if a.Kind == auth.Operator && by.Kind != auth.Operator {
			return errForbidden("only an operator disables operators")
		}
		return s.revokeAll(ctx, tx, a.ID, now, "account disabled: "+reason)
	})
	return a, err
}

func (s *Service) revokeAll(ctx context.Context, tx pgx.Tx, accountID string, now time.Time, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE intake.session SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, accountID, now); err != nil {
		return err
	}
	_, err := s.Emitter.Emit(ctx, tx, auth.RevocationEvent(auth.Revocation{Subject: accountID, IssuedBefore: now.Add(time.Millisecond),
		ExpiresAt: now.Add(s.AccessTTL)}, reason))
	return err
}

// SetPassword changes a password: the caller's own, with its current one,
// or any account's by an administrator (not an operator's) or an operator.
// Every session of the account ends and its tokens are revoked.
func (s *Service) SetPassword(ctx context.Context, by auth.Principal, id, current, next string) error {
	if id == "" {
		id = by.Subject
	}
	if err := CheckPassword(next); err != nil {
		return grpcserver.Invalid(grpcserver.Violation{Field: "new_password", Description: err.Error()})
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	now := s.Now()
	return pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		a, old, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		switch {
		case by.Subject == id:
			if ok, _ := VerifyPassword(current, old); !ok {
				return grpcserver.Invalid(grpcserver.Violation{Field: "current_password", Description: "not the current password"})
			}
		case by.Kind == auth.Operator, by.Kind == auth.Administrator && a.Kind != auth.Operator:
		default:
			return ErrNotFound // another's account: as if it did not exist
		}
		if _, err := tx.Exec(ctx, `UPDATE intake.account SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, id, hash, now); err != nil {
			return err
		}
		return s.revokeAll(ctx, tx, id, now, "password changed")
	})
}
