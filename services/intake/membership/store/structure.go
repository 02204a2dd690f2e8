// Package store is the membership registry's PostgreSQL (schema intake,
// migration 0003_membership.sql): structures, their status history, the
// promotions and each pôle's position. One file per concern; functions
// take the transaction or querier they run in. Package rule decides what
// may change; this package only remembers it.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// ErrNotFound: no structure has that id.
var ErrNotFound = errors.New("membership: no such structure")

// ErrRegistryIDTaken: another structure already has that registry number.
var ErrRegistryIDTaken = errors.New("membership: another structure has this registry number (id_adher)")

// Structure is a structure of the registry, as stored.
type Structure struct {
	ID string
	// RegistryID is the registry's number (id_adher), when imported.
	RegistryID string
	rule.Profile
	rule.Membership
	RequestedAt   time.Time
	Remarks       string
	AdherentSince time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// PromotionID is the row of Membership.Promotion (0: none yet).
	PromotionID int64
	// History is every status change, oldest first (Get and Lock fill it;
	// listings leave it empty).
	History []rule.Change
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID is a structure id: "st-" and 50 random bits, short enough to type
// in `sinp member show`, and saying nothing of the registry's size.
func NewID() string {
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	return "st-" + idEncoding.EncodeToString(b)[:10]
}

// Insert records a new structure. Its id is set when empty.
func Insert(ctx context.Context, tx pgx.Tx, s *Structure) error {
	if s.ID == "" {
		s.ID = NewID()
	}
	_, err := tx.Exec(ctx, `INSERT INTO intake.structure (id, registry_id, name, type, poles, departements, scope_wkt,
			contact_name, contact_email, contact_phone, status, requested_at, remarks, adherent_since, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
		s.ID, nullable(s.RegistryID), s.Name, s.Type, nonNil(s.Poles), nonNil(s.Departements), s.ScopeWKT,
		s.Contact.Name, s.Contact.Email, s.Contact.Phone, s.Status.String(), nullTime(s.RequestedAt), s.Remarks,
		nullTime(s.AdherentSince), s.CreatedAt)
	s.UpdatedAt = s.CreatedAt
	return writeError(err)
}

// SaveProfile writes what the administrator edits: the profile, the
// registry number, the date of request and the remarks.
func SaveProfile(ctx context.Context, tx pgx.Tx, s *Structure, at time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE intake.structure SET registry_id = $2, name = $3, type = $4, poles = $5, departements = $6,
			scope_wkt = $7, contact_name = $8, contact_email = $9, contact_phone = $10, requested_at = $11, remarks = $12, updated_at = $13
		WHERE id = $1`,
		s.ID, nullable(s.RegistryID), s.Name, s.Type, nonNil(s.Poles), nonNil(s.Departements), s.ScopeWKT,
		s.Contact.Name, s.Contact.Email, s.Contact.Phone, nullTime(s.RequestedAt), s.Remarks, at)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	s.UpdatedAt = at
	return writeError(err)
}

// SaveStatus writes a structure's status; adherent_since follows it.
func SaveStatus(ctx context.Context, tx pgx.Tx, s *Structure, at time.Time) error {
	if s.Status != rule.Adherent {
		s.AdherentSince = time.Time{}
	} else if s.AdherentSince.IsZero() {
		s.AdherentSince = at
	}
	tag, err := tx.Exec(ctx, `UPDATE intake.structure SET status = $2, adherent_since = $3, updated_at = $4 WHERE id = $1`,
		s.ID, s.Status.String(), nullTime(s.AdherentSince), at)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	s.UpdatedAt = at
	return writeError(err)
}

// Lock reads a structure with its promotion and history and holds its row
// until tx ends: the changes of one structure (positions included) happen
// one after the other.
func Lock(ctx context.Context, tx pgx.Tx, id string) (*Structure, error) {
	return load(ctx, tx, id, " FOR UPDATE")
}

// Get reads a structure with its promotion and history.
func Get(ctx context.Context, q pg.Querier, id string) (*Structure, error) {
	return load(ctx, q, id, "")
}

const structureColumns = `id, coalesce(registry_id, ''), name, type, poles, departements, scope_wkt,
	contact_name, contact_email, contact_phone, status, requested_at, remarks, adherent_since, created_at, updated_at`

func scanStructure(row pgx.Row) (*Structure, error) {
	s := &Structure{}
	var status string
	var requested, since *time.Time
	if err := row.Scan(&s.ID, &s.RegistryID, &s.Name, &s.Type, &s.Poles, &s.Departements, &s.ScopeWKT,
		&s.Contact.Name, &s.Contact.Email, &s.Contact.Phone, &status, &requested, &s.Remarks, &since, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, err
	}
	var err error
	if s.Status, err = rule.ParseStatus(status); err != nil {
		return nil, err
	}
	s.RequestedAt, s.AdherentSince = deref(requested), deref(since)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

func load(ctx context.Context, q pg.Querier, id, lock string) (*Structure, error) {
	s, err := scanStructure(q.QueryRow(ctx, `SELECT `+structureColumns+` FROM intake.structure WHERE id = $1`+lock, id))
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: structure %s: %w", id, err)
	}
	if err := attachPromotions(ctx, q, []*Structure{s}); err != nil {
		return nil, err
	}
	if s.History, err = history(ctx, q, id); err != nil {
		return nil, err
	}
	return s, nil
}

// Member is what the rest of intake needs to know of a structure.
func Member(ctx context.Context, q pg.Querier, id string) (name string, status rule.Status, err error) {
	var st string
	err = q.QueryRow(ctx, `SELECT name, status FROM intake.structure WHERE id = $1`, id).Scan(&name, &st)
	if pg.IsNoRows(err) {
		return "", rule.None, ErrNotFound
	}
	if err != nil {
		return "", rule.None, fmt.Errorf("store: structure %s: %w", id, err)
	}
	status, err = rule.ParseStatus(st)
	return name, status, err
}

func writeError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && strings.Contains(pe.ConstraintName, "registry_id") {
		return ErrRegistryIDTaken
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
