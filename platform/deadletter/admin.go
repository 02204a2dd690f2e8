package deadletter

import (
	"context"
	"errors"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// AdminServer serves sinp.admin.v1.DeadLetterService (operators only, by
// the process's access table).
type AdminServer struct {
	adminv1.UnimplementedDeadLetterServiceServer
	JS jetstream.JetStream
}

func toProto(l Letter) *adminv1.DeadLetter {
	return &adminv1.DeadLetter{
		Sequence: l.Sequence, Consumer: l.Consumer, OriginalSubject: l.OriginalSubject, EventId: l.EventID,
		Error: l.Error, Failures: l.Failures, DeadLetteredAt: timestamppb.New(l.DeadLetteredAt),
		EventType: l.EventType, EventJson: l.EventJSON, Bytes: l.Bytes,
	}
}

func (s *AdminServer) ListDeadLetters(ctx context.Context, req *adminv1.ListDeadLettersRequest) (*adminv1.ListDeadLettersResponse, error) {
	var after uint64
	if req.GetPageToken() != "" {
		n, err := strconv.ParseUint(req.GetPageToken(), 10, 64)
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, "page_token: not a token this service gave")
		}
		after = n
	}
	letters, next, err := List(ctx, s.JS, req.GetConsumer(), after, int(req.GetPageSize()))
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &adminv1.ListDeadLettersResponse{}
	for _, l := range letters {
		resp.DeadLetters = append(resp.DeadLetters, toProto(l))
	}
	if next != 0 {
		resp.NextPageToken = strconv.FormatUint(next, 10)
	}
	return resp, nil
}

func (s *AdminServer) GetDeadLetter(ctx context.Context, req *adminv1.GetDeadLetterRequest) (*adminv1.GetDeadLetterResponse, error) {
	l, err := Get(ctx, s.JS, req.GetSequence())
	if err != nil {
		return nil, letterError(err)
	}
	return &adminv1.GetDeadLetterResponse{DeadLetter: toProto(l)}, nil
}

func (s *AdminServer) ReplayDeadLetter(ctx context.Context, req *adminv1.ReplayDeadLetterRequest) (*adminv1.ReplayDeadLetterResponse, error) {
	subject, err := Replay(ctx, s.JS, req.GetSequence())
	if err != nil {
		return nil, letterError(err)
	}
	return &adminv1.ReplayDeadLetterResponse{Subject: subject}, nil
}

func letterError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return status.Error(codes.NotFound, "sequence: "+err.Error())
	}
	return status.Error(codes.Unavailable, err.Error())
}
