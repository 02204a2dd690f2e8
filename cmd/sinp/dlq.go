package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"sinp.occitanie.fr/platform/cli"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func dlqClient(ctx context.Context, e *cli.Env, addr string) (adminv1.DeadLetterServiceClient, context.Context, func(), error) {
	conn, err := e.Dial(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	octx, err := e.OperatorContext(ctx)
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return adminv1.NewDeadLetterServiceClient(conn), octx, func() { conn.Close() }, nil
}

type deadLetter struct {
	Sequence        uint64    `json:"sequence"`
	Consumer        string    `json:"consumer"`
	OriginalSubject string    `json:"original_subject"`
	EventID         string    `json:"event_id"`
	EventType       string    `json:"event_type,omitempty"`
	Error           string    `json:"error"`
	Failures        uint32    `json:"failures"`
	DeadLetteredAt  time.Time `json:"dead_lettered_at"`
	Bytes           int64     `json:"bytes"`
	Event           string    `json:"event,omitempty"`
}

func fromProto(d *adminv1.DeadLetter) deadLetter {
	return deadLetter{Sequence: d.Sequence, Consumer: d.Consumer, OriginalSubject: d.OriginalSubject, EventID: d.EventId,
		EventType: d.EventType, Error: d.Error, Failures: d.Failures, DeadLetteredAt: d.DeadLetteredAt.AsTime(), Bytes: d.Bytes, Event: d.EventJson}
}

func seqArg(pos []string, what string) (uint64, error) {
	if len(pos) != 1 {
		return 0, cli.Usagef("dlq %s needs the dead letter's sequence (from `sinp dlq list`)", what)
	}
	n, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || n == 0 {
		return 0, cli.Usagef("SEQUENCE %q: want a positive number", pos[0])
	}
	return n, nil
}

func dlqCommand() *cli.Command {
	list := &cli.Command{Name: "list", Summary: "list the messages consumers gave up on (operator)",
		Usage: "sinp dlq list [--consumer NAME] [--addr HOST:PORT] [--json]"}
	list.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := list.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		name := fs.String("consumer", "", "only this consumer's dead letters")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		c, cctx, closeFn, err := dlqClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		var all []deadLetter
		token := ""
		for {
			resp, err := c.ListDeadLetters(cctx, &adminv1.ListDeadLettersRequest{Consumer: *name, PageSize: 500, PageToken: token})
			if err != nil {
				return fmt.Errorf("dlq list: %w", err)
			}
			for _, d := range resp.DeadLetters {
				all = append(all, fromProto(d))
			}
			if token = resp.NextPageToken; token == "" {
				break
			}
		}
		return e.Output(*asJSON).Result(all, func(w io.Writer) {
			if len(all) == 0 {
				fmt.Fprintln(w, "no dead letters")
			}
			for _, d := range all {
				fmt.Fprintf(w, "%6d  %s  %-22s %-26s %s (after %d tries): %s\n", d.Sequence, d.DeadLetteredAt.UTC().Format(time.RFC3339),
					d.Consumer, d.OriginalSubject, d.EventID, d.Failures, d.Error)
			}
		})
	}
	show := &cli.Command{Name: "show", Summary: "show one dead letter and its event (operator)", Usage: "sinp dlq show SEQUENCE [--addr HOST:PORT] [--json]"}
	show.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := show.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		seq, err := seqArg(pos, "show")
		if err != nil {
			return err
		}
		c, cctx, closeFn, err := dlqClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.GetDeadLetter(cctx, &adminv1.GetDeadLetterRequest{Sequence: seq})
		if err != nil {
			return fmt.Errorf("dlq show: %w", err)
		}
		d := fromProto(resp.DeadLetter)
		return e.Output(*asJSON).Result(d, func(w io.Writer) {
			fmt.Fprintf(w, "sequence     %d\nconsumer     %s\nsubject      %s\nevent        %s %s\nfailures     %d\nerror        %s\nat           %s\nbytes        %d\n",
				d.Sequence, d.Consumer, d.OriginalSubject, d.EventID, d.EventType, d.Failures, d.Error, d.DeadLetteredAt.UTC().Format(time.RFC3339), d.Bytes)
			if d.Event != "" {
				fmt.Fprintf(w, "event (JSON) %s\n", d.Event)
			}
		})
	}
	replay := &cli.Command{Name: "replay", Summary: "hand a dead letter back to the consumer that failed it, once fixed (operator)",
		Usage: "sinp dlq replay SEQUENCE [--addr HOST:PORT] [--json]"}
	replay.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := replay.Flags(e)
		addr := fs.String("addr", "", "gRPC address of a running process (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		seq, err := seqArg(pos, "replay")
		if err != nil {
			return err
		}
		c, cctx, closeFn, err := dlqClient(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := c.ReplayDeadLetter(cctx, &adminv1.ReplayDeadLetterRequest{Sequence: seq})
		if err != nil {
			return fmt.Errorf("dlq replay: %w", err)
		}
		out := map[string]any{"sequence": seq, "replayed_on": resp.Subject}
		return e.Output(*asJSON).Result(out, func(w io.Writer) { fmt.Fprintf(w, "dead letter %d replayed on %s\n", seq, resp.Subject) })
	}
	return &cli.Command{Name: "dlq", Summary: "dead letters: messages consumers gave up on (list, show, replay)", Sub: []*cli.Command{list, show, replay}}
}
