// Package outbox is the transactional outbox: a service's state change and
// the event announcing it commit in one PostgreSQL transaction, and a relay
// publishes the events on JetStream with Nats-Msg-Id set to the event id, so
// that a relay killed between publishing and marking republishes events
// JetStream then drops as duplicates. Several relays may run at once: each
// batch is claimed with FOR UPDATE SKIP LOCKED.
//
// Ordering: a relay publishes a schema's rows in commit order, but several
// relays, a parked row or a redelivery can reorder them; consumers may rely
// on no order across aggregates, and tell an older event of one aggregate
// from a newer one by Meta.sequence.
package outbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// DefaultMaxBytes is the largest payload Emit accepts when the bus's limit
// is not known: NATS's default max_payload (1 MiB) less room for headers.
const DefaultMaxBytes = 1<<20 - 8<<10

// ErrTooLarge is returned by Emit for an event the bus would refuse.
var ErrTooLarge = errors.New("event too large for the bus")

// Channel is the notification channel of a schema's outbox.
func Channel(schema string) string { return schema + "_outbox" }

// Emitter adds events to a service's outbox inside the caller's transaction.
type Emitter struct {
	Schema   string
	Producer string
	Clock    clock.Clock
	// MaxBytes is the largest payload the bus takes (0: DefaultMaxBytes).
	MaxBytes int
	// Wake, when set, tells this process's relay that events await, once
	// the transaction (begun by pg.InTx) commits. Otherwise, or for a
	// transaction begun elsewhere, Emit NOTIFYs the schema's channel.
	Wake func()
}

// Emit stamps the event's Meta (a new event id unless one is set, the time
// by the deployment's clock, the producer, the aggregate and its next
// sequence number, which the relay writes into the published payload) and
// stores it in the outbox within tx. The aggregate is Meta.request_id
// unless set. Request and causation ids are the caller's. It returns the
// event id.
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
	if meta.Aggregate == "" {
		meta.Aggregate = meta.RequestId
	}
	bus.SetMeta(ev, meta)
	payload, err := proto.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("outbox.Emit: %w", err)
	}
	limit := e.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	if len(payload)+16 > limit { // room for the sequence the relay adds
		return "", fmt.Errorf("outbox.Emit: %w: %s of %d bytes, the bus takes at most %d", ErrTooLarge, subject, len(payload), limit)
	}
	// Queued: the row goes to the server with the transaction's next
	// statement or its commit, in their round trip (pg.Queue).
	table := pgx.Identifier{e.Schema, "outbox"}.Sanitize()
	if meta.Aggregate == "" || meta.Sequence != 0 {
		err = pg.Queue(ctx, tx, `INSERT INTO `+table+` (event_id, subject, payload) VALUES ($1, $2, $3)`, meta.EventId, subject, payload)
	} else {
		// The aggregate's next number, taken in the same statement; its row
		// lock orders the aggregate's events as their transactions commit.
		err = pg.Queue(ctx, tx, `WITH s AS (INSERT INTO `+pgx.Identifier{e.Schema, "aggregate_sequence"}.Sanitize()+
			` AS a (aggregate, seq) VALUES ($4, 1) ON CONFLICT (aggregate) DO UPDATE SET seq = a.seq + 1 RETURNING seq)
			INSERT INTO `+table+` (event_id, subject, payload, sequence) SELECT $1, $2, $3, seq FROM s`,
			meta.EventId, subject, payload, meta.Aggregate)
	}
	if err != nil {
		return "", fmt.Errorf("outbox.Emit: %w", err)
	}
	if e.Wake == nil || !pg.AfterCommit(tx, e.Wake) {
		// PostgreSQL folds identical notifications of one transaction.
		if err := pg.Queue(ctx, tx, `SELECT pg_notify($1, '')`, Channel(e.Schema)); err != nil {
			return "", fmt.Errorf("outbox.Emit: %w", err)
		}
	}
	return meta.EventId, nil
}
