package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/localpg"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
)

// Up runs the services until ctx ends.
func Up(ctx context.Context, lookup config.Lookuper, defs []Definition, log *slog.Logger, opt Options) error {
	var cfg Config
	if err := config.Load(&cfg, lookup); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Process{Config: cfg, Lookup: lookup, Log: log, HTTP: http.NewServeMux(), relays: map[string]*outbox.Relay{}}

	server, err := p.openDatabase(ctx, defs, opt)
	if err != nil {
		return err
	}
	defer func() {
		p.DB.Close()
		if err := server.Stop(); errors.Is(err, localpg.ErrInUse) {
			log.Info("the private PostgreSQL is left running for its other clients", "err", err)
		} else if err != nil {
			log.Warn("stopping the private PostgreSQL", "err", err)
		}
	}()
	p.Listener = pg.NewListener(p.DB.Config().ConnConfig, log.With("component", "listener"))
	if err := p.openClock(ctx, opt); err != nil {
		return err
	}
	natsURL, stopBus, err := p.openBus(ctx, opt)
	if err != nil {
		return err
	}
	defer stopBus()
	defer p.NC.Close()
	ready := make(chan struct{})
	if err := p.openAuth(ctx); err != nil {
		return err
	}
	// No token is accepted before the revocations published until now are
	// read (Unavailable meanwhile): one revoked before a restart would be.
	p.Auth.Verifier.Hold()
	p.GRPC = grpcserver.New(log, p.Auth.Authenticate)
	// NOT_SERVING until the first check says otherwise (gRPC health starts
	// every name SERVING).
	p.GRPC.SetServing(false, healthNames(defs)...)
	p.registerAdmin(defs)
	p.HTTP.Handle("GET /metrics", promhttp.Handler())
	health := &health{p: p, names: healthNames(defs)}
	p.HTTP.Handle("GET /healthz", health)

	grpcLis, err := net.Listen("tcp", cfg.GRPC.Addr)
	if err != nil {
		return fmt.Errorf("SINP_GRPC_ADDR=%s: %w", cfg.GRPC.Addr, err)
	}
	defer grpcLis.Close()
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("SINP_HTTP_ADDR=%s: %w", cfg.HTTPAddr, err)
	}
	defer httpLis.Close()
	p.GRPCAddr, p.HTTPAddr = grpcLis.Addr().String(), httpLis.Addr().String()

	runners := []Runner{p.Listener.Run, health.run}
	if sh, ok := p.Clock.(*clock.Shared); ok {
		wake := p.Listener.Subscribe(clock.Channel)
		runners = append(runners, func(ctx context.Context) error { return sh.Run(ctx, wake) })
	}
	runners = append(runners, func(ctx context.Context) error {
		return auth.Watch(ctx, p.JS, p.Auth.Verifier, log.With("component", "auth"), ready)
	})
	for _, d := range defs {
		if d.Schema == "" {
			continue
		}
		outbox.InitMetrics(d.Schema)
		p.relays[d.Schema] = &outbox.Relay{Pool: p.DB, JS: p.JS, Schema: d.Schema, Log: log.With("relay", d.Name),
			Notified: p.Listener.Subscribe(outbox.Channel(d.Schema)), ParkAfter: cfg.Outbox.ParkAfter,
			Retention: cfg.Outbox.Retention, PruneEvery: cfg.Outbox.PruneEvery}
	}
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
	}
	for _, r := range p.relays {
		runners = append(runners, r.Run)
	}

	// Bounded headers, and no idle connection kept for ever; a handler
	// that streams sets its own write deadlines.
	httpSrv := &http.Server{Handler: p.HTTP, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ignoreClosed(p.GRPC.Serve(grpcLis)) })
	g.Go(func() error { return ignoreClosed(httpSrv.Serve(httpLis)) })
	for _, r := range runners {
		g.Go(func() error { return r(gctx) })
	}
	// Tokens are checked against revocations published before we started.
	g.Go(func() error {
		select {
		case <-ready:
			p.Auth.Verifier.Release()
		case <-gctx.Done():
		}
		return nil
	})
	select {
	case <-ready:
		p.Auth.Verifier.Release()
	case <-time.After(10 * time.Second):
		log.Warn("auth: the published keys and revocations are not all read after 10s; tokens are refused (Unavailable) until they are")
	case <-ctx.Done():
	}
	health.update(gctx)
	addrs := Addrs{GRPC: grpcLis.Addr().String(), HTTP: httpLis.Addr().String(), NATS: natsURL, DB: server.URL}
	log.Info("sinp is up", "services", serviceNames(defs), "grpc", addrs.GRPC, "http", addrs.HTTP, "nats", bus.Redacted(natsURL), "clock", p.Clock.Kind())
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

func serviceNames(defs []Definition) []string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return names
}

// openDatabase finds the server, waits for it, and applies the platform's
// and these services' migrations (never the observation store's).
func (p *Process) openDatabase(ctx context.Context, defs []Definition, opt Options) (*localpg.Server, error) {
	cfg := p.Config
	var server *localpg.Server
	err := waitFor(ctx, p.Log, "PostgreSQL", func() error {
		var err error
		server, err = localpg.Ensure(ctx, localpg.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Log: p.Log})
		if err != nil {
			return err
		}
		p.DB, err = pg.Connect(ctx, server.URL, cfg.Database.MaxConns)
		return err
	})
	if err != nil {
		return nil, err
	}
	if cfg.MigrateOnStart {
		sets := append(slices.Clone(opt.Migrations), Migrations(defs)...)
		if _, err := pg.Migrate(ctx, p.DB, sets...); err != nil {
			p.DB.Close()
			return nil, fmt.Errorf("migrations: %w", err)
		}
	}
	return server, nil
}

// waitFor retries open while its failure is the infrastructure's (a
// database or bus not up yet), and fails at once on anything else.
func waitFor(ctx context.Context, log *slog.Logger, what string, open func() error) error {
	b := retry.Backoff{Min: 500 * time.Millisecond, Max: 5 * time.Second}
	for {
		err := open()
		if err == nil || !retry.Transient(err) || ctx.Err() != nil {
			return err
		}
		d := b.Next()
		if b.Attempts() == 1 || b.Attempts()%10 == 0 {
			log.Warn("waiting for "+what, "err", err, "in", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// openClock joins the deployment's clock (platform.clock).
func (p *Process) openClock(ctx context.Context, opt Options) error {
	if opt.Clock != nil {
		p.Clock = opt.Clock
		return nil
	}
	spec, err := clock.ParseSpec(p.Config.Clock.Spec)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	sh, err := clock.Open(ctx, p.DB, spec, fmt.Sprintf("sinp@%s/%d", host, os.Getpid()), p.Log.With("component", "clock"))
	if err != nil {
		return err
	}
	p.Clock = sh
	return nil
}

// openAuth builds the token verifier and, where the signing key is (or
// may be created), the signer, and publishes its public key.
func (p *Process) openAuth(ctx context.Context) error {
	v := auth.NewVerifier()
	p.Auth = &auth.Authenticator{Verifier: v, Rules: auth.Rules{}}
	v.Trust(p.Config.Auth.TrustedKeys...)
	for _, f := range p.Config.Auth.PublicKeys {
		pub, err := auth.ReadPublicKey(f)
		if err != nil {
			return fmt.Errorf("SINP_AUTH_PUBLIC_KEYS: %w", err)
		}
		v.AddKey(pub)
	}
	path := p.Config.Auth.KeyFile
	switch path {
	case "-":
		p.Log.Info("no token signing key in this process (SINP_AUTH_KEY_FILE=-): tokens are verified with the published keys")
		return nil
	case "":
		path = filepath.Join(p.Config.DataDir, "auth", "signing.key")
	}
	s, err := auth.LoadOrCreateKey(path)
	if err != nil {
		if p.Config.Auth.KeyFile != "" {
			return err
		}
		p.Log.Warn("no token signing key here: this process verifies tokens with the published keys only", "err", err)
		return nil
	}
	p.Signer = &s
	v.AddKey(s.Public())
	host, _ := os.Hostname()
	return waitFor(ctx, p.Log, "NATS (publishing the signing key)", func() error {
		return auth.PublishKey(ctx, p.JS, s, fmt.Sprintf("sinp@%s", host))
	})
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}
