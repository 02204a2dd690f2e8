// Package consumer runs idempotent JetStream consumers: each event is
// handled inside a PostgreSQL transaction that also records its id in the
// service's processed_event table, and is acknowledged only after that
// transaction commits. A redelivered event finds its id and changes nothing
// twice.
//
// Failures are told apart. A lost database or bus (retry.Transient, or a
// database that does not answer a ping) is waited out, the message kept
// alive, and never counts against the message. A handler's own error on a
// healthy system is retried in place with backoff and, after MaxDeliver
// failures (at once for Permanent errors and undecodable messages), the
// message goes to the dead-letter stream, subject sinp.dlq.<consumer>, with
// the reason in its headers. It is terminated only once the dead letter is
// stored: nothing is lost. `sinp dlq replay` hands a dead letter back to its
// consumer alone, on sinp.replay.<consumer>.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
)

// Headers set on dead-lettered and replayed messages.
const (
	HeaderOriginalSubject = "Sinp-Original-Subject"
	HeaderError           = "Sinp-Error"
	HeaderEventID         = "Sinp-Event-Id"
	HeaderDeliveries      = "Sinp-Deliveries"
	HeaderConsumer        = "Sinp-Consumer"
	HeaderDeadLetteredAt  = "Sinp-Dead-Lettered-At"
)

// Delivery is one event handed to a handler.
type Delivery struct {
	// Subject the event was published on (for a replay, its original one).
	Subject      string
	EventID      string
	Event        bus.Event
	NumDelivered uint64
	// Replayed is true for a dead letter an operator replayed.
	Replayed bool
}

// Handler changes state for one event, inside tx. Writes whose answer it
// does not need, it may queue (pg.Queue): they go to the server with its
// next statement or the commit, and a batch of events then costs two round
// trips, not one per statement. A queued statement that fails is the
// handler's failure.
type Handler func(ctx context.Context, tx pgx.Tx, d Delivery) error

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks an error retrying cannot fix (the event is wrong, not the
// system): the event goes straight to the dead-letter stream.
func Permanent(err error) error { return permanent{err} }

var processed = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "sinp_consumer_events_total",
	Help: "Events seen by consumers, by consumer and outcome (processed, duplicate, retried, dead_lettered, waited: a lost database or bus waited out).",
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
	// MaxDeliver is how many times a handler may fail on a healthy system
	// before the message is dead-lettered (default 5).
	MaxDeliver int
	// AckWait is how long JetStream waits for an acknowledgement before it
	// redelivers (default 30s); a long handler keeps its message alive.
	AckWait time.Duration
	// Batch > 1 handles up to Batch waiting messages in one transaction.
	// Only for handlers all of whose effects are inside the transaction: a
	// failing batch is rolled back and retried one message at a time.
	Batch int
	// Retry is the wait between tries of a failing handler (default
	// 200ms, doubling up to 5s).
	Retry retry.Backoff
	// Retention is how long processed-event records are kept (the outbox
	// relay prunes them). A durable consumer lost and created again starts
	// that far back, not at the stream's start: older events it handled are
	// no longer recognised. Zero: from the start.
	Retention time.Duration
	Handle    Handler
}

// ReplaySubject is where `sinp dlq replay` sends a consumer's dead letters.
func ReplaySubject(consumer string) string { return bus.SubjectReplayPrefix + consumer }

// DeadLetterSubject is where a consumer's dead letters go.
func DeadLetterSubject(consumer string) string { return bus.SubjectDeadLetterPrefix + consumer }

func (c *Consumer) defaults() {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 5
	}
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 1
	}
	if c.Retry.Min <= 0 {
		c.Retry = retry.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	}
}

// Run consumes until ctx ends. It never gives up on a lost bus or
// database: it waits for them with backoff.
func (c *Consumer) Run(ctx context.Context) error {
	c.defaults()
	for _, outcome := range []string{"processed", "duplicate", "retried", "dead_lettered", "waited"} {
		processed.WithLabelValues(c.Name, outcome).Add(0)
	}
	b := retry.Backoff{Min: 200 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		cons, err := c.durable(ctx)
		if err == nil {
			b.Reset()
			err = c.consume(ctx, cons)
		}
		if ctx.Err() != nil {
			return nil
		}
		d := b.Next()
		if b.Attempts() == 1 || b.Attempts()%10 == 0 {
			c.Log.Warn("consumer: the bus is not reachable; retrying", "consumer", c.Name, "err", err, "in", d)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return nil
}

// durable creates the JetStream consumer, or updates it, keeping where it
// started. One that handled events before and was lost (a bus that lost
// its state, an operator's mistake) starts again Retention ago: starting
// at the stream's beginning would handle again events whose processed
// records were pruned.
func (c *Consumer) durable(ctx context.Context) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:        c.Name,
		Description:    "consumer " + c.Name,
		FilterSubjects: append(append([]string(nil), c.Subjects...), ReplaySubject(c.Name)),
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		// The consumer decides when to give up (above); JetStream never
		// drops a message on its own.
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1024,
	}
	existing, err := c.JS.Consumer(ctx, bus.StreamEvents, c.Name)
	switch {
	case err == nil:
		info := existing.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartTime, cfg.OptStartSeq = info.DeliverPolicy, info.OptStartTime, info.OptStartSeq
		return c.JS.UpdateConsumer(ctx, bus.StreamEvents, cfg)
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, err
	}
	var handled bool
	if err := c.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{c.Schema, "processed_event"}.Sanitize()+
		` WHERE consumer = $1)`, c.Name).Scan(&handled); err != nil {
		return nil, err
	}
	if handled && c.Retention > 0 {
		start := time.Now().Add(-c.Retention)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
		c.Log.Error("consumer: the durable consumer was lost and is created again, from the oldest events it still recognises; "+
			"events before that it had not handled are not handled", "consumer", c.Name, "from", start)
	}
	return c.JS.CreateConsumer(ctx, bus.StreamEvents, cfg)
}

// consume handles messages until ctx ends or the durable consumer is gone
// (a bus that lost its state): then it returns, and Run creates it again.
func (c *Consumer) consume(ctx context.Context, cons jetstream.Consumer) error {
	// Its own context: when this consumption ends, a callback blocked on a
	// full buffer ends with it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan jetstream.Msg, 256)
	lost := make(chan error, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(256), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConnectionClosed) {
			select {
			case lost <- err:
			default:
			}
		}
	}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	check := time.NewTicker(5 * time.Second)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return err
		case <-check.C:
			ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := cons.Info(ictx)
			cancel()
			if errors.Is(err, jetstream.ErrConsumerNotFound) {
				return err
			}
		case m := <-msgs:
			batch := []jetstream.Msg{m}
		more:
			for len(batch) < c.Batch {
				select {
				case m := <-msgs:
					batch = append(batch, m)
				default:
					break more
				}
			}
			c.handle(ctx, batch)
		}
	}
}

// delivery is a message being handled.
type delivery struct {
	msg       jetstream.Msg
	d         Delivery
	duplicate bool
}

// handle settles a batch of messages: each is acknowledged after its
// commit, or dead-lettered, or left for redelivery when ctx ends.
func (c *Consumer) handle(ctx context.Context, msgs []jetstream.Msg) {
	alive := keepAlive(msgs, c.AckWait/3)
	defer alive.stop()
	var good []*delivery
	for _, m := range msgs {
		d, err := decode(m)
		if err != nil {
			c.deadLetter(ctx, m, 0, Permanent(err))
			continue
		}
		good = append(good, d)
	}
	if len(good) > 1 {
		b := c.Retry
		for {
			err := c.commit(ctx, good)
			if err == nil {
				c.acknowledge(good)
				return
			}
			if ctx.Err() != nil {
				nakAll(good)
				return
			}
			if !c.infrastructure(ctx, err) {
				break // find the culprit, one at a time
			}
			c.wait(ctx, &b, good[0], err)
		}
	}
	for _, d := range good {
		c.handleOne(ctx, d)
	}
}

func (c *Consumer) handleOne(ctx context.Context, d *delivery) {
	b := c.Retry
	failures := 0
	for {
		err := c.commit(ctx, []*delivery{d})
		if err == nil {
			c.acknowledge([]*delivery{d})
			return
		}
		if ctx.Err() != nil {
			_ = d.msg.Nak()
			return
		}
		if c.infrastructure(ctx, err) {
			c.wait(ctx, &b, d, err)
			continue
		}
		failures++
		if errors.As(err, new(permanent)) || failures >= c.MaxDeliver {
			c.deadLetter(ctx, d.msg, failures, err)
			return
		}
		processed.WithLabelValues(c.Name, "retried").Inc()
		delay := b.Next()
		c.Log.Warn("consumer: handler failed; will retry", "consumer", c.Name, "event", d.d.EventID,
			"failures", failures, "max", c.MaxDeliver, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			_ = d.msg.Nak()
			return
		case <-time.After(delay):
		}
	}
}

// handlerError is an error of the handler, as opposed to the consumer's
// own bookkeeping or the transaction.
type handlerError struct{ err error }

func (h handlerError) Error() string { return h.err.Error() }
func (h handlerError) Unwrap() error { return h.err }

// infrastructure says whether err is the system's fault, not the event's:
// the bookkeeping or the transaction failing, a database or bus that is
// unreachable or unwritable. A handler's own timeout is the handler's,
// unless the database does not answer; so is the failure of a statement
// it queued, reported by the commit.
func (c *Consumer) infrastructure(ctx context.Context, err error) bool {
	var he handlerError
	var queued *pg.QueuedError
	if errors.As(err, &queued) {
		// Only the handler queues statements (pg.Queue): they went with
		// the commit, and their failure is the handler's.
		he = handlerError{queued}
	} else if !errors.As(err, &he) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
			return false // a constraint the handler's writes broke, found at commit
		}
		return true
	}
	var pgErr *pgconn.PgError
	ownTimeout := errors.Is(he.err, context.DeadlineExceeded) || errors.As(he.err, &pgErr) && pgErr.Code == "57014"
	if !ownTimeout && retry.Transient(he.err) {
		return true
	}
	return !c.writable(ctx)
}

// writable says whether the database answers and takes writes (not a
// standby, not read-only).
func (c *Consumer) writable(ctx context.Context) bool {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var ok bool
	err := c.Pool.QueryRow(pctx, `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'
		AND current_setting('default_transaction_read_only') = 'off'`).Scan(&ok)
	return err == nil && ok
}

// wait sleeps through an outage, saying so now and then.
func (c *Consumer) wait(ctx context.Context, b *retry.Backoff, d *delivery, err error) {
	processed.WithLabelValues(c.Name, "waited").Inc()
	delay := b.Next()
	if b.Attempts() == 1 || b.Attempts()%10 == 0 {
		c.Log.Warn("consumer: the infrastructure (database, bus or storage) is unavailable; waiting (this does not count against the event)",
			"consumer", c.Name, "event", d.d.EventID, "in", delay, "err", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(delay):
	}
}

// commit records the deliveries as processed and runs the handler for each
// new one, in one transaction.
func (c *Consumer) commit(ctx context.Context, ds []*delivery) error {
	return pg.InTx(ctx, c.Pool, func(tx pgx.Tx) error {
		ids := make([]string, len(ds))
		subjects := make([]string, len(ds))
		for i, d := range ds {
			ids[i], subjects[i] = d.d.EventID, d.d.Subject
			d.duplicate = true
		}
		rows, err := tx.Query(ctx, `INSERT INTO `+pgx.Identifier{c.Schema, "processed_event"}.Sanitize()+
			` (consumer, event_id, subject) SELECT $1, id, subject FROM unnest($2::text[], $3::text[]) AS u(id, subject)
			ON CONFLICT DO NOTHING RETURNING event_id`, c.Name, ids, subjects)
		if err != nil {
			return err
		}
		fresh := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			fresh[id] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range ds {
			if !fresh[d.d.EventID] {
				continue
			}
			delete(fresh, d.d.EventID) // the same event twice in a batch: once
			d.duplicate = false
			if err := c.Handle(ctx, tx, d.d); err != nil {
				return handlerError{fmt.Errorf("event %s: %w", d.d.EventID, err)}
			}
		}
		return nil
	})
}

func (c *Consumer) acknowledge(ds []*delivery) {
	for _, d := range ds {
		// The commit stands; a lost ack brings a redelivery the
		// processed-event record turns into a duplicate.
		if err := d.msg.Ack(); err != nil {
			c.Log.Debug("consumer: ack", "consumer", c.Name, "event", d.d.EventID, "err", err)
		}
		if d.duplicate {
			processed.WithLabelValues(c.Name, "duplicate").Inc()
		} else {
			processed.WithLabelValues(c.Name, "processed").Inc()
		}
	}
}

func nakAll(ds []*delivery) {
	for _, d := range ds {
		_ = d.msg.Nak()
	}
}

// decode reads a message's event. The idempotency key is the event's own
// id (a replay travels under another message id), else the message id.
func decode(m jetstream.Msg) (*delivery, error) {
	md, err := m.Metadata()
	if err != nil {
		return nil, fmt.Errorf("no JetStream metadata: %w", err)
	}
	subject, replayed := m.Subject(), false
	if orig := m.Headers().Get(HeaderOriginalSubject); orig != "" && len(subject) > len(bus.SubjectReplayPrefix) && subject[:len(bus.SubjectReplayPrefix)] == bus.SubjectReplayPrefix {
		subject, replayed = orig, true
	}
	ev, err := bus.Decode(subject, m.Data())
	if err != nil {
		return nil, err
	}
	id := ev.GetMeta().GetEventId()
	if id == "" {
		id = m.Headers().Get(jetstream.MsgIDHeader)
	}
	if id == "" {
		return nil, errors.New("event without id (no meta.event_id, no Nats-Msg-Id)")
	}
	return &delivery{msg: m, d: Delivery{Subject: subject, EventID: id, Event: ev, NumDelivered: md.NumDelivered, Replayed: replayed}}, nil
}

// deadLetter stores the message in the dead-letter stream, then
// terminates it. Until the dead letter is stored, the message stays the
// consumer's (kept alive; redelivered if this process stops).
func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, failures int, cause error) {
	dl := nats.NewMsg(DeadLetterSubject(c.Name))
	dl.Data = msg.Data()
	for k, v := range msg.Headers() {
		dl.Header[k] = v
	}
	subject := msg.Subject()
	if orig := msg.Headers().Get(HeaderOriginalSubject); orig != "" {
		subject = orig
	}
	id := msg.Headers().Get(HeaderEventID)
	if ev, err := bus.Decode(subject, msg.Data()); err == nil && ev.GetMeta().GetEventId() != "" {
		id = ev.GetMeta().GetEventId()
	}
	if id == "" {
		id = msg.Headers().Get(jetstream.MsgIDHeader)
	}
	reason := cause.Error()
	if len(reason) > 2000 {
		reason = reason[:2000] + "…"
	}
	dl.Header.Set(HeaderOriginalSubject, subject)
	dl.Header.Set(HeaderError, reason)
	dl.Header.Set(HeaderEventID, id)
	dl.Header.Set(HeaderDeliveries, strconv.Itoa(failures))
	dl.Header.Set(HeaderConsumer, c.Name)
	dl.Header.Set(HeaderDeadLetteredAt, time.Now().UTC().Format(time.RFC3339Nano))
	// One dead letter per message, however often it is tried: the stream
	// drops a repeat within its dedup window.
	dedup := id
	if dedup == "" {
		if md, err := msg.Metadata(); err == nil {
			dedup = "stream-" + strconv.FormatUint(md.Sequence.Stream, 10)
		}
	}
	dl.Header.Set(jetstream.MsgIDHeader, c.Name+":"+dedup+":"+msg.Headers().Get(jetstream.MsgIDHeader))
	b := retry.Backoff{Min: 500 * time.Millisecond, Max: 10 * time.Second}
	for {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.JS.PublishMsg(pctx, dl)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			_ = msg.Nak()
			return
		}
		delay := b.Next()
		if b.Attempts() == 1 || b.Attempts()%10 == 0 {
			c.Log.Error("consumer: cannot store a dead letter; the message is kept and will be tried again",
				"consumer", c.Name, "event", id, "err", err, "in", delay)
		}
		select {
		case <-ctx.Done():
			_ = msg.Nak()
			return
		case <-time.After(delay):
		}
	}
	c.Log.Error("consumer: event dead-lettered", "consumer", c.Name, "subject", subject,
		"event", id, "failures", failures, "err", cause, "see", "sinp dlq list")
	if err := msg.TermWithReason(reason); err != nil {
		c.Log.Debug("consumer: term", "consumer", c.Name, "event", id, "err", err)
	}
	processed.WithLabelValues(c.Name, "dead_lettered").Inc()
}

// keepAlive tells JetStream every interval that messages are still being
// worked on, so that a long handler or an outage does not bring a
// redelivery.
type aliveKeeper struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func keepAlive(msgs []jetstream.Msg, every time.Duration) *aliveKeeper {
	k := &aliveKeeper{}
	k.mu.Lock()
	defer k.mu.Unlock()
	var tick func()
	tick = func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.stopped {
			return
		}
		for _, m := range msgs {
			_ = m.InProgress()
		}
		k.timer = time.AfterFunc(every, tick)
	}
	k.timer = time.AfterFunc(every, tick)
	return k
}

func (k *aliveKeeper) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.timer.Stop()
}
