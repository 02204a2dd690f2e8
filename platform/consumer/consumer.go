// Package consumer runs idempotent JetStream consumers: each event is
// handled inside a PostgreSQL transaction that also records its id in the
// service's processed_event table, and is acknowledged only after that
// transaction commits. A redelivered event finds its id and changes nothing
// twice. An event that keeps failing (or cannot be decoded) goes to the
// dead-letter stream, subject sinp.dlq.<consumer>, with the reason in its
// headers: visible to operators, not lost.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/pg"
)

// Headers set on dead-lettered messages.
const (
	HeaderOriginalSubject = "Sinp-Original-Subject"
	HeaderError           = "Sinp-Error"
	HeaderEventID         = "Sinp-Event-Id"
	HeaderDeliveries      = "Sinp-Deliveries"
)

// Delivery is one event handed to a handler.
type Delivery struct {
	Subject      string
	EventID      string
	Event        bus.Event
	NumDelivered uint64
}

// Handler changes state for one event, inside tx.
type Handler func(ctx context.Context, tx pgx.Tx, d Delivery) error

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks an error retrying cannot fix: the event goes straight to
// the dead-letter stream.
func Permanent(err error) error { return permanent{err} }

var processed = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "sinp_consumer_events_total",
	Help: "Events seen by consumers, by consumer and outcome (processed, duplicate, retried, dead_lettered).",
}, []string{"consumer", "outcome"})

// Consumer is a durable JetStream consumer on the events stream.
type Consumer struct {
	// Name is the durable name and the key in processed_event.
	Name     string
	Subjects []string
	// Schema holds the processed_event table (see outbox.Migrations).
	Schema string
	Pool   *pgxpool.Pool
	JS     jetstream.JetStream
	Log    *slog.Logger
	// MaxDeliver and AckWait; zero values take 5 and 30s.
	MaxDeliver int
	AckWait    time.Duration
	Handle     Handler
}

// Run consumes until ctx ends.
func (c *Consumer) Run(ctx context.Context) error {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 5
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	for _, outcome := range []string{"processed", "duplicate", "retried", "dead_lettered"} {
		processed.WithLabelValues(c.Name, outcome).Add(0)
	}
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{
		Durable:        c.Name,
		Description:    "consumer " + c.Name,
		FilterSubjects: c.Subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     c.MaxDeliver,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		MaxAckPending:  256,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.Log.Warn("consumer: next message", "consumer", c.Name, "err", err)
			continue
		}
		c.process(ctx, msg)
	}
}

func (c *Consumer) process(ctx context.Context, msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		c.deadLetter(ctx, msg, 0, Permanent(fmt.Errorf("no JetStream metadata: %w", err)))
		return
	}
	ev, err := bus.Decode(msg.Subject(), msg.Data())
	if err != nil {
		c.deadLetter(ctx, msg, md.NumDelivered, Permanent(err))
		return
	}
	id := msg.Headers().Get(jetstream.MsgIDHeader)
	if id == "" {
		id = ev.GetMeta().GetEventId()
	}
	if id == "" {
		c.deadLetter(ctx, msg, md.NumDelivered, Permanent(errors.New("event without id (no Nats-Msg-Id, no meta.event_id)")))
		return
	}

	// Long handlers keep the message from being redelivered meanwhile.
	hctx, stop := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(c.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	duplicate := false
	err = pg.InTx(hctx, c.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(hctx, `INSERT INTO `+pgx.Identifier{c.Schema, "processed_event"}.Sanitize()+
			` (consumer, event_id, subject) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, c.Name, id, msg.Subject())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			duplicate = true
			return nil
		}
		return c.Handle(hctx, tx, Delivery{Subject: msg.Subject(), EventID: id, Event: ev, NumDelivered: md.NumDelivered})
	})
	stop()
	switch {
	case err == nil:
		if err := msg.DoubleAck(ctx); err != nil {
			// The commit stands; a redelivery will find the event processed.
			c.Log.Warn("consumer: ack", "consumer", c.Name, "event", id, "err", err)
		}
		outcome := "processed"
		if duplicate {
			outcome = "duplicate"
		}
		processed.WithLabelValues(c.Name, outcome).Inc()
	case ctx.Err() != nil:
		_ = msg.Nak()
	case errors.As(err, new(permanent)) || md.NumDelivered >= uint64(c.MaxDeliver):
		c.deadLetter(ctx, msg, md.NumDelivered, err)
	default:
		delay := time.Duration(md.NumDelivered) * time.Second
		c.Log.Warn("consumer: handler failed; will retry", "consumer", c.Name, "event", id,
			"delivery", md.NumDelivered, "max", c.MaxDeliver, "err", err)
		_ = msg.NakWithDelay(delay)
		processed.WithLabelValues(c.Name, "retried").Inc()
	}
}

func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, deliveries uint64, cause error) {
	dl := nats.NewMsg(bus.SubjectDeadLetterPrefix + c.Name)
	dl.Data = msg.Data()
	for k, v := range msg.Headers() {
		dl.Header[k] = v
	}
	id := msg.Headers().Get(jetstream.MsgIDHeader)
	dl.Header.Set(HeaderOriginalSubject, msg.Subject())
	dl.Header.Set(HeaderError, cause.Error())
	dl.Header.Set(HeaderEventID, id)
	dl.Header.Set(HeaderDeliveries, fmt.Sprint(deliveries))
	if id != "" {
		dl.Header.Set(jetstream.MsgIDHeader, c.Name+":"+id)
	} else {
		dl.Header.Del(jetstream.MsgIDHeader)
	}
	if _, err := c.JS.PublishMsg(ctx, dl); err != nil {
		// Not terminated: JetStream redelivers it and we try again.
		c.Log.Error("consumer: dead-letter publish failed", "consumer", c.Name, "event", id, "err", err)
		_ = msg.NakWithDelay(5 * time.Second)
		return
	}
	c.Log.Error("consumer: event dead-lettered", "consumer", c.Name, "subject", msg.Subject(),
		"event", id, "deliveries", deliveries, "err", cause)
	_ = msg.TermWithReason(cause.Error())
	processed.WithLabelValues(c.Name, "dead_lettered").Inc()
}
