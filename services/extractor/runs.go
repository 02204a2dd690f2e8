package extractor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// run is one extraction run, as a worker holds it.
type run struct {
	ID        string
	Reference string
	Retry     int
	Request   *eventsv1.RequestInstructed
	CauseID   string
	Attempts  int
}

// runs is the repository of extraction runs.
type runs struct {
	db *pgxpool.Pool
}

func runID(reference string, retry int32) string { return fmt.Sprintf("%s#%d", reference, retry) }

// add records a run for an instructed request, once.
func (runs) add(ctx context.Context, tx pgx.Tx, ev *eventsv1.RequestInstructed, causeID string) error {
	b, err := proto.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO extractor.run (run_id, reference, retry, request, cause_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		runID(ev.GetReference(), ev.GetRetry()), ev.GetReference(), ev.GetRetry(), b, causeID)
	return err
}

// claim takes the oldest runnable run (pending and due, or running with an
// expired lease) for owner, and lets started record the start in the same
// transaction. It returns nil when there is none.
func (r runs) claim(ctx context.Context, owner string, lease time.Duration, started func(tx pgx.Tx, ru *run) error) (*run, error) {
	var ru *run
	err := pg.InTx(ctx, r.db, func(tx pgx.Tx) error {
		var b []byte
		var x run
		err := tx.QueryRow(ctx, `
			UPDATE extractor.run SET state = 'running', attempts = attempts + 1, owner = $1,
			       lease_until = now() + make_interval(secs => $2), started_at = coalesce(started_at, now())
			WHERE run_id = (
				SELECT run_id FROM extractor.run
				WHERE (state = 'pending' AND not_before <= now()) OR (state = 'running' AND lease_until < now())
				ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING run_id, reference, retry, request, cause_id, attempts`, owner, lease.Seconds()).
			Scan(&x.ID, &x.Reference, &x.Retry, &b, &x.CauseID, &x.Attempts)
		if pg.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		x.Request = &eventsv1.RequestInstructed{}
		if err := proto.Unmarshal(b, x.Request); err != nil {
			return fmt.Errorf("run %s: stored request: %w", x.ID, err)
		}
		ru = &x
		return started(tx, ru)
	})
	if err != nil {
		return nil, fmt.Errorf("extractor: claim: %w", err)
	}
	return ru, nil
}

// errLeaseLost means another worker took the run over.
var errLeaseLost = errors.New("extractor: the run's lease was lost")

// renew extends the owner's lease.
func (r runs) renew(ctx context.Context, ru *run, owner string, lease time.Duration) error {
	tag, err := r.db.Exec(ctx, `UPDATE extractor.run SET lease_until = now() + make_interval(secs => $3)
		WHERE run_id = $1 AND owner = $2 AND state = 'running'`, ru.ID, owner, lease.Seconds())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return errLeaseLost
	}
	return nil
}

// archiveRow is one staged archive of a completed run.
type archiveRow struct {
	DeliverableID, Kind, Pole, ArchiveName, StagedPath, SHA256 string
	Bytes, Rows                                                int64
	Encrypted                                                  bool
}

// complete records the run's archives, and whatever complete's caller
// emits, if the owner still holds the run.
func (r runs) complete(ctx context.Context, ru *run, owner string, rows int64, archives []archiveRow, emit func(tx pgx.Tx) error) error {
	return pg.InTx(ctx, r.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE extractor.run SET state = 'completed', completed_at = now(), lease_until = NULL,
			rows_selected = $3, last_error = NULL WHERE run_id = $1 AND owner = $2 AND state = 'running'`, ru.ID, owner, rows)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLeaseLost
		}
		for _, a := range archives {
			if _, err := tx.Exec(ctx, `INSERT INTO extractor.archive
				(run_id, deliverable_id, kind, pole, archive_name, staged_path, sha256, bytes, rows, encrypted)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				ru.ID, a.DeliverableID, a.Kind, a.Pole, a.ArchiveName, a.StagedPath, a.SHA256, a.Bytes, a.Rows, a.Encrypted); err != nil {
				return err
			}
		}
		return emit(tx)
	})
}

// fail records a failed attempt: the run waits retryIn before another
// attempt, or, when final, is failed for good and emit announces it.
func (r runs) fail(ctx context.Context, ru *run, owner string, cause error, final bool, retryIn time.Duration, emit func(tx pgx.Tx) error) error {
	return pg.InTx(ctx, r.db, func(tx pgx.Tx) error {
		state := "pending"
		if final {
			state = "failed"
		}
		tag, err := tx.Exec(ctx, `UPDATE extractor.run SET state = $3, last_error = $4, lease_until = NULL,
			not_before = now() + make_interval(secs => $5) WHERE run_id = $1 AND owner = $2 AND state = 'running'`,
			ru.ID, owner, state, cause.Error(), retryIn.Seconds())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLeaseLost
		}
		if final {
			return emit(tx)
		}
		return nil
	})
}

// endStaged deletes the staged archives an event ends and records when and
// why, in the consumer's transaction: those of the deliverable in the
// request's own runs (and of the kind the event may end). The files go
// first: a transaction that then fails is redelivered, and finds them
// gone. An unknown deliverable, or one removed already, changes nothing.
func (runs) endStaged(ctx context.Context, tx pgx.Tx, staging Staging, e stagedEnd, at time.Time) ([]string, error) {
	const which = `deliverable_id = $1 AND removed_at IS NULL AND ($3 = '' OR kind = $3)
		AND run_id IN (SELECT run_id FROM extractor.run WHERE reference = $2)`
	rows, err := tx.Query(ctx, `SELECT DISTINCT staged_path FROM extractor.archive WHERE `+which, e.DeliverableID, e.Reference, e.Kind)
	if err != nil {
		return nil, err
	}
	paths, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	for _, p := range paths {
		if err := staging.remove(p); err != nil {
			return nil, err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE extractor.archive SET removed_at = $4, removed_because = $5 WHERE `+which,
		e.DeliverableID, e.Reference, e.Kind, at, e.Why)
	return paths, err
}
