// Package outbox is the transactional outbox: a service's state change and
// the event announcing it commit in one PostgreSQL transaction, and a relay
// publishes the events on JetStream with Nats-Msg-Id set to the event id, so
// that a relay killed between publishing and marking republishes events
// JetStream then drops as duplicates. Several relays may run at once: each
// batch is claimed with FOR UPDATE SKIP LOCKED.
package outbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations creates the outbox and processed-event tables in schema.
func Migrations(schema string) pg.Migrations {
	return pg.Migrations{Component: "outbox", Schema: schema, FS: migrations, Dir: "migrations"}
}

// HeaderEventType names the protobuf type of the payload.
const HeaderEventType = "Sinp-Event-Type"

// Emitter adds events to a service's outbox inside the caller's transaction.
type Emitter struct {
	Schema   string
	Producer string
	Clock    clock.Clock
}

// Emit stamps the event's Meta (a new event id unless one is set, the time,
// the producer) and stores it in the outbox within tx. Request and causation
// ids are the caller's to set. It returns the event id.
func (e *Emitter) Emit(ctx context.Context, tx pgx.Tx, ev bus.Event) (string, error) {
	subject, err := bus.SubjectFor(ev)
	if err != nil {
		return "", err
	}
	meta := proto.Clone(ev.GetMeta()).(*eventsv1.Meta)
	if meta == nil {
		meta = &eventsv1.Meta{}
	}
	if meta.EventId == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", err
		}
		meta.EventId = id.String()
	}
	if meta.OccurredAt == nil {
		now := time.Now()
		if e.Clock != nil {
			now = e.Clock.Now()
		}
		meta.OccurredAt = timestamppb.New(now)
	}
	meta.Producer = e.Producer
	bus.SetMeta(ev, meta)
	payload, err := proto.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("outbox.Emit: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{e.Schema, "outbox"}.Sanitize()+
		` (event_id, subject, payload) VALUES ($1, $2, $3)`, meta.EventId, subject, payload)
	if err != nil {
		return "", fmt.Errorf("outbox.Emit: %w", err)
	}
	return meta.EventId, nil
}

var published = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "sinp_outbox_published_total",
	Help: "Events the outbox relay published, by schema.",
}, []string{"schema"})

// InitMetrics makes a schema's series exist (at zero) before anything is
// published, so that dashboards and alerts see the relay from its start.
func InitMetrics(schema string) { published.WithLabelValues(schema).Add(0) }

// Relay publishes a schema's pending outbox rows.
type Relay struct {
	Pool   *pgxpool.Pool
	JS     jetstream.JetStream
	Schema string
	Log    *slog.Logger
	// Batch is the most rows claimed at once (default 256).
	Batch int
	// Poll is how often the relay looks without being notified (default 2s).
	Poll time.Duration

	// afterPublish, when set, runs after a batch is acknowledged by
	// JetStream and before it is marked published (tests crash here).
	afterPublish func()
}

// Run publishes until ctx ends. It wakes on the outbox trigger's
// notification and polls as a safety net.
func (r *Relay) Run(ctx context.Context) error {
	if r.Log == nil {
		r.Log = slog.Default()
	}
	InitMetrics(r.Schema)
	poll := r.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	listener, err := r.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("outbox.Relay: %w", err)
	}
	defer listener.Release()
	channel := pgx.Identifier{r.Schema + "_outbox"}.Sanitize()
	if _, err := listener.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("outbox.Relay: listen: %w", err)
	}
	defer func() { _, _ = listener.Exec(context.WithoutCancel(ctx), "UNLISTEN "+channel) }()
	backoff := time.Duration(0)
	for {
		n, err := r.Flush(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			r.Log.Warn("outbox relay: publish failed; retrying", "schema", r.Schema, "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		case n > 0:
			backoff = 0
			continue // there may be more
		}
		wctx, cancel := context.WithTimeout(ctx, poll)
		_, err = listener.Conn().WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("outbox.Relay: wait: %w", err)
		}
	}
}

// Flush publishes one batch of pending events and returns how many it
// published.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = 256
	}
	var n int
	err := pg.InTx(ctx, r.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, event_id::text, subject, payload FROM `+
			pgx.Identifier{r.Schema, "outbox"}.Sanitize()+
			` WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
		if err != nil {
			return err
		}
		type row struct {
			seq     int64
			id      string
			subject string
			payload []byte
		}
		var claimed []row
		for rows.Next() {
			var rw row
			if err := rows.Scan(&rw.seq, &rw.id, &rw.subject, &rw.payload); err != nil {
				return err
			}
			claimed = append(claimed, rw)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(claimed) == 0 {
			return nil
		}
		futures := make([]jetstream.PubAckFuture, 0, len(claimed))
		for _, rw := range claimed {
			msg := nats.NewMsg(rw.subject)
			msg.Data = rw.payload
			msg.Header.Set(jetstream.MsgIDHeader, rw.id)
			if mt, err := bus.Decode(rw.subject, rw.payload); err == nil {
				msg.Header.Set(HeaderEventType, string(mt.ProtoReflect().Descriptor().FullName()))
			}
			f, err := r.JS.PublishMsgAsync(msg)
			if err != nil {
				return fmt.Errorf("publish %s: %w", rw.id, err)
			}
			futures = append(futures, f)
		}
		seqs := make([]int64, 0, len(claimed))
		for i, f := range futures {
			select {
			case <-f.Ok():
				seqs = append(seqs, claimed[i].seq)
			case err := <-f.Err():
				return fmt.Errorf("publish %s: %w", claimed[i].id, err)
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(30 * time.Second):
				return fmt.Errorf("publish %s: no acknowledgement after 30s", claimed[i].id)
			}
		}
		if r.afterPublish != nil {
			r.afterPublish()
		}
		if _, err := tx.Exec(ctx, `UPDATE `+pgx.Identifier{r.Schema, "outbox"}.Sanitize()+
			` SET published_at = now() WHERE seq = ANY($1)`, seqs); err != nil {
			return err
		}
		n = len(seqs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("outbox.Relay(%s): %w", r.Schema, err)
	}
	published.WithLabelValues(r.Schema).Add(float64(n))
	return n, nil
}

// Prune deletes events published more than keep ago; returns how many.
func Prune(ctx context.Context, db *pgxpool.Pool, schema string, keep time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM `+pgx.Identifier{schema, "outbox"}.Sanitize()+
		` WHERE published_at < now() - make_interval(secs => $1)`, keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("outbox.Prune: %w", err)
	}
	return tag.RowsAffected(), nil
}
