package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/deadletter"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/retry"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

func setup(t testing.TB) (*pgxpool.Pool, *bustest.Server) {
	t.Helper()
	pool := pgtest.NewDB(t, outbox.Migrations("svc"))
	if _, err := pool.Exec(context.Background(), `CREATE TABLE svc.rejection (reference text PRIMARY KEY, times int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return pool, bustest.Start(t)
}

// countRejections is a handler whose effect shows how often it ran.
func countRejections(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	ev := d.Event.(*eventsv1.RequestRejected)
	_, err := tx.Exec(ctx, `INSERT INTO svc.rejection VALUES ($1, 1)
		ON CONFLICT (reference) DO UPDATE SET times = svc.rejection.times + 1`, ev.Reference)
	return err
}

func times(t *testing.T, pool *pgxpool.Pool, ref string) int {
	t.Helper()
	var n int
	err := pool.QueryRow(context.Background(), `SELECT times FROM svc.rejection WHERE reference = $1`, ref).Scan(&n)
	if err != nil && !pg.IsNoRows(err) {
		t.Fatal(err)
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func run(t *testing.T, c *consumer.Consumer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func publish(t *testing.T, js jetstream.JetStream, ev bus.Event, msgID string) {
	t.Helper()
	subject, _ := bus.SubjectFor(ev)
	b, _ := proto.Marshal(ev)
	m := nats.NewMsg(subject)
	m.Data = b
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// An event that arrives twice (a producer that published it again after the
// deduplication window) changes state once.
func TestRedeliveredEventChangesStateOnce(t *testing.T) {
	pool, ns := setup(t)
	ev := &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-1"}, Reference: "R1"}
	publish(t, ns.JS, ev, "")
	publish(t, ns.JS, ev, "")
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-2"}, Reference: "R2"}, "")
	run(t, &consumer.Consumer{Name: "rejections", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, Handle: countRejections})
	eventually(t, "R2 handled", func() bool { return times(t, pool, "R2") == 1 })
	if got := times(t, pool, "R1"); got != 1 {
		t.Fatalf("R1 handled %d times, want 1", got)
	}
}

// A handler failure rolls back everything it did, including the processed
// mark; the redelivery then succeeds and the state changes once.
func TestAckAfterCommitRetriesAFailedHandler(t *testing.T) {
	pool, ns := setup(t)
	var calls atomic.Int32
	flaky := func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
		if err := countRejections(ctx, tx, d); err != nil {
			return err
		}
		if calls.Add(1) == 1 {
			return errors.New("database hiccup")
		}
		return nil
	}
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-1"}, Reference: "R1"}, "ev-1")
	run(t, &consumer.Consumer{Name: "flaky", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 3, AckWait: 5 * time.Second, Handle: flaky})
	eventually(t, "retry succeeded", func() bool { return calls.Load() >= 2 })
	eventually(t, "state committed", func() bool { return times(t, pool, "R1") == 1 })
	time.Sleep(200 * time.Millisecond)
	if got := times(t, pool, "R1"); got != 1 || calls.Load() != 2 {
		t.Fatalf("state %d after %d calls, want 1 after 2", got, calls.Load())
	}
}

// A message that cannot be decoded, and one whose handler always fails,
// end up on sinp.dlq.<consumer> with the reason; nothing else is touched.
func TestPoisonMessagesAreDeadLettered(t *testing.T) {
	pool, ns := setup(t)
	m := nats.NewMsg(bus.SubjectRequestRejected)
	m.Data = []byte("\xff\xff not a protobuf")
	m.Header.Set(jetstream.MsgIDHeader, "garbage-1")
	if _, err := ns.JS.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-9"}, Reference: "R9"}, "ev-9")
	var calls atomic.Int32
	run(t, &consumer.Consumer{Name: "grumpy", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 2, AckWait: 2 * time.Second,
		Handle: func(context.Context, pgx.Tx, consumer.Delivery) error {
			calls.Add(1)
			return errors.New("cannot handle R9")
		}})
	dlq := bus.SubjectDeadLetterPrefix + "grumpy"
	eventually(t, "two dead letters", func() bool { return ns.Count(t, bus.StreamDeadLetter, dlq) == 2 })
	st, _ := ns.JS.Stream(context.Background(), bus.StreamDeadLetter)
	first, err := st.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Header.Get(consumer.HeaderOriginalSubject) != bus.SubjectRequestRejected || first.Header.Get(consumer.HeaderError) == "" {
		t.Fatalf("dead letter headers %v", first.Header)
	}
	second, _ := st.GetMsg(context.Background(), 2)
	if second.Header.Get(consumer.HeaderEventID) != "ev-9" || calls.Load() != 2 {
		t.Fatalf("handler called %d times, dead letter %v", calls.Load(), second.Header)
	}
	if times(t, pool, "R9") != 0 {
		t.Fatal("a failed handler left state behind")
	}
}

// Outbox to consumer, end to end: a relay publishes, the consumer changes
// state once.
func TestOutboxToConsumer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, ns := setup(t)
	em := &outbox.Emitter{Schema: "svc", Producer: "test"}
	_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := em.Emit(ctx, tx, &eventsv1.RequestRejected{Reference: "R5"})
		return err
	})
	go (&outbox.Relay{Pool: pool, JS: ns.JS, Schema: "svc", Poll: 100 * time.Millisecond}).Run(ctx)
	run(t, &consumer.Consumer{Name: "e2e", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, Handle: countRejections})
	eventually(t, "R5 handled", func() bool { return times(t, pool, "R5") == 1 })
}

// A lost database (here the error a restart gives) is waited out however
// long it lasts: it never counts toward dead-lettering.
func TestInfrastructureErrorsNeverDeadLetter(t *testing.T) {
	pool, ns := setup(t)
	var calls atomic.Int32
	outage := func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
		if calls.Add(1) <= 8 {
			return &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
		}
		return countRejections(ctx, tx, d)
	}
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-1"}, Reference: "R1"}, "ev-1")
	run(t, &consumer.Consumer{Name: "patient", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 2, AckWait: 2 * time.Second, Handle: outage,
		Retry: retry.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond}})
	eventually(t, "handled after the outage", func() bool { return times(t, pool, "R1") == 1 })
	if n := ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("patient")); n != 0 {
		t.Fatalf("%d dead letters after an outage", n)
	}
}

// When the dead letter cannot be stored (the DLQ stream is gone), the
// message stays with its consumer; once the DLQ is back it lands there,
// and only then leaves the consumer.
func TestADeadLetterIsNeverLostWhenTheDLQIsDown(t *testing.T) {
	ctx := context.Background()
	pool, ns := setup(t)
	if err := ns.JS.DeleteStream(ctx, bus.StreamDeadLetter); err != nil {
		t.Fatal(err)
	}
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-9"}, Reference: "R9"}, "ev-9")
	run(t, &consumer.Consumer{Name: "doomed", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 1, AckWait: 2 * time.Second,
		Handle: func(context.Context, pgx.Tx, consumer.Delivery) error {
			return consumer.Permanent(errors.New("R9 is malformed"))
		}})
	time.Sleep(3 * time.Second) // longer than AckWait
	info, err := ns.JS.Consumer(ctx, bus.StreamEvents, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := info.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumAckPending+int(ci.NumPending) != 1 {
		t.Fatalf("with no DLQ the message left its consumer: ack pending %d, pending %d", ci.NumAckPending, ci.NumPending)
	}
	if err := bus.EnsureStreams(ctx, ns.JS, bustest.Config()); err != nil {
		t.Fatal(err)
	}
	dlq := consumer.DeadLetterSubject("doomed")
	eventually(t, "the dead letter stored", func() bool { return ns.Count(t, bus.StreamDeadLetter, dlq) == 1 })
	eventually(t, "the message terminated", func() bool {
		ci, err := info.Info(ctx)
		return err == nil && ci.NumAckPending == 0 && ci.NumPending == 0
	})
	st, _ := ns.JS.Stream(ctx, bus.StreamDeadLetter)
	m, err := st.GetLastMsgForSubject(ctx, dlq)
	if err != nil || !strings.Contains(m.Header.Get(consumer.HeaderError), "R9 is malformed") {
		t.Fatalf("dead letter %v (%v)", m, err)
	}
}

// An operator replays a dead letter once its cause is fixed: the consumer
// that failed handles it once; another consumer of the same subject, which
// had handled it, does not see it again.
func TestReplayHandsADeadLetterBackToItsConsumerOnly(t *testing.T) {
	ctx := context.Background()
	pool, ns := setup(t)
	var broken atomic.Bool
	broken.Store(true)
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-5"}, Reference: "R5"}, "ev-5")
	run(t, &consumer.Consumer{Name: "fragile", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, MaxDeliver: 2, Retry: retry.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			if broken.Load() {
				return errors.New("a bug in the handler")
			}
			return countRejections(ctx, tx, d)
		}})
	var others atomic.Int32
	run(t, &consumer.Consumer{Name: "bystander", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, Handle: func(context.Context, pgx.Tx, consumer.Delivery) error {
			others.Add(1)
			return nil
		}})
	dlq := consumer.DeadLetterSubject("fragile")
	eventually(t, "dead-lettered", func() bool { return ns.Count(t, bus.StreamDeadLetter, dlq) == 1 })
	letters, _, err := deadletter.List(ctx, ns.JS, "fragile", 0, 10)
	if err != nil || len(letters) != 1 || letters[0].EventID != "ev-5" || letters[0].OriginalSubject != bus.SubjectRequestRejected ||
		letters[0].Failures != 2 || !strings.Contains(letters[0].EventJSON, "R5") {
		t.Fatalf("listed %+v (%v)", letters, err)
	}
	broken.Store(false) // the fix is deployed
	if _, err := deadletter.Replay(ctx, ns.JS, letters[0].Sequence); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replayed and handled", func() bool { return times(t, pool, "R5") == 1 })
	if n := ns.Count(t, bus.StreamDeadLetter, dlq); n != 0 {
		t.Fatalf("%d dead letters left after the replay", n)
	}
	time.Sleep(300 * time.Millisecond)
	if others.Load() != 1 || times(t, pool, "R5") != 1 {
		t.Fatalf("bystander handled it %d times, R5 changed %d times", others.Load(), times(t, pool, "R5"))
	}
}

// In batch mode many events commit together; one failing event is found
// by retrying the batch one at a time and goes alone to the DLQ.
func TestABatchIsolatesItsCulprit(t *testing.T) {
	pool, ns := setup(t)
	for i := range 100 {
		ref := fmt.Sprintf("R%03d", i)
		publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-" + ref}, Reference: ref}, "")
	}
	run(t, &consumer.Consumer{Name: "batched", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, Batch: 32, MaxDeliver: 1,
		Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			if d.Event.(*eventsv1.RequestRejected).Reference == "R042" {
				return errors.New("R042 breaks the handler")
			}
			return countRejections(ctx, tx, d)
		}})
	eventually(t, "99 handled", func() bool {
		var n int
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM svc.rejection WHERE times = 1`).Scan(&n)
		return n == 99
	})
	eventually(t, "R042 dead-lettered", func() bool { return ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("batched")) == 1 })
	if times(t, pool, "R042") != 0 {
		t.Fatal("the culprit left state behind")
	}
}

// A handler that takes longer than AckWait keeps its message: it is not
// redelivered meanwhile.
func TestALongHandlerKeepsItsMessage(t *testing.T) {
	pool, ns := setup(t)
	var calls atomic.Int32
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-1"}, Reference: "R1"}, "")
	run(t, &consumer.Consumer{Name: "slow", Subjects: []string{bus.SubjectRequestRejected},
		Schema: "svc", Pool: pool, JS: ns.JS, AckWait: time.Second,
		Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			calls.Add(1)
			time.Sleep(3500 * time.Millisecond)
			return countRejections(ctx, tx, d)
		}})
	eventually(t, "handled", func() bool { return times(t, pool, "R1") == 1 })
	if calls.Load() != 1 {
		t.Fatalf("handler called %d times", calls.Load())
	}
}

// A durable consumer lost (a bus that lost its state, an operator's slip)
// is created again from the oldest events it still recognises: an event
// it handled, whose processed record was pruned since, is not handled
// again.
func TestARecreatedConsumerDoesNotHandleOldEventsAgain(t *testing.T) {
	ctx := context.Background()
	pool, ns := setup(t)
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "old"}, Reference: "OLD"}, "old")
	run(t, &consumer.Consumer{Name: "lost", Subjects: []string{bus.SubjectRequestRejected}, Schema: "svc",
		Pool: pool, JS: ns.JS, Retention: time.Second, Handle: countRejections})
	eventually(t, "handled", func() bool { return times(t, pool, "OLD") == 1 })
	time.Sleep(1500 * time.Millisecond) // older than the retention now
	if _, err := pool.Exec(ctx, `DELETE FROM svc.processed_event`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO svc.processed_event (consumer, event_id, subject) VALUES ('lost', 'younger', 's')`); err != nil {
		t.Fatal(err)
	}
	if err := ns.JS.DeleteConsumer(ctx, bus.StreamEvents, "lost"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // the consumer notices and creates itself again
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "new"}, Reference: "NEW"}, "new")
	eventually(t, "the new event handled", func() bool { return times(t, pool, "NEW") == 1 })
	if n := times(t, pool, "OLD"); n != 1 {
		t.Fatalf("the old event handled %d times", n)
	}
}

// A database that answers but refuses writes (a standby during a
// failover) is infrastructure: the event waits, it is not dead-lettered.
func TestAReadOnlyDatabaseIsWaitedOut(t *testing.T) {
	ctx := context.Background()
	pool, ns := setup(t)
	var db string
	_ = pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db)
	if _, err := pool.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	pool.Reset()
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-ro"}, Reference: "RO"}, "ev-ro")
	run(t, &consumer.Consumer{Name: "ro", Subjects: []string{bus.SubjectRequestRejected}, Schema: "svc", Pool: pool, JS: ns.JS,
		MaxDeliver: 2, Retry: retry.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Handle: countRejections})
	time.Sleep(2 * time.Second)
	if n := ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("ro")); n != 0 {
		t.Fatalf("%d dead letters while the database was read-only", n)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE`)
	if err == nil {
		_, err = conn.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` RESET default_transaction_read_only`)
	}
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	pool.Reset()
	eventually(t, "handled once writable", func() bool { return times(t, pool, "RO") == 1 })
}

// A handler's own timeout is the handler's failure: the event is
// dead-lettered after MaxDeliver tries and the events behind it go on.
func TestAHandlersOwnTimeoutCountsAgainstTheEvent(t *testing.T) {
	pool, ns := setup(t)
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-slow"}, Reference: "SLOW"}, "ev-slow")
	publish(t, ns.JS, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{EventId: "ev-next"}, Reference: "NEXT"}, "ev-next")
	run(t, &consumer.Consumer{Name: "timeout", Subjects: []string{bus.SubjectRequestRejected}, Schema: "svc", Pool: pool, JS: ns.JS,
		MaxDeliver: 2, Retry: retry.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond},
		Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			if d.Event.(*eventsv1.RequestRejected).Reference == "SLOW" {
				hctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				defer cancel()
				<-hctx.Done()
				return fmt.Errorf("computing the release: %w", hctx.Err())
			}
			return countRejections(ctx, tx, d)
		}})
	eventually(t, "the next event handled", func() bool { return times(t, pool, "NEXT") == 1 })
	eventually(t, "the slow one dead-lettered", func() bool { return ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("timeout")) == 1 })
}
