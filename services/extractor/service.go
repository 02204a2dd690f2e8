// Package extractor is the extractor service of the SINP platform: it owns
// extraction runs and staged archives. On RequestInstructed it records a
// run; workers claim runs inside the off-peak window, extract the
// observations into F1 and F2 archives (package extraction), stage them
// and announce ExtractionStarted, ExtractionProgress, PartitionExtracted,
// ArchiveStaged, ExtractionCompleted or ExtractionFailed through the outbox.
// On ArchiveExpired and ReleaseWithheld it deletes the staged archive no one
// will publish again.
// It serves sinp.extractor.v1.ExtractorService (package api): estimates,
// scope checks and the store's territory.
package extractor

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/platform/staging"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	"sinp.occitanie.fr/services/extractor/api"
	"sinp.occitanie.fr/services/extractor/extraction"
	"sinp.occitanie.fr/sevenz"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "extractor"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations create the extractor's schema.
var Migrations = pg.Migrations{Component: Name, Schema: Name, FS: migrations, Dir: "migrations"}

// testHooks let the crash tests kill the process at the worst moments.
var testHooks struct{ afterExtract, afterStage func() }

// ConsumerName is the durable consumer of RequestInstructed.
const ConsumerName = "extractor-requests"

// StagingConsumerName is the durable consumer of the events that end a
// staged copy: ArchiveExpired and ReleaseWithheld.
const StagingConsumerName = "extractor-staging"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	d := service.Definition{
		Name: Name, Schema: Name, Migrations: []pg.Migrations{Migrations},
		GRPCServices: []string{extractorv1.ExtractorService_ServiceDesc.ServiceName},
		Access:       api.Access,
	}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		w, err := newWorker(ctx, p, d)
		if err != nil {
			return nil, err
		}
		extractorv1.RegisterExtractorServiceServer(p.GRPC, api.NewServer(p.DB, p.Log.With("service", Name)))
		c := p.Consumer(d, ConsumerName, []string{bus.SubjectRequestInstructed}, func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
			ev, ok := dl.Event.(*eventsv1.RequestInstructed)
			if !ok {
				return consumer.Permanent(fmt.Errorf("unexpected %T", dl.Event))
			}
			return w.runs.add(ctx, tx, ev, dl.EventID)
		})
		ends := p.Consumer(d, StagingConsumerName, []string{bus.SubjectArchiveExpired, bus.SubjectReleaseWithheld}, func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
			end, err := stagedCopyEnds(dl.Event)
			if err != nil {
				return consumer.Permanent(err)
			}
			removed, err := w.runs.endStaged(ctx, tx, w.staging, end, w.clock.Now())
			if err == nil && len(removed) > 0 {
				pg.AfterCommit(tx, func() {
					w.log.Info("staged archive deleted", "deliverable", end.DeliverableID, "because", end.Why, "paths", removed, "event", dl.EventID)
				})
			}
			return err
		})
		return func(ctx context.Context) error {
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return c.Run(gctx) })
			g.Go(func() error { return ends.Run(gctx) })
			g.Go(func() error { return w.loop(gctx) })
			return g.Wait()
		}, nil
	}
	return d
}

func newWorker(ctx context.Context, p *service.Process, d service.Definition) (*worker, error) {
	var cfg Config
	if err := config.Load(&cfg, p.Lookup); err != nil {
		return nil, err
	}
	if cfg.StagingDir == "" {
		cfg.StagingDir = filepath.Join(p.Config.DataDir, "staging")
	}
	if err := markStaging(ctx, p, cfg.StagingDir); err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.WindowZone)
	window, err := ParseWindow(cfg.Window, loc)
	if err != nil {
		return nil, err
	}
	codec, _ := sevenz.ParseCodec(cfg.Codec)
	secret, err := cfg.secret(p.Config.DataDir)
	if err != nil {
		return nil, err
	}
	pack := extraction.PackOptions{Codec: codec, Level: cfg.Level, BlockSize: cfg.BlockSize, Window: cfg.History,
		FullVerify: cfg.Verify == "full"}
	keyID := ""
	if secret != nil {
		pack.F2Password, keyID = secret.Password, secret.ID()
	}
	host, _ := os.Hostname()
	return &worker{
		afterExtract: testHooks.afterExtract, afterStage: testHooks.afterStage,
		cfg: cfg, db: p.DB, clock: p.Clock, log: p.Log.With("service", Name),
		emitter: p.Emitter(d), runs: runs{db: p.DB}, staging: Staging{Root: cfg.StagingDir}, window: window,
		pack: pack, keyID: keyID,
		owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano()),
		wake:  p.Listener.Subscribe("extractor_run"),
	}, nil
}

// markStaging holds the staging area to the one the deployment recorded
// (by its mark's id), or records it on first start.
func markStaging(ctx context.Context, p *service.Process, dir string) error {
	return pg.InTx(ctx, p.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE extractor.staging_area IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var known string
		if err := tx.QueryRow(ctx, `SELECT id FROM extractor.staging_area`).Scan(&known); err != nil && !pg.IsNoRows(err) {
			return err
		}
		id, err := staging.MarkArea(dir, known)
		if err != nil {
			return fmt.Errorf("SINP_STAGING_DIR: %w", err)
		}
		if known == "" {
			_, err = tx.Exec(ctx, `INSERT INTO extractor.staging_area (id) VALUES ($1)`, id)
		}
		return err
	})
}
