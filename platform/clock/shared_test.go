package clock_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

func open(t *testing.T, db *pgxpool.Pool, spec string) *clock.Shared {
	t.Helper()
	s, err := clock.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clock.Open(context.Background(), db, s, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// running starts a process's refresher, woken by NOTIFY through a listener.
func running(t *testing.T, db *pgxpool.Pool, c *clock.Shared) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l := pg.NewListener(db.Config().ConnConfig, nil)
	wake := l.Subscribe(clock.Channel)
	go l.Run(ctx)
	go c.Run(ctx, wake)
}

// Two processes on one deployment: an advance made in one is seen by the
// other within a second, and a waiter in the other wakes.
func TestAnAdvanceIsSeenByEveryProcess(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t, clock.Migrations())
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	a := open(t, db, "manual:2026-03-01T08:00:00Z")
	b := open(t, db, "") // follows the deployment
	running(t, db, b)
	if !b.Now().Equal(start) || b.Kind() != "manual" {
		t.Fatalf("second process reads %v (%s)", b.Now(), b.Kind())
	}
	woke := make(chan time.Time, 1)
	go func() {
		_ = b.Until(ctx, start.Add(36*time.Hour))
		woke <- b.Now()
	}()
	now, err := a.Advance(ctx, 36*time.Hour, "operator")
	if err != nil || !now.Equal(start.Add(36*time.Hour)) {
		t.Fatalf("advance: %v %v", now, err)
	}
	select {
	case got := <-woke:
		if got.Before(start.Add(36 * time.Hour)) {
			t.Fatalf("woke at %v", got)
		}
	case <-time.After(time.Second):
		t.Fatalf("the other process still reads %v a second after the advance", b.Now())
	}
	// A third process started later reads the advanced clock.
	if c := open(t, db, "manual:2026-03-01T08:00:00Z"); !c.Now().Equal(start.Add(36 * time.Hour)) {
		t.Fatalf("a restarted process reads %v", c.Now())
	}
}

// An accelerated clock keeps its origin in the database: a process started
// again reads the same time as one that kept running, never earlier than
// before.
func TestAcceleratedClockKeepsItsOriginAcrossRestarts(t *testing.T) {
	db := pgtest.NewDB(t, clock.Migrations())
	first := open(t, db, "accelerated:3600")
	time.Sleep(300 * time.Millisecond)
	before := first.Now()
	again := open(t, db, "accelerated:3600")
	if got := again.Now(); got.Before(before) {
		t.Fatalf("restarted at %v, before the %v the first process read", got, before)
	}
	if d := again.Now().Sub(first.Now()); d < -time.Minute || d > time.Minute {
		t.Fatalf("two processes of one accelerated clock differ by %v", d)
	}
}

// A process whose SINP_CLOCK disagrees with the deployment's refuses to
// start, saying how to fix it.
func TestADisagreeingSpecIsRefused(t *testing.T) {
	db := pgtest.NewDB(t, clock.Migrations())
	open(t, db, "accelerated:3600")
	for _, spec := range []string{"manual", "accelerated:60", "real"} {
		s, _ := clock.ParseSpec(spec)
		_, err := clock.Open(context.Background(), db, s, "test", nil)
		if err == nil || !strings.Contains(err.Error(), "sinp clock set") || !strings.Contains(err.Error(), "accelerated:3600") {
			t.Errorf("SINP_CLOCK=%s on an accelerated:3600 deployment: %v", spec, err)
		}
	}
}

// The clock never moves backwards, the real clock cannot be moved, and a
// switch of kind keeps the reading.
func TestMovesNeverGoBack(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t, clock.Migrations())
	c := open(t, db, "manual:2026-03-01T08:00:00Z")
	if _, err := c.Set(ctx, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "", "op"); !errors.Is(err, clock.ErrBackwards) {
		t.Fatalf("set backwards: %v", err)
	}
	if _, err := c.Advance(ctx, -time.Hour, "op"); !errors.Is(err, clock.ErrBackwards) {
		t.Fatalf("advance by -1h: %v", err)
	}
	if _, err := c.Set(ctx, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "", "op"); !errors.Is(err, clock.ErrBackwards) {
		t.Fatalf("set to 2300: %v", err)
	}
	at := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	if now, err := c.Set(ctx, at, "accelerated:3600", "op"); err != nil || now.Before(at) || c.Kind() != "accelerated:3600" {
		t.Fatalf("switch to accelerated at %v: %v %v %s", at, now, err, c.Kind())
	}
	// The clock is now ahead of the wall clock: a real clock would go back.
	if _, err := c.Set(ctx, time.Time{}, "real", "op"); !errors.Is(err, clock.ErrBackwards) && time.Now().Before(at) {
		t.Fatalf("switch to real while ahead of the wall clock: %v", err)
	}
	r := pgtest.NewDB(t, clock.Migrations())
	real := open(t, r, "")
	if real.Kind() != "real" {
		t.Fatalf("a new deployment without SINP_CLOCK runs %s", real.Kind())
	}
	if _, err := real.Advance(ctx, time.Hour, "op"); !errors.Is(err, clock.ErrNotMovable) {
		t.Fatalf("advance a real clock: %v", err)
	}
	if now := real.Now(); time.Since(now) > time.Second || time.Until(now) > time.Second {
		t.Fatalf("real clock reads %v", now)
	}
}

// A replica whose host clock runs an hour ahead of the database's reads
// the real clock an hour ahead, but a decision it takes (Reading) is
// bounded by PostgreSQL's time: it cannot release anything early.
func TestAReplicaAheadOfTheDatabaseDecidesAtTheDatabasesTime(t *testing.T) {
	db := pgtest.NewDB(t, clock.Migrations())
	c := open(t, db, "real")
	clock.SetWall(c, func() time.Time { return time.Now().Add(time.Hour) })
	ctx := context.Background()
	if ahead := c.Now(); time.Until(ahead) < 59*time.Minute {
		t.Fatalf("the host's reading %s is not ahead", ahead)
	}
	got, err := clock.Reading(ctx, db, c)
	if err != nil {
		t.Fatal(err)
	}
	var dbNow time.Time
	if err := db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&dbNow); err != nil {
		t.Fatal(err)
	}
	if got.After(dbNow) {
		t.Fatalf("decided at %s, after the database's %s", got, dbNow)
	}
	if dbNow.Sub(got) > time.Minute {
		t.Fatalf("decided at %s, long before the database's %s", got, dbNow)
	}
}

// A replica that has not yet seen an operator's advance decides at the
// advanced time: dating an opinion, or E, by its own stale reading would
// put it in the past, and release data early.
func TestAReplicaBehindAnAdvanceDecidesAtTheSharedTime(t *testing.T) {
	db := pgtest.NewDB(t, clock.Migrations())
	ctx := context.Background()
	a := open(t, db, "manual:2026-03-01T08:00:00Z")
	b := open(t, db, "manual:2026-03-01T08:00:00Z")
	advanced, err := a.Advance(ctx, 72*time.Hour, "operator")
	if err != nil {
		t.Fatal(err)
	}
	if stale := b.Now(); !stale.Before(advanced) {
		t.Fatalf("replica b already reads %s", stale)
	}
	got, err := clock.Reading(ctx, db, b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(advanced) {
		t.Fatalf("replica b decides at %s, the deployment's clock reads %s", got, advanced)
	}
}

// An advance on a host whose clock runs fast moves the deployment's time
// by the advance, not by the advance plus the host's skew times the
// factor: the move is judged at the database's time, as decisions are.
func TestAnAdvanceFromAFastHostMovesTimeByTheAdvance(t *testing.T) {
	db := pgtest.NewDB(t, clock.Migrations())
	ctx := context.Background()
	c := open(t, db, "accelerated:3600")
	clock.SetWall(c, func() time.Time { return time.Now().Add(time.Second) })
	_ = c.Now() // this host has shown a reading an hour ahead
	before, err := clock.Reading(ctx, db, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Advance(ctx, time.Minute, "operator"); err != nil {
		t.Fatal(err)
	}
	after, err := clock.Reading(ctx, db, c)
	if err != nil {
		t.Fatal(err)
	}
	// At 3600×, the statements between the readings take some seconds of
	// clock time; an hour of skew would show.
	if moved := after.Sub(before); moved < time.Minute || moved > time.Minute+10*time.Minute {
		t.Fatalf("an advance of 1m moved the deployment's time by %s", moved)
	}
}
