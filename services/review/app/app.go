// Package app is the review service's use cases: open the reviews of a
// completed extraction, record a pôle's opinion, settle what the rule says
// is due (the release timer), and the queries of reviewers, the DREAL and
// requesters. Each applies package rule and records through package store,
// in one transaction with the events it emits.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/services/review/rule"
)

// Emitter adds events to the service's outbox (outbox.Emitter).
type Emitter interface {
	Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error)
}

// Service is the review service's application.
type Service struct {
	DB      *pgxpool.Pool
	Emitter Emitter
	Clock   clock.Clock
	// Policy applies to extractions completed from now on; a review keeps
	// the policy it opened with.
	Policy rule.Policy
	Log    *slog.Logger
	// BeforeSettleCommit, when set, runs inside a settling transaction
	// before it commits (tests kill the process there).
	BeforeSettleCommit func(reference string)
}

// Errors of the use cases, for the API to turn into statuses.
var (
	// ErrKeyReused: an idempotency key given again with another opinion.
	ErrKeyReused = errors.New("this idempotency key was used for another opinion")
)

// Schema is the service's PostgreSQL schema.
const Schema = "review"

// TimerKind is the kind of the release timers.
const TimerKind = "release"

func timerKey(reference string) string { return "release:" + reference }

// now is the clock's reading at PostgreSQL's precision, so that an instant
// stored and read back compares as it did: for showing what the rule says.
func (s *Service) now() time.Time { return s.Clock.Now().Truncate(time.Microsecond) }

// decidingNow is the instant a decision that records or releases is taken
// at: bounded by the deployment's clock as tx reads it, so that a process
// whose clock ran ahead never settles anything early.
func (s *Service) decidingNow(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	t, err := clock.Reading(ctx, tx, s.Clock)
	return t.Truncate(time.Microsecond), err
}
