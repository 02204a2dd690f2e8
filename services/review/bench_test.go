package review_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/timer"
	"sinp.occitanie.fr/services/review"
	"sinp.occitanie.fr/services/review/app"
	"sinp.occitanie.fr/services/review/rule"
)

// BenchmarkReleases: 10,000 or 100,000 open reviews with their release
// timers, of which 1,000 fall due at once (the deployment's clock moved
// past their F1 instant): releases per second, and the lag from the clock
// move to the last release. Each release is the whole firing: the review
// locked and read, the rule, the deliverable settled, ReleaseGranted in
// the outbox, the timer set for the next instant. The cost of a firing
// should not grow with the pending timers.
//
//	go test ./services/review -run '^$' -bench Releases -benchtime 3x
func BenchmarkReleases(b *testing.B) {
	for _, open := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) { benchReleases(b, open, 1000) })
	}
}

func benchReleases(b *testing.B, open, due int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := pgtest.NewDB(b, clock.Migrations(), review.Migrations, timer.Migrations(app.Schema), outbox.Migrations(app.Schema))
	spec, _ := clock.ParseSpec("manual:" + e0.Format(time.RFC3339))
	c, err := clock.Open(ctx, db, spec, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	a := &app.Service{DB: db, Emitter: &outbox.Emitter{Schema: app.Schema, Producer: "review", Clock: c, Wake: func() {}},
		Clock: c, Policy: rule.DefaultPolicy(), Log: slog.New(slog.DiscardHandler)}
	// Reviews opened one minute apart, so that each round finds its own
	// 1,000 F1 instants due (E + 6 days) among the open ones.
	rows := make([][]any, 0, open)
	for i := range open {
		ref := fmt.Sprintf("R-%06d", i)
		ev := completed(ref, adh, "flore")
		ev.CompletedAt.Seconds += int64(i) * 60
		blob, _ := proto.Marshal(ev)
		rows = append(rows, []any{ref, ref + "#0", ev.CompletedAt.AsTime(), true, "progressive", 144 * time.Hour, 144 * time.Hour, 504 * time.Hour, "acc-" + ref, blob})
	}
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"review", "extraction"}, []string{"reference", "run_id", "completed_at", "entitled", "mode",
		"f1_latency", "favorable_latency", "deadline", "requester_account", "completed"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO review.deliverable (deliverable_id, reference, kind, pole)
			SELECT reference || '/F1', reference, 'F1', '' FROM review.extraction
			UNION ALL SELECT reference || '/F2/flore', reference, 'F2', 'flore' FROM review.extraction;
		INSERT INTO review.timer (key, kind, due_at, payload)
			SELECT 'release:' || reference, 'release', completed_at + interval '6 days', convert_to(reference, 'UTF8') FROM review.extraction;
		ANALYZE`); err != nil {
		b.Fatal(err)
	}
	l := pg.NewListener(db.Config().ConnConfig, nil)
	clockWake, timerWake := l.Subscribe(clock.Channel), l.Subscribe(timer.Channel(app.Schema))
	go l.Run(ctx)
	go c.Run(ctx, clockWake)
	s := &timer.Scanner{Pool: db, Schema: app.Schema, Clock: c, Notified: timerWake, SafetyPoll: time.Hour,
		Handlers: map[string]timer.Handler{app.TimerKind: a.Fire}, Log: slog.New(slog.DiscardHandler)}
	go s.Run(ctx)
	released := func() int {
		var n int
		_ = db.QueryRow(ctx, `SELECT count(*) FROM review.deliverable WHERE state = 'released'`).Scan(&n)
		return n
	}
	var elapsed time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		before := released()
		// The next 1,000 reviews' F1 instants.
		target := e0.Add(6*day + time.Duration((round+1)*due-1)*time.Minute)
		round++
		b.StartTimer()
		moved := time.Now()
		if _, err := c.Set(ctx, target, "", "bench"); err != nil {
			b.Fatal(err)
		}
		for released() < before+due {
			if time.Since(moved) > 2*time.Minute {
				b.Fatalf("%d of %d released after 2 minutes", released()-before, due)
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed += time.Since(moved)
	}
	b.ReportMetric(float64(due*b.N)/elapsed.Seconds(), "releases/s")
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms-to-release-1000")
}
