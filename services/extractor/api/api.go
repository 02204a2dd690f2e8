// Package api is the extractor's gRPC API, sinp.extractor.v1.ExtractorService:
// who may call what (Access), requests checked and turned into an
// extraction Spec or a territory Scope, answers from the extraction's own
// counting (extraction.Estimate) and from the store (package territory),
// bad input answered with field violations.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	"sinp.occitanie.fr/services/extractor/extraction"
	"sinp.occitanie.fr/services/extractor/territory"
)

// Access says who may call each method: an estimate reads as much of the
// store as the extraction would, so only the DREAL and the platform's
// services ask for one; a requester may see the region it can ask about.
var Access = auth.Rules{
	extractorv1.ExtractorService_EstimateExtraction_FullMethodName: auth.Allow(auth.Administrator, auth.Service),
	extractorv1.ExtractorService_CheckScope_FullMethodName:         auth.Allow(auth.Service, auth.Administrator),
	extractorv1.ExtractorService_GetTerritory_FullMethodName:       auth.Allow(auth.Service, auth.Administrator, auth.Requester),
}

// MaxEstimates is how many estimates a process runs at once; others wait
// for a slot (or their deadline). Each reads its selection in one pass on
// a connection of its own, as an extraction does.
const MaxEstimates = 2

// Bounds on the lists a call carries: an estimate inlines its codes in
// its query, and CheckScope unions the areas.
const (
	MaxAreas  = 10000
	MaxPoles  = 64
	MaxCdRefs = 10000
)

// estimateReference names an estimate's spec: it writes no file.
const estimateReference = "estimate"

// Server serves sinp.extractor.v1.ExtractorService over the observation
// store.
type Server struct {
	extractorv1.UnimplementedExtractorServiceServer
	db        *pgxpool.Pool
	log       *slog.Logger
	territory territory.Store
	slots     chan struct{}
}

// NewServer serves the API over the store db reaches (the process's pool:
// the store and the extractor's schema share a database), logging
// internal errors to log.
func NewServer(db *pgxpool.Pool, log *slog.Logger) *Server {
	return &Server{db: db, log: log, territory: territory.Store{DB: db}, slots: make(chan struct{}, MaxEstimates)}
}

func (s *Server) EstimateExtraction(ctx context.Context, req *extractorv1.EstimateExtractionRequest) (*extractorv1.EstimateExtractionResponse, error) {
	spec, err := specOf(req)
	if err != nil {
		return nil, err
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	est, err := extraction.Estimate(ctx, spec, extraction.Options{DB: s.db})
	if err != nil {
		return nil, s.fail(ctx, "EstimateExtraction", err)
	}
	resp := &extractorv1.EstimateExtractionResponse{
		RowsSelected: est.Selected, RowsF1: est.F1, RowsF1Blurred: est.F1Blurred, RowsF2: est.F2,
		RowsWithheld: est.Withheld, RowsWithheldF1: est.WithheldF1, SensitivePoles: est.SensitivePoles,
	}
	for _, p := range est.Partitions {
		resp.Partitions = append(resp.Partitions, &extractorv1.PartitionCount{Key: p.Key.Message(), Rows: p.Rows})
	}
	return resp, nil
}

// specOf checks an estimate request and reads it as intake's instruction
// would be read (extraction.SpecFrom). The entitlement is the caller's
// word: the request carries no membership to check it against.
func specOf(req *extractorv1.EstimateExtractionRequest) (extraction.Spec, error) {
	var v []grpcserver.Violation
	if n := len(req.GetPerimeter().GetAreas()); n > MaxAreas {
		v = append(v, grpcserver.Violation{Field: "perimeter.areas", Description: fmt.Sprintf("%d areas: at most %d", n, MaxAreas)})
	}
	v = append(v, scopeViolations("scope.poles", req.GetScope().GetPoles(), "scope.cd_refs", req.GetScope().GetCdRefs())...)
	if a := req.GetOptions().GetAttachedGeometry(); eventsv1.AttachedGeometry_name[int32(a)] == "" {
		v = append(v, grpcserver.Violation{Field: "options.attached_geometry", Description: fmt.Sprintf("unknown policy %d (want NONE or MOST_PRECISE)", a)})
	}
	spec := extraction.SpecFrom(req.GetPerimeter(), req.GetScope(), req.GetPeriod(), req.GetOptions())
	spec.Reference = estimateReference
	spec.F2Entitled = req.GetF2Entitled()
	v = append(v, violations(spec.Validate())...)
	if len(v) > 0 {
		return spec, grpcserver.Invalid(v...)
	}
	return spec, nil
}

func (s *Server) CheckScope(ctx context.Context, req *extractorv1.CheckScopeRequest) (*extractorv1.CheckScopeResponse, error) {
	var v []grpcserver.Violation
	if n := len(req.GetAreas()); n > MaxAreas {
		v = append(v, grpcserver.Violation{Field: "areas", Description: fmt.Sprintf("%d areas: at most %d", n, MaxAreas)})
	}
	sc := territory.Scope{Poles: req.GetPoles(), CdRefs: req.GetCdRefs()}
	for i, a := range req.GetAreas() {
		if !slices.Contains(extraction.AreaKinds, a.GetKind()) {
			v = append(v, grpcserver.Violation{Field: fmt.Sprintf("areas[%d].kind", i),
				Description: fmt.Sprintf("unknown kind %q (want %s)", a.GetKind(), strings.Join(extraction.AreaKinds, ", "))})
		}
		if !extraction.ValidCode(a.GetCode()) {
			v = append(v, grpcserver.Violation{Field: fmt.Sprintf("areas[%d].code", i), Description: badCode(a.GetCode())})
		}
		sc.Areas = append(sc.Areas, extraction.AreaRef{Kind: a.GetKind(), Code: a.GetCode()})
	}
	v = append(v, scopeViolations("poles", sc.Poles, "cd_refs", sc.CdRefs)...)
	for i, p := range sc.Poles {
		if !extraction.ValidCode(p) {
			v = append(v, grpcserver.Violation{Field: fmt.Sprintf("poles[%d]", i), Description: badCode(p)})
		}
	}
	if len(v) > 0 {
		return nil, grpcserver.Invalid(v...)
	}
	c, err := s.territory.Check(ctx, sc)
	if err != nil {
		return nil, s.fail(ctx, "CheckScope", err)
	}
	resp := &extractorv1.CheckScopeResponse{UnknownPoles: c.UnknownPoles, UnknownCdRefs: c.UnknownCdRefs, AreasWkt: c.AreasWKT, AreasKm2: c.AreasKm2}
	for _, a := range c.UnknownAreas {
		resp.UnknownAreas = append(resp.UnknownAreas, &eventsv1.AreaRef{Kind: a.Kind, Code: a.Code})
	}
	return resp, nil
}

func (s *Server) GetTerritory(ctx context.Context, _ *extractorv1.GetTerritoryRequest) (*extractorv1.GetTerritoryResponse, error) {
	r, err := s.territory.Region(ctx)
	if err != nil {
		return nil, s.fail(ctx, "GetTerritory", err)
	}
	return &extractorv1.GetTerritoryResponse{RegionWkt: r.OutlineWKT, Poles: r.Poles}, nil
}

// scopeViolations bounds the pôle and taxon lists and checks the taxa:
// TAXREF ids are positive.
func scopeViolations(polesField string, poles []string, taxaField string, cdRefs []int64) []grpcserver.Violation {
	var v []grpcserver.Violation
	if len(poles) > MaxPoles {
		v = append(v, grpcserver.Violation{Field: polesField, Description: fmt.Sprintf("%d pôles: at most %d", len(poles), MaxPoles)})
	}
	if len(cdRefs) > MaxCdRefs {
		v = append(v, grpcserver.Violation{Field: taxaField, Description: fmt.Sprintf("%d taxa: at most %d", len(cdRefs), MaxCdRefs)})
	}
	for i, c := range cdRefs {
		if c <= 0 {
			v = append(v, grpcserver.Violation{Field: fmt.Sprintf("%s[%d]", taxaField, i), Description: fmt.Sprintf("%d is not a TAXREF cd_ref", c)})
		}
	}
	return v
}

func badCode(c string) string {
	if c == "" {
		return "required"
	}
	return fmt.Sprintf("bad code %q: letters, digits, - and _ only, 1 to 64", c)
}

// violations are the field errors of an extraction error.
func violations(err error) []grpcserver.Violation {
	var v []grpcserver.Violation
	for _, f := range extraction.FieldErrors(err) {
		v = append(v, grpcserver.Violation{Field: f.Field, Description: f.Problem})
	}
	return v
}

// fail turns an error into the status the caller can act on: a bad
// request names its fields, a caller that gave up gets its own reason,
// anything else is logged and answered without detail.
func (s *Server) fail(ctx context.Context, method string, err error) error {
	if errors.Is(err, extraction.ErrBadRequest) {
		if v := violations(err); len(v) > 0 {
			return grpcserver.Invalid(v...)
		}
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	s.log.Error("extractor api", "method", method, "err", err)
	return status.Errorf(codes.Internal, "%s failed; the extractor's log says why", method)
}
