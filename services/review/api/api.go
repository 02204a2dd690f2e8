// Package api is the review service's gRPC API: who may call what (Access,
// and the pôle and ownership checks), requests into use cases, domain
// errors into statuses naming the field at fault.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/text"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
	"sinp.occitanie.fr/services/review/app"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

// Access says who may call each method. Inside, a reviewer reaches its
// own pôle only and a requester its own requests only.
var Access = auth.Rules{
	reviewv1.ReviewService_ListQueue_FullMethodName:      auth.Allow(auth.Reviewer, auth.Administrator),
	reviewv1.ReviewService_GetReview_FullMethodName:      auth.Allow(auth.Reviewer, auth.Administrator),
	reviewv1.ReviewService_RecordOpinion_FullMethodName:  auth.Allow(auth.Reviewer),
	reviewv1.ReviewService_GetReleasePlan_FullMethodName: auth.Allow(auth.Requester, auth.Tracking, auth.Administrator),
}

// Server serves sinp.review.v1.ReviewService.
type Server struct {
	reviewv1.UnimplementedReviewServiceServer
	App *app.Service
}

// pole is the pôle a call acts on: a reviewer's own, whatever it asks.
func pole(p auth.Principal, asked string, required bool) (string, error) {
	asked = strings.TrimSpace(asked)
	if p.Kind == auth.Reviewer {
		if asked != "" && asked != p.Pole {
			return "", status.Errorf(codes.PermissionDenied, "a reviewer of pôle %s acts on pôle %s only", p.Pole, p.Pole)
		}
		return p.Pole, nil
	}
	if required && asked == "" {
		return "", grpcserver.Invalid(grpcserver.Violation{Field: "pole", Description: "required: which pôle's review"})
	}
	return asked, nil
}

func reference(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", grpcserver.Invalid(grpcserver.Violation{Field: "reference", Description: "required: the request's reference"})
	}
	return ref, nil
}

func notFound(ref, pole string) error {
	if pole == "" {
		return status.Errorf(codes.NotFound, "request %s: no release plan (not extracted yet, or not yours)", ref)
	}
	return status.Errorf(codes.NotFound, "request %s has no review for pôle %s", ref, pole)
}

func (s *Server) GetReview(ctx context.Context, req *reviewv1.GetReviewRequest) (*reviewv1.GetReviewResponse, error) {
	p := auth.FromContext(ctx)
	ref, err := reference(req.GetReference())
	if err != nil {
		return nil, err
	}
	pl, err := pole(p, req.GetPole(), true)
	if err != nil {
		return nil, err
	}
	r, out, err := s.App.Review(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(ref, pl)
	}
	if err != nil {
		return nil, internal(err)
	}
	v, ok := reviewOf(r, pl, out)
	if !ok {
		return nil, notFound(ref, pl)
	}
	return &reviewv1.GetReviewResponse{Review: v}, nil
}

type cursor struct {
	store.QueueEntry
	Pole  string `json:"p"`
	State int    `json:"s"`
}

func (s *Server) ListQueue(ctx context.Context, req *reviewv1.ListQueueRequest) (*reviewv1.ListQueueResponse, error) {
	p := auth.FromContext(ctx)
	pl, err := pole(p, req.GetPole(), false)
	if err != nil {
		return nil, err
	}
	var state *rule.State
	switch req.GetState() {
	case reviewv1.ReviewState_REVIEW_STATE_OPEN:
		st := rule.Pending
		state = &st
	case reviewv1.ReviewState_REVIEW_STATE_RELEASED:
		st := rule.Released
		state = &st
	case reviewv1.ReviewState_REVIEW_STATE_WITHHELD:
		st := rule.Withheld
		state = &st
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = 50
	}
	if size > 500 {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_size", Description: "at most 500"})
	}
	var after store.QueueEntry
	if req.GetPageToken() != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
		if err != nil || json.Unmarshal(b, &c) != nil || c.Pole != pl || c.State != int(req.GetState()) {
			return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_token", Description: "not a token of this listing"})
		}
		after = c.QueueEntry
	}
	items, next, err := s.App.Queue(ctx, pl, state, after, size)
	if err != nil {
		return nil, internal(err)
	}
	resp := &reviewv1.ListQueueResponse{}
	for _, it := range items {
		if v, ok := reviewOf(it.Review, it.Pole, it.Outcome); ok {
			resp.Reviews = append(resp.Reviews, v)
		}
	}
	if next.Reference != "" {
		b, _ := json.Marshal(cursor{QueueEntry: next, Pole: pl, State: int(req.GetState())})
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return resp, nil
}

func (s *Server) RecordOpinion(ctx context.Context, req *reviewv1.RecordOpinionRequest) (*reviewv1.RecordOpinionResponse, error) {
	p := auth.FromContext(ctx)
	ref, err := reference(req.GetReference())
	if err != nil {
		return nil, err
	}
	pl, err := pole(p, req.GetPole(), true)
	if err != nil {
		return nil, err
	}
	var bad []grpcserver.Violation
	var verdict rule.Verdict
	switch req.GetOpinion() {
	case eventsv1.Opinion_OPINION_FAVORABLE:
		verdict = rule.Favorable
	case eventsv1.Opinion_OPINION_UNFAVORABLE:
		verdict = rule.Unfavorable
	default:
		bad = append(bad, grpcserver.Violation{Field: "opinion", Description: "favorable or unfavorable"})
	}
	// The justification reaches the requester, the history and the feeds.
	justification, err := text.Check(req.GetJustification(), text.Multiline, 0, 4000)
	switch {
	case err != nil:
		bad = append(bad, grpcserver.Violation{Field: "justification", Description: err.Error()})
	case verdict == rule.Unfavorable && justification == "":
		bad = append(bad, grpcserver.Violation{Field: "justification", Description: "required for an unfavorable opinion: it is communicated to the requester"})
	}
	if len(req.GetIdempotencyKey()) > 200 {
		bad = append(bad, grpcserver.Violation{Field: "idempotency_key", Description: "at most 200 bytes"})
	}
	if len(bad) > 0 {
		return nil, grpcserver.Invalid(bad...)
	}
	r, out, replayed, err := s.App.RecordOpinion(ctx, app.Opinion{Reference: ref, Pole: pl, Verdict: verdict,
		Justification: justification, Reviewer: p.Subject, IdempotencyKey: req.GetIdempotencyKey()})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, rule.ErrNotUnderReview):
		return nil, notFound(ref, pl)
	case errors.Is(err, rule.ErrSettled):
		return nil, status.Errorf(codes.FailedPrecondition, "the F2 of pôle %s for %s is settled: an opinion can no longer change it (%v)", pl, ref, err)
	case errors.Is(err, rule.ErrBeforeReview):
		return nil, status.Errorf(codes.FailedPrecondition, "%v", err)
	case errors.Is(err, rule.ErrJustificationRequired):
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "justification", Description: "required for an unfavorable opinion"})
	case errors.Is(err, app.ErrKeyReused):
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "idempotency_key", Description: err.Error()})
	case err != nil:
		return nil, internal(err)
	}
	v, _ := reviewOf(r, pl, out)
	return &reviewv1.RecordOpinionResponse{Review: v, Replayed: replayed}, nil
}

func (s *Server) GetReleasePlan(ctx context.Context, req *reviewv1.GetReleasePlanRequest) (*reviewv1.GetReleasePlanResponse, error) {
	p := auth.FromContext(ctx)
	ref, err := reference(req.GetReference())
	if err != nil {
		return nil, err
	}
	r, out, err := s.App.Review(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(ref, "")
	}
	if err != nil {
		return nil, internal(err)
	}
	// Someone else's request answers as a missing one: no way to probe.
	owner := r.Completed.GetRequester().GetAccountId()
	switch {
	case p.Kind == auth.Administrator:
	case p.Kind == auth.Requester && owner != "" && p.Subject == owner:
	case p.Kind == auth.Tracking && p.Request == ref:
	default:
		return nil, notFound(ref, "")
	}
	resp := &reviewv1.GetReleasePlanResponse{Reference: ref, ExtractionCompletedAt: timestamppb.New(r.CompletedAt), Policy: r.Policy.Mode.String()}
	for _, d := range r.Deliverables {
		dec := out.F1
		kind := eventsv1.FileKind_FILE_KIND_F1
		if d.Kind == "F2" {
			dec, _ = out.Pole(d.Pole)
			kind = eventsv1.FileKind_FILE_KIND_F2
		}
		rel := &reviewv1.Release{DeliverableId: d.ID, Kind: kind, Pole: d.Pole, State: state(d.State), Will: state(dec.Will),
			Rule: app.RuleProto(dec.WillRule), DueAt: timestamppb.New(dec.Due), Justification: dec.Justification}
		if d.State != rule.Pending {
			rel.DueAt, rel.Rule, rel.Will, rel.Justification = timestamppb.New(d.SettledAt), app.RuleProto(d.Rule), state(d.State), d.Justification
		}
		resp.Releases = append(resp.Releases, rel)
	}
	return resp, nil
}

func internal(err error) error {
	return status.Error(codes.Unavailable, fmt.Sprintf("review: %v", err))
}

func state(s rule.State) reviewv1.ReviewState {
	switch s {
	case rule.Released:
		return reviewv1.ReviewState_REVIEW_STATE_RELEASED
	case rule.Withheld:
		return reviewv1.ReviewState_REVIEW_STATE_WITHHELD
	}
	return reviewv1.ReviewState_REVIEW_STATE_OPEN
}

// reviewOf is one pôle's review of a request as the API shows it; false
// when the request has no F2 of that pôle under review.
func reviewOf(r *store.Review, pole string, out rule.Outcome) (*reviewv1.Review, bool) {
	d, ok := r.Deliverable("F2", pole)
	if !ok {
		return nil, false
	}
	dec, _ := out.Pole(pole)
	v := &reviewv1.Review{
		Reference: r.Reference, DeliverableId: d.ID, Pole: pole, State: state(dec.State),
		Opinion: app.VerdictProto(dec.Opinion), Justification: dec.Justification,
		ExtractionCompletedAt: timestamppb.New(r.CompletedAt), Deadline: timestamppb.New(r.Policy.DeadlineAt(r.CompletedAt)),
		DueAt: timestamppb.New(dec.Due), Will: state(dec.Will), Rule: app.RuleProto(dec.WillRule),
	}
	if d.State != rule.Pending { // what happened, as recorded
		v.State, v.Will, v.Rule, v.DueAt, v.Justification = state(d.State), state(d.State), app.RuleProto(d.Rule), timestamppb.New(d.SettledAt), d.Justification
	}
	if !dec.Favorable.IsZero() {
		v.FavorableSince = timestamppb.New(dec.Favorable)
	}
	for _, del := range r.Completed.GetDeliverables() {
		if del.GetDeliverableId() != d.ID {
			continue
		}
		v.Rows, v.Datasets = del.GetRows(), del.GetDatasets()
	}
	for _, part := range r.Completed.GetPartitions() {
		if k := part.GetKey(); k.GetKind() == eventsv1.FileKind_FILE_KIND_F2 && k.GetPole() == pole {
			v.RowsByGeometry = append(v.RowsByGeometry, &reviewv1.GeometryRows{GeometryType: k.GetGeometryType(), Rows: part.GetRows()})
		}
	}
	for _, o := range r.Opinions {
		if o.Pole == pole {
			v.History = append(v.History, &reviewv1.OpinionEntry{Opinion: app.VerdictProto(o.Verdict), Justification: o.Justification,
				Reviewer: o.Author, At: timestamppb.New(o.At)})
		}
	}
	return v, true
}
