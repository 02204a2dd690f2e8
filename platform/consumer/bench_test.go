package consumer_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// pipeline is the whole path of an event: a service's transaction and
// outbox, the relay (woken in-process), JetStream, a batching consumer
// and its handler's transaction (one row per event).
type pipeline struct {
	pool    *pgxpool.Pool
	em      *outbox.Emitter
	handled atomic.Int64
	mu      sync.Mutex
	latency []time.Duration
}

func newPipeline(b *testing.B, batch int) *pipeline {
	pool, ns := setup(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	relay := &outbox.Relay{Pool: pool, JS: ns.JS, Schema: "svc"}
	go relay.Run(ctx)
	p := &pipeline{pool: pool, em: &outbox.Emitter{Schema: "svc", Producer: "bench", Wake: relay.Wake}}
	c := &consumer.Consumer{Name: "bench", Subjects: []string{bus.SubjectRequestRejected}, Schema: "svc",
		Pool: pool, JS: ns.JS, Batch: batch, Handle: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			// Its write needs no answer: queued, it goes with the commit.
			if err := queueRejection(ctx, tx, d); err != nil {
				return err
			}
			sent := d.Event.GetMeta().GetOccurredAt().AsTime()
			pg.AfterCommit(tx, func() {
				lat := time.Since(sent)
				p.mu.Lock()
				p.latency = append(p.latency, lat)
				p.mu.Unlock()
				p.handled.Add(1)
			})
			return nil
		}}
	go c.Run(ctx)
	return p
}

func (p *pipeline) emit(b *testing.B, i int) {
	ctx := context.Background()
	err := pg.InTx(ctx, p.pool, func(tx pgx.Tx) error {
		ref := "R-" + strconv.Itoa(i)
		_, err := p.em.Emit(ctx, tx, &eventsv1.RequestRejected{Meta: &eventsv1.Meta{RequestId: ref}, Reference: ref, Reason: "hors région"})
		return err
	})
	if err != nil {
		b.Error(err)
	}
}

func (p *pipeline) wait(b *testing.B, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for p.handled.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d events handled", p.handled.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *pipeline) report(b *testing.B) {
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.Sort(p.latency)
	q := func(f float64) float64 {
		return float64(p.latency[int(f*float64(len(p.latency)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkEndToEnd: b.N events emitted as fast as 8 connections can,
// until every one is handled: events/s sustained, and the latency from
// each event's commit... to its handler's commit.
//
//	go test ./platform/consumer -run '^$' -bench EndToEnd -benchtime 20000x
func BenchmarkEndToEnd(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			p := newPipeline(b, batch)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 8 {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						p.emit(b, int(i))
					}
				})
			}
			wg.Wait()
			p.wait(b, int64(b.N))
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			p.report(b)
		})
	}
}

// BenchmarkLatencyAt1000PerSecond: events emitted at a steady 1,000 per
// second (b.N of them); the latency from emit to handled, p50 and p99.
//
//	go test ./platform/consumer -run '^$' -bench LatencyAt1000 -benchtime 5000x
func BenchmarkLatencyAt1000PerSecond(b *testing.B) {
	p := newPipeline(b, 64)
	var wg sync.WaitGroup
	b.ResetTimer()
	// Four emitters, each 250/s, so that one slow commit does not stall the pace.
	for w := range 4 {
		wg.Go(func() {
			tick := time.NewTicker(4 * time.Millisecond)
			defer tick.Stop()
			for i := w; i < b.N; i += 4 {
				<-tick.C
				p.emit(b, i)
			}
		})
	}
	wg.Wait()
	p.wait(b, int64(b.N))
	p.report(b)
}
