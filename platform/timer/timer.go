// Package timer is the runtime's durable timers. A service schedules a
// timer (key, kind, due instant, payload) in the transaction of the change
// that needs it; a Scanner claims due timers with FOR UPDATE SKIP LOCKED
// and runs the kind's handler in the transaction that removes the timer,
// so that a timer fires exactly once across replicas and restarts, never
// before its due instant by the deployment's clock, and at once after a
// downtime. The scanner sleeps until the next due instant, woken early
// when an earlier timer is scheduled or the clock is moved; it never polls
// every row.
package timer

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations create the timer table in a service's schema.
func Migrations(schema string) pg.Migrations {
	return pg.Migrations{Component: "timer", Schema: schema, FS: migrations, Dir: "migrations"}
}

// Channel is notified when a schema's timers change.
func Channel(schema string) string { return schema + "_timer" }

// Timer is one durable timer.
type Timer struct {
	// Key identifies the timer in its schema: scheduling a key again
	// replaces its timer.
	Key string
	// Kind selects the handler.
	Kind    string
	Due     time.Time
	Payload []byte
	// Attempts counts the handler's failures so far.
	Attempts int
}

// Firing is a timer being fired.
type Firing struct {
	Timer
	// Now is the clock's reading the timer was found due at (>= Due).
	Now time.Time
}

// Handler does a timer's work inside tx. It may schedule timers again,
// the same key included. An error rolls its work back; the timer is then
// tried again later (an infrastructure error: the whole batch).
type Handler func(ctx context.Context, tx pgx.Tx, f Firing) error

// Schedule sets a timer in tx, replacing any timer of the same key, and
// wakes the scanners at commit.
func Schedule(ctx context.Context, tx pgx.Tx, schema string, t Timer) error {
	if t.Key == "" || t.Kind == "" || t.Due.IsZero() {
		return errors.New("timer.Schedule: key, kind and due instant are required")
	}
	payload := t.Payload
	if payload == nil {
		payload = []byte{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "timer"}.Sanitize()+` (key, kind, due_at, payload)
		VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE
		SET kind = excluded.kind, due_at = excluded.due_at, payload = excluded.payload, attempts = 0, last_error = NULL, created_at = now()`,
		t.Key, t.Kind, t.Due, payload); err != nil {
		return fmt.Errorf("timer.Schedule: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, Channel(schema)); err != nil {
		return fmt.Errorf("timer.Schedule: %w", err)
	}
	return nil
}

// Cancel removes a timer in tx; it reports whether there was one.
func Cancel(ctx context.Context, tx pgx.Tx, schema, key string) (bool, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM `+pgx.Identifier{schema, "timer"}.Sanitize()+` WHERE key = $1`, key)
	if err != nil {
		return false, fmt.Errorf("timer.Cancel: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Lock holds a timer's row (when there is one) until tx ends, so that no
// scanner fires it meanwhile. A change that locks rows a timer's handler
// also locks takes the timer first: the scanner holds the timer while its
// handler takes those rows, and the opposite order would deadlock. A
// timer a scanner is already firing is waited for: tx then sees what the
// handler did.
func Lock(ctx context.Context, tx pgx.Tx, schema, key string) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{schema, "timer"}.Sanitize()+
		` WHERE key = $1 FOR UPDATE`, key); err != nil {
		return fmt.Errorf("timer.Lock: %w", err)
	}
	return nil
}

// Get returns a scheduled timer, or pg.ErrNotFound.
func Get(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, schema, key string) (Timer, error) {
	var t Timer
	err := q.QueryRow(ctx, `SELECT key, kind, due_at, payload, attempts FROM `+pgx.Identifier{schema, "timer"}.Sanitize()+
		` WHERE key = $1`, key).Scan(&t.Key, &t.Kind, &t.Due, &t.Payload, &t.Attempts)
	if pg.IsNoRows(err) {
		return t, pg.ErrNotFound
	}
	return t, err
}

var (
	fired = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sinp_timer_fired_total",
		Help: "Durable timers fired, by schema and kind.",
	}, []string{"schema", "kind"})
	lag = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sinp_timer_lag_seconds",
		Help:    "How far behind its due instant a timer fired, in the deployment's clock.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
	}, []string{"schema"})
	failed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sinp_timer_failures_total",
		Help: "Timer handler failures (the timer is tried again later), by schema and kind.",
	}, []string{"schema", "kind"})
)

// Scanner fires a schema's due timers.
type Scanner struct {
	Pool     *pgxpool.Pool
	Schema   string
	Clock    clock.Clock
	Log      *slog.Logger
	Handlers map[string]Handler
	// Notified is signalled when the schema's timers change (a
	// pg.Listener subscription to Channel(schema)); nil: the scanner
	// looks every SafetyPoll.
	Notified <-chan struct{}
	// Batch is the most timers fired in one transaction (default 64).
	Batch int
	// SafetyPoll bounds a sleep in wall time (default 30s).
	SafetyPoll time.Duration

	// beforeCommit, when set, runs with each batch before its commit
	// (tests kill the process there).
	beforeCommit func(n int)
}

// Run fires due timers until ctx ends; a lost database is waited for.
func (s *Scanner) Run(ctx context.Context) error {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	for kind := range s.Handlers {
		fired.WithLabelValues(s.Schema, kind).Add(0)
		failed.WithLabelValues(s.Schema, kind).Add(0)
	}
	poll := s.SafetyPoll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	b := retry.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	// ahead: waits while this host's reading says a timer is due and the
	// database's (which Fire decides by) does not yet: a host whose clock
	// runs fast would otherwise spin for the length of its skew.
	ahead := retry.Backoff{Min: 10 * time.Millisecond, Max: time.Second}
	for ctx.Err() == nil {
		n, err := s.Fire(ctx)
		if err == nil && n < s.batch() {
			var next time.Time
			next, err = s.Next(ctx)
			if err == nil {
				if b.Attempts() > 0 {
					s.Log.Info("timers: firing again", "schema", s.Schema)
					b.Reset()
				}
				if n == 0 && !next.IsZero() && !next.After(s.Clock.Now()) {
					_ = ahead.Sleep(ctx)
					continue
				}
				ahead.Reset()
				s.sleep(ctx, next, poll)
				continue
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d := b.Next()
			if b.Attempts() == 1 || b.Attempts()%10 == 0 {
				s.Log.Warn("timers: cannot fire; retrying", "schema", s.Schema, "err", err, "in", d)
			}
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
	}
	return nil
}

// sleep waits until the clock reaches next (forever when zero), a change
// is notified, or poll of wall time passes.
func (s *Scanner) sleep(ctx context.Context, next time.Time, poll time.Duration) {
	wctx, cancel := context.WithTimeout(ctx, poll)
	defer cancel()
	go func() {
		select {
		case <-s.Notified:
			cancel()
		case <-wctx.Done():
		}
	}()
	if next.IsZero() {
		<-wctx.Done()
		return
	}
	_ = s.Clock.Until(wctx, next)
}

func (s *Scanner) batch() int {
	if s.Batch <= 0 {
		return 64
	}
	return s.Batch
}

// Next is the earliest due instant of the schema's timers (zero: none).
func (s *Scanner) Next(ctx context.Context) (time.Time, error) {
	var next *time.Time
	err := s.Pool.QueryRow(ctx, `SELECT min(due_at) FROM `+pgx.Identifier{s.Schema, "timer"}.Sanitize()).Scan(&next)
	if err != nil || next == nil {
		return time.Time{}, err
	}
	return *next, nil
}

// Fire fires one batch of timers due now by the clock and returns how
// many fired.
func (s *Scanner) Fire(ctx context.Context) (int, error) {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	table := pgx.Identifier{s.Schema, "timer"}.Sanitize()
	var now time.Time
	var n int
	var lags []float64
	var kinds []string
	err := pg.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		var err error
		if now, err = clock.Reading(ctx, tx, s.Clock); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT key, kind, due_at, payload, attempts FROM `+table+
			` WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, s.batch())
		if err != nil {
			return err
		}
		due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Timer, error) {
			var t Timer
			err := r.Scan(&t.Key, &t.Kind, &t.Due, &t.Payload, &t.Attempts)
			return t, err
		})
		if err != nil {
			return err
		}
		n, lags, kinds = 0, lags[:0], kinds[:0]
		for _, t := range due {
			ok, err := s.fireOne(ctx, tx, t, now)
			if err != nil {
				return err
			}
			if ok {
				n++
				lags = append(lags, now.Sub(t.Due).Seconds())
				kinds = append(kinds, t.Kind)
			}
		}
		if s.beforeCommit != nil {
			s.beforeCommit(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("timer.Fire(%s): %w", s.Schema, err)
	}
	for i := range kinds {
		fired.WithLabelValues(s.Schema, kinds[i]).Inc()
		lag.WithLabelValues(s.Schema).Observe(lags[i])
	}
	return n, nil
}

// fireOne runs one timer's handler in a savepoint: its removal and the
// handler's work commit together, or neither.
func (s *Scanner) fireOne(ctx context.Context, tx pgx.Tx, t Timer, now time.Time) (bool, error) {
	table := pgx.Identifier{s.Schema, "timer"}.Sanitize()
	h := s.Handlers[t.Kind]
	herr := error(nil)
	if h == nil {
		herr = fmt.Errorf("no handler for timer kind %q in this process", t.Kind)
	} else {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return false, err
		}
		// Removed first: the handler may schedule the same key again.
		if _, err := sp.Exec(ctx, `DELETE FROM `+table+` WHERE key = $1`, t.Key); err != nil {
			_ = sp.Rollback(ctx)
			return false, err
		}
		herr = h(ctx, sp, Firing{Timer: t, Now: now})
		if herr == nil {
			return true, sp.Commit(ctx)
		}
		// A broken connection fails the rollback too, and the batch with it;
		// otherwise the failure is this timer's own (a bug, its own
		// deadline): it is tried again later and holds back no other.
		if err := sp.Rollback(ctx); err != nil {
			return false, err
		}
	}
	// The timer stays, later: a failing handler never fires early, and
	// does not hold back the others.
	failed.WithLabelValues(s.Schema, t.Kind).Inc()
	b := retry.Backoff{Min: time.Second, Max: time.Hour}
	for range t.Attempts {
		b.Next()
	}
	delay := b.Next()
	s.Log.Error("timer: handler failed; will try again", "schema", s.Schema, "key", t.Key, "kind", t.Kind,
		"attempts", t.Attempts+1, "in", delay, "err", herr)
	_, err := tx.Exec(ctx, `UPDATE `+table+` SET attempts = attempts + 1, last_error = $2, due_at = $3 WHERE key = $1`,
		t.Key, herr.Error(), now.Add(delay))
	return false, err
}
