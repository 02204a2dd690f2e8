package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func loadConfig(e *cli.Env, dst any) error { return config.Load(dst, e.Lookup) }

// clockClient dials the clock API of a running sinp process, with an
// operator's token.
func clockClient(ctx context.Context, e *cli.Env, addr string) (adminv1.ClockServiceClient, context.Context, func(), error) {
	conn, err := e.Dial(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	octx, err := e.OperatorContext(ctx)
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return adminv1.NewClockServiceClient(conn), octx, func() { conn.Close() }, nil
}

type clockReading struct {
	Now  time.Time `json:"now"`
	Kind string    `json:"kind"`
}

func printReading(e *cli.Env, asJSON bool, r clockReading) error {
	return e.Output(asJSON).Result(r, func(w io.Writer) { fmt.Fprintf(w, "%s (%s)\n", r.Now.UTC().Format(time.RFC3339), r.Kind) })
}

func clockCommand() *cli.Command {
	now := &cli.Command{Name: "now", Summary: "print the deployment's clock", Usage: "sinp clock now [--addr HOST:PORT] [--json]"}
	now.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := now.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := fs.Parse(args); err != nil {
			return err
		}
		c, cctx, closeFn, err := clockClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.Now(cctx, &adminv1.NowRequest{})
		if err != nil {
			return fmt.Errorf("clock now: %w", err)
		}
		return printReading(e, *asJSON, clockReading{resp.Now.AsTime(), resp.Kind})
	}
	advance := &cli.Command{Name: "advance", Summary: "move the deployment's manual or accelerated clock forward (operator)",
		Usage: "sinp clock advance DURATION [--addr HOST:PORT] [--json]   (e.g. 36h, 144h)"}
	advance.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := advance.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("clock advance needs one duration, like 36h")
		}
		d, err := parseDays(pos[0])
		if err != nil || d <= 0 {
			return cli.Usagef("DURATION %q: want a positive duration like 36h, 90m or 21d", pos[0])
		}
		c, cctx, closeFn, err := clockClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.Advance(cctx, &adminv1.AdvanceRequest{By: durationpb.New(d)})
		if err != nil {
			return fmt.Errorf("clock advance: %w", err)
		}
		n, err := c.Now(cctx, &adminv1.NowRequest{})
		kind := ""
		if err == nil {
			kind = n.Kind
		}
		return printReading(e, *asJSON, clockReading{resp.Now.AsTime(), kind})
	}
	set := &cli.Command{Name: "set", Summary: "move the deployment's clock to an instant and/or switch its kind, never backwards (operator)",
		Usage: "sinp clock set [--at RFC3339] [--kind real|manual|accelerated:F] [--addr HOST:PORT] [--json]"}
	set.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := set.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		at := fs.String("at", "", "the instant to show (RFC 3339)")
		kind := fs.String("kind", "", "real, manual or accelerated:<factor>")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		req := &adminv1.SetRequest{Kind: *kind}
		if *at != "" {
			t, err := time.Parse(time.RFC3339Nano, *at)
			if err != nil {
				return cli.Usagef("--at %q: want RFC 3339, like 2026-03-22T08:00:00Z", *at)
			}
			req.At = timestamppb.New(t)
		}
		if *at == "" && *kind == "" {
			return cli.Usagef("clock set needs --at, --kind or both")
		}
		c, cctx, closeFn, err := clockClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.Set(cctx, req)
		if err != nil {
			return fmt.Errorf("clock set: %w", err)
		}
		return printReading(e, *asJSON, clockReading{resp.Now.AsTime(), resp.Kind})
	}
	return &cli.Command{Name: "clock", Summary: "read or move the deployment's clock (now, advance, set)", Sub: []*cli.Command{now, advance, set}}
}

// parseDays reads a Go duration, with "d" for days as well (21d, 6d12h).
func parseDays(s string) (time.Duration, error) {
	var days int
	rest := s
	if i := indexDay(s); i > 0 {
		if _, err := fmt.Sscanf(s[:i], "%d", &days); err != nil {
			return 0, err
		}
		rest = s[i+1:]
	}
	d := time.Duration(days) * 24 * time.Hour
	if rest != "" {
		x, err := time.ParseDuration(rest)
		if err != nil {
			return 0, err
		}
		d += x
	}
	return d, nil
}

func indexDay(s string) int {
	for i, r := range s {
		if r == 'd' {
			return i
		}
		if r < '0' || r > '9' {
			return -1
		}
	}
	return -1
}
