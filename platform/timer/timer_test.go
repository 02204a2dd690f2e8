package timer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db := pgtest.NewDB(t, clock.Migrations(), Migrations("svc"))
	if _, err := db.Exec(context.Background(), `CREATE TABLE svc.fired (key text NOT NULL, due_at timestamptz NOT NULL,
		fired_at timestamptz NOT NULL, deployment_now timestamptz, replica text NOT NULL DEFAULT '')`); err != nil {
		t.Fatal(err)
	}
	return db
}

func schedule(t testing.TB, db *pgxpool.Pool, timers ...Timer) {
	t.Helper()
	err := pg.InTx(context.Background(), db, func(tx pgx.Tx) error {
		for _, tm := range timers {
			if err := Schedule(context.Background(), tx, "svc", tm); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// record is a handler whose effect shows each firing.
func record(ctx context.Context, tx pgx.Tx, f Firing) error {
	_, err := tx.Exec(ctx, `INSERT INTO svc.fired (key, due_at, fired_at) VALUES ($1, $2, $3)`, f.Key, f.Due, f.Now)
	return err
}

func firedKeys(t testing.TB, db *pgxpool.Pool) []string {
	t.Helper()
	rows, _ := db.Query(context.Background(), `SELECT key FROM svc.fired ORDER BY fired_at, key`)
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// A timer fires at its due instant, not a nanosecond before, once; a
// rescheduled one fires at its new instant; a cancelled one never.
func TestATimerFiresOnceAtItsInstantNeverBefore(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	c := clock.NewManual(t0)
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Handlers: map[string]Handler{"k": record}}
	schedule(t, db,
		Timer{Key: "f1", Kind: "k", Due: t0.Add(6 * 24 * time.Hour)},
		Timer{Key: "moved", Kind: "k", Due: t0.Add(time.Hour)},
		Timer{Key: "cancelled", Kind: "k", Due: t0.Add(time.Hour)})
	schedule(t, db, Timer{Key: "moved", Kind: "k", Due: t0.Add(8 * 24 * time.Hour)})
	_ = pg.InTx(ctx, db, func(tx pgx.Tx) error {
		ok, err := Cancel(ctx, tx, "svc", "cancelled")
		if !ok || err != nil {
			t.Fatalf("cancel: %v %v", ok, err)
		}
		return nil
	})
	_, _ = c.Set(ctx, t0.Add(6*24*time.Hour-time.Nanosecond), "", "")
	if n, err := s.Fire(ctx); n != 0 || err != nil {
		t.Fatalf("one nanosecond before: fired %d (%v)", n, err)
	}
	_, _ = c.Advance(ctx, time.Nanosecond, "")
	if n, err := s.Fire(ctx); n != 1 || err != nil {
		t.Fatalf("at the instant: fired %d (%v)", n, err)
	}
	if n, _ := s.Fire(ctx); n != 0 {
		t.Fatalf("fired again: %d", n)
	}
	_, _ = c.Advance(ctx, 30*24*time.Hour, "")
	if n, _ := s.Fire(ctx); n != 1 {
		t.Fatalf("after 36 days: fired %d, want the moved timer", n)
	}
	if got := fmt.Sprint(firedKeys(t, db)); got != "[f1 moved]" {
		t.Fatalf("fired %s", got)
	}
	if next, err := s.Next(ctx); err != nil || !next.IsZero() {
		t.Fatalf("next after all fired: %v %v", next, err)
	}
}

// A handler may schedule its own key again (a rule that says "not yet");
// a failing handler keeps its timer, later, and does not hold back the
// others.
func TestHandlersRescheduleAndFailSafely(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	c := clock.NewManual(t0)
	var again atomic.Bool
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Handlers: map[string]Handler{
		"later": func(ctx context.Context, tx pgx.Tx, f Firing) error {
			if again.CompareAndSwap(false, true) {
				return Schedule(ctx, tx, "svc", Timer{Key: f.Key, Kind: f.Kind, Due: f.Now.Add(time.Hour)})
			}
			return record(ctx, tx, f)
		},
		"broken": func(context.Context, pgx.Tx, Firing) error { return errors.New("a bug") },
		"fine":   record,
	}}
	schedule(t, db, Timer{Key: "a", Kind: "later", Due: t0}, Timer{Key: "b", Kind: "broken", Due: t0}, Timer{Key: "c", Kind: "fine", Due: t0})
	if n, err := s.Fire(ctx); n != 2 || err != nil {
		t.Fatalf("fired %d (%v), want a (rescheduled) and c", n, err)
	}
	got, err := Get(ctx, db, "svc", "a")
	if err != nil || !got.Due.Equal(t0.Add(time.Hour)) {
		t.Fatalf("a rescheduled to %v (%v)", got.Due, err)
	}
	b, err := Get(ctx, db, "svc", "b")
	if err != nil || b.Attempts != 1 || !b.Due.After(t0) {
		t.Fatalf("broken timer %+v (%v)", b, err)
	}
	_, _ = c.Advance(ctx, time.Hour, "")
	if n, _ := s.Fire(ctx); n != 1 {
		t.Fatalf("fired %d at +1h", n)
	}
	if got := fmt.Sprint(firedKeys(t, db)); got != "[c a]" {
		t.Fatalf("fired %s", got)
	}
}

// A running scanner wakes when an earlier timer is scheduled and when the
// deployment's clock is moved, without polling.
func TestTheScannerWakesOnScheduleAndOnClockMoves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := newDB(t)
	spec, _ := clock.ParseSpec("manual:2026-03-01T08:00:00Z")
	c, err := clock.Open(ctx, db, spec, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := pg.NewListener(db.Config().ConnConfig, nil)
	clockWake, timerWake := l.Subscribe(clock.Channel), l.Subscribe(Channel("svc"))
	go l.Run(ctx)
	go c.Run(ctx, clockWake)
	var count atomic.Int32
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Notified: timerWake, SafetyPoll: time.Hour,
		Handlers: map[string]Handler{"k": func(ctx context.Context, tx pgx.Tx, f Firing) error {
			count.Add(1)
			return record(ctx, tx, f)
		}}}
	schedule(t, db, Timer{Key: "far", Kind: "k", Due: t0.Add(21 * 24 * time.Hour)})
	go s.Run(ctx)
	time.Sleep(200 * time.Millisecond)
	schedule(t, db, Timer{Key: "now", Kind: "k", Due: t0})
	waitFor(t, "the scanner woken by a new due timer", func() bool { return count.Load() == 1 })
	if _, err := c.Advance(ctx, 21*24*time.Hour, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the scanner woken by the clock", func() bool { return count.Load() == 2 })
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// aheadOfTheDeployment switches an accelerated deployment to manual (at
// frozen) through operator, behind the back of ahead, which has not heard
// of it and reads its fast clock, minutes ahead.
func aheadOfTheDeployment(ctx context.Context, t *testing.T, db *pgxpool.Pool) (ahead, operator *clock.Shared, frozen time.Time) {
	t.Helper()
	fast, _ := clock.ParseSpec("accelerated:100000")
	ahead, err := clock.Open(ctx, db, fast, "ahead", nil)
	if err != nil {
		t.Fatal(err)
	}
	if operator, err = clock.Open(ctx, db, clock.Spec{}, "operator", nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if frozen, err = operator.Set(ctx, time.Time{}, "manual", "operator"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if read := ahead.Now(); !read.After(frozen.Add(time.Minute)) {
		t.Fatalf("the stale process reads %v, the deployment %v: the test needs it ahead", read, frozen)
	}
	return ahead, operator, frozen
}

// An accelerated deployment is switched to manual: a process that kept
// reading its fast clock a moment longer is ahead of the deployment, and
// stays so (its time never goes back). Its scanner still fires nothing
// the deployment's clock has not reached.
func TestAProcessAheadOfTheDeploymentFiresNothingEarly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := newDB(t)
	ahead, operator, frozen := aheadOfTheDeployment(ctx, t, db)
	schedule(t, db, Timer{Key: "not-yet", Kind: "k", Due: frozen.Add(time.Second)})
	s := &Scanner{Pool: db, Schema: "svc", Clock: ahead, Handlers: map[string]Handler{"k": record}}
	if n, err := s.Fire(ctx); n != 0 || err != nil {
		t.Fatalf("the process ahead fired %d timers (%v) the deployment's clock has not reached", n, err)
	}
	if _, err := operator.Advance(ctx, time.Second, "operator"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Fire(ctx); n != 1 || err != nil {
		t.Fatalf("at its instant: fired %d (%v)", n, err)
	}
}

// A timer held by Lock is not fired while the holder runs, and fires once
// the holder has committed; a holder waiting on a timer being fired sees
// the firing's work when it gets it.
func TestALockedTimerWaitsForItsHolder(t *testing.T) {
	db := newDB(t)
	ctx := context.Background()
	c := clock.NewManual(t0)
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Handlers: map[string]Handler{"k": record}}
	schedule(t, db, Timer{Key: "a", Kind: "k", Due: t0})
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := Lock(ctx, tx, "svc", "a"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Fire(ctx); err != nil || n != 0 {
		t.Fatalf("fired %d while held (%v)", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Fire(ctx); err != nil || n != 1 {
		t.Fatalf("fired %d once released (%v)", n, err)
	}
	// Locking a timer that no longer exists holds nothing and fails nothing.
	if err := pg.InTx(ctx, db, func(tx pgx.Tx) error { return Lock(ctx, tx, "svc", "a") }); err != nil {
		t.Fatal(err)
	}
}

// claims counts the scanner's claim statements.
type claims struct{ n atomic.Int64 }

func (c *claims) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FOR UPDATE SKIP LOCKED") {
		c.n.Add(1)
	}
	return ctx
}

func (c *claims) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A process whose reading is ahead of the deployment's sees a timer due
// that the deployment has not reached: its scanner waits for it, it does
// not spin on claims that find nothing (thousands a second before).
func TestAProcessAheadDoesNotSpin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := newDB(t)
	c, operator, frozen := aheadOfTheDeployment(ctx, t, db)
	schedule(t, db, Timer{Key: "soon", Kind: "k", Due: frozen.Add(time.Second)})
	cfg := db.Config()
	counter := &claims{}
	cfg.ConnConfig.Tracer = counter
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	s := &Scanner{Pool: traced, Schema: "svc", Clock: c, Handlers: map[string]Handler{"k": record}}
	go s.Run(ctx)
	time.Sleep(700 * time.Millisecond)
	if n := counter.n.Load(); n > 50 {
		t.Fatalf("%d claims in 0.7 s for one timer not yet due by the deployment's clock", n)
	}
	// It still fires at the deployment's instant.
	if _, err := operator.Advance(ctx, time.Second, "operator"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(firedKeys(t, db)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the timer never fired")
		}
	}
}
