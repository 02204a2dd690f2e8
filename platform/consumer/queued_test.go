package consumer_test

// Handlers that queue their writes (pg.Queue): a queued statement that
// fails at commit is classified as the package doc says.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// queueRejection is countRejections with its write queued.
func queueRejection(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	ev := d.Event.(*eventsv1.RequestRejected)
	return pg.Queue(ctx, tx, `INSERT INTO svc.rejection VALUES ($1, 1)
		ON CONFLICT (reference) DO UPDATE SET times = svc.rejection.times + 1`, ev.Reference)
}

// A queued statement that breaks a constraint, or names a table that does
// not exist, is the handler's failure: dead-lettered after MaxDeliver, and
// the events behind go on (also when they shared its batch).
func TestAQueuedFailureIsTheHandlers(t *testing.T) {
	for _, c := range []struct {
		name, sql string
		batch     int
	}{
		{"check violation", `INSERT INTO svc.rejection VALUES ($1, -1)`, 1},
		{"undefined table", `INSERT INTO svc.nowhere VALUES ($1)`, 1},
		{"check violation in a batch", `INSERT INTO svc.rejection VALUES ($1, -1)`, 16},
		{"undefined table in a batch", `INSERT INTO svc.nowhere VALUES ($1)`, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, ns := setup(t)
			if _, err := pool.Exec(context.Background(), `ALTER TABLE svc.rejection ADD CHECK (times > 0)`); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				ref := fmt.Sprintf("R%d", i)
				publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-" + ref}, Reference: ref}, "")
			}
			name := fmt.Sprintf("queued%d", c.batch)
			run(t, &consumer.Consumer{Name: name, Subjects: []string{bus.SubjectRequestRejected},
				Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 2, Batch: c.batch,
				Retry: retry.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
				Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
					ev := d.Event.(*eventsv1.RequestRejected)
					if ev.Reference == "R3" {
						return pg.Queue(ctx, tx, c.sql, ev.Reference)
					}
					return queueRejection(ctx, tx, d)
				}})
			eventually(t, "the nine others handled", func() bool {
				var n int
				_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM svc.rejection WHERE times = 1`).Scan(&n)
				return n == 9
			})
			eventually(t, "R3 dead-lettered", func() bool { return ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject(name)) == 1 })
		})
	}
}

// A connection lost while the commit batch carries the handler's queued
// statements is the system's: waited out, never counted against the event,
// and the event is handled once the database is back.
func TestALostConnectionAtCommitIsWaitedOut(t *testing.T) {
	pool, ns := setup(t)
	var kills atomic.Int32
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-1"}, Reference: "R1"}, "ev-1")
	run(t, &consumer.Consumer{Name: "lost", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 2,
		Retry: retry.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			if err := queueRejection(ctx, tx, d); err != nil {
				return err
			}
			if kills.Add(1) <= 4 {
				// The backend dies in the commit's round trip, after the write.
				return pg.Queue(ctx, tx, `SELECT pg_terminate_backend(pg_backend_pid()) WHERE $1`, true)
			}
			return nil
		}})
	eventually(t, "handled after the outage", func() bool { return times(t, pool, "R1") == 1 })
	if n := ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("lost")); n != 0 {
		t.Fatalf("%d dead letters after connections lost at commit", n)
	}
}
