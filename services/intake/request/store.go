package request

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// ErrNotFound: no such request, or not one the caller may see.
var ErrNotFound = errors.New("no such request")

// Record is a request as intake keeps it.
type Record struct {
	Reference          string
	State              State
	AccountID          string
	StructureID        string
	DeclaredEmail      string
	Submission         *eventsv1.RequestSubmitted
	Poles              []string
	AreaKm2            float64
	SubmittedAt        time.Time
	UpdatedAt          time.Time
	SubmittedBy        string
	SubmitKey          string
	SubmitDigest       []byte
	TrackingID         string
	TrackingIssuedAt   time.Time
	F2Entitled         *bool
	InstructedAt       time.Time
	InstructedBy       string
	Instruction        *eventsv1.RequestInstructed
	Retry              int
	RejectionReason    string
	CancellationReason string
	Failure            string
	Deliverables       []Deliverable
	History            []HistoryEntry
}

// Deliverable is one archive of a request.
type Deliverable struct {
	ID            string
	Kind          string
	Pole          string
	State         DeliverableState
	Rows, Bytes   int64
	Rule          string
	ReleasedAt    time.Time
	Justification string
}

// HistoryEntry is one thing that happened to a request.
type HistoryEntry struct {
	At     time.Time
	What   string
	Who    string
	Detail string
}

const recordColumns = `reference, state, account_id, structure_id, declared_email, submission, poles, area_km2,
	submitted_at, updated_at, submitted_by, coalesce(submit_key, ''), submit_digest, coalesce(tracking_id, ''), tracking_issued_at,
	f2_entitled, instructed_at, instructed_by, instruction, retry, rejection_reason, cancellation_reason, failure`

func scanRecord(row pgx.Row) (*Record, error) {
	r := &Record{}
	var submission, instruction []byte
	var trackingAt, instructedAt *time.Time
	var state string
	err := row.Scan(&r.Reference, &state, &r.AccountID, &r.StructureID, &r.DeclaredEmail, &submission, &r.Poles, &r.AreaKm2,
		&r.SubmittedAt, &r.UpdatedAt, &r.SubmittedBy, &r.SubmitKey, &r.SubmitDigest, &r.TrackingID, &trackingAt,
		&r.F2Entitled, &instructedAt, &r.InstructedBy, &instruction, &r.Retry, &r.RejectionReason, &r.CancellationReason, &r.Failure)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("request store: %w", err)
	}
	r.State = State(state)
	if trackingAt != nil {
		r.TrackingIssuedAt = *trackingAt
	}
	if instructedAt != nil {
		r.InstructedAt = *instructedAt
	}
	r.Submission = &eventsv1.RequestSubmitted{}
	if err := proto.Unmarshal(submission, r.Submission); err != nil {
		return nil, fmt.Errorf("request store: %s: %w", r.Reference, err)
	}
	if instruction != nil {
		r.Instruction = &eventsv1.RequestInstructed{}
		if err := proto.Unmarshal(instruction, r.Instruction); err != nil {
			return nil, fmt.Errorf("request store: %s: %w", r.Reference, err)
		}
	}
	return r, nil
}

// nextReference numbers requests per deployment: R-<year>-<number>.
func nextReference(ctx context.Context, tx pgx.Tx, now time.Time) (string, error) {
	var n int64
	if err := tx.QueryRow(ctx, `SELECT nextval('intake.request_number')`).Scan(&n); err != nil {
		return "", err
	}
	return fmt.Sprintf("R-%d-%06d", now.Year(), n), nil
}

func insertRecord(ctx context.Context, tx pgx.Tx, r *Record) error {
	sub, err := proto.Marshal(r.Submission)
	if err != nil {
		return err
	}
	var key *string
	if r.SubmitKey != "" {
		key = &r.SubmitKey
	}
	var tracking *string
	var trackingAt *time.Time
	if r.TrackingID != "" {
		tracking, trackingAt = &r.TrackingID, &r.TrackingIssuedAt
	}
	_, err = tx.Exec(ctx, `INSERT INTO intake.request (reference, state, account_id, structure_id, declared_email, submission, poles,
			area_km2, submitted_at, updated_at, submitted_by, submit_key, submit_digest, tracking_id, tracking_issued_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14)`,
		r.Reference, string(r.State), r.AccountID, r.StructureID, r.DeclaredEmail, sub, nonNil(r.Poles), r.AreaKm2,
		r.SubmittedAt, r.SubmittedBy, key, r.SubmitDigest, tracking, trackingAt)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// saveRecord writes what use cases change after submission.
func saveRecord(ctx context.Context, tx pgx.Tx, r *Record) error {
	var instruction []byte
	if r.Instruction != nil {
		var err error
		if instruction, err = proto.Marshal(r.Instruction); err != nil {
			return err
		}
	}
	var instructedAt *time.Time
	if !r.InstructedAt.IsZero() {
		instructedAt = &r.InstructedAt
	}
	_, err := tx.Exec(ctx, `UPDATE intake.request SET state = $2, updated_at = $3, f2_entitled = $4, instructed_at = $5,
			instructed_by = $6, instruction = $7, retry = $8, rejection_reason = $9, cancellation_reason = $10, failure = $11
		WHERE reference = $1`, r.Reference, string(r.State), r.UpdatedAt, r.F2Entitled, instructedAt, r.InstructedBy,
		instruction, r.Retry, r.RejectionReason, r.CancellationReason, r.Failure)
	return err
}

// lockRecord reads a request and holds it until tx ends.
func lockRecord(ctx context.Context, tx pgx.Tx, ref string) (*Record, error) {
	return scanRecord(tx.QueryRow(ctx, `SELECT `+recordColumns+` FROM intake.request WHERE reference = $1 FOR UPDATE`, ref))
}

// getRecord reads a request with its deliverables and history.
func getRecord(ctx context.Context, q pg.Querier, ref string) (*Record, error) {
	r, err := scanRecord(q.QueryRow(ctx, `SELECT `+recordColumns+` FROM intake.request WHERE reference = $1`, ref))
	if err != nil {
		return nil, err
	}
	return r, loadDetails(ctx, q, r)
}

func loadDetails(ctx context.Context, q pg.Querier, r *Record) error {
	rows, err := q.Query(ctx, `SELECT deliverable_id, kind, pole, state, rows, bytes, rule, released_at, justification
		FROM intake.request_deliverable WHERE reference = $1 ORDER BY kind, pole`, r.Reference)
	if err != nil {
		return err
	}
	r.Deliverables, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Deliverable, error) {
		var d Deliverable
		var state string
		var at *time.Time
		err := row.Scan(&d.ID, &d.Kind, &d.Pole, &state, &d.Rows, &d.Bytes, &d.Rule, &at, &d.Justification)
		d.State = DeliverableState(state)
		if at != nil {
			d.ReleasedAt = *at
		}
		return d, err
	})
	if err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT at, what, who, detail FROM intake.request_history WHERE reference = $1 ORDER BY at, id`, r.Reference)
	if err != nil {
		return err
	}
	r.History, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryEntry, error) {
		var h HistoryEntry
		err := row.Scan(&h.At, &h.What, &h.Who, &h.Detail)
		return h, err
	})
	return err
}

func addHistory(ctx context.Context, tx pgx.Tx, ref string, h HistoryEntry) error {
	_, err := tx.Exec(ctx, `INSERT INTO intake.request_history (reference, at, what, who, detail) VALUES ($1, $2, $3, $4, $5)`,
		ref, h.At, h.What, h.Who, h.Detail)
	return err
}

func recordBySubmitKey(ctx context.Context, q pg.Querier, by, key string) (*Record, error) {
	return scanRecord(q.QueryRow(ctx, `SELECT `+recordColumns+` FROM intake.request WHERE submitted_by = $1 AND submit_key = $2`, by, key))
}

// countOpen counts the open requests of an account.
func countOpen(ctx context.Context, q pg.Querier, accountID string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM intake.request
		WHERE account_id = $1 AND state IN ('deposited', 'instructed', 'extracting', 'extracted', 'failed')`, accountID).Scan(&n)
	return n, err
}

// lock holds a transaction-level advisory lock on one key of intake's
// requests (what, key) until tx ends: concurrent calls on the same key
// (an account's open requests, an address's submissions, an idempotency
// key) take their turn, so a count or a lookup and the insert it allows
// are one step. Keys are namespaced ("intake.request/" + what) and
// hashed to the 64-bit key space, apart from the two-key space.
func lock(ctx context.Context, tx pgx.Tx, what, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "intake.request/"+what+"/"+key)
	return err
}

// recentAnonymous counts the account-less submissions recorded from an
// address since a moment, and the oldest of them.
func recentAnonymous(ctx context.Context, q pg.Querier, address string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest *time.Time
	err := q.QueryRow(ctx, `SELECT count(*), min(at) FROM intake.anonymous_submission WHERE address = $1 AND at > $2`,
		address, since).Scan(&n, &oldest)
	if oldest == nil {
		return n, time.Time{}, err
	}
	return n, *oldest, err
}

// addAnonymous records an account-less submission from an address and
// forgets those of that address that left the window.
func addAnonymous(ctx context.Context, tx pgx.Tx, address string, at, since time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM intake.anonymous_submission WHERE address = $1 AND at <= $2`, address, since); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO intake.anonymous_submission (address, at) VALUES ($1, $2)`, address, at)
	return err
}

// upsertDeliverable records an archive's state, forward only.
func upsertDeliverable(ctx context.Context, tx pgx.Tx, ref string, d Deliverable, apply func(cur *Deliverable) bool) (bool, error) {
	var cur Deliverable
	var state string
	var at *time.Time
	err := tx.QueryRow(ctx, `SELECT kind, pole, state, rows, bytes, rule, released_at, justification FROM intake.request_deliverable
		WHERE deliverable_id = $1 FOR UPDATE`, d.ID).Scan(&cur.Kind, &cur.Pole, &state, &cur.Rows, &cur.Bytes, &cur.Rule, &at, &cur.Justification)
	switch {
	case pg.IsNoRows(err):
		// Heard of before its extraction's completion (events may come out
		// of order): recorded as staged, then moved.
		cur = Deliverable{ID: d.ID, Kind: d.Kind, Pole: d.Pole, State: Staged, Rows: d.Rows, Bytes: d.Bytes}
		apply(&cur)
		_, err = tx.Exec(ctx, `INSERT INTO intake.request_deliverable (deliverable_id, reference, kind, pole, state, rows, bytes, rule, released_at, justification)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, cur.ID, ref, cur.Kind, cur.Pole, string(cur.State), cur.Rows, cur.Bytes,
			cur.Rule, timeOrNil(cur.ReleasedAt), cur.Justification)
		return true, err
	case err != nil:
		return false, err
	}
	cur.ID, cur.State = d.ID, DeliverableState(state)
	if at != nil {
		cur.ReleasedAt = *at
	}
	if !apply(&cur) {
		return false, nil
	}
	_, err = tx.Exec(ctx, `UPDATE intake.request_deliverable SET state = $2, rows = $3, bytes = $4, rule = $5, released_at = $6, justification = $7
		WHERE deliverable_id = $1`, cur.ID, string(cur.State), cur.Rows, cur.Bytes, cur.Rule, timeOrNil(cur.ReleasedAt), cur.Justification)
	return true, err
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func deliverableStates(ctx context.Context, q pg.Querier, ref string) ([]DeliverableState, error) {
	rows, err := q.Query(ctx, `SELECT state FROM intake.request_deliverable WHERE reference = $1`, ref)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeliverableState, error) {
		var s string
		err := row.Scan(&s)
		return DeliverableState(s), err
	})
}

// Filter selects requests to list.
type Filter struct {
	AccountID string // requester's own
	Reference string // a tracking token's one
	State     State
	Pole      string
	After     time.Time
	Before    time.Time
	// Keyset cursor: requests submitted before (at, reference).
	CursorAt  time.Time
	CursorRef string
	Limit     int
}

func listRecords(ctx context.Context, q pg.Querier, f Filter) ([]*Record, error) {
	where, args := []string{"true"}, []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.AccountID != "" {
		where = append(where, "account_id = "+arg(f.AccountID))
	}
	if f.Reference != "" {
		where = append(where, "reference = "+arg(f.Reference))
	}
	if f.State != "" {
		where = append(where, "state = "+arg(string(f.State)))
	}
	if f.Pole != "" {
		where = append(where, "(poles = '{}' OR "+arg(f.Pole)+" = ANY(poles))")
	}
	if !f.After.IsZero() {
		where = append(where, "submitted_at >= "+arg(f.After))
	}
	if !f.Before.IsZero() {
		where = append(where, "submitted_at < "+arg(f.Before))
	}
	if f.CursorRef != "" {
		where = append(where, fmt.Sprintf("(submitted_at, reference) < (%s, %s)", arg(f.CursorAt), arg(f.CursorRef)))
	}
	sql := `SELECT ` + recordColumns + ` FROM intake.request WHERE ` + joinAnd(where) +
		` ORDER BY submitted_at DESC, reference DESC LIMIT ` + arg(f.Limit)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, r := range out {
		if err := loadDetails(ctx, q, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func joinAnd(parts []string) string {
	s := parts[0]
	for _, p := range parts[1:] {
		s += " AND " + p
	}
	return s
}

// instructionKey is an InstructRequest call remembered by its key.
type instructionKey struct {
	Reference string
	Accept    bool
	Reason    string
}

func getInstructionKey(ctx context.Context, q pg.Querier, principal, key string) (instructionKey, bool, error) {
	var k instructionKey
	err := q.QueryRow(ctx, `SELECT reference, accept, reason FROM intake.instruction_key WHERE principal = $1 AND key = $2`, principal, key).
		Scan(&k.Reference, &k.Accept, &k.Reason)
	if pg.IsNoRows(err) {
		return k, false, nil
	}
	return k, err == nil, err
}

func putInstructionKey(ctx context.Context, tx pgx.Tx, principal, key string, k instructionKey) error {
	_, err := tx.Exec(ctx, `INSERT INTO intake.instruction_key (principal, key, reference, accept, reason) VALUES ($1, $2, $3, $4, $5)`,
		principal, key, k.Reference, k.Accept, k.Reason)
	return err
}
