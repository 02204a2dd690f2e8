// Package service runs a set of SINP services in one process: it finds the
// database and applies the services' migrations, joins the deployment's
// clock and NATS, builds the gRPC server (health, reflection, the operator
// APIs, authentication) and the HTTP server (/metrics, /healthz and the
// services' pages), starts each service's outbox relay and background
// work, keeps health true while the database or the bus comes and goes,
// and shuts everything down gracefully.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/logging"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/timer"
)

// Config is what every process reads from the environment.
type Config struct {
	DataDir  string `env:"SINP_DATA_DIR" default:".data"`
	HTTPAddr string `env:"SINP_HTTP_ADDR" default:"127.0.0.1:7401"`
	// Apply the services' pending migrations at start (sinp migrate does
	// it explicitly).
	MigrateOnStart bool `env:"SINP_MIGRATE_ON_START" default:"true"`
	Database       pg.Config
	NATS           bus.Config
	Clock          clock.Config
	GRPC           grpcserver.Config
	Log            logging.Config
	Auth           AuthConfig
	Outbox         OutboxConfig
}

// AuthConfig locates the key that signs tokens.
type AuthConfig struct {
	// The Ed25519 signing key (PKCS#8 PEM), created when absent; its
	// public half is published on NATS. Empty: <data dir>/auth/signing.key.
	// "-": none; this process only verifies (every service but the issuer
	// in a deployment of several hosts).
	KeyFile string `env:"SINP_AUTH_KEY_FILE"`
	// Public keys of the issuers this process trusts without holding
	// their private key (PEM files, like the signing.key.pub the issuer
	// writes beside its key), and key ids whose public key it may learn
	// from the bus. A key published on NATS that neither names is ignored.
	PublicKeys  []string `env:"SINP_AUTH_PUBLIC_KEYS"`
	TrustedKeys []string `env:"SINP_AUTH_TRUSTED_KEYS"`
}

// OutboxConfig is the relays' hygiene.
type OutboxConfig struct {
	// Published events and processed-event records are kept this long.
	Retention time.Duration `env:"SINP_OUTBOX_RETENTION" default:"168h"`
	// How often they are pruned.
	PruneEvery time.Duration `env:"SINP_OUTBOX_PRUNE_EVERY" default:"1h"`
	// Failed publications before a row is parked.
	ParkAfter int `env:"SINP_OUTBOX_PARK_AFTER" default:"5"`
}

// Validate checks the values; errors name the variable.
func (c *Config) Validate() error {
	var errs []error
	// A republished event must still be recognised by its consumers.
	if c.Outbox.Retention < 2*c.NATS.DedupWindow {
		errs = append(errs, fmt.Errorf("SINP_OUTBOX_RETENTION=%s: must be at least twice SINP_NATS_DEDUP_WINDOW (%s)", c.Outbox.Retention, c.NATS.DedupWindow))
	}
	if c.Outbox.PruneEvery <= 0 {
		errs = append(errs, errors.New("SINP_OUTBOX_PRUNE_EVERY: must be positive"))
	}
	if c.Outbox.ParkAfter < 1 {
		errs = append(errs, errors.New("SINP_OUTBOX_PARK_AFTER: must be at least 1"))
	}
	return errors.Join(errs...)
}

// Process is what the services of one process share.
type Process struct {
	Config Config
	// Lookup reads the environment, for service-specific configuration.
	Lookup   config.Lookuper
	Log      *slog.Logger
	DB       *pgxpool.Pool
	Listener *pg.Listener
	NC       *nats.Conn
	JS       jetstream.JetStream
	Clock    clock.Clock
	GRPC     *grpcserver.Server
	HTTP     *http.ServeMux
	// GRPCAddr and HTTPAddr are where the process listens (the ports
	// chosen when the configuration says :0).
	GRPCAddr, HTTPAddr string
	// Auth checks tokens (gRPC through the server's hook; HTTP handlers
	// call Auth.HTTP). Signer issues them: nil where the key is not here.
	Auth   *auth.Authenticator
	Signer *auth.Signer

	relays map[string]*outbox.Relay
}

// Emitter returns an outbox emitter for a service: it refuses events the
// bus would not take and wakes this process's relay after each commit.
func (p *Process) Emitter(d Definition) *outbox.Emitter {
	e := &outbox.Emitter{Schema: d.Schema, Producer: d.Name, Clock: p.Clock}
	if p.NC != nil {
		e.MaxBytes = int(p.NC.MaxPayload()) - 8<<10
	}
	if r := p.relays[d.Schema]; r != nil {
		e.Wake = r.Wake
	}
	return e
}

// Consumer returns an idempotent consumer configured from the process.
func (p *Process) Consumer(d Definition, name string, subjects []string, h consumer.Handler) *consumer.Consumer {
	return &consumer.Consumer{
		Name: name, Subjects: subjects, Schema: d.Schema,
		Pool: p.DB, JS: p.JS, Log: p.Log.With("consumer", name),
		MaxDeliver: p.Config.NATS.MaxDeliver, AckWait: p.Config.NATS.AckWait, Retention: p.Config.Outbox.Retention, Handle: h,
	}
}

// Timers returns the scanner of a service's durable timers (its schema
// needs timer.Migrations), woken by the process's listener.
func (p *Process) Timers(d Definition, handlers map[string]timer.Handler) *timer.Scanner {
	return &timer.Scanner{Pool: p.DB, Schema: d.Schema, Clock: p.Clock, Log: p.Log.With("timers", d.Name),
		Handlers: handlers, Notified: p.Listener.Subscribe(timer.Channel(d.Schema))}
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
	// Access says who may call each method of those services; a method
	// without a rule is refused.
	Access auth.Rules
	// Setup registers the service's gRPC and HTTP handlers and returns its
	// background work.
	Setup func(ctx context.Context, p *Process) (Runner, error)
}

// PlatformMigrations are those every process applies: the deployment's
// clock.
func PlatformMigrations() []pg.Migrations { return []pg.Migrations{clock.Migrations()} }

// Migrations returns what a set of services needs applied, in order: the
// platform's, then each service's own and its outbox.
func Migrations(defs []Definition) []pg.Migrations {
	out := PlatformMigrations()
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
	// Clock overrides the deployment's clock (in-memory, for tests).
	Clock clock.Clock
	// Extra migrations applied before the services'.
	Migrations []pg.Migrations
	// BusCommand runs the NATS server alone (`sinp nats`): when no
	// SINP_NATS_URL is set and nothing answers on the embedded port, Up
	// starts it detached, so that it outlives this process and others can
	// join it. Nil: run the server inside this process.
	BusCommand []string
}
