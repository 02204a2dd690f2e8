package request

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
)

// Access says who may call each IntakeService method. Inside, a requester
// reaches its own requests, a tracking token its one request.
var Access = auth.Rules{
	intakev1.IntakeService_SubmitRequest_FullMethodName:   auth.Public(),
	intakev1.IntakeService_GetRequest_FullMethodName:      auth.Allow(auth.Requester, auth.Tracking, auth.Administrator),
	intakev1.IntakeService_ListRequests_FullMethodName:    auth.Allow(auth.Requester, auth.Tracking, auth.Administrator),
	intakev1.IntakeService_CancelRequest_FullMethodName:   auth.Allow(auth.Requester, auth.Tracking, auth.Administrator),
	intakev1.IntakeService_InstructRequest_FullMethodName: auth.Allow(auth.Administrator),
	intakev1.IntakeService_RetryExtraction_FullMethodName: auth.Allow(auth.Administrator),
	intakev1.IntakeService_EstimateRequest_FullMethodName: auth.Allow(auth.Administrator),
}

// Server serves sinp.intake.v1.IntakeService.
type Server struct {
	intakev1.UnimplementedIntakeServiceServer
	Requests *Service
}

// status turns a use case's error into the caller's status. What is not
// the caller's business (SQL, the extractor's or the registry's words) is
// logged, and the caller told to try again.
func (s *Server) status(err error) error {
	var forbidden ForbiddenError
	var transition ErrTransition
	var throttled ThrottledError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, "no such request (or not yours)")
	case errors.As(err, &forbidden):
		return status.Error(codes.PermissionDenied, forbidden.Error())
	case errors.As(err, &transition):
		return status.Error(codes.FailedPrecondition, transition.Error())
	case errors.As(err, &throttled):
		return status.Error(codes.ResourceExhausted, throttled.Error())
	case errors.Is(err, ErrUnavailable):
		s.log().Warn("intake: the extractor", "err", err)
		return status.Error(codes.Unavailable, ErrUnavailable.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case status.Code(err) != codes.Unknown:
		return err
	}
	s.log().Error("intake: requests", "err", err)
	return status.Error(codes.Unavailable, "intake: the requests are unavailable right now; try again")
}

func (s *Server) log() *slog.Logger {
	if s.Requests != nil && s.Requests.Log != nil {
		return s.Requests.Log
	}
	return slog.New(slog.DiscardHandler)
}

func reference(ref string) error {
	switch {
	case ref == "":
		return grpcserver.Invalid(grpcserver.Violation{Field: "reference", Description: "required"})
	case len(ref) > 64 || !visibleASCII(ref):
		return grpcserver.Invalid(grpcserver.Violation{Field: "reference", Description: "not a request reference (like R-2026-000042)"})
	}
	return nil
}

// PublicFailure is what a requester learns of a failed extraction: the
// extractor's own words (paths, SQL) are the administrator's.
const PublicFailure = "the extraction failed; the DREAL is told and may start it again"

// Proto is a request as the API shows it to p: the history's authors are
// the DREAL's business, not the requester's, and so is the cause of a
// failed extraction.
func Proto(r *Record, p auth.Principal) *intakev1.Request {
	sub := r.Submission
	out := &intakev1.Request{Reference: r.Reference, State: r.State.Proto(), Requester: sub.GetRequester(), Purpose: sub.GetPurpose(),
		Perimeter: sub.GetPerimeter(), Scope: sub.GetScope(), Period: sub.GetPeriod(), Options: sub.GetOptions(),
		SubmittedAt: timestamppb.New(r.SubmittedAt), UpdatedAt: timestamppb.New(r.UpdatedAt), RejectionReason: r.RejectionReason,
		CancellationReason: r.CancellationReason, Failure: r.Failure, AreaKm2: r.AreaKm2}
	if r.Instruction != nil {
		out.Requester = r.Instruction.GetRequester()
	}
	if r.F2Entitled != nil {
		out.F2Entitled = *r.F2Entitled
	}
	for _, d := range r.Deliverables {
		kind := eventsv1.FileKind_FILE_KIND_F1
		if d.Kind == "F2" {
			kind = eventsv1.FileKind_FILE_KIND_F2
		}
		ds := &intakev1.DeliverableStatus{DeliverableId: d.ID, Kind: kind, Pole: d.Pole, State: d.State.Proto(), Justification: d.Justification,
			Rows: d.Rows, Bytes: d.Bytes}
		if v, ok := eventsv1.ReleaseRule_value["RELEASE_RULE_"+upper(d.Rule)]; ok {
			ds.Rule = eventsv1.ReleaseRule(v)
		}
		if !d.ReleasedAt.IsZero() {
			ds.ReleasedAt = timestamppb.New(d.ReleasedAt)
		}
		out.Deliverables = append(out.Deliverables, ds)
	}
	admin := p.Kind == auth.Administrator
	if !admin && out.Failure != "" {
		out.Failure = PublicFailure
	}
	for _, h := range r.History {
		who, detail := h.Who, h.Detail
		if !admin {
			who = ""
			switch h.What {
			case historyFailed:
				detail = PublicFailure
			case historyCounts:
				continue
			case "extracted":
				detail = publicExtracted(detail)
			}
		}
		out.History = append(out.History, &intakev1.HistoryEntry{At: timestamppb.New(h.At), What: h.What, Who: who, Detail: detail})
	}
	return out
}

// olderExtracted is the "extracted" entry as it was written before the
// counts a requester may not see went to an entry of their own.
var olderExtracted = regexp.MustCompile(`^\d+ rows selected: (\d+) in F1, (\d+) in F2, \d+ in no file; (\d+) archives staged$`)

// publicExtracted is an "extracted" entry as a requester reads it: the
// rows of its files only.
func publicExtracted(detail string) string {
	m := olderExtracted.FindStringSubmatch(detail)
	if m == nil {
		return detail
	}
	if m[2] == "0" {
		return fmt.Sprintf("%s rows in F1; %s archives staged", m[1], m[3])
	}
	return fmt.Sprintf("%s rows in F1, %s in F2; %s archives staged", m[1], m[2], m[3])
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func (s *Server) SubmitRequest(ctx context.Context, req *intakev1.SubmitRequestRequest) (*intakev1.SubmitRequestResponse, error) {
	p := auth.FromContext(ctx)
	out, err := s.Requests.Submit(ctx, p, Submission{Declared: req.GetDeclared(), Purpose: req.GetPurpose(), Perimeter: req.GetPerimeter(),
		Scope: req.GetScope(), Period: req.GetPeriod(), Options: req.GetOptions(), CharterAccepted: req.GetCharterAccepted()}, req.GetIdempotencyKey(),
		grpcserver.Caller(ctx))
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.SubmitRequestResponse{Request: Proto(out.Record, p), TrackingToken: out.Tracking, Replayed: out.Replayed}, nil
}

func (s *Server) GetRequest(ctx context.Context, req *intakev1.GetRequestRequest) (*intakev1.GetRequestResponse, error) {
	if err := reference(req.GetReference()); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	r, err := s.Requests.Get(ctx, p, req.GetReference())
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.GetRequestResponse{Request: Proto(r, p)}, nil
}

type cursor struct {
	At  time.Time `json:"t"`
	Ref string    `json:"r"`
}

func (s *Server) ListRequests(ctx context.Context, req *intakev1.ListRequestsRequest) (*intakev1.ListRequestsResponse, error) {
	p := auth.FromContext(ctx)
	size := int(req.GetPageSize())
	if size <= 0 {
		size = 50
	}
	if size > 500 {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_size", Description: "at most 500"})
	}
	if pole := req.GetPole(); pole != "" && !slices.Contains(Poles, pole) {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "pole", Description: "unknown pôle (known: " + strings.Join(Poles, ", ") + ")"})
	}
	f := Filter{Pole: req.GetPole(), Limit: size + 1}
	if req.GetState() != intakev1.RequestState_REQUEST_STATE_UNSPECIFIED {
		st, ok := StateOf(req.GetState())
		if !ok {
			return nil, grpcserver.Invalid(grpcserver.Violation{Field: "state", Description: "unknown state"})
		}
		f.State = st
	}
	if req.GetSubmittedAfter() != nil {
		f.After = req.GetSubmittedAfter().AsTime()
	}
	if req.GetSubmittedBefore() != nil {
		f.Before = req.GetSubmittedBefore().AsTime()
	}
	if req.GetPageToken() != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
		if err != nil || json.Unmarshal(b, &c) != nil {
			return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_token", Description: "not a token this service gave"})
		}
		f.CursorAt, f.CursorRef = c.At, c.Ref
	}
	list, err := s.Requests.List(ctx, p, f)
	if err != nil {
		return nil, s.status(err)
	}
	resp := &intakev1.ListRequestsResponse{}
	if len(list) > size {
		last := list[size-1]
		b, _ := json.Marshal(cursor{At: last.SubmittedAt, Ref: last.Reference})
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
		list = list[:size]
	}
	for _, r := range list {
		resp.Requests = append(resp.Requests, Proto(r, p))
	}
	return resp, nil
}

func (s *Server) CancelRequest(ctx context.Context, req *intakev1.CancelRequestRequest) (*intakev1.CancelRequestResponse, error) {
	if err := reference(req.GetReference()); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	r, err := s.Requests.Cancel(ctx, p, req.GetReference(), req.GetReason())
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.CancelRequestResponse{Request: Proto(r, p)}, nil
}

func (s *Server) InstructRequest(ctx context.Context, req *intakev1.InstructRequestRequest) (*intakev1.InstructRequestResponse, error) {
	if err := reference(req.GetReference()); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	r, replayed, err := s.Requests.Instruct(ctx, p, Decision{Reference: req.GetReference(), Accept: req.GetAccept(), Reason: req.GetReason(),
		Remarks: req.GetRemarks(), Key: req.GetIdempotencyKey()})
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.InstructRequestResponse{Request: Proto(r, p), Replayed: replayed}, nil
}

func (s *Server) RetryExtraction(ctx context.Context, req *intakev1.RetryExtractionRequest) (*intakev1.RetryExtractionResponse, error) {
	if err := reference(req.GetReference()); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	r, err := s.Requests.Retry(ctx, p, req.GetReference())
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.RetryExtractionResponse{Request: Proto(r, p)}, nil
}

func (s *Server) EstimateRequest(ctx context.Context, req *intakev1.EstimateRequestRequest) (*intakev1.EstimateRequestResponse, error) {
	if err := reference(req.GetReference()); err != nil {
		return nil, err
	}
	r, snap, est, err := s.Requests.Estimate(ctx, req.GetReference())
	if err != nil {
		return nil, s.status(err)
	}
	resp := &intakev1.EstimateRequestResponse{Reference: r.Reference, F2Entitled: snap.GetF2Entitled(), RowsSelected: est.GetRowsSelected(),
		RowsF1: est.GetRowsF1(), RowsF2: est.GetRowsF2(), RowsWithheld: est.GetRowsWithheld()}
	for _, p := range est.GetPartitions() {
		resp.Rows = append(resp.Rows, &intakev1.EstimateRow{Kind: p.GetKey().GetKind(), Pole: p.GetKey().GetPole(),
			GeometryType: p.GetKey().GetGeometryType(), Rows: p.GetRows()})
	}
	return resp, nil
}
