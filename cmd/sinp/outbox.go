package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"sinp.occitanie.fr/platform/cli"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func outboxCommand() *cli.Command {
	dial := func(ctx context.Context, e *cli.Env, addr string) (adminv1.OutboxServiceClient, context.Context, func(), error) {
		conn, err := e.Dial(addr)
		if err != nil {
			return nil, nil, nil, err
		}
		octx, err := e.OperatorContext(ctx)
		if err != nil {
			conn.Close()
			return nil, nil, nil, err
		}
		return adminv1.NewOutboxServiceClient(conn), octx, func() { conn.Close() }, nil
	}
	parked := &cli.Command{Name: "parked", Summary: "list outbox rows set aside after failing to publish (operator)",
		Usage: "sinp outbox parked [--schema S] [--addr HOST:PORT] [--json]"}
	parked.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := parked.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process running the service (default: SINP_GRPC_ADDR)")
		schema := fs.String("schema", "", "one service's schema (default: every service of the process)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		c, cctx, closeFn, err := dial(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.ListParked(cctx, &adminv1.ListParkedRequest{Schema: *schema})
		if err != nil {
			return fmt.Errorf("outbox parked: %w", err)
		}
		type row struct {
			Schema    string `json:"schema"`
			Seq       int64  `json:"seq"`
			EventID   string `json:"event_id"`
			Subject   string `json:"subject"`
			Bytes     int64  `json:"bytes"`
			Attempts  int32  `json:"attempts"`
			LastError string `json:"last_error"`
		}
		var rows []row
		for _, p := range resp.Events {
			rows = append(rows, row{p.Schema, p.Seq, p.EventId, p.Subject, p.Bytes, p.Attempts, p.LastError})
		}
		return e.Output(*asJSON).Result(rows, func(w io.Writer) {
			if len(rows) == 0 {
				fmt.Fprintln(w, "no parked events")
			}
			for _, r := range rows {
				fmt.Fprintf(w, "%s #%d %s %s (%d bytes, %d tries): %s\n", r.Schema, r.Seq, r.Subject, r.EventID, r.Bytes, r.Attempts, r.LastError)
			}
		})
	}
	retry := &cli.Command{Name: "retry", Summary: "put parked outbox rows back in line (operator)",
		Usage: "sinp outbox retry --schema S [SEQ...] [--addr HOST:PORT] [--json]   (no SEQ: all of the schema)"}
	retry.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := retry.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process running the service (default: SINP_GRPC_ADDR)")
		schema := fs.String("schema", "", "the service's schema")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if *schema == "" {
			return cli.Usagef("outbox retry needs --schema")
		}
		var seqs []int64
		for _, p := range pos {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return cli.Usagef("SEQ %q: want a number from `sinp outbox parked`", p)
			}
			seqs = append(seqs, n)
		}
		c, cctx, closeFn, err := dial(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.RetryParked(cctx, &adminv1.RetryParkedRequest{Schema: *schema, Seqs: seqs})
		if err != nil {
			return fmt.Errorf("outbox retry: %w", err)
		}
		return e.Output(*asJSON).Result(map[string]int64{"retried": resp.Retried}, func(w io.Writer) {
			fmt.Fprintf(w, "%d parked events back in line\n", resp.Retried)
		})
	}
	return &cli.Command{Name: "outbox", Summary: "outbox rows that failed to publish (parked, retry)", Sub: []*cli.Command{parked, retry}}
}
