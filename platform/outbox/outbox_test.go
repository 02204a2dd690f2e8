package outbox

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

func emitter(c clock.Clock) *Emitter { return &Emitter{Schema: "svc", Producer: "test", Clock: c} }

func TestEmitCommitsWithTheStateChangeOrNotAtAll(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	em := emitter(clock.NewManual(start))

	// Rolled back: no event.
	_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := em.Emit(ctx, tx, &eventsv1.RequestRejected{Reference: "R1"}); err != nil {
			t.Fatal(err)
		}
		return os.ErrInvalid
	})
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d events survive a rollback", n)
	}
	var id string
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		id, err = em.Emit(ctx, tx, &eventsv1.RequestRejected{
			Meta:      &eventsv1.Meta{RequestId: "R1", CausationId: "cause"},
			Reference: "R1", Reason: "hors région",
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var subject string
	var payload []byte
	if err := pool.QueryRow(ctx, `SELECT subject, payload FROM svc.outbox WHERE event_id = $1`, id).Scan(&subject, &payload); err != nil {
		t.Fatal(err)
	}
	ev, err := bus.Decode(subject, payload)
	if err != nil {
		t.Fatal(err)
	}
	m := ev.GetMeta()
	if subject != bus.SubjectRequestRejected || m.EventId != id || m.RequestId != "R1" || m.CausationId != "cause" ||
		m.Producer != "test" || !m.OccurredAt.AsTime().Equal(start) {
		t.Fatalf("stored %s %+v", subject, m)
	}
}

func emitOne(t *testing.T, pool pg.Beginner) string {
	t.Helper()
	var id string
	err := pg.InTx(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		id, err = emitter(clock.Real{}).Emit(context.Background(), tx, &eventsv1.RequestCancelled{Reference: "R-crash"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The relay process is killed (SIGKILL) after JetStream acknowledged the
// event and before the outbox row is marked. The next relay publishes it
// again with the same Nats-Msg-Id: the stream, and so every consumer, has
// it exactly once.
func TestRelayKilledBetweenPublishAndMarkDeliversOnce(t *testing.T) {
	if os.Getenv("OUTBOX_CRASH_CHILD") != "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	dbURL := pgtest.NewDBURL(t, Migrations("svc"))
	pool, err := pg.Connect(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ns := bustest.Start(t)
	id := emitOne(t, pool)

	child := exec.Command(os.Args[0], "-test.run=^TestRelayCrashChild$", "-test.v")
	child.Env = append(os.Environ(), "OUTBOX_CRASH_CHILD=1", "OUTBOX_DB="+dbURL, "OUTBOX_NATS="+ns.URL)
	out, err := child.CombinedOutput()
	if st, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed as planned (%v):\n%s", err, out)
	}
	if got := ns.Count(t, bus.StreamEvents, bus.SubjectRequestCancelled); got != 1 {
		t.Fatalf("after the crash the stream holds %d events, want 1", got)
	}
	var pending int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL`).Scan(&pending)
	if pending != 1 {
		t.Fatalf("%d pending rows after the crash, want 1 (not marked)", pending)
	}

	r := &Relay{Pool: pool, JS: ns.JS, Schema: "svc"}
	n, err := r.Flush(ctx)
	if err != nil || n != 1 {
		t.Fatalf("second relay published %d (%v), want 1", n, err)
	}
	if got := ns.Count(t, bus.StreamEvents, bus.SubjectRequestCancelled); got != 1 {
		t.Fatalf("after republishing the stream holds %d events, want 1", got)
	}
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL`).Scan(&pending)
	if pending != 0 {
		t.Fatalf("%d rows still pending", pending)
	}
	st, err := ns.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, bus.SubjectRequestCancelled)
	if err != nil || msg.Header.Get("Nats-Msg-Id") != id {
		t.Fatalf("stored message id %q (%v), want %s", msg.Header.Get("Nats-Msg-Id"), err, id)
	}
}

// TestRelayCrashChild is the relay process the test above kills.
func TestRelayCrashChild(t *testing.T) {
	if os.Getenv("OUTBOX_CRASH_CHILD") == "" {
		t.Skip("run by TestRelayKilledBetweenPublishAndMarkDeliversOnce")
	}
	ctx := context.Background()
	pool, err := pg.Connect(ctx, os.Getenv("OUTBOX_DB"), 2)
	if err != nil {
		t.Fatal(err)
	}
	_, js, err := bus.Connect(ctx, os.Getenv("OUTBOX_NATS"), "crashing relay")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{Pool: pool, JS: js, Schema: "svc", afterPublish: func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}}
	_, _ = r.Flush(ctx)
	t.Fatal("the relay survived")
}

// Two relays running at once never publish an event twice into the stream
// and leave nothing pending.
func TestConcurrentRelaysShareTheOutbox(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.NewDB(t, Migrations("svc"))
	ns := bustest.Start(t)
	for range 3 {
		go (&Relay{Pool: pool, JS: ns.JS, Schema: "svc", Batch: 7, Poll: 50 * time.Millisecond}).Run(ctx)
	}
	const events = 300
	for i := 0; i < events; i += 10 {
		_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			for range 10 {
				if _, err := emitter(clock.Real{}).Emit(ctx, tx, &eventsv1.ExtractionProgress{Reference: "R"}); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pending int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox WHERE published_at IS NULL`).Scan(&pending)
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := ns.Count(t, bus.StreamEvents, bus.SubjectExtractionProgress); got != events {
		t.Fatalf("stream holds %d events, want %d", got, events)
	}
}
