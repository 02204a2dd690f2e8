// Package delivery is the delivery service of the SINP platform: it owns
// the requesters' drop zones, publications and the download audit. On
// ReleaseGranted it publishes the staged archive into its requester's drop
// zone (package zone), on ReleaseWithheld a notice with the pôle's
// justification; files expire after a retention; F2 passwords are shown
// only to their entitled requester; every download and every password
// shown is audited. It emits ArchivePublished, NoticePublished and
// ArchiveExpired.
package delivery

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"sinp.occitanie.fr/platform/archivekey"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/platform/timer"
	deliveryv1 "sinp.occitanie.fr/proto/gen/go/sinp/delivery/v1"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/delivery/api"
	"sinp.occitanie.fr/services/delivery/app"
	"sinp.occitanie.fr/services/delivery/zone"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "delivery"

// ConsumerName is the durable consumer of the release events.
const ConsumerName = "delivery-releases"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations create the delivery schema.
var Migrations = pg.Migrations{Component: Name, Schema: app.Schema, FS: migrations, Dir: "migrations"}

// Config is the delivery service's part of the environment.
type Config struct {
	// Where the drop zones are (default <data dir>/dropzones).
	DropZoneDir string `env:"SINP_DROPZONE_DIR"`
	// The extractor's staging area, read here (default <data dir>/staging).
	StagingDir string `env:"SINP_STAGING_DIR"`
	// The secret F2 passwords derive from (the extractor's; default
	// <data dir>/secrets/f2.secret).
	F2SecretFile string `env:"SINP_F2_SECRET_FILE"`
	F2Encrypt    bool   `env:"SINP_F2_ENCRYPT" default:"true"`
	// How long a published file stays in its drop zone (GBIF keeps
	// downloads six months); a postponement adds as much once.
	Retention time.Duration `env:"SINP_DELIVERY_RETENTION" default:"4380h"`
}

// Validate checks the values; errors name the variable.
func (c *Config) Validate() error {
	if c.Retention < time.Hour {
		return errors.New("SINP_DELIVERY_RETENTION: at least 1h")
	}
	return nil
}

// TestHooks let crash tests kill the process at the worst moments.
var TestHooks struct {
	// BeforePublishCommit runs once an archive is in its zone, before its
	// publication commits.
	BeforePublishCommit func(deliverableID string)
}

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	d := service.Definition{
		Name: Name, Schema: app.Schema, Migrations: []pg.Migrations{Migrations, timer.Migrations(app.Schema)},
		GRPCServices: []string{deliveryv1.DeliveryService_ServiceDesc.ServiceName},
		Access:       api.Access,
	}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		var cfg Config
		if err := config.Load(&cfg, p.Lookup); err != nil {
			return nil, err
		}
		if cfg.DropZoneDir == "" {
			cfg.DropZoneDir = filepath.Join(p.Config.DataDir, "dropzones")
		}
		if cfg.StagingDir == "" {
			cfg.StagingDir = filepath.Join(p.Config.DataDir, "staging")
		}
		zones, err := zone.Open(cfg.DropZoneDir)
		if err != nil {
			return nil, fmt.Errorf("SINP_DROPZONE_DIR: %w", err)
		}
		if err := os.MkdirAll(cfg.StagingDir, 0o750); err != nil {
			return nil, fmt.Errorf("SINP_STAGING_DIR: %w", err)
		}
		var secret archivekey.Secret
		if cfg.F2Encrypt {
			if secret, err = archivekey.LoadOrCreate(archivekey.Path(cfg.F2SecretFile, p.Config.DataDir)); err != nil {
				return nil, err
			}
		}
		a := &app.Service{DB: p.DB, Emitter: p.Emitter(d), Clock: p.Clock, Zones: zones, StagingDir: cfg.StagingDir, Secret: secret,
			Encrypt: cfg.F2Encrypt, Retention: cfg.Retention, Log: p.Log.With("service", Name), BeforeCommit: TestHooks.BeforePublishCommit}
		deliveryv1.RegisterDeliveryServiceServer(p.GRPC, &api.Server{App: a})
		p.HTTP.Handle(api.DownloadRoute, &api.Downloads{App: a, Auth: p.Auth, DB: p.DB})
		c := p.Consumer(d, ConsumerName, []string{bus.SubjectReleaseGranted, bus.SubjectReleaseWithheld},
			func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
				switch ev := dl.Event.(type) {
				case *eventsv1.ReleaseGranted:
					return a.Publish(ctx, tx, ev)
				case *eventsv1.ReleaseWithheld:
					return a.Notice(ctx, tx, ev)
				}
				return consumer.Permanent(fmt.Errorf("unexpected %T", dl.Event))
			})
		timers := p.Timers(d, map[string]timer.Handler{app.TimerKind: a.Expire})
		return func(ctx context.Context) error {
			if err := a.Reconcile(ctx); err != nil {
				a.Log.Error("delivery: cannot rewrite the manifests at start", "err", err)
			}
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return c.Run(gctx) })
			g.Go(func() error { return timers.Run(gctx) })
			return g.Wait()
		}, nil
	}
	return d
}
