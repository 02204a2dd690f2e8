// Package deadletter is the operator's side of the dead-letter stream
// (SINP_DLQ): list and read the messages consumers gave up on, and replay
// one to the consumer that failed it, once the cause is fixed. The
// consumers' side (what goes there and when) is package consumer.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/outbox"
)

// Letter is one dead letter.
type Letter struct {
	Sequence        uint64    `json:"sequence"`
	Consumer        string    `json:"consumer"`
	OriginalSubject string    `json:"original_subject"`
	EventID         string    `json:"event_id"`
	Error           string    `json:"error"`
	Failures        uint32    `json:"failures"`
	DeadLetteredAt  time.Time `json:"dead_lettered_at"`
	EventType       string    `json:"event_type,omitempty"`
	EventJSON       string    `json:"event,omitempty"`
	Bytes           int64     `json:"bytes"`
	data            []byte
}

// ErrNotFound is returned for a sequence the stream does not hold.
var ErrNotFound = errors.New("no such dead letter")

func letter(m *jetstream.RawStreamMsg) Letter {
	h := m.Header
	l := Letter{
		Sequence:        m.Sequence,
		Consumer:        h.Get(consumer.HeaderConsumer),
		OriginalSubject: h.Get(consumer.HeaderOriginalSubject),
		EventID:         h.Get(consumer.HeaderEventID),
		Error:           h.Get(consumer.HeaderError),
		EventType:       h.Get(outbox.HeaderEventType),
		Bytes:           int64(len(m.Data)),
		DeadLetteredAt:  m.Time,
		data:            m.Data,
	}
	if l.Consumer == "" {
		l.Consumer = strings.TrimPrefix(m.Subject, bus.SubjectDeadLetterPrefix)
	}
	if n, err := strconv.ParseUint(h.Get(consumer.HeaderDeliveries), 10, 32); err == nil {
		l.Failures = uint32(n)
	}
	if ev, err := bus.Decode(l.OriginalSubject, m.Data); err == nil {
		l.EventType = string(ev.ProtoReflect().Descriptor().FullName())
		if b, err := protojson.Marshal(ev); err == nil {
			l.EventJSON = string(b)
		}
	}
	return l
}

// List returns up to limit dead letters after sequence `after`, of one
// consumer or all (empty), and the sequence to continue after (0: no more).
func List(ctx context.Context, js jetstream.JetStream, consumerName string, after uint64, limit int) ([]Letter, uint64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	filter := bus.SubjectDeadLetterPrefix + ">"
	if consumerName != "" {
		filter = consumer.DeadLetterSubject(consumerName)
	}
	oc, err := js.OrderedConsumer(ctx, bus.StreamDeadLetter, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("deadletter.List: %w", err)
	}
	var out []Letter
	for len(out) < limit {
		batch, err := oc.FetchNoWait(limit - len(out))
		if err != nil {
			return nil, 0, fmt.Errorf("deadletter.List: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			out = append(out, letter(&jetstream.RawStreamMsg{Subject: m.Subject(), Sequence: md.Sequence.Stream,
				Header: m.Headers(), Data: m.Data(), Time: md.Timestamp}))
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, 0, fmt.Errorf("deadletter.List: %w", err)
		}
		if n == 0 {
			return out, 0, nil
		}
	}
	next := uint64(0)
	if len(out) == limit {
		next = out[len(out)-1].Sequence
	}
	return out, next, nil
}

// Get returns one dead letter.
func Get(ctx context.Context, js jetstream.JetStream, seq uint64) (Letter, error) {
	st, err := js.Stream(ctx, bus.StreamDeadLetter)
	if err != nil {
		return Letter{}, fmt.Errorf("deadletter.Get: %w", err)
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Letter{}, fmt.Errorf("%w: sequence %d", ErrNotFound, seq)
	}
	if err != nil {
		return Letter{}, fmt.Errorf("deadletter.Get: %w", err)
	}
	return letter(m), nil
}

// Replay hands a dead letter again to the consumer that gave up on it
// (subject sinp.replay.<consumer>, so no other consumer sees it again),
// then removes it from the dead letters. A replay that fails again comes
// back as a new dead letter. It returns the subject replayed on.
func Replay(ctx context.Context, js jetstream.JetStream, seq uint64) (string, error) {
	l, err := Get(ctx, js, seq)
	if err != nil {
		return "", err
	}
	if l.Consumer == "" || l.OriginalSubject == "" {
		return "", fmt.Errorf("deadletter.Replay: dead letter %d names no consumer or subject", seq)
	}
	msg := nats.NewMsg(consumer.ReplaySubject(l.Consumer))
	msg.Data = l.data
	msg.Header.Set(consumer.HeaderOriginalSubject, l.OriginalSubject)
	msg.Header.Set(consumer.HeaderEventID, l.EventID)
	if l.EventType != "" {
		msg.Header.Set(outbox.HeaderEventType, l.EventType)
	}
	// A replay repeated (the removal below failed) is dropped as a duplicate.
	msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("replay:%d:%s", seq, l.EventID))
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return "", fmt.Errorf("deadletter.Replay: %w", err)
	}
	st, err := js.Stream(ctx, bus.StreamDeadLetter)
	if err == nil {
		err = st.DeleteMsg(ctx, seq)
	}
	if err != nil {
		return "", fmt.Errorf("deadletter.Replay: replayed, but not removed from %s (a second replay is harmless): %w", bus.StreamDeadLetter, err)
	}
	return msg.Subject, nil
}
