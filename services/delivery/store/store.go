// Package store is the delivery service's PostgreSQL: what was published
// where (publication), and the append-only audit of downloads and
// passwords shown.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
)

// ErrNotFound: no such publication (or not the caller's).
var ErrNotFound = errors.New("no such file")

// Publication is one file put in a drop zone.
type Publication struct {
	DeliverableID string
	Reference     string
	Kind          string
	Pole          string
	Nature        string // archive or notice
	DropZone      string
	AccountID     string
	Path          string
	SHA256        string
	Bytes, Rows   int64
	Encrypted     bool
	Rule          string
	ReleasedAt    time.Time
	Justification string
	PublishedAt   time.Time
	ExpiresAt     time.Time
	Postponed     bool
	ExpiredAt     time.Time
}

const columns = `deliverable_id, reference, kind, pole, nature, drop_zone, account_id, path, sha256, bytes, rows, encrypted,
	rule, released_at, justification, published_at, expires_at, postponed, expired_at`

func scan(row pgx.Row) (Publication, error) {
	var p Publication
	var released, expires, expired *time.Time
	err := row.Scan(&p.DeliverableID, &p.Reference, &p.Kind, &p.Pole, &p.Nature, &p.DropZone, &p.AccountID, &p.Path, &p.SHA256,
		&p.Bytes, &p.Rows, &p.Encrypted, &p.Rule, &released, &p.Justification, &p.PublishedAt, &expires, &p.Postponed, &expired)
	if pg.IsNoRows(err) {
		return p, ErrNotFound
	}
	p.ReleasedAt, p.ExpiresAt, p.ExpiredAt = deref(released), deref(expires), deref(expired)
	return p, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func orNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Insert records a publication; false if the deliverable was published
// already.
func Insert(ctx context.Context, tx pgx.Tx, p Publication) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO delivery.publication (`+columns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (deliverable_id) DO NOTHING`,
		p.DeliverableID, p.Reference, p.Kind, p.Pole, p.Nature, p.DropZone, p.AccountID, p.Path, p.SHA256, p.Bytes, p.Rows,
		p.Encrypted, p.Rule, orNil(p.ReleasedAt), p.Justification, p.PublishedAt, orNil(p.ExpiresAt), p.Postponed, orNil(p.ExpiredAt))
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get reads a publication; lock holds it until tx ends.
func Get(ctx context.Context, q pg.Querier, deliverableID string, lock bool) (Publication, error) {
	sql := `SELECT ` + columns + ` FROM delivery.publication WHERE deliverable_id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	return scan(q.QueryRow(ctx, sql, deliverableID))
}

// ByPath reads the publication of a zone's file.
func ByPath(ctx context.Context, q pg.Querier, zone, path string) (Publication, error) {
	return scan(q.QueryRow(ctx, `SELECT `+columns+` FROM delivery.publication WHERE drop_zone = $1 AND path = $2`, zone, path))
}

// Zone lists a zone's publications (one request's when reference is set),
// by path, limit after the cursor path; expired ones included.
func Zone(ctx context.Context, q pg.Querier, zone, reference, after string, limit int) ([]Publication, error) {
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM delivery.publication
		WHERE drop_zone = $1 AND ($2 = '' OR reference = $2) AND path > $3 ORDER BY path LIMIT $4`, zone, reference, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Publication, error) { return scan(r) })
}

// Live lists a zone's files still there, for its manifest.
func Live(ctx context.Context, q pg.Querier, zone string) ([]Publication, error) {
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM delivery.publication WHERE drop_zone = $1 AND expired_at IS NULL ORDER BY path`, zone)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Publication, error) { return scan(r) })
}

// Zones lists the drop zones that have had a publication.
func Zones(ctx context.Context, q pg.Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT drop_zone FROM delivery.publication ORDER BY drop_zone`)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Expire records that a file left its zone.
func Expire(ctx context.Context, tx pgx.Tx, deliverableID string, at time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE delivery.publication SET expired_at = $2 WHERE deliverable_id = $1 AND expired_at IS NULL`, deliverableID, at)
	return err
}

// Postpone moves a file's expiry, once.
func Postpone(ctx context.Context, tx pgx.Tx, deliverableID string, to time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE delivery.publication SET expires_at = $2, postponed = true WHERE deliverable_id = $1`, deliverableID, to)
	return err
}

// Audit is one audit record.
type Audit struct {
	ID            int64
	At            time.Time
	Action        string // download or password
	Principal     string
	Reference     string
	DeliverableID string
	Pole          string
	Path          string
	Address       string
	BytesSent     int64
	Complete      bool
	Range         string
}

// AddAudit appends an audit record.
func AddAudit(ctx context.Context, q pg.Querier, a Audit) error {
	_, err := q.Exec(ctx, `INSERT INTO delivery.audit (at, action, principal, reference, deliverable_id, pole, path, address, bytes_sent, complete, range)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, a.At, a.Action, a.Principal, a.Reference, a.DeliverableID, a.Pole,
		a.Path, a.Address, a.BytesSent, a.Complete, a.Range)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// Audits lists audit records (one request's when reference is set) after
// the cursor id.
func Audits(ctx context.Context, q pg.Querier, reference string, after int64, limit int) ([]Audit, error) {
	rows, err := q.Query(ctx, `SELECT id, at, action, principal, reference, deliverable_id, pole, path, address, bytes_sent, complete, range
		FROM delivery.audit WHERE ($1 = '' OR reference = $1) AND id > $2 ORDER BY id LIMIT $3`, reference, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Audit, error) {
		var a Audit
		err := r.Scan(&a.ID, &a.At, &a.Action, &a.Principal, &a.Reference, &a.DeliverableID, &a.Pole, &a.Path, &a.Address,
			&a.BytesSent, &a.Complete, &a.Range)
		return a, err
	})
}
