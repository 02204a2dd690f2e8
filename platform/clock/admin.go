package clock

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// AdminServer serves sinp.admin.v1.ClockService over a process's clock.
type AdminServer struct {
	adminv1.UnimplementedClockServiceServer
	Clock Clock
}

func (s *AdminServer) Now(context.Context, *adminv1.NowRequest) (*adminv1.NowResponse, error) {
	return &adminv1.NowResponse{Now: timestamppb.New(s.Clock.Now()), Kind: s.Clock.Kind()}, nil
}

func (s *AdminServer) Advance(_ context.Context, req *adminv1.AdvanceRequest) (*adminv1.AdvanceResponse, error) {
	a, ok := s.Clock.(Advancer)
	if !ok {
		return nil, status.Error(codes.FailedPrecondition, ErrNotManual.Error())
	}
	if err := req.GetBy().CheckValid(); err != nil || req.GetBy().AsDuration() <= 0 {
		return nil, status.Error(codes.InvalidArgument, "by: a positive duration is required")
	}
	now, err := a.Advance(req.GetBy().AsDuration())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, "by: "+err.Error())
	}
	return &adminv1.AdvanceResponse{Now: timestamppb.New(now)}, nil
}
