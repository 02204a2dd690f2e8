package clock

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations create platform.clock. Every process applies them.
func Migrations() pg.Migrations {
	return pg.Migrations{Component: "clock", Schema: "platform", FS: migrations, Dir: "migrations"}
}

// Channel is notified when the deployment's clock changes.
const Channel = "sinp_clock"

// Shared is the deployment's clock as this process reads it from
// platform.clock. Its reading never goes backwards in this process, and a
// change made anywhere reaches it through Run within a second.
type Shared struct {
	db  *pgxpool.Pool
	log *slog.Logger

	state   atomic.Pointer[State]
	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each change
	last    atomic.Int64  // the latest reading handed out, Unix ns

	// wall is this host's time (nil: time.Now); tests set a host whose
	// clock runs ahead.
	wall func() time.Time
}

func (s *Shared) wallNow() time.Time {
	if s.wall != nil {
		return s.wall()
	}
	return time.Now()
}

// Open reads the deployment's clock, creating it from spec when the
// deployment has none yet. A spec that disagrees with the recorded clock
// is refused: two processes on two clocks would release data early.
func Open(ctx context.Context, db *pgxpool.Pool, spec Spec, by string, log *slog.Logger) (*Shared, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Shared{db: db, log: log, changed: make(chan struct{})}
	var st State
	err := pg.InTx(ctx, db, func(tx pgx.Tx) error {
		// The database's time, which every decision reads the clock at
		// (Reading): not this host's, which may be skewed.
		wall, err := dbNow(ctx, tx)
		if err != nil {
			return err
		}
		init := State{Kind: spec.Kind, Base: wall, Wall: wall, Factor: 1}
		switch spec.Kind {
		case "":
			init.Kind = KindReal
		case KindManual:
			init.Base = wall.UTC().Truncate(time.Second)
			if !spec.Start.IsZero() {
				init.Base = spec.Start
			}
		case KindAccelerated:
			init.Factor = spec.Factor
		}
		if _, err := tx.Exec(ctx, `INSERT INTO platform.clock (kind, base, wall, factor, updated_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, init.Kind, ceilMicro(init.Base), init.Wall, init.Factor, by); err != nil {
			return err
		}
		st, err = read(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("clock.Open: %w", err)
	}
	if spec.Kind != "" && (spec.Kind != st.Kind || spec.Kind == KindAccelerated && spec.Factor != st.Factor) {
		return nil, fmt.Errorf("SINP_CLOCK=%s, but the deployment's clock (platform.clock, set by %q at %s) is %s: unset SINP_CLOCK to follow it, or switch every process with `sinp clock set --kind %s`",
			spec.raw, st.UpdatedBy, st.UpdatedAt.Format(time.RFC3339), st.KindName(), spec)
	}
	if spec.Kind == KindManual && !spec.Start.IsZero() && !spec.Start.Equal(st.Base) && st.Generation > 1 {
		log.Info("the manual clock was moved since it started; its start time in SINP_CLOCK is ignored", "now", st.Base)
	}
	s.state.Store(&st)
	return s, nil
}

// dbNow is PostgreSQL's time, at its precision.
func dbNow(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (time.Time, error) {
	var t time.Time
	err := q.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&t)
	return t, err
}

func read(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (State, error) {
	var st State
	err := q.QueryRow(ctx, `SELECT kind, base, wall, factor, generation, updated_by, updated_at FROM platform.clock`).
		Scan(&st.Kind, &st.Base, &st.Wall, &st.Factor, &st.Generation, &st.UpdatedBy, &st.UpdatedAt)
	return st, err
}

// ceilMicro rounds up to PostgreSQL's precision, so that storing a
// reading never takes it back.
func ceilMicro(t time.Time) time.Time {
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}

// State is the clock's current definition.
func (s *Shared) State() State { return *s.state.Load() }

// Kind is "real", "manual" or "accelerated:<factor>".
func (s *Shared) Kind() string { return s.State().KindName() }

// Now is the deployment's time, never earlier than a reading this process
// already gave.
func (s *Shared) Now() time.Time {
	t := s.state.Load().At(s.wallNow())
	n := t.UnixNano()
	for {
		l := s.last.Load()
		if n <= l {
			return time.Unix(0, l).UTC()
		}
		if s.last.CompareAndSwap(l, n) {
			return t
		}
	}
}

func (s *Shared) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Until returns once the clock reads t: at once if it does already, when
// enough wall time has passed, or when an operator moves it past t.
func (s *Shared) Until(ctx context.Context, t time.Time) error {
	for {
		changed := s.changes()
		now := s.Now()
		if !now.Before(t) {
			return nil
		}
		var fire <-chan time.Time
		var timer *time.Timer
		if wall, ok := s.State().WallFor(t.Sub(now)); ok {
			timer = time.NewTimer(wall)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Run keeps the clock current until ctx ends: it re-reads platform.clock
// when woken (a notification on Channel, or the listener reconnecting) and
// every second for a manual or accelerated clock, so a lost notification
// delays an advance by a second at most.
func (s *Shared) Run(ctx context.Context, wake <-chan struct{}) error {
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
			if s.State().Kind == KindReal {
				continue
			}
		}
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Debug("clock: re-reading platform.clock failed; keeping the last state", "err", err)
		}
	}
}

// Refresh re-reads platform.clock now.
func (s *Shared) Refresh(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := read(rctx, s.db)
	if err != nil {
		return err
	}
	s.install(st)
	return nil
}

func (s *Shared) install(st State) {
	if cur := s.state.Load(); st.Generation <= cur.Generation {
		return
	}
	s.state.Store(&st)
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	s.log.Info("clock changed", "kind", st.KindName(), "now", st.At(time.Now()).Format(time.RFC3339), "by", st.UpdatedBy)
}

// Advance moves a manual or accelerated clock forward by d, for every
// process.
func (s *Shared) Advance(ctx context.Context, d time.Duration, by string) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, fmt.Errorf("%w: advance by a positive duration", ErrBackwards)
	}
	return s.change(ctx, by, func(cur State, now, _ time.Time) (State, error) {
		if cur.Kind == KindReal {
			return cur, ErrNotMovable
		}
		if now.Add(d).After(Latest) {
			return cur, fmt.Errorf("%w: the clock would pass %s, the last instant it shows", ErrBackwards, Latest.Format(time.RFC3339))
		}
		return State{Kind: cur.Kind, Factor: cur.Factor, Base: now.Add(d)}, nil
	})
}

// Set moves the clock to at (zero: its current reading) and switches it to
// spec's kind when spec is not empty. It never moves time backwards.
func (s *Shared) Set(ctx context.Context, at time.Time, spec, by string) (time.Time, error) {
	var to Spec
	if spec != "" {
		var err error
		if to, err = ParseSpec(spec); err != nil {
			return time.Time{}, err
		}
		if !to.Start.IsZero() {
			return time.Time{}, fmt.Errorf("kind %q: give the instant separately", spec)
		}
	}
	return s.change(ctx, by, func(cur State, now, wall time.Time) (State, error) {
		next := State{Kind: cur.Kind, Factor: cur.Factor, Base: now}
		if to.Kind != "" {
			next.Kind, next.Factor = to.Kind, max(to.Factor, 1)
		}
		if !at.IsZero() {
			if at.After(Latest) {
				return cur, fmt.Errorf("%w: %s is after %s, the last instant the clock shows", ErrBackwards, at.Format(time.RFC3339), Latest.Format(time.RFC3339))
			}
			if at.Before(now.Truncate(time.Microsecond)) {
				return cur, fmt.Errorf("%w: %s is before the clock's %s", ErrBackwards, at.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
			}
			next.Base = at
		}
		if next.Kind == KindReal && next.Base.After(wall) {
			return cur, fmt.Errorf("%w: the clock reads %s, after the wall clock: a real clock now would go back %s",
				ErrBackwards, next.Base.Format(time.RFC3339), next.Base.Sub(wall).Round(time.Second))
		}
		if cur.Kind == KindReal && next.Kind == KindReal && !at.IsZero() {
			return cur, ErrNotMovable
		}
		return next, nil
	})
}

// change applies one operator move in a transaction, notifies every
// process, and installs the new state here at once.
func (s *Shared) change(ctx context.Context, by string, fn func(cur State, now, wall time.Time) (State, error)) (time.Time, error) {
	var next State
	err := pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM platform.clock FOR UPDATE`); err != nil {
			return err
		}
		cur, err := read(ctx, tx)
		if err != nil {
			return err
		}
		// At the database's time, as decisions read it (Reading): the
		// move is judged and recorded against the same clock.
		wall, err := dbNow(ctx, tx)
		if err != nil {
			return err
		}
		// Not raised to this process's last reading: that one is on its
		// host's clock, which may run ahead (Now keeps it from going back).
		now := cur.At(wall)
		if next, err = fn(cur, now, wall); err != nil {
			return err
		}
		next.Base, next.Wall = ceilMicro(next.Base), wall.Truncate(time.Microsecond)
		if next.Kind == KindReal {
			next.Base, next.Factor = next.Wall, 1
		}
		err = tx.QueryRow(ctx, `UPDATE platform.clock SET kind = $1, base = $2, wall = $3, factor = $4,
				generation = generation + 1, updated_at = now(), updated_by = $5
			RETURNING generation, updated_at`, next.Kind, next.Base, next.Wall, next.Factor, by).
			Scan(&next.Generation, &next.UpdatedAt)
		if err != nil {
			return err
		}
		next.UpdatedBy = by
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, Channel)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	s.install(next)
	return s.Now(), nil
}

// Reading is the deployment's time for a decision (a timer firing, a
// release, an opinion's instant, E): what platform.clock says at
// PostgreSQL's own time, both read now through q (the deciding
// transaction). Every replica decides by the one clock they share, not by
// its own reading: one that ran ahead (its host clock fast, or the clock
// slowed or stopped since it last looked) would settle early, and one that
// has not yet seen an advance would date an opinion, or E, in the past and
// so release early too.
func Reading(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, c Clock) (time.Time, error) {
	if _, ok := c.(*Shared); !ok {
		return c.Now(), nil
	}
	var st State
	var wall time.Time
	err := q.QueryRow(ctx, `SELECT kind, base, wall, factor, generation, updated_by, updated_at, clock_timestamp() FROM platform.clock`).
		Scan(&st.Kind, &st.Base, &st.Wall, &st.Factor, &st.Generation, &st.UpdatedBy, &st.UpdatedAt, &wall)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock.Reading: %w", err)
	}
	return st.At(wall), nil
}
