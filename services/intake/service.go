// Package intake is the intake service of the SINP platform: it owns
// extraction requests and their instruction (package request), accounts
// and sign-in (package account), and the membership registry (package
// membership). It emits RequestSubmitted, RequestInstructed,
// RequestRejected, RequestCancelled, MembershipChanged and TokenRevoked,
// and follows the extraction, review and delivery events to keep each
// request's status and history.
package intake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/consumer"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/service"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/account"
	"sinp.occitanie.fr/services/intake/membership"
	"sinp.occitanie.fr/services/intake/migrations"
	"sinp.occitanie.fr/services/intake/perimeter"
	"sinp.occitanie.fr/services/intake/request"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "intake"

// ConsumerName is the durable consumer of the events intake follows.
const ConsumerName = "intake-status"

// Config is intake's part of the environment.
type Config struct {
	AccessTTL   time.Duration `env:"SINP_INTAKE_ACCESS_TTL" default:"15m"`
	RefreshTTL  time.Duration `env:"SINP_INTAKE_REFRESH_TTL" default:"720h"`
	TrackingTTL time.Duration `env:"SINP_INTAKE_TRACKING_TTL" default:"8760h"`
	// The extractor's gRPC address (default: this process's SINP_GRPC_ADDR).
	ExtractorAddr  string  `env:"SINP_EXTRACTOR_ADDR"`
	MaxOpen        int     `env:"SINP_INTAKE_MAX_OPEN" default:"5"`
	MaxAreaKm2     float64 `env:"SINP_INTAKE_MAX_AREA_KM2" default:"20000"`
	MaxVertices    int     `env:"SINP_INTAKE_MAX_VERTICES" default:"5000"`
	MaxPerimeterKB int     `env:"SINP_INTAKE_MAX_PERIMETER_KB" default:"1024"`
	MaxAreas       int     `env:"SINP_INTAKE_MAX_AREAS" default:"500"`
	// Account-less submissions from one client address (an IPv6 /64)
	// within the window.
	AnonymousPerAddress int           `env:"SINP_INTAKE_ANONYMOUS_PER_ADDRESS" default:"10"`
	AnonymousWindow     time.Duration `env:"SINP_INTAKE_ANONYMOUS_WINDOW" default:"1h"`
}

// Validate checks the values; errors name the variable.
func (c *Config) Validate() error {
	var errs []error
	if c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour {
		errs = append(errs, errors.New("SINP_INTAKE_ACCESS_TTL: between 1m and 24h"))
	}
	if c.TrackingTTL <= 0 || c.RefreshTTL <= 0 {
		errs = append(errs, errors.New("SINP_INTAKE_REFRESH_TTL, SINP_INTAKE_TRACKING_TTL: positive"))
	}
	// A revoked token must stay revoked as long as it could be used.
	if max(c.AccessTTL, c.TrackingTTL) > 399*24*time.Hour {
		errs = append(errs, errors.New("SINP_INTAKE_TRACKING_TTL: at most 399 days (revocations are kept 400)"))
	}
	if c.MaxOpen < 1 || c.MaxVertices < 4 || c.MaxPerimeterKB < 1 || c.MaxAreas < 1 {
		errs = append(errs, errors.New("SINP_INTAKE_MAX_OPEN, _MAX_VERTICES, _MAX_PERIMETER_KB, _MAX_AREAS: positive (vertices at least 4)"))
	}
	if c.AnonymousPerAddress < 1 {
		errs = append(errs, errors.New("SINP_INTAKE_ANONYMOUS_PER_ADDRESS: at least 1"))
	}
	if c.AnonymousWindow < time.Minute {
		errs = append(errs, errors.New("SINP_INTAKE_ANONYMOUS_WINDOW: at least 1m"))
	}
	return errors.Join(errs...)
}

func (c *Config) limits() request.Limits {
	l := request.DefaultLimits()
	l.MaxOpen, l.MaxAreas = c.MaxOpen, c.MaxAreas
	l.AnonymousPerAddress, l.AnonymousWindow = c.AnonymousPerAddress, c.AnonymousWindow
	l.Perimeter = perimeter.Limits{MaxBytes: c.MaxPerimeterKB << 10, MaxVertices: c.MaxVertices, MaxAreaKm2: c.MaxAreaKm2}
	return l
}

// Access is who may call each of intake's methods.
var Access = auth.Merge(request.Access, account.Access, membership.Access)

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	d := service.Definition{
		Name: Name, Schema: "intake", Migrations: []pg.Migrations{migrations.Intake},
		GRPCServices: []string{intakev1.IntakeService_ServiceDesc.ServiceName, intakev1.AccountService_ServiceDesc.ServiceName,
			intakev1.MembershipService_ServiceDesc.ServiceName},
		Access: Access,
	}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		var cfg Config
		if err := config.Load(&cfg, p.Lookup); err != nil {
			return nil, err
		}
		if p.Signer == nil {
			return nil, errors.New("intake issues tokens: it needs the signing key (SINP_AUTH_KEY_FILE, not -)")
		}
		addr := cfg.ExtractorAddr
		if addr == "" {
			addr = p.GRPCAddr
		}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("SINP_EXTRACTOR_ADDR=%s: %w", addr, err)
		}
		emitter := p.Emitter(d)
		members := membership.NewServer(p.DB, emitter, p.Clock, p.Log.With("service", Name))
		accounts := &account.Service{DB: p.DB, Emitter: emitter, Signer: p.Signer, Now: time.Now, AccessTTL: cfg.AccessTTL,
			RefreshTTL: cfg.RefreshTTL, Limits: account.DefaultLimits(), Log: p.Log.With("service", Name), Structures: structureExists}
		requests := &request.Service{DB: p.DB, Emitter: emitter, Clock: p.Clock, Signer: p.Signer,
			Extractor: &extractorClient{c: extractorv1.NewExtractorServiceClient(conn), signer: p.Signer},
			Registry:  registry, Email: accountEmail, Limits: cfg.limits(), TrackingTTL: cfg.TrackingTTL, Log: p.Log.With("service", Name)}
		intakev1.RegisterIntakeServiceServer(p.GRPC, &request.Server{Requests: requests})
		intakev1.RegisterAccountServiceServer(p.GRPC, &account.Server{Accounts: accounts})
		intakev1.RegisterMembershipServiceServer(p.GRPC, members)
		c := p.Consumer(d, ConsumerName, request.FollowSubjects, func(ctx context.Context, tx pgx.Tx, dl consumer.Delivery) error {
			return requests.Follow(ctx, tx, dl.Event)
		})
		c.Batch = 32
		return func(ctx context.Context) error {
			defer conn.Close()
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return c.Run(gctx) })
			return g.Wait()
		}, nil
	}
	return d
}

// Commands are intake's commands.
func Commands() []*cli.Command {
	return append(append(account.Commands(), request.Commands()...), membership.Commands()...)
}

func accountEmail(ctx context.Context, q pg.Querier, id string) (string, error) {
	var email string
	err := q.QueryRow(ctx, `SELECT email FROM intake.account WHERE id = $1`, id).Scan(&email)
	return email, err
}

// extractorClient calls the extractor's API as intake itself, with a
// short-lived service token it signs.
type extractorClient struct {
	c      extractorv1.ExtractorServiceClient
	signer *auth.Signer

	mu      sync.Mutex
	token   string
	expires time.Time
}

func (x *extractorClient) ctx(ctx context.Context) (context.Context, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if time.Until(x.expires) < time.Minute {
		tok, p, err := x.signer.Issue(auth.Principal{Kind: auth.Service, Subject: Name, Name: Name}, time.Now(), 10*time.Minute)
		if err != nil {
			return nil, err
		}
		x.token, x.expires = tok, p.ExpiresAt
	}
	return auth.WithToken(ctx, x.token), nil
}

func (x *extractorClient) CheckScope(ctx context.Context, req *extractorv1.CheckScopeRequest) (*extractorv1.CheckScopeResponse, error) {
	cctx, err := x.ctx(ctx)
	if err != nil {
		return nil, err
	}
	return x.c.CheckScope(cctx, req)
}

func (x *extractorClient) EstimateExtraction(ctx context.Context, req *extractorv1.EstimateExtractionRequest) (*extractorv1.EstimateExtractionResponse, error) {
	cctx, err := x.ctx(ctx)
	if err != nil {
		return nil, err
	}
	return x.c.EstimateExtraction(cctx, req)
}

func (x *extractorClient) GetTerritory(ctx context.Context, req *extractorv1.GetTerritoryRequest) (*extractorv1.GetTerritoryResponse, error) {
	cctx, err := x.ctx(ctx)
	if err != nil {
		return nil, err
	}
	return x.c.GetTerritory(cctx, req)
}

// registry resolves a structure's membership now; a structure the
// registry does not know is a non-adherent.
func registry(ctx context.Context, q pg.Querier, id string) (request.Member, error) {
	m, err := membership.Lookup(ctx, q, id)
	if errors.Is(err, membership.ErrNotFound) {
		return request.Member{Membership: eventsv1.Membership_MEMBERSHIP_NON_ADHERENT}, nil
	}
	if err != nil {
		return request.Member{}, err
	}
	return request.Member{Name: m.Name, Membership: m.Membership()}, nil
}

func structureExists(ctx context.Context, q pg.Querier, id string) (bool, error) {
	_, err := membership.Lookup(ctx, q, id)
	if errors.Is(err, membership.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
