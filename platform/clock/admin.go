package clock

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// AdminServer serves sinp.admin.v1.ClockService over the deployment's
// clock. Who may call it is the process's access table's business
// (operators only, but for Now).
type AdminServer struct {
	adminv1.UnimplementedClockServiceServer
	Clock Clock
	// Caller names who is calling, for the clock's record.
	Caller func(ctx context.Context) string
}

func (s *AdminServer) caller(ctx context.Context) string {
	if s.Caller == nil {
		return ""
	}
	return s.Caller(ctx)
}

func (s *AdminServer) Now(context.Context, *adminv1.NowRequest) (*adminv1.NowResponse, error) {
	resp := &adminv1.NowResponse{Now: timestamppb.New(s.Clock.Now()), Kind: s.Clock.Kind()}
	if sh, ok := s.Clock.(*Shared); ok {
		st := sh.State()
		resp.Generation, resp.UpdatedBy, resp.UpdatedAt = st.Generation, st.UpdatedBy, timestamppb.New(st.UpdatedAt)
	}
	return resp, nil
}

func (s *AdminServer) mover() (Mover, error) {
	m, ok := s.Clock.(Mover)
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, ErrNotMovable.Error())
	}
	return m, nil
}

func (s *AdminServer) Advance(ctx context.Context, req *adminv1.AdvanceRequest) (*adminv1.AdvanceResponse, error) {
	m, err := s.mover()
	if err != nil {
		return nil, err
	}
	if err := req.GetBy().CheckValid(); err != nil || req.GetBy().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "by: a positive duration is required")
	}
	now, err := m.Advance(ctx, req.GetBy().AsDuration(), s.caller(ctx))
	if err != nil {
		return nil, moveError("by", err)
	}
	return &adminv1.AdvanceResponse{Now: timestamppb.New(now)}, nil
}

func (s *AdminServer) Set(ctx context.Context, req *adminv1.SetRequest) (*adminv1.SetResponse, error) {
	m, err := s.mover()
	if err != nil {
		return nil, err
	}
	if req.GetAt() == nil && req.GetKind() == "" {
		return nil, status.Error(codes.InvalidArgument, "at, kind: give an instant, a kind, or both")
	}
	var at time.Time
	if req.GetAt() != nil {
		if err := req.GetAt().CheckValid(); err != nil {
			return nil, status.Error(codes.InvalidArgument, "at: "+err.Error())
		}
		at = req.GetAt().AsTime()
	}
	if req.GetKind() != "" {
		if _, err := ParseSpec(req.GetKind()); err != nil {
			return nil, status.Error(codes.InvalidArgument, "kind: "+err.Error())
		}
	}
	now, err := m.Set(ctx, at, req.GetKind(), s.caller(ctx))
	if err != nil {
		return nil, moveError("at", err)
	}
	return &adminv1.SetResponse{Now: timestamppb.New(now), Kind: s.Clock.Kind()}, nil
}

func moveError(field string, err error) error {
	switch {
	case errors.Is(err, ErrNotMovable):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, ErrBackwards):
		return status.Error(codes.InvalidArgument, field+": "+err.Error())
	}
	return status.Error(codes.Unavailable, "the clock could not be changed: "+err.Error())
}
