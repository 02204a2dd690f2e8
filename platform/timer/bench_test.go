package timer

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
)

// BenchmarkFireDue measures a running scanner when 1,000 timers fall due
// at once (the deployment's manual clock moved past them) among 10,000 or
// 100,000 pending: timers fired per second, and the lag from the clock
// move to each firing (wall time). Each handler inserts one row, as a
// release would. The cost of a firing should not grow with the pending
// timers.
//
//	go test ./platform/timer -run '^$' -bench FireDue -benchtime 5x
func BenchmarkFireDue(b *testing.B) {
	for _, pending := range []int{10_000, 100_000} {
		b.Run("pending="+itoa(pending), func(b *testing.B) { benchFire(b, pending, 1000) })
	}
}

func benchFire(b *testing.B, pending, due int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := newDB(b)
	spec, _ := clock.ParseSpec("manual:2026-03-01T08:00:00Z")
	c, err := clock.Open(ctx, db, spec, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	// Pending timers far in the future.
	if _, err := db.Exec(ctx, `INSERT INTO svc.timer (key, kind, due_at)
		SELECT 'pending-' || i, 'record', $1::timestamptz + make_interval(days => 365 + i % 1000)
		FROM generate_series(1, $2) AS i`, t0, pending); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `ANALYZE svc.timer`); err != nil {
		b.Fatal(err)
	}
	l := pg.NewListener(db.Config().ConnConfig, nil)
	clockWake, timerWake := l.Subscribe(clock.Channel), l.Subscribe(Channel("svc"))
	go l.Run(ctx)
	go c.Run(ctx, clockWake)
	var mu sync.Mutex
	var firedAt []time.Time
	done := make(chan struct{}, 1)
	s := &Scanner{Pool: db, Schema: "svc", Clock: c, Notified: timerWake, SafetyPoll: time.Hour,
		Handlers: map[string]Handler{"record": func(ctx context.Context, tx pgx.Tx, f Firing) error {
			if err := record(ctx, tx, f); err != nil {
				return err
			}
			mu.Lock()
			firedAt = append(firedAt, time.Now())
			if len(firedAt) == due {
				select {
				case done <- struct{}{}:
				default:
				}
			}
			mu.Unlock()
			return nil
		}}}
	go s.Run(ctx)
	var lags []time.Duration
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		now := c.Now()
		if _, err := db.Exec(ctx, `INSERT INTO svc.timer (key, kind, due_at)
			SELECT 'due-' || $3::text || '-' || i, 'record', $1::timestamptz + make_interval(secs => i % 60)
			FROM generate_series(1, $2) AS i`, now.Add(time.Minute), due, strconv.FormatInt(now.UnixNano(), 10)); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Exec(ctx, `SELECT pg_notify($1, '')`, Channel("svc")); err != nil { // as Schedule does
			b.Fatal(err)
		}
		mu.Lock()
		firedAt = firedAt[:0]
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		b.StartTimer()
		moved := time.Now()
		if _, err := c.Advance(ctx, 2*time.Minute, "bench"); err != nil {
			b.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			b.Fatalf("only %d of %d timers fired in 60s", len(firedAt), due)
		}
		b.StopTimer()
		mu.Lock()
		last := firedAt[len(firedAt)-1]
		for _, at := range firedAt {
			lags = append(lags, at.Sub(moved))
		}
		mu.Unlock()
		elapsed += last.Sub(moved)
		b.StartTimer()
	}
	slices.Sort(lags)
	b.ReportMetric(float64(due*b.N)/elapsed.Seconds(), "timers/s")
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "lag-p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "lag-p99-ms")
	b.ReportMetric(float64(lags[0].Microseconds())/1000, "first-ms")
}

func itoa(n int) string { return strconv.Itoa(n) }
