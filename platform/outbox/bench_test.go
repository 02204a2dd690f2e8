package outbox

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// benchEvent is 163 bytes once marshalled, like the events of the
// measurements in issue 10.
func benchEvent(ref string) *eventsv1.ExtractionProgress {
	return &eventsv1.ExtractionProgress{Meta: &eventsv1.Meta{RequestId: ref, CausationId: "cause-0123456789"},
		Reference: ref, RunId: ref + "#0", RowsRead: 123456, RowsEstimated: 999999}
}

// emitAll emits n one-event transactions over conns connections.
func emitAll(b testing.TB, pool *pgxpool.Pool, em *Emitter, n, conns int, aggregate func(i int) string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			ctx := context.Background()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
					_, err := em.Emit(ctx, tx, benchEvent(aggregate(int(i))))
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkEmit: one-event transactions over 8 connections, as services
// emit, events/s. "wake" is the relay woken in-process after commit (what
// a service does); "notify" the NOTIFY a process without a relay sends,
// which PostgreSQL serialises at commit. "/aggregate" numbers each
// request's events (Meta.sequence), one more statement per event.
//
//	go test ./platform/outbox -run '^$' -bench Emit -benchtime 20000x
func BenchmarkEmit(b *testing.B) {
	for _, c := range []struct {
		name string
		wake bool
		agg  bool
	}{{"wake", true, false}, {"wake/aggregate", true, true}, {"notify", false, false}} {
		b.Run(c.name, func(b *testing.B) {
			pool := pgtest.NewDB(b, Migrations("svc"))
			em := &Emitter{Schema: "svc", Producer: "bench"}
			if c.wake {
				r := &Relay{}
				em.Wake = r.Wake
			}
			agg := func(int) string { return "" }
			if c.agg {
				agg = func(i int) string { return "R-" + string(rune('A'+i%26)) + strings.Repeat("x", 3) + itoa(i%1000) }
			}
			b.ResetTimer()
			start := time.Now()
			emitAll(b, pool, em, b.N, 8, agg)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(buf[n:])
		}
	}
}

// BenchmarkRelayDrain: the relay publishes a full outbox (b.N events) to
// JetStream, events/s.
//
//	go test ./platform/outbox -run '^$' -bench RelayDrain -benchtime 20000x
func BenchmarkRelayDrain(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewDB(b, Migrations("svc"))
	ns := bustest.Start(b)
	emitAll(b, pool, &Emitter{Schema: "svc", Producer: "bench", Wake: func() {}}, b.N, 8, func(int) string { return "" })
	r := &Relay{Pool: pool, JS: ns.JS, Schema: "svc"}
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		n, err := r.Flush(ctx)
		if err != nil {
			b.Fatal(err)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
