package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
)

var (
	published = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sinp_outbox_published_total",
		Help: "Events the outbox relay published, by schema.",
	}, []string{"schema"})
	claims = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sinp_outbox_claims_total",
		Help: "Claim transactions of the outbox relay, by schema and whether they found rows (rows, empty).",
	}, []string{"schema", "result"})
	parkedGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "sinp_outbox_parked",
		Help: "Outbox rows set aside after failing to publish, by schema (see `sinp outbox parked`).",
	}, []string{"schema"})
)

// InitMetrics makes a schema's series exist (at zero) before anything is
// published, so that dashboards and alerts see the relay from its start.
func InitMetrics(schema string) {
	published.WithLabelValues(schema).Add(0)
	claims.WithLabelValues(schema, "rows").Add(0)
	claims.WithLabelValues(schema, "empty").Add(0)
	parkedGauge.WithLabelValues(schema).Add(0)
}

// TestHooks let crash tests kill a process at the worst moment: after
// JetStream acknowledged a batch, before it is marked published.
var TestHooks struct {
	AfterPublish func(schema string, subjects []string)
}

// Relay publishes a schema's pending outbox rows.
type Relay struct {
	Pool   *pgxpool.Pool
	JS     jetstream.JetStream
	Schema string
	Log    *slog.Logger
	// Batch is the most rows claimed at once (default 256).
	Batch int
	// Poll is how often the relay looks without being woken (default 2s).
	Poll time.Duration
	// Notified is signalled when another process NOTIFYs the schema's
	// channel (a pg.Listener subscription); nil: rely on Wake and Poll.
	Notified <-chan struct{}
	// ParkAfter is how many failed publications park a row (default 5).
	ParkAfter int
	// Retention is how long published rows and processed-event records
	// are kept (0: not pruned); PruneEvery how often they are pruned.
	Retention  time.Duration
	PruneEvery time.Duration

	wake chan struct{}
	once sync.Once
	// gen counts wake-ups, so that the relay can tell whether anything
	// committed since it last looked, and not claim for nothing.
	gen atomic.Uint64
	// afterPublish, when set, runs after a batch is acknowledged by
	// JetStream and before it is marked published (tests crash here).
	afterPublish func()
}

// Wake tells the relay events await; it never blocks and coalesces: many
// wake-ups while the relay is busy make one more claim, not many. It is
// what an Emitter of the same process calls after a commit.
func (r *Relay) Wake() {
	r.init()
	r.gen.Add(1)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) init() {
	r.once.Do(func() { r.wake = make(chan struct{}, 1) })
}

// Run publishes until ctx ends. It never returns an error: a lost
// database or bus is waited for with backoff.
func (r *Relay) Run(ctx context.Context) error {
	r.init()
	if r.Log == nil {
		r.Log = slog.Default()
	}
	InitMetrics(r.Schema)
	poll := r.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	batch := r.batch()
	b := retry.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	var lastPrune time.Time
	for {
		if r.Retention > 0 && r.PruneEvery > 0 && time.Since(lastPrune) >= r.PruneEvery {
			if err := r.Prune(ctx); err != nil && ctx.Err() == nil {
				r.Log.Warn("outbox: pruning failed; will try again", "schema", r.Schema, "err", err)
			}
			lastPrune = time.Now()
		}
		looked := r.gen.Load()
		n, err := r.Flush(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			d := b.Next()
			if b.Attempts() == 1 || b.Attempts()%10 == 0 {
				r.Log.Warn("outbox relay: cannot publish; retrying", "schema", r.Schema, "err", err, "in", d, "failures", b.Attempts())
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d):
			}
			continue
		}
		if b.Attempts() > 0 {
			r.Log.Info("outbox relay: publishing again", "schema", r.Schema, "after_failures", b.Attempts())
			b.Reset()
		}
		if n >= batch {
			continue // a full batch: more may wait
		}
		// A wake-up for a commit this claim already saw is dropped; one for a
		// commit after it is not (Wake counts before it signals).
		select {
		case <-r.wake:
		default:
		}
		if r.gen.Load() != looked {
			continue
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.wake:
		case <-r.Notified:
		case <-t.C:
		}
		t.Stop()
	}
}

func (r *Relay) batch() int {
	if r.Batch <= 0 {
		return 256
	}
	return r.Batch
}

// errBusDown: nothing is claimed while the bus is unreachable.
var errBusDown = errors.New("not connected to NATS")

type pending struct {
	seq     int64
	id      string
	subject string
	payload []byte
	// sequence is the event's Meta.sequence, written into the payload.
	sequence int64
	future   jetstream.PubAckFuture
	err      error
}

// Flush publishes one batch of pending events and returns how many it
// published. Rows the bus refuses for themselves (too large, rejected by
// the stream) count a failed attempt and are parked after ParkAfter; an
// unreachable bus fails the whole batch without counting.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	if nc := r.JS.Conn(); nc != nil && !nc.IsConnected() {
		return 0, fmt.Errorf("outbox.Relay(%s): %w", r.Schema, errBusDown)
	}
	table := pgx.Identifier{r.Schema, "outbox"}.Sanitize()
	var n int
	var infra error
	// synchronous_commit off: marking rows published need not wait for the
	// disk, since if the mark is lost in a crash the rows are published
	// again and JetStream drops them as duplicates (Nats-Msg-Id).
	// force_custom_plan: the claim and the mark are planned for the outbox
	// as it is. A generic plan cached while it was small (a sequential
	// scan) was kept as published rows piled up faster than autovacuum
	// analyses them, and every claim then read the whole table.
	err := pg.InTx(ctx, pg.WithSettings(r.Pool, "synchronous_commit", "off", "plan_cache_mode", "force_custom_plan"), func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, event_id::text, subject, payload, coalesce(sequence, 0) FROM `+table+
			` WHERE published_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, r.batch())
		if err != nil {
			return err
		}
		var claimed []*pending
		for rows.Next() {
			p := &pending{}
			if err := rows.Scan(&p.seq, &p.id, &p.subject, &p.payload, &p.sequence); err != nil {
				return err
			}
			claimed = append(claimed, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(claimed) == 0 {
			claims.WithLabelValues(r.Schema, "empty").Inc()
			return nil
		}
		claims.WithLabelValues(r.Schema, "rows").Inc()
		for _, p := range claimed {
			msg := nats.NewMsg(p.subject)
			msg.Data = p.payload
			msg.Header.Set(jetstream.MsgIDHeader, p.id)
			if ev, err := bus.Decode(p.subject, p.payload); err == nil {
				msg.Header.Set(HeaderEventType, string(ev.ProtoReflect().Descriptor().FullName()))
				if p.sequence != 0 && ev.GetMeta() != nil {
					ev.GetMeta().Sequence = p.sequence
					if b, err := proto.Marshal(ev); err == nil {
						msg.Data = b
					}
				}
			}
			p.future, p.err = r.JS.PublishMsgAsync(msg)
		}
		// One deadline for the whole batch: an acknowledgement that never
		// comes counts as the bus being unreachable.
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var ok []int64
		var refused []*pending
		for _, p := range claimed {
			if p.err == nil {
				select {
				case <-p.future.Ok():
				case p.err = <-p.future.Err():
				case <-dctx.Done():
					if ctx.Err() != nil {
						return ctx.Err()
					}
					p.err = fmt.Errorf("no acknowledgement from JetStream after 10s: %w", context.DeadlineExceeded)
				}
			}
			switch {
			case p.err == nil:
				ok = append(ok, p.seq)
			case retry.Transient(p.err):
				if infra == nil {
					infra = fmt.Errorf("publish %s: %w", p.id, p.err)
				}
			default:
				refused = append(refused, p)
			}
		}
		if r.afterPublish != nil {
			r.afterPublish()
		}
		if TestHooks.AfterPublish != nil {
			subjects := make([]string, len(claimed))
			for i, p := range claimed {
				subjects[i] = p.subject
			}
			TestHooks.AfterPublish(r.Schema, subjects)
		}
		if len(ok) > 0 {
			// Sent with the commit (or the first refused row's update).
			if err := pg.Queue(ctx, tx, `UPDATE `+table+` SET published_at = now() WHERE seq = ANY($1)`, ok); err != nil {
				return err
			}
		}
		for _, p := range refused {
			var parked bool
			if err := tx.QueryRow(ctx, `UPDATE `+table+` SET attempts = attempts + 1, last_error = $2,
					parked_at = CASE WHEN attempts + 1 >= $3 THEN now() END
				WHERE seq = $1 RETURNING parked_at IS NOT NULL`, p.seq, p.err.Error(), r.parkAfter()).Scan(&parked); err != nil {
				return err
			}
			if parked {
				r.Log.Error("outbox: event parked after failing to publish; the rows behind it go on", "schema", r.Schema,
					"seq", p.seq, "event", p.id, "subject", p.subject, "err", p.err, "see", "sinp outbox parked")
				parkedGauge.WithLabelValues(r.Schema).Inc()
			} else {
				r.Log.Warn("outbox: the bus refused an event; will try again", "schema", r.Schema, "event", p.id, "err", p.err)
			}
		}
		n = len(ok)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox.Relay(%s): %w", r.Schema, err)
	}
	published.WithLabelValues(r.Schema).Add(float64(n))
	if infra != nil {
		return n, fmt.Errorf("outbox.Relay(%s): %w", r.Schema, infra)
	}
	return n, nil
}

func (r *Relay) parkAfter() int {
	if r.ParkAfter <= 0 {
		return 5
	}
	return r.ParkAfter
}

// Prune deletes published rows and processed-event records older than
// Retention, in batches, once across replicas (the first to take the
// schema's advisory lock), and refreshes the parked gauge.
func (r *Relay) Prune(ctx context.Context) error {
	var parked int64
	if err := r.Pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{r.Schema, "outbox"}.Sanitize()+
		` WHERE parked_at IS NOT NULL`).Scan(&parked); err != nil {
		return err
	}
	parkedGauge.WithLabelValues(r.Schema).Set(float64(parked))
	outboxRows, processedRows, err := Prune(ctx, r.Pool, r.Schema, r.Retention)
	if err == nil && outboxRows+processedRows > 0 {
		r.Log.Info("outbox: pruned", "schema", r.Schema, "published", outboxRows, "processed", processedRows, "older_than", r.Retention)
	}
	return err
}

// Prune deletes a schema's events published more than keep ago and its
// processed-event records older than keep; it returns how many of each.
// Replicas pruning at once skip: one of them does it.
func Prune(ctx context.Context, db *pgxpool.Pool, schema string, keep time.Duration) (outboxRows, processedRows int64, err error) {
	const batch = 10000
	statements := []struct {
		sql string
		n   *int64
	}{
		{`DELETE FROM ` + pgx.Identifier{schema, "outbox"}.Sanitize() + ` WHERE seq IN (SELECT seq FROM ` +
			pgx.Identifier{schema, "outbox"}.Sanitize() + ` WHERE published_at < now() - make_interval(secs => $1) ORDER BY seq LIMIT $2)`, &outboxRows},
		{`DELETE FROM ` + pgx.Identifier{schema, "processed_event"}.Sanitize() + ` WHERE ctid IN (SELECT ctid FROM ` +
			pgx.Identifier{schema, "processed_event"}.Sanitize() + ` WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)`, &processedRows},
	}
	for _, st := range statements {
		for {
			var got bool
			var deleted int64
			err := pg.InTx(ctx, db, func(tx pgx.Tx) error {
				if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext($1))`, schema+"/prune").Scan(&got); err != nil || !got {
					return err
				}
				tag, err := tx.Exec(ctx, st.sql, keep.Seconds(), batch)
				deleted = tag.RowsAffected()
				return err
			})
			if err != nil {
				return outboxRows, processedRows, fmt.Errorf("outbox.Prune(%s): %w", schema, err)
			}
			*st.n += deleted
			if !got || deleted < batch {
				break
			}
		}
	}
	return outboxRows, processedRows, nil
}

// ParkedRow is an outbox row set aside after failing to publish.
type ParkedRow struct {
	Seq       int64
	EventID   string
	Subject   string
	Bytes     int64
	Attempts  int32
	LastError string
	CreatedAt time.Time
	ParkedAt  time.Time
}

// Parked lists a schema's parked rows, oldest first.
func Parked(ctx context.Context, db *pgxpool.Pool, schema string) ([]ParkedRow, error) {
	rows, err := db.Query(ctx, `SELECT seq, event_id::text, subject, length(payload), attempts, coalesce(last_error, ''), created_at, parked_at
		FROM `+pgx.Identifier{schema, "outbox"}.Sanitize()+` WHERE parked_at IS NOT NULL ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("outbox.Parked(%s): %w", schema, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ParkedRow, error) {
		var p ParkedRow
		err := row.Scan(&p.Seq, &p.EventID, &p.Subject, &p.Bytes, &p.Attempts, &p.LastError, &p.CreatedAt, &p.ParkedAt)
		return p, err
	})
}

// Unpark puts parked rows back in line (all of the schema's when seqs is
// empty) with their attempts reset; it returns how many.
func Unpark(ctx context.Context, db *pgxpool.Pool, schema string, seqs []int64) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE `+pgx.Identifier{schema, "outbox"}.Sanitize()+
		` SET parked_at = NULL, attempts = 0 WHERE parked_at IS NOT NULL AND (coalesce(cardinality($1::bigint[]), 0) = 0 OR seq = ANY($1))`, seqs)
	if err != nil {
		return 0, fmt.Errorf("outbox.Unpark(%s): %w", schema, err)
	}
	return tag.RowsAffected(), nil
}
