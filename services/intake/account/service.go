// Package account is intake's accounts and sign-in: requester accounts (a
// person of a structure), pôle reviewers (bound to one pôle),
// administrators (DREAL) and operators. Passwords are argon2id hashes;
// sign-in returns a short-lived signed access token and a refresh token
// kept only hashed, rotated at each refresh (a replaced one presented
// again ends its session); wrong passwords (at sign-in, or as the current
// one when changing it) are rate limited per account and per address,
// attempts on one account or from one address taking turns; a sign-out, a
// disabled account or a changed password is published (TokenRevoked) so
// that every service refuses the tokens within seconds.
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
	"sinp.occitanie.fr/platform/pole"
)

// Emitter adds events to intake's outbox.
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Structures tells whether a structure exists in the membership registry.
type Structures func(ctx context.Context, q pg.Querier, id string) (bool, error)

// Poles are the pôle codes a reviewer may belong to.
var Poles = pole.Codes

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

// ThrottledError refuses a password attempt (a sign-in, a current
// password) until RetryAt.
type ThrottledError struct{ RetryAt time.Time }

func (e ThrottledError) Error() string {
	return "too many wrong passwords: try again after " + e.RetryAt.UTC().Format(time.RFC3339)
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

// Advisory lock classes (the two-key form, a key space of its own): the
// password attempts on one email, and those from one address, take turns
// from counting the failures to recording their own, so that concurrent
// guesses cannot all be checked against one count.
const (
	lockEmail   = 7_400_101
	lockAddress = 7_400_102
)

// guard takes the turn of an attempt on email from address until tx ends
// (the email's lock first, then the address's: one order everywhere), and
// refuses it when the failures in the window reach the limits.
func (s *Service) guard(ctx context.Context, tx pgx.Tx, email, address string, now time.Time) error {
	address = grpcserver.Subscriber(address)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(lower($2)))`, lockEmail, email); err != nil {
		return fmt.Errorf("lock the email's attempts: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockAddress, address); err != nil {
		return fmt.Errorf("lock the address's attempts: %w", err)
	}
	var byAccount, byAddress int
	var oldestAccount, oldestAddress *time.Time
	if err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM intake.sign_in_failure WHERE lower(email) = lower($1) AND at > $3),
			(SELECT min(at) FROM intake.sign_in_failure WHERE lower(email) = lower($1) AND at > $3),
			(SELECT count(*) FROM intake.sign_in_failure WHERE address = $2 AND at > $3),
			(SELECT min(at) FROM intake.sign_in_failure WHERE address = $2 AND at > $3)`,
		email, address, now.Add(-s.Limits.Window)).Scan(&byAccount, &oldestAccount, &byAddress, &oldestAddress); err != nil {
		return fmt.Errorf("count failed sign-ins: %w", err)
	}
	if limited, until := s.Limits.Throttled(byAccount, byAddress, deref(oldestAccount), deref(oldestAddress)); limited {
		return ThrottledError{RetryAt: until}
	}
	return nil
}

// recordFailure counts a wrong password, within the transaction guard
// began, and prunes a few failures the window has left behind (as many
// as are added at most, so the table holds about one window's worth).
func (s *Service) recordFailure(ctx context.Context, tx pgx.Tx, email, address string, now time.Time) error {
	address = grpcserver.Subscriber(address)
	if _, err := tx.Exec(ctx, `INSERT INTO intake.sign_in_failure (email, address, at) VALUES ($1, $2, $3)`, email, address, now); err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM intake.sign_in_failure WHERE id IN (
			SELECT id FROM intake.sign_in_failure WHERE at <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`, now.Add(-s.Limits.Window)); err != nil {
		return fmt.Errorf("prune failed sign-ins: %w", err)
	}
	return nil
}

// committedRefusal is an answer whose transaction must still commit (a
// failure counted, a session revoked).
type committedRefusal struct{ err error }

func (r committedRefusal) Error() string { return r.err.Error() }

// inTx runs fn in a transaction; a committedRefusal fn returns is
// committed, then returned as its error.
func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var refusal error
	err := pg.InTx(ctx, s.DB, func(tx pgx.Tx) error {
		err := fn(tx)
		if r, ok := err.(committedRefusal); ok {
			refusal = r.err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

// SignIn checks an email and password from an address and opens a session.
func (s *Service) SignIn(ctx context.Context, email, password, address string) (Tokens, Account, error) {
	email = strings.TrimSpace(email)
	var bad []grpcserver.Violation
	if why := emailProblem(email); why != "" {
		bad = append(bad, grpcserver.Violation{Field: "email", Description: why})
	}
	switch {
	case password == "":
		bad = append(bad, grpcserver.Violation{Field: "password", Description: "required"})
	case len(password) > MaxPasswordBytes: // longer than any password set: never right
		bad = append(bad, grpcserver.Violation{Field: "password", Description: "at most 1024 bytes"})
	}
	if len(bad) > 0 {
		return Tokens{}, Account{}, grpcserver.Invalid(bad...)
	}
	var t Tokens
	var a Account
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		if err := s.guard(ctx, tx, email, address, now); err != nil {
			return err
		}
		// FOR SHARE: a password change or a disable waits for this
		// sign-in (and its revocation then sees the session), or this
		// sign-in waits for it and reads the new hash.
		found, hash, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account
			WHERE lower(email) = lower($1) FOR SHARE`, email))
		known := err == nil
		if errors.Is(err, ErrNotFound) {
			hash = decoyHash() // as long as for a real account
		} else if err != nil {
			return err
		}
		ok, verr := verifyPassword(ctx, password, hash)
		if verr != nil && ctx.Err() != nil {
			return verr // gone before its turn: nothing was checked
		}
		if !known || verr != nil || !ok || found.Disabled {
			if verr != nil && known {
				s.Log.Error("account: unreadable password hash", "account", found.ID)
			}
			if err := s.recordFailure(ctx, tx, email, address, now); err != nil {
				return err
			}
			return committedRefusal{ErrBadCredentials}
		}
		a = found
		return s.open(ctx, tx, &t, a, address, s.Now())
	})
	if err != nil {
		return Tokens{}, Account{}, err
	}
	return t, a, nil
}

// open starts a session for a and issues its first tokens.
func (s *Service) open(ctx context.Context, tx pgx.Tx, t *Tokens, a Account, address string, now time.Time) error {
	sid := randomID("ses-", 10)
	t.Refresh = newRefreshToken()
	t.RefreshExpires = now.Add(s.RefreshTTL)
	if _, err := tx.Exec(ctx, `INSERT INTO intake.session (id, account_id, refresh_hash, created_at, expires_at, address) VALUES ($1, $2, $3, $4, $5, $6)`,
		sid, a.ID, refreshHash(t.Refresh), now, t.RefreshExpires, address); err != nil {
		return fmt.Errorf("open a session: %w", err)
	}
	return s.issue(t, a, sid, now)
}

func newRefreshToken() string {
	return "sinpr1." + base64.RawURLEncoding.EncodeToString(randomBytes(32))
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
// stops working (rotation), and presenting it again ends the session.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, Account, error) {
	var t Tokens
	var a Account
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var sid, accountID string
		var f sessionFacts
		err := tx.QueryRow(ctx, `SELECT s.id, s.account_id, s.created_at, s.expires_at, s.revoked_at IS NOT NULL, a.password_changed_at, a.disabled_at IS NOT NULL
			FROM intake.session s JOIN intake.account a ON a.id = s.account_id
			WHERE s.refresh_hash = $1 FOR UPDATE OF s`, refreshHash(refresh)).
			Scan(&sid, &accountID, &f.Created, &f.Expires, &f.Revoked, &f.PasswordChanged, &f.AccountDisabled)
		if pg.IsNoRows(err) {
			if _, err := s.revokeReused(ctx, tx, refresh, now); err != nil {
				return err
			}
			return committedRefusal{ErrSession}
		}
		if err != nil {
			return fmt.Errorf("read the session: %w", err)
		}
		if !f.usable(now) {
			return ErrSession
		}
		if a, _, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+`, '' FROM intake.account WHERE id = $1`, accountID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO intake.session_rotated (refresh_hash, session_id, expires_at) VALUES ($1, $2, $3)`,
			refreshHash(refresh), sid, f.Expires); err != nil {
			return fmt.Errorf("keep the replaced refresh token: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM intake.session_rotated WHERE refresh_hash IN (
				SELECT refresh_hash FROM intake.session_rotated WHERE expires_at <= $1 LIMIT 100 FOR UPDATE SKIP LOCKED)`, now); err != nil {
			return fmt.Errorf("prune replaced refresh tokens: %w", err)
		}
		t.Refresh = newRefreshToken()
		t.RefreshExpires = f.Expires
		if _, err := tx.Exec(ctx, `UPDATE intake.session SET refresh_hash = $2 WHERE id = $1`, sid, refreshHash(t.Refresh)); err != nil {
			return fmt.Errorf("rotate the refresh token: %w", err)
		}
		return s.issue(&t, a, sid, now)
	})
	if err != nil {
		return Tokens{}, Account{}, err
	}
	return t, a, nil
}

// revokeReused ends the session of a refresh token a rotation replaced,
// if it is one: two parties hold the session (one stole it) and which is
// the owner cannot be told, so neither keeps it. Its access tokens are
// revoked everywhere, as at a sign-out. It reports whether it ended one.
func (s *Service) revokeReused(ctx context.Context, tx pgx.Tx, refresh string, now time.Time) (bool, error) {
	var sid, accountID string
	err := tx.QueryRow(ctx, `UPDATE intake.session s SET revoked_at = $2 FROM intake.session_rotated r
		WHERE r.refresh_hash = $1 AND s.id = r.session_id AND s.revoked_at IS NULL RETURNING s.id, s.account_id`,
		refreshHash(refresh), now).Scan(&sid, &accountID)
	if pg.IsNoRows(err) {
		return false, nil // unknown, or its session has ended already
	}
	if err != nil {
		return false, fmt.Errorf("revoke a reused session: %w", err)
	}
	if _, err := s.Emitter.Emit(ctx, tx, auth.RevocationEvent(auth.Revocation{Session: sid, ExpiresAt: now.Add(s.AccessTTL)},
		"refresh token reused")); err != nil {
		return false, err
	}
	pg.AfterCommit(tx, func() {
		s.Log.Warn("account: a replaced refresh token was presented again: session ended", "session", sid, "account", accountID)
	})
	return true, nil
}

// SignOut ends the session of a refresh token (the current one or one
// it replaced) and revokes its access tokens everywhere.
func (s *Service) SignOut(ctx context.Context, refresh string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var sid string
		err := tx.QueryRow(ctx, `UPDATE intake.session SET revoked_at = $2 WHERE refresh_hash = $1 AND revoked_at IS NULL RETURNING id`,
			refreshHash(refresh), now).Scan(&sid)
		if pg.IsNoRows(err) {
			ended, err := s.revokeReused(ctx, tx, refresh, now)
			if err != nil || ended {
				return err
			}
			return ErrSession
		}
		if err != nil {
			return fmt.Errorf("end the session: %w", err)
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
	hash, err := hashPassword(ctx, n.Password)
	if err != nil {
		return Account{}, err
	}
	a := Account{ID: randomID("acc-", 8), Email: n.Email, Name: n.Name, Kind: n.Kind, Pole: n.Pole, StructureID: n.StructureID, CreatedAt: s.Now()}
	// password_changed_at on the tokens' clock, which sessions are compared with.
	_, err = s.DB.Exec(ctx, `INSERT INTO intake.account (id, email, name, kind, pole, structure_id, password_hash, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, a.ID, a.Email, a.Name, a.Kind.String(), a.Pole, a.StructureID, hash, a.CreatedAt)
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
// Every session of the account ends and its tokens are revoked. Wrong
// current passwords count as failed sign-ins (same limits, same turns):
// a stolen access token is no unlimited oracle for the password.
func (s *Service) SetPassword(ctx context.Context, by auth.Principal, id, current, next, address string) error {
	if id == "" {
		id = by.Subject
	}
	own := by.Subject == id
	var bad []grpcserver.Violation
	if own && current == "" {
		bad = append(bad, grpcserver.Violation{Field: "current_password", Description: "required to change your own password"})
	} else if own && len(current) > MaxPasswordBytes {
		bad = append(bad, grpcserver.Violation{Field: "current_password", Description: "not the current password"})
	}
	if err := CheckPassword(next); err != nil {
		bad = append(bad, grpcserver.Violation{Field: "new_password", Description: err.Error()})
	}
	if len(bad) > 0 {
		return grpcserver.Invalid(bad...)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if own {
			var email string
			err := tx.QueryRow(ctx, `SELECT email FROM intake.account WHERE id = $1`, id).Scan(&email)
			if pg.IsNoRows(err) {
				return ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("read the account: %w", err)
			}
			if err := s.guard(ctx, tx, email, address, s.Now()); err != nil {
				return err
			}
		}
		a, old, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+`, password_hash FROM intake.account WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		switch {
		case own:
			ok, verr := verifyPassword(ctx, current, old)
			if verr != nil && ctx.Err() != nil {
				return verr
			}
			if !ok {
				if err := s.recordFailure(ctx, tx, a.Email, address, s.Now()); err != nil {
					return err
				}
				return committedRefusal{grpcserver.Invalid(grpcserver.Violation{Field: "current_password", Description: "not the current password"})}
			}
		case by.Kind == auth.Operator, by.Kind == auth.Administrator && a.Kind != auth.Operator:
		default:
			return ErrNotFound // another's account: as if it did not exist
		}
		hash, err := hashPassword(ctx, next)
		if err != nil {
			return err
		}
		// Taken with the row locked: every session committed before is
		// revoked below, every one opened after is younger.
		now := s.Now()
		if _, err := tx.Exec(ctx, `UPDATE intake.account SET password_hash = $2, password_changed_at = $3 WHERE id = $1`, id, hash, now); err != nil {
			return fmt.Errorf("set the password: %w", err)
		}
		return s.revokeAll(ctx, tx, id, now, "password changed")
	})
}
