// Package bustest starts a real NATS server with JetStream for a test: an
// embedded server on a free port with its store in the test's temp dir, and
// the platform's streams created.
package bustest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"sinp.occitanie.fr/platform/bus"
)

// Server is a running test server with a connection.
type Server struct {
	URL string
	NC  *nats.Conn
	JS  jetstream.JetStream
}

// Config is the bus configuration tests use: short waits so that retries
// and dead-lettering happen within a test's time.
func Config() bus.Config {
	return bus.Config{DedupWindow: 2 * time.Minute, MaxDeliver: 3, AckWait: 5 * time.Second, Replicas: 1}
}

// Start starts a server and creates the streams.
func Start(t testing.TB) *Server {
	t.Helper()
	e, err := bus.StartEmbedded(t.TempDir(), -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	nc, js, err := bus.Connect(context.Background(), e.URL, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := bus.EnsureStreams(context.Background(), js, Config()); err != nil {
		t.Fatal(err)
	}
	return &Server{URL: e.URL, NC: nc, JS: js}
}

// Count returns how many messages the stream holds on subject.
func (s *Server) Count(t testing.TB, stream, subject string) uint64 {
	t.Helper()
	st, err := s.JS.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// Publish puts an event on its subject as a service's relay would (its
// event id as Nats-Msg-Id).
func Publish(t testing.TB, js jetstream.JetStream, ev bus.Event) {
	t.Helper()
	subject, err := bus.SubjectFor(ev)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(subject)
	m.Data = b
	m.Header.Set(jetstream.MsgIDHeader, ev.GetMeta().GetEventId())
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// Events reads every event of the events stream, in order. A message
// that is not an event fails the test, except a dead letter handed back
// to one consumer (sinp.replay.<consumer>), which is left out.
func Events(t testing.TB, js jetstream.JetStream) []bus.Event {
	t.Helper()
	ctx := context.Background()
	c, err := js.OrderedConsumer(ctx, bus.StreamEvents, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []bus.Event
	for {
		batch, err := c.FetchNoWait(500)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if strings.HasPrefix(m.Subject(), bus.SubjectReplayPrefix) {
				continue
			}
			ev, err := bus.Decode(m.Subject(), m.Data())
			if err != nil {
				t.Fatalf("%s in %s: %v", m.Subject(), bus.StreamEvents, err)
			}
			out = append(out, ev)
		}
		if n == 0 {
			return out
		}
	}
}
