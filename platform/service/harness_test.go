package service_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/logging"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// The ping service makes a steady flow of events through the whole
// runtime: it emits PING_EVENTS RequestCancelled events through its
// outbox, one every PING_EVERY, and its own consumer records each one it
// receives. Counting what arrived, and how often, tells whether a fault
// lost or doubled anything.
var pingMigrations = pg.Migrations{Component: "ping", Schema: "ping", Dir: "m", FS: fstest.MapFS{
	"m/0001_ping.sql": {Data: []byte(`
		CREATE TABLE sent (n integer PRIMARY KEY);
		CREATE TABLE received (reference text PRIMARY KEY, times integer NOT NULL DEFAULT 1);`)},
}}

func pingDefinition() service.Definition {
	d := service.Definition{Name: "ping", Schema: "ping", Migrations: []pg.Migrations{pingMigrations}}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		n, _ := strconv.Atoi(os.Getenv("PING_EVENTS"))
		every, _ := time.ParseDuration(os.Getenv("PING_EVERY"))
		em := p.Emitter(d)
		c := p.Consumer(d, "ping-received", []string{bus.SubjectRequestCancelled}, func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
			_, err := tx.Exec(ctx, `INSERT INTO ping.received (reference) VALUES ($1)
				ON CONFLICT (reference) DO UPDATE SET times = received.times + 1`, dl.Event.(*eventsv1.RequestCancelled).Reference)
			return err
		})
		return func(ctx context.Context) error {
			go func() { _ = c.Run(ctx) }()
			for i := 1; i <= n && ctx.Err() == nil; i++ {
				// Retried until it commits; a commit whose answer was lost
				// is found by its row and not emitted twice.
				for ctx.Err() == nil {
					err := pg.InTx(ctx, p.DB, func(tx pgx.Tx) error {
						tag, err := tx.Exec(ctx, `INSERT INTO ping.sent VALUES ($1) ON CONFLICT DO NOTHING`, i)
						if err != nil || tag.RowsAffected() == 0 {
							return err
						}
						ref := fmt.Sprintf("P-%04d", i)
						_, err = em.Emit(ctx, tx, &eventsv1.RequestCancelled{Meta: &eventsv1.Meta{RequestId: ref}, Reference: ref})
						return err
					})
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(every)
			}
			<-ctx.Done()
			return nil
		}, nil
	}
	return d
}

// TestProcessChild is the sinp process the fault tests start, stop and
// kill: service.Up with the services PROCESS_SERVICES names.
func TestProcessChild(t *testing.T) {
	if os.Getenv("PROCESS_CHILD") == "" {
		t.Skip("a child process of the fault tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var defs []service.Definition
	if os.Getenv("PROCESS_SERVICES") == "ping" {
		defs = append(defs, pingDefinition())
	}
	log := logging.New(logging.Config{Level: "info", Format: "text"}, os.Stderr)
	if err := service.Up(ctx, config.OS, defs, log, service.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "up:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is a running sinp process of a test.
type child struct {
	cmd  *exec.Cmd
	grpc string
	http string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func freePort(t *testing.T) int {
	_, p, _ := net.SplitHostPort(freeAddr(t))
	n, _ := strconv.Atoi(p)
	return n
}

// start runs a sinp process with env (SINP_DATA_DIR, SINP_DATABASE_URL,
// ... as the test gives them) and waits until it serves health.
func start(t *testing.T, services string, env map[string]string) *child {
	t.Helper()
	c := &child{grpc: freeAddr(t), http: freeAddr(t), logs: &syncBuffer{}}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestProcessChild$")
	c.cmd.Env = append(os.Environ(), "PROCESS_CHILD=1", "PROCESS_SERVICES="+services,
		"SINP_GRPC_ADDR="+c.grpc, "SINP_HTTP_ADDR="+c.http)
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("logs of the process on %s:\n%s", c.grpc, c.logs.String())
		}
	})
	c.waitHealth(t, healthpb.HealthCheckResponse_SERVING, 2*time.Minute)
	return c
}

func (c *child) health() (healthpb.HealthCheckResponse_ServingStatus, error) {
	conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return 0, err
	}
	return resp.Status, nil
}

func (c *child) healthz() int {
	resp, err := http.Get("http://" + c.http + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (c *child) waitHealth(t *testing.T, want healthpb.HealthCheckResponse_ServingStatus, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st, err := c.health()
		if err == nil && st == want {
			return time.Since(start)
		}
		if c.cmd.ProcessState != nil {
			t.Fatalf("the process exited (%v) waiting for %s", c.cmd.ProcessState, want)
		}
		if time.Since(start) > within {
			t.Fatalf("not %s after %s (last %v %v)", want, within, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}
