package grpcserver

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"sinp.occitanie.fr/platform/clock"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func start(t *testing.T, auth Authenticate) *grpc.ClientConn {
	t.Helper()
	s := New(slog.New(slog.DiscardHandler), auth)
	adminv1.RegisterClockServiceServer(s, &clock.AdminServer{Clock: clock.Real{}})
	s.SetServing(true, "intake")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestHealthAndReflectionAnswerEvenWhenAuthRefuses(t *testing.T) {
	deny := func(ctx context.Context, _ string) (context.Context, error) {
		return nil, status.Error(codes.Unauthenticated, "no token")
	}
	conn := start(t, deny)
	ctx := context.Background()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "intake"})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	r, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range r.GetListServicesResponse().GetService() {
		found = found || s.Name == "sinp.admin.v1.ClockService"
	}
	if !found {
		t.Fatalf("reflection does not list the clock service: %v", r)
	}
	_, err = adminv1.NewClockServiceClient(conn).Now(ctx, &adminv1.NowRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("auth hook not applied: %v", err)
	}
}

func TestAdvanceRefusedOnARealClock(t *testing.T) {
	conn := start(t, nil)
	_, err := adminv1.NewClockServiceClient(conn).Advance(context.Background(), &adminv1.AdvanceRequest{By: durationpb.New(36 * 3600e9)})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("advance on a real clock: %v", err)
	}
}
