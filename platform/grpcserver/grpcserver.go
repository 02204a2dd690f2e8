// Package grpcserver builds the gRPC server of a process: health checking
// and server reflection always on, every call logged, panics turned into
// errors, and a hook where authentication plugs in.
package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// Config is where the server listens.
type Config struct {
	Addr string `env:"SINP_GRPC_ADDR" default:"127.0.0.1:7400"`
}

// Authenticate inspects an incoming call and returns the context the
// handler sees (carrying the caller's identity) or an error
// (codes.Unauthenticated / PermissionDenied).
type Authenticate func(ctx context.Context, fullMethod string) (context.Context, error)

// Server is a gRPC server with its health service.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// New builds a server. auth may be nil (every call passes).
func New(log *slog.Logger, auth Authenticate) *Server {
	if auth == nil {
		auth = func(ctx context.Context, _ string) (context.Context, error) { return ctx, nil }
	}
	s := grpc.NewServer(
		grpc.ChainUnaryInterceptor(recoverUnary(log), logUnary(log), authUnary(auth)),
		grpc.ChainStreamInterceptor(recoverStream(log), logStream(log), authStream(auth)),
	)
	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	reflection.Register(s)
	return &Server{Server: s, Health: h}
}

// SetServing marks a service (by name, e.g. "intake", and by its gRPC
// service names) serving or not.
func (s *Server) SetServing(serving bool, names ...string) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, n := range names {
		s.Health.SetServingStatus(n, st)
	}
}

func isHealth(method string) bool {
	return method == "/grpc.health.v1.Health/Check" || method == "/grpc.health.v1.Health/Watch" ||
		method == "/grpc.health.v1.Health/List"
}

func authUnary(auth Authenticate) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if isHealth(info.FullMethod) {
			return next(ctx, req)
		}
		ctx, err := auth(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

type wrapped struct {
	grpc.ServerStream
	ctx context.Context
}

func (w wrapped) Context() context.Context { return w.ctx }

func authStream(auth Authenticate) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
		if isHealth(info.FullMethod) || info.FullMethod == "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo" ||
			info.FullMethod == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo" {
			return next(srv, ss)
		}
		ctx, err := auth(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return next(srv, wrapped{ss, ctx})
	}
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := next(ctx, req)
		if !isHealth(info.FullMethod) {
			log.Info("grpc", "method", info.FullMethod, "code", status.Code(err).String(), "took", time.Since(start))
		}
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
		start := time.Now()
		err := next(srv, ss)
		if !isHealth(info.FullMethod) {
			log.Info("grpc stream", "method", info.FullMethod, "code", status.Code(err).String(), "took", time.Since(start))
		}
		return err
	}
}

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("grpc panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return next(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("grpc panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return next(srv, ss)
	}
}
