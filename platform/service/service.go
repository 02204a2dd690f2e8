// Package service runs a set of SINP services in one process: it finds the
// database and applies migrations, starts or joins NATS, builds the clock,
// the gRPC server (health, reflection, the clock admin API) and the HTTP
// server (/metrics, /healthz and the services' pages), starts each
// service's outbox relay, and shuts everything down gracefully.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/localpg"
	"sinp.occitanie.fr/platform/logging"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// Config is what every process reads from the environment.
type Config struct {
	DataDir  string `env:"SINP_DATA_DIR" default:".data"`
	HTTPAddr string `env:"SINP_HTTP_ADDR" default:"127.0.0.1:7401"`
	// Apply pending migrations at start (sinp migrate does it explicitly).
	MigrateOnStart bool `env:"SINP_MIGRATE_ON_START" default:"true"`
	Database       pg.Config
	NATS           bus.Config
	Clock          clock.Config
	GRPC           grpcserver.Config
	Log            logging.Config
}

// Process is what the services of one process share.
type Process struct {
	Config Config
	// Lookup reads the environment, for service-specific configuration.
	Lookup config.Lookuper
	Log    *slog.Logger
	DB     *pgxpool.Pool
	NC     *nats.Conn
	JS     jetstream.JetStream
	Clock  clock.Clock
	GRPC   *grpcserver.Server
	HTTP   *http.ServeMux
}

// Emitter returns an outbox emitter for a service.
func (p *Process) Emitter(d Definition) *outbox.Emitter {
	return &outbox.Emitter{Schema: d.Schema, Producer: d.Name, Clock: p.Clock}
}

// Consumer returns an idempotent consumer configured from the process.
func (p *Process) Consumer(d Definition, name string, subjects []string, h consumer.Handler) *consumer.Consumer {
	return &consumer.Consumer{
		Name: name, Subjects: subjects, Schema: d.Schema,
		Pool: p.DB, JS: p.JS, Log: p.Log.With("consumer", name),
		MaxDeliver: p.Config.NATS.MaxDeliver, AckWait: p.Config.NATS.AckWait, Handle: h,
	}
}

// Runner is a service's background work; it returns when ctx ends.
type Runner func(ctx context.Context) error

// Definition describes one service to the process.
type Definition struct {
	Name string
	// Schema the service owns; its outbox and processed-event tables are
	// created there. Empty for a service without state.
	Schema     string
	Migrations []pg.Migrations
	// GRPCServices are the full names of the gRPC services it registers;
	// health reports them with the service name.
	GRPCServices []string
	// Setup registers the service's gRPC and HTTP handlers and returns its
	// background work.
	Setup func(ctx context.Context, p *Process) (Runner, error)
}

// AllMigrations returns the migrations of the definitions, each service's
// outbox included, in order.
func AllMigrations(defs []Definition) []pg.Migrations {
	var out []pg.Migrations
	for _, d := range defs {
		out = append(out, d.Migrations...)
		if d.Schema != "" {
			out = append(out, outbox.Migrations(d.Schema))
		}
	}
	return out
}

// Addrs tell where a started process listens.
type Addrs struct {
	GRPC string
	HTTP string
	NATS string
	DB   string
}

// Options adjust Up for tests and the demo.
type Options struct {
	// Ready is called once everything serves.
	Ready func(p *Process, a Addrs)
	// Clock overrides the clock of the configuration.
	Clock clock.Clock
	// Extra migrations applied before the services' (e.g. the observation
	// store in a demo).
	Migrations []pg.Migrations
}

// Up runs the services until ctx ends.
func Up(ctx context.Context, lookup config.Lookuper, defs []Definition, log *slog.Logger, opt Options) error {
	var cfg Config
	if err := config.Load(&cfg, lookup); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Process{Config: cfg, Lookup: lookup, Log: log, HTTP: http.NewServeMux()}

	// Clock.
	p.Clock = opt.Clock
	if p.Clock == nil {
		c, err := clock.New(cfg.Clock.Spec)
		if err != nil {
			return err
		}
		p.Clock = c
	}

	// Database.
	server, err := localpg.Ensure(ctx, localpg.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Log: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := server.Stop(); err != nil {
			log.Warn("stopping the private PostgreSQL", "err", err)
		}
	}()
	p.DB, err = pg.Connect(ctx, server.URL, cfg.Database.MaxConns)
	if err != nil {
		return err
	}
	defer p.DB.Close()
	if cfg.MigrateOnStart {
		sets := append(slices.Clone(opt.Migrations), AllMigrations(defs)...)
		if _, err := pg.Migrate(ctx, p.DB, sets...); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}

	// NATS.
	natsURL := cfg.NATS.URL
	if natsURL == "" {
		e, err := bus.StartEmbedded(filepath.Join(cfg.DataDir, "nats"), cfg.NATS.EmbeddedPort, log)
		if err != nil {
			return err
		}
		defer e.Shutdown()
		natsURL = e.URL
	}
	p.NC, p.JS, err = bus.Connect(ctx, natsURL, "sinp")
	if err != nil {
		return err
	}
	defer p.NC.Close()
	if err := bus.EnsureStreams(ctx, p.JS, cfg.NATS); err != nil {
		return err
	}

	// Servers.
	p.GRPC = grpcserver.New(log, nil)
	adminv1.RegisterClockServiceServer(p.GRPC, &clock.AdminServer{Clock: p.Clock})
	p.HTTP.Handle("GET /metrics", promhttp.Handler())
	p.HTTP.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := p.DB.Ping(r.Context()); err != nil || !p.NC.IsConnected() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})

	var runners []Runner
	for _, d := range defs {
		if d.Setup == nil {
			continue
		}
		r, err := d.Setup(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: setup: %w", d.Name, err)
		}
		if r != nil {
			runners = append(runners, r)
		}
		if d.Schema != "" {
			outbox.InitMetrics(d.Schema)
			relay := &outbox.Relay{Pool: p.DB, JS: p.JS, Schema: d.Schema, Log: log.With("relay", d.Name)}
			runners = append(runners, relay.Run)
		}
	}

	grpcLis, err := net.Listen("tcp", cfg.GRPC.Addr)
	if err != nil {
		return fmt.Errorf("SINP_GRPC_ADDR=%s: %w", cfg.GRPC.Addr, err)
	}
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("SINP_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	httpSrv := &http.Server{Handler: p.HTTP, ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ignoreClosed(p.GRPC.Serve(grpcLis)) })
	g.Go(func() error { return ignoreClosed(httpSrv.Serve(httpLis)) })
	for _, r := range runners {
		g.Go(func() error { return r(gctx) })
	}
	for _, d := range defs {
		p.GRPC.SetServing(true, append([]string{d.Name}, d.GRPCServices...)...)
	}
	p.GRPC.SetServing(true, "")
	addrs := Addrs{GRPC: grpcLis.Addr().String(), HTTP: httpLis.Addr().String(), NATS: natsURL, DB: server.URL}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	log.Info("sinp is up", "services", names, "grpc", addrs.GRPC, "http", addrs.HTTP, "nats", natsURL, "clock", p.Clock.Kind())
	if opt.Ready != nil {
		opt.Ready(p, addrs)
	}

	// Shut down when asked or when a part fails.
	g.Go(func() error {
		<-gctx.Done()
		p.GRPC.Health.Shutdown()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		stopped := make(chan struct{})
		go func() { p.GRPC.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			p.GRPC.Stop()
		}
		return httpSrv.Shutdown(sctx)
	})
	err = g.Wait()
	log.Info("sinp stopped")
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}
