package outbox

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// AdminServer serves sinp.admin.v1.OutboxService over the outboxes of the
// services a process runs (operators only, by its access table).
type AdminServer struct {
	adminv1.UnimplementedOutboxServiceServer
	Pool    *pgxpool.Pool
	Schemas []string
}

func (s *AdminServer) schemas(asked string) ([]string, error) {
	if asked == "" {
		return s.Schemas, nil
	}
	if !slices.Contains(s.Schemas, asked) {
		return nil, status.Errorf(codes.InvalidArgument, "schema: %q is not the schema of a service this process runs (%v)", asked, s.Schemas)
	}
	return []string{asked}, nil
}

func (s *AdminServer) ListParked(ctx context.Context, req *adminv1.ListParkedRequest) (*adminv1.ListParkedResponse, error) {
	schemas, err := s.schemas(req.GetSchema())
	if err != nil {
		return nil, err
	}
	resp := &adminv1.ListParkedResponse{}
	for _, schema := range schemas {
		rows, err := Parked(ctx, s.Pool, schema)
		if err != nil {
			return nil, status.Error(codes.Unavailable, err.Error())
		}
		for _, r := range rows {
			resp.Events = append(resp.Events, &adminv1.ParkedEvent{
				Schema: schema, Seq: r.Seq, EventId: r.EventID, Subject: r.Subject, Bytes: r.Bytes,
				Attempts: r.Attempts, LastError: r.LastError, CreatedAt: timestamppb.New(r.CreatedAt), ParkedAt: timestamppb.New(r.ParkedAt),
			})
		}
	}
	return resp, nil
}

func (s *AdminServer) RetryParked(ctx context.Context, req *adminv1.RetryParkedRequest) (*adminv1.RetryParkedResponse, error) {
	if req.GetSchema() == "" {
		return nil, status.Error(codes.InvalidArgument, "schema: required")
	}
	if _, err := s.schemas(req.GetSchema()); err != nil {
		return nil, err
	}
	n, err := Unpark(ctx, s.Pool, req.GetSchema(), req.GetSeqs())
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &adminv1.RetryParkedResponse{Retried: n}, nil
}
