// Package review is the review service of the SINP platform: it owns the
// pôles' opinions on F2 deliverables, review deadlines and release timers.
// On ExtractionCompleted it opens one review per pôle with sensitive rows
// of an entitled request; pôle reviewers give opinions through its API
// (package api); durable timers on the deployment's clock release F1 and
// each F2, or withhold an F2, exactly when the rule (package rule) says,
// announcing ReviewOpened, OpinionRecorded, ReleaseGranted and
// ReleaseWithheld through the outbox.
package review

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/platform/timer"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
	"sinp.occitanie.fr/services/review/api"
	"sinp.occitanie.fr/services/review/app"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "review"

// ConsumerName is the durable consumer of ExtractionCompleted.
const ConsumerName = "review-extractions"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations create the review schema.
var Migrations = pg.Migrations{Component: Name, Schema: app.Schema, FS: migrations, Dir: "migrations"}

// Config is the release timing (DESIGN.md: 6 days, 6 days, 21 days,
// progressive). A review keeps the policy in force when it opened.
type Config struct {
	Policy           string        `env:"SINP_REVIEW_POLICY" default:"progressive"`
	F1Latency        time.Duration `env:"SINP_REVIEW_F1_AFTER" default:"144h"`
	FavorableLatency time.Duration `env:"SINP_REVIEW_FAVORABLE_AFTER" default:"144h"`
	Deadline         time.Duration `env:"SINP_REVIEW_DEADLINE" default:"504h"`
	// PolicyChange makes this replica's policy the deployment's, when it
	// differs (otherwise the replica refuses to start).
	PolicyChange bool `env:"SINP_REVIEW_POLICY_CHANGE"`
}

// RulePolicy is the configuration as the rule reads it.
func (c *Config) RulePolicy() (rule.Policy, error) {
	mode, err := rule.ParseMode(c.Policy)
	if err != nil {
		return rule.Policy{}, fmt.Errorf("SINP_REVIEW_POLICY=%q: want progressive or batched", c.Policy)
	}
	p := rule.Policy{F1Latency: c.F1Latency, FavorableLatency: c.FavorableLatency, Deadline: c.Deadline, Mode: mode}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("SINP_REVIEW_F1_AFTER, SINP_REVIEW_FAVORABLE_AFTER, SINP_REVIEW_DEADLINE: %w", err)
	}
	return p, nil
}

// Validate checks the policy; errors name the variables.
func (c *Config) Validate() error {
	_, err := c.RulePolicy()
	return err
}

// TestHooks let the crash tests kill the process at the worst moments.
var TestHooks struct {
	// BeforeSettleCommit runs inside a release timer's transaction, before
	// it commits.
	BeforeSettleCommit func(reference string)
}

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	d := service.Definition{
		Name: Name, Schema: app.Schema,
		Migrations:   []pg.Migrations{Migrations, timer.Migrations(app.Schema)},
		GRPCServices: []string{reviewv1.ReviewService_ServiceDesc.ServiceName},
		Access:       api.Access,
	}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		var cfg Config
		if err := config.Load(&cfg, p.Lookup); err != nil {
			return nil, err
		}
		policy, _ := cfg.RulePolicy()
		if err := agreePolicy(ctx, p, policy, cfg.PolicyChange); err != nil {
			return nil, err
		}
		a := &app.Service{DB: p.DB, Emitter: p.Emitter(d), Clock: p.Clock, Policy: policy, Log: p.Log.With("service", Name),
			BeforeSettleCommit: TestHooks.BeforeSettleCommit}
		reviewv1.RegisterReviewServiceServer(p.GRPC, &api.Server{App: a})
		c := p.Consumer(d, ConsumerName, []string{bus.SubjectExtractionDone}, func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
			ev, ok := dl.Event.(*eventsv1.ExtractionCompleted)
			if !ok {
				return consumer.Permanent(fmt.Errorf("unexpected %T", dl.Event))
			}
			if ev.GetReference() == "" || ev.GetCompletedAt() == nil {
				return consumer.Permanent(errors.New("ExtractionCompleted without reference or completion instant"))
			}
			return a.Open(ctx, tx, ev)
		})
		timers := p.Timers(d, map[string]timer.Handler{app.TimerKind: a.Fire})
		return func(ctx context.Context) error {
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return c.Run(gctx) })
			g.Go(func() error { return timers.Run(gctx) })
			return g.Wait()
		}, nil
	}
	return d
}

// agreePolicy holds this replica to the deployment's release policy: the
// first replica records its own; one configured otherwise is refused,
// unless told to change the deployment's (rule.Agree).
func agreePolicy(ctx context.Context, p *service.Process, configured rule.Policy, change bool) error {
	return pg.InTx(ctx, p.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE review.policy IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		var deployed *rule.Policy
		current, err := store.Policy(ctx, tx)
		switch {
		case err == nil:
			deployed = &current.Policy
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		record, err := rule.Agree(configured, deployed, change)
		if err != nil || !record {
			return err
		}
		host, _ := os.Hostname()
		by := fmt.Sprintf("review@%s/%d", host, os.Getpid())
		if deployed != nil {
			p.Log.Warn("review: the deployment's release policy changes (SINP_REVIEW_POLICY_CHANGE); open reviews keep theirs",
				"from", deployed.String(), "to", configured.String(), "by", by)
		}
		return store.SetPolicy(ctx, tx, configured, by)
	})
}
