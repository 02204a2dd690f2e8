// Package api is the membership registry's gRPC API
// (sinp.intake.v1.MembershipService): who may call what (Access, then the
// own-structure and own-pôle checks inside), requests into use cases, and
// domain errors into statuses naming the field at fault.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/text"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/membership/registry"
	"sinp.occitanie.fr/services/intake/membership/rule"
	"sinp.occitanie.fr/services/intake/membership/store"
)

// Access says who may call each method. Inside, a requester reaches its
// own structure only (another answers as missing, so ids cannot be
// probed) and a reviewer speaks for its own pôle only. The import is also
// an operator's, to bootstrap a deployment before any administrator
// account exists.
var Access = auth.Rules{
	intakev1.MembershipService_CreateStructure_FullMethodName:        auth.Allow(auth.Administrator),
	intakev1.MembershipService_UpdateStructure_FullMethodName:        auth.Allow(auth.Administrator),
	intakev1.MembershipService_GetStructure_FullMethodName:           auth.Allow(auth.Administrator, auth.Reviewer, auth.Requester),
	intakev1.MembershipService_ListStructures_FullMethodName:         auth.Allow(auth.Administrator, auth.Reviewer, auth.Requester),
	intakev1.MembershipService_OpenPromotion_FullMethodName:          auth.Allow(auth.Administrator),
	intakev1.MembershipService_RecordPromotionOpinion_FullMethodName: auth.Allow(auth.Reviewer),
	intakev1.MembershipService_DecidePromotion_FullMethodName:        auth.Allow(auth.Administrator),
	intakev1.MembershipService_WithdrawMembership_FullMethodName:     auth.Allow(auth.Administrator),
	intakev1.MembershipService_ListAdherents_FullMethodName:          auth.Public(),
	intakev1.MembershipService_ImportRegistry_FullMethodName:         auth.Allow(auth.Administrator, auth.Operator),
}

// Listing bounds.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
	maxID           = 100
)

// Server serves sinp.intake.v1.MembershipService.
type Server struct {
	intakev1.UnimplementedMembershipServiceServer
	App *app.Service
	// Log receives what a caller is not told (the cause of an internal
	// error); nil discards it.
	Log *slog.Logger
}

// New returns the server of the registry svc.
func New(svc *app.Service, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{App: svc, Log: log}
}

func (s *Server) CreateStructure(ctx context.Context, req *intakev1.CreateStructureRequest) (*intakev1.CreateStructureResponse, error) {
	p := auth.FromContext(ctx)
	in := req.GetStructure()
	if in == nil {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "structure", Description: "required"})
	}
	var bad []grpcserver.Violation
	if st := in.GetStatus(); st != intakev1.MembershipStatus_MEMBERSHIP_STATUS_UNSPECIFIED && st != intakev1.MembershipStatus_MEMBERSHIP_STATUS_PRE_ADHERENT {
		bad = append(bad, grpcserver.Violation{Field: "structure.status", Description: "a structure joins as a pre-adherent; adherent comes by promotion (leave it empty)"})
	}
	regID, v := registryID(in.GetRegistryId())
	bad = append(bad, v...)
	requested, v := requestedAt(in)
	bad = append(bad, v...)
	if len(bad) > 0 {
		return nil, grpcserver.Invalid(bad...)
	}
	st, err := s.App.Create(ctx, p.String(), app.NewStructure{Profile: profileOf(in), RegistryID: regID, RequestedAt: requested, Remarks: strings.TrimSpace(in.GetRemarks())})
	if err != nil {
		return nil, s.fail(err, "")
	}
	return &intakev1.CreateStructureResponse{Structure: structureProto(st, full)}, nil
}

func (s *Server) UpdateStructure(ctx context.Context, req *intakev1.UpdateStructureRequest) (*intakev1.UpdateStructureResponse, error) {
	p := auth.FromContext(ctx)
	in := req.GetStructure()
	if in == nil {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "structure", Description: "required: its id and the fields to change"})
	}
	id, err := structureID("structure.id", in.GetId())
	if err != nil {
		return nil, err
	}
	regID, bad := registryID(in.GetRegistryId())
	requested, v := requestedAt(in)
	if bad = append(bad, v...); len(bad) > 0 {
		return nil, grpcserver.Invalid(bad...)
	}
	st, err := s.App.Update(ctx, p.String(), id, app.Patch{Profile: profileOf(in), RegistryID: regID, RequestedAt: requested,
		Remarks: strings.TrimSpace(in.GetRemarks()), Status: app.StatusOf(in.GetStatus())})
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.UpdateStructureResponse{Structure: structureProto(st, full)}, nil
}

func (s *Server) GetStructure(ctx context.Context, req *intakev1.GetStructureRequest) (*intakev1.GetStructureResponse, error) {
	p := auth.FromContext(ctx)
	id, err := structureID("id", req.GetId())
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.Requester && p.Structure != id {
		return nil, notFound(id)
	}
	st, err := s.App.Get(ctx, id)
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.GetStructureResponse{Structure: structureProto(st, viewOf(p))}, nil
}

// cursor is a page token: where the page ended, for which filter.
type cursor struct {
	store.Cursor
	Status int32 `json:"s"`
}

func (s *Server) ListStructures(ctx context.Context, req *intakev1.ListStructuresRequest) (*intakev1.ListStructuresResponse, error) {
	p := auth.FromContext(ctx)
	size := int(req.GetPageSize())
	switch {
	case size == 0:
		size = DefaultPageSize
	case size < 0 || size > MaxPageSize:
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_size", Description: fmt.Sprintf("between 1 and %d", MaxPageSize)})
	}
	if _, ok := intakev1.MembershipStatus_name[int32(req.GetStatus())]; !ok {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "status", Description: "unknown status"})
	}
	f := store.Filter{Status: app.StatusOf(req.GetStatus()), Limit: size}
	if tok := req.GetPageToken(); tok != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || json.Unmarshal(b, &c) != nil || c.Status != int32(req.GetStatus()) {
			return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_token", Description: "not a token of this listing"})
		}
		f.After = c.Cursor
	}
	if p.Kind == auth.Requester {
		return s.ownStructure(ctx, p, f)
	}
	list, more, err := s.App.List(ctx, f)
	if err != nil {
		return nil, s.fail(err, "")
	}
	resp := &intakev1.ListStructuresResponse{}
	for _, st := range list {
		resp.Structures = append(resp.Structures, structureProto(st, viewOf(p)))
	}
	if more {
		last := list[len(list)-1]
		b, _ := json.Marshal(cursor{Cursor: store.Cursor{Name: last.Name, ID: last.ID}, Status: int32(req.GetStatus())})
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return resp, nil
}

// ownStructure is a requester's listing: its own structure, when it has
// one and it passes the filter.
func (s *Server) ownStructure(ctx context.Context, p auth.Principal, f store.Filter) (*intakev1.ListStructuresResponse, error) {
	resp := &intakev1.ListStructuresResponse{}
	if p.Structure == "" || f.After != (store.Cursor{}) {
		return resp, nil
	}
	st, err := s.App.Get(ctx, p.Structure)
	if errors.Is(err, store.ErrNotFound) {
		return resp, nil
	}
	if err != nil {
		return nil, s.fail(err, "")
	}
	if f.Status == rule.None || st.Status == f.Status {
		st.History = nil // as every listing: GetStructure has it
		resp.Structures = append(resp.Structures, structureProto(st, requesterView))
	}
	return resp, nil
}

func (s *Server) OpenPromotion(ctx context.Context, req *intakev1.OpenPromotionRequest) (*intakev1.OpenPromotionResponse, error) {
	p := auth.FromContext(ctx)
	id, err := structureID("structure_id", req.GetStructureId())
	if err != nil {
		return nil, err
	}
	why, err := freeText("remarks", req.GetRemarks(), rule.MaxRemarks)
	if err != nil {
		return nil, err
	}
	st, err := s.App.OpenPromotion(ctx, p.String(), id, why)
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.OpenPromotionResponse{Promotion: promotionProto(st, full)}, nil
}

func (s *Server) RecordPromotionOpinion(ctx context.Context, req *intakev1.RecordPromotionOpinionRequest) (*intakev1.RecordPromotionOpinionResponse, error) {
	p := auth.FromContext(ctx)
	id, err := structureID("structure_id", req.GetStructureId())
	if err != nil {
		return nil, err
	}
	// A reviewer speaks for its own pôle, whatever it asks.
	if asked := strings.TrimSpace(req.GetPole()); asked != "" && asked != p.Pole {
		return nil, status.Errorf(codes.PermissionDenied, "a reviewer of pôle %s gives the position of pôle %s only", p.Pole, p.Pole)
	}
	argument, err := freeText("argument", req.GetArgument(), rule.MaxArgument)
	if err != nil {
		return nil, err
	}
	st, err := s.App.RecordPosition(ctx, id, rule.Position{Pole: p.Pole, Approves: req.GetApproves(), Argument: argument, Reviewer: p.Subject})
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.RecordPromotionOpinionResponse{Promotion: promotionProto(st, full)}, nil
}

func (s *Server) DecidePromotion(ctx context.Context, req *intakev1.DecidePromotionRequest) (*intakev1.DecidePromotionResponse, error) {
	p := auth.FromContext(ctx)
	id, err := structureID("structure_id", req.GetStructureId())
	if err != nil {
		return nil, err
	}
	why, err := freeText("remarks", req.GetRemarks(), rule.MaxRemarks)
	if err != nil {
		return nil, err
	}
	st, err := s.App.Decide(ctx, p.String(), id, req.GetPromote(), why)
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.DecidePromotionResponse{Structure: structureProto(st, full)}, nil
}

func (s *Server) WithdrawMembership(ctx context.Context, req *intakev1.WithdrawMembershipRequest) (*intakev1.WithdrawMembershipResponse, error) {
	p := auth.FromContext(ctx)
	id, err := structureID("structure_id", req.GetStructureId())
	if err != nil {
		return nil, err
	}
	why, err := freeText("remarks", req.GetRemarks(), rule.MaxRemarks)
	if err != nil {
		return nil, err
	}
	st, err := s.App.Withdraw(ctx, p.String(), id, why)
	if err != nil {
		return nil, s.fail(err, id)
	}
	return &intakev1.WithdrawMembershipResponse{Structure: structureProto(st, full)}, nil
}

func (s *Server) ListAdherents(ctx context.Context, _ *intakev1.ListAdherentsRequest) (*intakev1.ListAdherentsResponse, error) {
	list, err := s.App.Adherents(ctx)
	if err != nil {
		return nil, s.fail(err, "")
	}
	resp := &intakev1.ListAdherentsResponse{}
	for _, st := range list {
		resp.Adherents = append(resp.Adherents, adherentProto(st))
	}
	return resp, nil
}

func (s *Server) ImportRegistry(ctx context.Context, req *intakev1.ImportRegistryRequest) (*intakev1.ImportRegistryResponse, error) {
	p := auth.FromContext(ctx)
	switch n := len(req.GetCsv()); {
	case n == 0:
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "csv", Description: "required: the registry's CSV (id_adher;structure;date_demande;proposition;remarque)"})
	case n > registry.MaxBytes:
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "csv", Description: fmt.Sprintf("%d bytes; at most %d MiB", n, registry.MaxBytes>>20)})
	}
	out, err := s.App.Import(ctx, p.String(), req.GetCsv())
	if err != nil {
		return nil, s.fail(err, "")
	}
	resp := &intakev1.ImportRegistryResponse{Created: int32(out.Created), Updated: int32(out.Updated)}
	for _, e := range out.Proposed {
		resp.ProposedForPromotion = append(resp.ProposedForPromotion, e.ID)
	}
	return resp, nil
}

func structureID(field, id string) (string, error) {
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", grpcserver.Invalid(grpcserver.Violation{Field: field, Description: "required: the structure's id"})
	case len(id) > maxID:
		return "", grpcserver.Invalid(grpcserver.Violation{Field: field, Description: "not a structure id"})
	}
	return id, nil
}

func registryID(id string) (string, []grpcserver.Violation) {
	if strings.TrimSpace(id) == "" {
		return "", nil
	}
	n, ok := registry.NormalizeID(id)
	if !ok {
		return "", []grpcserver.Violation{{Field: "structure.registry_id", Description: "the registry's number (id_adher): a positive whole number"}}
	}
	return n, nil
}

// freeText checks and cleans what a person wrote that may span lines
// (remarks, an argument), through platform/text.
func freeText(field, s string, maxBytes int) (string, error) {
	s, err := text.Check(s, text.Multiline, 0, maxBytes)
	if err != nil {
		return "", grpcserver.Invalid(grpcserver.Violation{Field: field, Description: err.Error()})
	}
	return s, nil
}

func notFound(id string) error {
	return status.Errorf(codes.NotFound, "no structure %s in the registry", id)
}

// fail turns a use case's error into the caller's status.
func (s *Server) fail(err error, id string) error {
	var invalid *app.Invalid
	var file *registry.Error
	switch {
	case errors.As(err, &invalid):
		bad := make([]grpcserver.Violation, len(invalid.Violations))
		for i, v := range invalid.Violations {
			bad[i] = grpcserver.Violation{Field: "structure." + v.Field, Description: v.Problem}
		}
		return grpcserver.Invalid(bad...)
	case errors.As(err, &file):
		bad := make([]grpcserver.Violation, 0, len(file.Problems)+1)
		for _, p := range file.Problems {
			bad = append(bad, grpcserver.Violation{Field: "csv", Description: p.String()})
		}
		if file.More > 0 {
			bad = append(bad, grpcserver.Violation{Field: "csv", Description: fmt.Sprintf("and %d more problems", file.More)})
		}
		return grpcserver.Invalid(bad...)
	case errors.Is(err, store.ErrNotFound):
		return notFound(id)
	case errors.Is(err, store.ErrRegistryIDTaken):
		return status.Error(codes.AlreadyExists, "structure.registry_id: "+err.Error())
	case errors.Is(err, rule.ErrArgumentRequired):
		return grpcserver.Invalid(grpcserver.Violation{Field: "argument", Description: "required for an objection: the administrator weighs it and the structure learns it"})
	case errors.Is(err, rule.ErrRemarksRequired):
		return grpcserver.Invalid(grpcserver.Violation{Field: "remarks", Description: strings.TrimPrefix(err.Error(), "rule: ")})
	case errors.Is(err, rule.ErrUnknownPole):
		return grpcserver.Invalid(grpcserver.Violation{Field: "pole", Description: strings.TrimPrefix(err.Error(), "rule: ")})
	case errors.Is(err, rule.ErrNotPreAdherent), errors.Is(err, rule.ErrPromotionOpen), errors.Is(err, rule.ErrNoOpenPromotion),
		errors.Is(err, rule.ErrAlreadyWithdrawn), errors.Is(err, rule.ErrNotWithdrawn), errors.Is(err, rule.ErrNotIn):
		return status.Errorf(codes.FailedPrecondition, "structure %s: %s", id, strings.TrimPrefix(err.Error(), "rule: "))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	}
	if s.Log != nil {
		s.Log.Error("membership", "structure", id, "err", err)
	}
	return status.Error(codes.Unavailable, "membership: the registry is unavailable; try again")
}
