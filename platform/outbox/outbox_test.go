package outbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"

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

	// The dead relay's backend holds the row locked until PostgreSQL sees
	// the connection gone (at once, or a moment later on a busy machine):
	// the next relay skips it meanwhile, then publishes it.
	r := &Relay{Pool: pool, JS: ns.JS, Schema: "svc"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, err := r.Flush(ctx)
		if err != nil || n > 1 {
			t.Fatalf("second relay published %d (%v), want 1", n, err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second relay never published the event the dead one had claimed")
		}
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

// An event larger than the bus takes is refused at Emit, in the caller's
// transaction, with a clear error; nothing is stored.
func TestOversizedEventIsRefusedAtEmit(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	em := &Emitter{Schema: "svc", Producer: "test", MaxBytes: 64 << 10}
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := em.Emit(ctx, tx, &eventsv1.RequestRejected{Reference: "R1", Reason: strings.Repeat("x", 100<<10)})
		return err
	})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), bus.SubjectRequestRejected) {
		t.Fatalf("Emit of a 100 KiB event with a 64 KiB limit: %v", err)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows stored", n)
	}
}

// Events of one aggregate are numbered 1, 2, 3 in Meta as published;
// another aggregate counts on its own.
func TestEventsCarryAPerAggregateSequence(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	ns := bustest.Start(t)
	em := emitter(clock.Real{})
	for _, ref := range []string{"R1", "R2", "R1", "R1"} {
		_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := em.Emit(ctx, tx, &eventsv1.RequestCancelled{Meta: &eventsv1.Meta{RequestId: ref}, Reference: ref})
			return err
		})
	}
	if n, err := (&Relay{Pool: pool, JS: ns.JS, Schema: "svc"}).Flush(ctx); n != 4 || err != nil {
		t.Fatalf("published %d (%v)", n, err)
	}
	st, _ := ns.JS.Stream(ctx, bus.StreamEvents)
	var got []string
	for seq := uint64(1); seq <= 4; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := bus.Decode(m.Subject, m.Data)
		got = append(got, fmt.Sprintf("%s/%d", ev.GetMeta().GetAggregate(), ev.GetMeta().GetSequence()))
	}
	if fmt.Sprint(got) != "[R1/1 R2/1 R1/2 R1/3]" {
		t.Fatalf("sequences %v", got)
	}
}

// A row the bus refuses is tried ParkAfter times, then parked with its
// error; the rows behind it are published meanwhile, and an operator can
// put it back in line.
func TestAParkedRowDoesNotBlockTheNextRows(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	ns := bustest.Start(t)
	// Stored by an older version that did not check the size.
	if _, err := pool.Exec(ctx, `INSERT INTO svc.outbox (event_id, subject, payload) VALUES (gen_random_uuid(), $1, $2)`,
		bus.SubjectRequestCancelled, make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		emitOne(t, pool)
	}
	r := &Relay{Pool: pool, JS: ns.JS, Schema: "svc", ParkAfter: 3}
	published := 0
	for range 5 {
		n, err := r.Flush(ctx)
		if err != nil {
			t.Fatalf("flush: %v", err)
		}
		published += n
	}
	if published != 3 {
		t.Fatalf("published %d events behind the refused one, want 3", published)
	}
	parked, err := Parked(ctx, pool, "svc")
	if err != nil || len(parked) != 1 || parked[0].Attempts != 3 || !strings.Contains(parked[0].LastError, "payload") {
		t.Fatalf("parked %+v (%v)", parked, err)
	}
	if got := ns.Count(t, bus.StreamEvents, bus.SubjectRequestCancelled); got != 3 {
		t.Fatalf("stream holds %d, want 3", got)
	}
	if n, err := Unpark(ctx, pool, "svc", nil); err != nil || n != 1 {
		t.Fatalf("unpark: %d %v", n, err)
	}
	if parked, _ := Parked(ctx, pool, "svc"); len(parked) != 0 {
		t.Fatalf("still parked: %+v", parked)
	}
}

// Published rows and processed-event records older than the retention are
// pruned; recent and pending ones stay.
func TestPruneKeepsWhatIsRecentOrPending(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	if _, err := pool.Exec(ctx, `
		INSERT INTO svc.outbox (event_id, subject, payload, published_at) VALUES
			(gen_random_uuid(), 's', '', now() - interval '8 days'),
			(gen_random_uuid(), 's', '', now() - interval '1 day'),
			(gen_random_uuid(), 's', '', NULL);
		INSERT INTO svc.processed_event (consumer, event_id, subject, processed_at) VALUES
			('c', 'old', 's', now() - interval '8 days'), ('c', 'new', 's', now())`); err != nil {
		t.Fatal(err)
	}
	o, p, err := Prune(ctx, pool, "svc", 7*24*time.Hour)
	if err != nil || o != 1 || p != 1 {
		t.Fatalf("pruned %d outbox, %d processed (%v), want 1 and 1", o, p, err)
	}
	var left int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM svc.outbox`).Scan(&left)
	if left != 2 {
		t.Fatalf("%d outbox rows left, want 2", left)
	}
}

// A bus whose stream is gone (a server that lost its store, a leader
// election) is infrastructure: nothing is parked, and a publication that
// is never acknowledged ends the batch at the relay's deadline instead of
// holding its transaction forever.
func TestAnUnavailableStreamParksNothingAndHangsNothing(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	ns := bustest.Start(t)
	for range 3 {
		emitOne(t, pool)
	}
	if err := ns.JS.DeleteStream(ctx, bus.StreamEvents); err != nil {
		t.Fatal(err)
	}
	// Someone listens on the subjects without JetStream: publications are
	// delivered, and no acknowledgement ever comes.
	sub, err := ns.NC.SubscribeSync("sinp.>")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{Pool: pool, JS: ns.JS, Schema: "svc", ParkAfter: 2}
	fctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	n, err := r.Flush(fctx)
	if err == nil || n != 0 || fctx.Err() != nil {
		t.Fatalf("flush without acknowledgements: %d published, %v (context %v)", n, err, fctx.Err())
	}
	_ = sub.Unsubscribe()
	for range 4 {
		if n, err := r.Flush(ctx); err == nil || n != 0 {
			t.Fatalf("flush without a stream: %d published, %v", n, err)
		}
	}
	if parked, _ := Parked(ctx, pool, "svc"); len(parked) != 0 {
		t.Fatalf("%d rows parked by an unavailable stream", len(parked))
	}
	if err := bus.EnsureStreams(ctx, ns.JS, bustest.Config()); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Flush(ctx); n != 3 || err != nil {
		t.Fatalf("with the stream back: %d published (%v)", n, err)
	}
}

// A burst of one-event commits, each waking the relay, is published by
// claims that find rows: wake-ups are coalesced, so the relay neither makes
// a claim per commit during the burst nor keeps claiming after it (before
// they were coalesced, 20,000 events left 19,900 empty claims behind).
func TestABurstIsDrainedWithoutEmptyClaims(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const schema, events = "burst", 3000
	pool := pgtest.NewDB(t, Migrations(schema))
	ns := bustest.Start(t)
	r := &Relay{Pool: pool, JS: ns.JS, Schema: schema}
	go r.Run(ctx)
	empty := func() int { return int(testutil.ToFloat64(claims.WithLabelValues(schema, "empty"))) }
	before := empty()
	emitAll(t, pool, &Emitter{Schema: schema, Producer: "test", Wake: r.Wake}, events, 8, func(int) string { return "" })
	deadline := time.Now().Add(20 * time.Second)
	for {
		var pending int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM burst.outbox WHERE published_at IS NULL`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	drained := empty() - before
	// Well within the relay's 2 s poll: a relay spinning on stale wake-ups
	// would claim hundreds of times here.
	time.Sleep(300 * time.Millisecond)
	after := empty() - before
	t.Logf("%d events: %d empty claims while draining, %d after", events, drained, after-drained)
	if drained > events/100 || after-drained > 1 {
		t.Fatalf("%d events left %d empty claims while draining and %d after", events, drained, after-drained)
	}
	if got := ns.Count(t, bus.StreamEvents, bus.SubjectExtractionProgress); got != events {
		t.Fatalf("stream holds %d events, want %d", got, events)
	}
}

// The relay's statements are planned for the outbox as it is, not as it
// was. A plan cached while the outbox was small (a sequential scan, cheaper
// then) was kept as published rows piled up, until an ANALYZE: every claim
// then read the whole table (in a 100,000-event run, 30–50 ms per claim,
// the rate falling by half).
func TestTheRelayReadsNoMoreRowsAsTheOutboxGrows(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewDB(t, Migrations("svc"))
	// No ANALYZE comes to the rescue (autovacuum would, a minute later).
	if _, err := pool.Exec(ctx, `ALTER TABLE svc.outbox SET (autovacuum_enabled = off)`); err != nil {
		t.Fatal(err)
	}
	cfg := pool.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(one.Close)
	ns := bustest.Start(t)
	r := &Relay{Pool: one, JS: ns.JS, Schema: "svc"}
	em := &Emitter{Schema: "svc", Producer: "test", Wake: func() {}}
	round := func(events int) {
		emitAll(t, pool, em, events, 8, func(int) string { return "" })
		if n, err := r.Flush(ctx); err != nil || n != events {
			t.Fatalf("flushed %d of %d, %v", n, events, err)
		}
	}
	// Small: the relay's statements run often enough to have their plans
	// cached on its connection.
	for range 8 {
		round(2)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO svc.outbox (event_id, subject, payload, published_at)
		SELECT gen_random_uuid(), 'x', '\x00', now() FROM generate_series(1, 100000)`); err != nil {
		t.Fatal(err)
	}
	seqRead := func() int64 {
		// The relay's backend reports its reads when it next goes idle.
		if _, err := one.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := pool.QueryRow(ctx, `SELECT seq_tup_read FROM pg_stat_user_tables WHERE relid = 'svc.outbox'::regclass`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := seqRead()
	for range 4 {
		round(r.batch())
	}
	if read := seqRead() - before; read >= 100000 {
		t.Fatalf("4 claims of %d rows in an outbox of 100,000 published rows read %d rows sequentially", r.batch(), read)
	}
}
