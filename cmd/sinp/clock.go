package main

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/grpcserver"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func loadConfig(e *cli.Env, dst any) error { return config.Load(dst, e.Lookup) }

// clockClient dials the admin API of a running sinp process.
func clockClient(e *cli.Env, addr string) (adminv1.ClockServiceClient, func(), error) {
	if addr == "" {
		var g grpcserver.Config
		if err := loadConfig(e, &g); err != nil {
			return nil, nil, err
		}
		addr = g.Addr
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, fmt.Errorf("--addr %s: %w", addr, err)
	}
	return adminv1.NewClockServiceClient(conn), func() { conn.Close() }, nil
}

func clockCommand() *cli.Command {
	now := &cli.Command{Name: "now", Summary: "print the clock of a running sinp process", Usage: "sinp clock now [--addr HOST:PORT]"}
	now.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := now.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process (default: SINP_GRPC_ADDR)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		c, closeFn, err := clockClient(e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.Now(ctx, &adminv1.NowRequest{})
		if err != nil {
			return fmt.Errorf("clock now: %w", err)
		}
		fmt.Fprintf(e.Stdout, "%s (%s)\n", resp.Now.AsTime().Format(time.RFC3339), resp.Kind)
		return nil
	}
	advance := &cli.Command{Name: "advance", Summary: "move the manual clock of a running sinp process forward", Usage: "sinp clock advance DURATION [--addr HOST:PORT]   (e.g. 36h, 144h)"}
	advance.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := advance.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process (default: SINP_GRPC_ADDR)")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("clock advance needs one duration, like 36h")
		}
		d, err := time.ParseDuration(pos[0])
		if err != nil || d <= 0 {
			return cli.Usagef("DURATION %q: want a positive duration like 36h or 90m", pos[0])
		}
		c, closeFn, err := clockClient(e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.Advance(ctx, &adminv1.AdvanceRequest{By: durationpb.New(d)})
		if err != nil {
			return fmt.Errorf("clock advance: %w", err)
		}
		fmt.Fprintln(e.Stdout, resp.Now.AsTime().Format(time.RFC3339))
		return nil
	}
	return &cli.Command{Name: "clock", Summary: "read or advance the clock of a running process (now, advance)", Sub: []*cli.Command{now, advance}}
}
