// Package store is the review service's PostgreSQL: extractions under
// review, their deliverables and the pôles' opinions. Functions take the
// transaction they run in; the rule (package rule) decides, this package
// only remembers.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review/rule"
)

// ErrNotFound: no extraction of that reference is under review.
var ErrNotFound = errors.New("no such request under review")

// Deliverable is F1 or one pôle's F2, and how it was settled.
type Deliverable struct {
	ID            string
	Kind          string // "F1" or "F2"
	Pole          string
	State         rule.State
	Rule          rule.Rule
	SettledAt     time.Time
	FiredAt       time.Time
	Justification string
}

// Opinion is a recorded opinion.
type Opinion struct {
	rule.Opinion
	IdempotencyKey string
}

// Review is everything about one extraction under review.
type Review struct {
	Reference   string
	RunID       string
	CompletedAt time.Time
	Entitled    bool
	Policy      rule.Policy
	Completed   *eventsv1.ExtractionCompleted
	// F1 first, then the F2 of each pôle by pôle.
	Deliverables []Deliverable
	Opinions     []Opinion
}

// Facts are what the rule needs.
func (r *Review) Facts() rule.Facts {
	f := rule.Facts{CompletedAt: r.CompletedAt, Entitled: r.Entitled}
	for _, d := range r.Deliverables {
		if d.Kind == "F2" {
			f.SensitivePoles = append(f.SensitivePoles, d.Pole)
		}
	}
	for _, o := range r.Opinions {
		f.Opinions = append(f.Opinions, o.Opinion)
	}
	return f
}

// Deliverable returns the deliverable of a kind and pôle ("" for F1).
func (r *Review) Deliverable(kind, pole string) (*Deliverable, bool) {
	for i := range r.Deliverables {
		if d := &r.Deliverables[i]; d.Kind == kind && d.Pole == pole {
			return d, true
		}
	}
	return nil, false
}

// Create records an extraction for review with its deliverables. It
// reports false, changing nothing, when the reference is already under
// review.
func Create(ctx context.Context, tx pgx.Tx, r *Review) (bool, error) {
	b, err := proto.Marshal(r.Completed)
	if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO review.extraction (reference, run_id, completed_at, entitled, mode,
			f1_latency, favorable_latency, deadline, requester_account, completed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		r.Reference, r.RunID, r.CompletedAt, r.Entitled, r.Policy.Mode.String(), r.Policy.F1Latency,
		r.Policy.FavorableLatency, r.Policy.Deadline, r.Completed.GetRequester().GetAccountId(), b)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	for _, d := range r.Deliverables {
		if _, err := tx.Exec(ctx, `INSERT INTO review.deliverable (deliverable_id, reference, kind, pole) VALUES ($1, $2, $3, $4)`,
			d.ID, r.Reference, d.Kind, d.Pole); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Lock reads a review and holds its row until tx ends: opinions and
// releases of one request happen one after the other.
func Lock(ctx context.Context, tx pgx.Tx, reference string) (*Review, error) {
	return load(ctx, tx, reference, " FOR UPDATE")
}

// Get reads a review without locking it.
func Get(ctx context.Context, q pg.Querier, reference string) (*Review, error) {
	return load(ctx, q, reference, "")
}

func load(ctx context.Context, q pg.Querier, reference, lock string) (*Review, error) {
	r := &Review{Reference: reference}
	var mode string
	var completed []byte
	err := q.QueryRow(ctx, `SELECT run_id, completed_at, entitled, mode, f1_latency, favorable_latency, deadline, completed
		FROM review.extraction WHERE reference = $1`+lock, reference).
		Scan(&r.RunID, &r.CompletedAt, &r.Entitled, &mode, &r.Policy.F1Latency, &r.Policy.FavorableLatency, &r.Policy.Deadline, &completed)
	if pg.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if r.Policy.Mode, err = rule.ParseMode(mode); err != nil {
		return nil, err
	}
	r.Completed = &eventsv1.ExtractionCompleted{}
	if err := proto.Unmarshal(completed, r.Completed); err != nil {
		return nil, fmt.Errorf("store: %s: the stored ExtractionCompleted: %w", reference, err)
	}
	rows, err := q.Query(ctx, `SELECT deliverable_id, kind, pole, state, coalesce(rule, ''), settled_at, fired_at, justification
		FROM review.deliverable WHERE reference = $1 ORDER BY kind, pole`, reference)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	r.Deliverables, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Deliverable, error) {
		var d Deliverable
		var state, rl string
		var settled, fired *time.Time
		if err := row.Scan(&d.ID, &d.Kind, &d.Pole, &state, &rl, &settled, &fired, &d.Justification); err != nil {
			return d, err
		}
		d.State, d.Rule = parseState(state), parseRule(rl)
		if settled != nil {
			d.SettledAt = *settled
		}
		if fired != nil {
			d.FiredAt = *fired
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	rows, err = q.Query(ctx, `SELECT pole, verdict, at, reviewer, justification, coalesce(idempotency_key, '')
		FROM review.opinion WHERE reference = $1 ORDER BY at, id`, reference)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	r.Opinions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Opinion, error) {
		var o Opinion
		var verdict string
		err := row.Scan(&o.Pole, &verdict, &o.At, &o.Author, &o.Justification, &o.IdempotencyKey)
		o.Verdict, _ = rule.ParseVerdict(verdict)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return r, nil
}

// AddOpinion records an opinion.
func AddOpinion(ctx context.Context, tx pgx.Tx, reference string, o Opinion) error {
	var key *string
	if o.IdempotencyKey != "" {
		key = &o.IdempotencyKey
	}
	_, err := tx.Exec(ctx, `INSERT INTO review.opinion (reference, pole, verdict, justification, reviewer, at, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, reference, o.Pole, o.Verdict.String(), o.Justification, o.Author, o.At, key)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// OpinionByKey returns the reference and opinion a reviewer recorded with
// an idempotency key, or ErrNotFound.
func OpinionByKey(ctx context.Context, q pg.Querier, reviewer, key string) (string, Opinion, error) {
	var ref, verdict string
	var o Opinion
	err := q.QueryRow(ctx, `SELECT reference, pole, verdict, at, reviewer, justification FROM review.opinion
		WHERE reviewer = $1 AND idempotency_key = $2`, reviewer, key).Scan(&ref, &o.Pole, &verdict, &o.At, &o.Author, &o.Justification)
	if pg.IsNoRows(err) {
		return "", o, ErrNotFound
	}
	o.Verdict, _ = rule.ParseVerdict(verdict)
	o.IdempotencyKey = key
	return ref, o, err
}

// Settle records how a deliverable was settled.
func Settle(ctx context.Context, tx pgx.Tx, d Deliverable) error {
	tag, err := tx.Exec(ctx, `UPDATE review.deliverable SET state = $2, rule = $3, settled_at = $4, fired_at = $5, justification = $6
		WHERE deliverable_id = $1 AND state = 'pending'`, d.ID, d.State.String(), d.Rule.String(), d.SettledAt, d.FiredAt, d.Justification)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("store: %s is already settled", d.ID)
	}
	return nil
}

// QueueEntry is one pôle's F2 of one request, in a queue.
type QueueEntry struct {
	Reference   string
	Pole        string
	CompletedAt time.Time
}

// Queue lists the F2 of pole (every pôle when empty), newest first, in a
// state (nil: any), after the keyset cursor (zero: from the start).
func Queue(ctx context.Context, q pg.Querier, pole string, state *rule.State, after QueueEntry, limit int) ([]QueueEntry, error) {
	args := []any{pole, limit}
	where := ``
	if state != nil {
		args = append(args, state.String())
		where += fmt.Sprintf(` AND d.state = $%d`, len(args))
	}
	if after.Reference != "" {
		args = append(args, after.CompletedAt, after.Reference, after.Pole)
		where += fmt.Sprintf(` AND (e.completed_at, e.reference, d.pole) < ($%d, $%d, $%d)`, len(args)-2, len(args)-1, len(args))
	}
	rows, err := q.Query(ctx, `SELECT e.reference, d.pole, e.completed_at FROM review.deliverable d
		JOIN review.extraction e USING (reference)
		WHERE d.kind = 'F2' AND ($1 = '' OR d.pole = $1)`+where+`
		ORDER BY e.completed_at DESC, e.reference DESC, d.pole DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (QueueEntry, error) {
		var e QueueEntry
		err := row.Scan(&e.Reference, &e.Pole, &e.CompletedAt)
		return e, err
	})
}

func parseState(s string) rule.State {
	switch s {
	case "released":
		return rule.Released
	case "withheld":
		return rule.Withheld
	}
	return rule.Pending
}

func parseRule(s string) rule.Rule {
	for r := rule.RuleNone; r <= rule.RuleUnfavorable; r++ {
		if r.String() == s {
			return r
		}
	}
	return rule.RuleNone
}

// DeploymentPolicy is the release policy every replica opens reviews with.
type DeploymentPolicy struct {
	rule.Policy
	SetBy string
	SetAt time.Time
}

// Policy reads the deployment's policy (ErrNotFound before the first
// replica set it).
func Policy(ctx context.Context, q pg.Querier) (DeploymentPolicy, error) {
	var p DeploymentPolicy
	var mode string
	err := q.QueryRow(ctx, `SELECT mode, f1_latency, favorable_latency, deadline, set_by, set_at FROM review.policy`).
		Scan(&mode, &p.F1Latency, &p.FavorableLatency, &p.Deadline, &p.SetBy, &p.SetAt)
	if pg.IsNoRows(err) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: %w", err)
	}
	p.Mode, err = rule.ParseMode(mode)
	return p, err
}

// SetPolicy records the deployment's policy.
func SetPolicy(ctx context.Context, tx pgx.Tx, p rule.Policy, by string) error {
	_, err := tx.Exec(ctx, `INSERT INTO review.policy (mode, f1_latency, favorable_latency, deadline, set_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (one) DO UPDATE SET mode = EXCLUDED.mode, f1_latency = EXCLUDED.f1_latency,
			favorable_latency = EXCLUDED.favorable_latency, deadline = EXCLUDED.deadline, set_by = EXCLUDED.set_by, set_at = now()`,
		p.Mode.String(), p.F1Latency, p.FavorableLatency, p.Deadline, by)
	return err
}
