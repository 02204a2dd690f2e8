// Package bustest starts a real NATS server with JetStream for a test: an
// embedded server on a free port with its store in the test's temp dir, and
// the platform's streams created.
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
