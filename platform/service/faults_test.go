package service_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/localpg"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/testenv"
)

const pingEvents = 150

// flow is a ping process on infrastructure the test can break: its own
// PostgreSQL cluster and its own NATS server.
type flow struct {
	cluster *localpg.Server
	dbURL   string
	natsDir string
	natsURL string
	port    int
	nats    *bus.Embedded
	proc    *child
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	ctx := context.Background()
	// Under /var/tmp: as root, the cluster runs as postgres, who must reach it.
	dir, err := os.MkdirTemp("/var/tmp", "sinp-faults-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	cluster, err := localpg.StartPrivate(ctx, dir, freePort(t))
	if err != nil {
		testenv.Missing(t, "a private PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() {
		_ = cluster.Halt()
		_ = os.RemoveAll(dir)
	})
	f := &flow{cluster: cluster, dbURL: pg.WithDatabase(cluster.AdminURL, "sinp"), natsDir: t.TempDir(), port: freePort(t)}
	f.startNATS(t)
	t.Cleanup(func() { f.nats.Shutdown() })
	f.proc = start(t, "ping", map[string]string{
		"SINP_DATABASE_URL":     f.dbURL,
		"SINP_NATS_URL":         f.natsURL,
		"SINP_DATA_DIR":         t.TempDir(),
		"SINP_CLOCK":            "manual:2026-03-01T08:00:00Z",
		"SINP_NATS_MAX_DELIVER": "3",
		"SINP_NATS_ACK_WAIT":    "5s",
		"PING_EVENTS":           strconv.Itoa(pingEvents),
		"PING_EVERY":            "40ms",
	})
	return f
}

func (f *flow) startNATS(t *testing.T) {
	t.Helper()
	e, err := bus.StartEmbedded(f.natsDir, f.port, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.nats, f.natsURL = e, e.URL
}

func (f *flow) db(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pg.Connect(context.Background(), f.dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (f *flow) received(t *testing.T) int {
	t.Helper()
	pool := f.db(t)
	defer pool.Close()
	var n int
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM ping.received`).Scan(&n)
	return n
}

func (f *flow) waitReceived(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for f.received(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events received after %s", f.received(t), n, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outage checks that health says NOT_SERVING (gRPC and /healthz) while
// something is down, then SERVING within 30s once it is back.
func (f *flow) outage(t *testing.T, down, up func()) {
	t.Helper()
	down()
	f.proc.waitHealth(t, healthpb.HealthCheckResponse_NOT_SERVING, 15*time.Second)
	if code := f.proc.healthz(); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz during the outage: %d, want 503", code)
	}
	time.Sleep(3 * time.Second) // long enough for retries and redeliveries to pile up
	up()
	took := f.proc.waitHealth(t, healthpb.HealthCheckResponse_SERVING, 30*time.Second)
	t.Logf("SERVING again %s after the restart", took.Round(10*time.Millisecond))
	if code := f.proc.healthz(); code != http.StatusOK {
		t.Errorf("/healthz after the outage: %d", code)
	}
}

// every event was published once, received once, none dead-lettered, and
// the process is still the one that started.
func (f *flow) checkOutcome(t *testing.T) {
	t.Helper()
	f.waitReceived(t, pingEvents, 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	pool := f.db(t)
	var received, doubled, pending int
	_ = pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE times > 1) FROM ping.received`).Scan(&received, &doubled)
	_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM ping.outbox WHERE published_at IS NULL`).Scan(&pending)
	if received != pingEvents || doubled != 0 || pending != 0 {
		t.Fatalf("received %d of %d, %d handled twice, %d still in the outbox", received, pingEvents, doubled, pending)
	}
	ns := connect(t, f.natsURL)
	if n := ns.Count(t, bus.StreamEvents, bus.SubjectRequestCancelled); n != pingEvents {
		t.Fatalf("the stream holds %d events, want %d: one published twice or lost", n, pingEvents)
	}
	if n := ns.Count(t, bus.StreamDeadLetter, consumer.DeadLetterSubject("ping-received")); n != 0 {
		t.Fatalf("%d events dead-lettered during the outage", n)
	}
	if f.proc.cmd.ProcessState != nil {
		t.Fatalf("the process stopped: %v", f.proc.cmd.ProcessState)
	}
}

func connect(t *testing.T, url string) *bustest.Server {
	t.Helper()
	nc, js, err := bus.Connect(context.Background(), url, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return &bustest.Server{URL: url, NC: nc, JS: js}
}

// PostgreSQL stops under a running flow and starts again: the process
// keeps running, says NOT_SERVING meanwhile, serves again, and every event
// is published and handled exactly once, none dead-lettered.
func TestAPostgreSQLRestartLosesAndDoublesNothing(t *testing.T) {
	f := newFlow(t)
	f.waitReceived(t, 20, 30*time.Second)
	f.outage(t, func() {
		if err := f.cluster.Halt(); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := f.cluster.Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	f.checkOutcome(t)
}

// NATS stops under a running flow and starts again on its store: same
// outcome.
func TestANATSRestartLosesAndDoublesNothing(t *testing.T) {
	f := newFlow(t)
	f.waitReceived(t, 20, 30*time.Second)
	f.outage(t, func() { f.nats.Shutdown() }, func() { f.startNATS(t) })
	f.checkOutcome(t)
}
