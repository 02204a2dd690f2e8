package review

import (
	"context"
	"fmt"
	"io"
	"strings"

	"sinp.occitanie.fr/platform/cli"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
)

// Commands are the review service's commands: `sinp review list|show|
// opinion|plan`, clients of its API with the caller's token (SINP_TOKEN or
// `sinp login`).
func Commands() []*cli.Command {
	return []*cli.Command{{Name: "review", Summary: "pôle reviews of F2 and release plans (list, show, opinion, plan)",
		Sub: []*cli.Command{listCommand(), showCommand(), opinionCommand(), planCommand()}}}
}

func client(ctx context.Context, e *cli.Env, addr string) (reviewv1.ReviewServiceClient, context.Context, func(), error) {
	return cli.Connect(ctx, e, addr, cli.AsUser, reviewv1.NewReviewServiceClient)
}

func printReview(w io.Writer, r *reviewv1.Review) {
	state := cli.Enum(r.State, "REVIEW_STATE_")
	next := fmt.Sprintf("%s %s at %s", cli.Enum(r.Will, "REVIEW_STATE_"), cli.Enum(r.Rule, "RELEASE_RULE_"), cli.When(r.DueAt))
	if r.State != reviewv1.ReviewState_REVIEW_STATE_OPEN {
		next = fmt.Sprintf("by rule %s at %s", cli.Enum(r.Rule, "RELEASE_RULE_"), cli.When(r.DueAt))
	}
	opinion := cli.Enum(r.Opinion, "OPINION_")
	if r.Opinion == eventsv1.Opinion_OPINION_UNSPECIFIED {
		opinion = "none"
	}
	fmt.Fprintf(w, "%-16s %-20s %-9s opinion %-12s %s (deadline %s)\n", r.Reference, r.Pole, state, opinion, next, cli.When(r.Deadline))
}

func listCommand() *cli.Command {
	c := &cli.Command{Name: "list", Summary: "a pôle's queue: open reviews with what happens next, and settled ones",
		Usage: "sinp review list [--pole P] [--state open|released|withheld] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the review service (default: SINP_GRPC_ADDR)")
		pole := fs.String("pole", "", "the pôle (a reviewer: its own)")
		state := fs.String("state", "", "open, released or withheld (default: all)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		req := &reviewv1.ListQueueRequest{Pole: *pole, PageSize: 200}
		if *state != "" {
			v, ok := reviewv1.ReviewState_value["REVIEW_STATE_"+strings.ToUpper(*state)]
			if !ok || v == 0 {
				return cli.Usagef("--state %q: want open, released or withheld", *state)
			}
			req.State = reviewv1.ReviewState(v)
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		all := &reviewv1.ListQueueResponse{}
		for {
			resp, err := cl.ListQueue(cctx, req)
			if err != nil {
				return fmt.Errorf("review list: %w", err)
			}
			all.Reviews = append(all.Reviews, resp.Reviews...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*asJSON).ResultProto(all, func(w io.Writer) {
			if len(all.Reviews) == 0 {
				fmt.Fprintln(w, "no reviews")
			}
			for _, r := range all.Reviews {
				printReview(w, r)
			}
		})
	}
	return c
}

func showCommand() *cli.Command {
	c := &cli.Command{Name: "show", Summary: "one pôle's review of a request: what it covers, its opinions, what happens next",
		Usage: "sinp review show REQUEST [--pole P] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the review service (default: SINP_GRPC_ADDR)")
		pole := fs.String("pole", "", "the pôle (a reviewer: its own)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("review show needs the request's reference")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.GetReview(cctx, &reviewv1.GetReviewRequest{Reference: pos[0], Pole: *pole})
		if err != nil {
			return fmt.Errorf("review show: %w", err)
		}
		r := resp.Review
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) {
			printReview(w, r)
			fmt.Fprintf(w, "  %d sensitive rows", r.Rows)
			for _, g := range r.RowsByGeometry {
				fmt.Fprintf(w, ", %s %d", cli.Enum(g.GeometryType, "GEOMETRY_TYPE_"), g.Rows)
			}
			fmt.Fprintf(w, "; datasets %s\n", strings.Join(r.Datasets, ", "))
			for _, o := range r.History {
				fmt.Fprintf(w, "  %s %s by %s %s\n", cli.When(o.At), cli.Enum(o.Opinion, "OPINION_"), o.Reviewer, o.Justification)
			}
		})
	}
	return c
}

func opinionCommand() *cli.Command {
	c := &cli.Command{Name: "opinion", Summary: "give or revise your pôle's opinion on a request's F2 (reviewer)",
		Usage: "sinp review opinion REQUEST [--pole P] --favorable | --unfavorable --justification TEXT [--key K] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the review service (default: SINP_GRPC_ADDR)")
		pole := fs.String("pole", "", "the pôle (default: your own)")
		favorable := fs.Bool("favorable", false, "a favorable opinion")
		unfavorable := fs.Bool("unfavorable", false, "an unfavorable opinion (needs --justification)")
		justification := fs.String("justification", "", "why (required for --unfavorable; communicated to the requester)")
		key := fs.String("key", "", "idempotency key: the same key again returns the first result")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("review opinion needs the request's reference")
		}
		req := &reviewv1.RecordOpinionRequest{Reference: pos[0], Pole: *pole, Justification: *justification, IdempotencyKey: *key}
		switch {
		case *favorable && !*unfavorable:
			req.Opinion = eventsv1.Opinion_OPINION_FAVORABLE
		case *unfavorable && !*favorable:
			req.Opinion = eventsv1.Opinion_OPINION_UNFAVORABLE
			if strings.TrimSpace(*justification) == "" {
				return cli.Usagef("--unfavorable needs --justification (it is communicated to the requester)")
			}
		default:
			return cli.Usagef("give --favorable or --unfavorable")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.RecordOpinion(cctx, req)
		if err != nil {
			return fmt.Errorf("review opinion: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) {
			if resp.Replayed {
				fmt.Fprintln(w, "(already recorded with this key)")
			}
			printReview(w, resp.Review)
		})
	}
	return c
}

func planCommand() *cli.Command {
	c := &cli.Command{Name: "plan", Summary: "when F1 and each F2 of a request are (or were) released or withheld",
		Usage: "sinp review plan REQUEST [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the review service (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("review plan needs the request's reference")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.GetReleasePlan(cctx, &reviewv1.GetReleasePlanRequest{Reference: pos[0]})
		if err != nil {
			return fmt.Errorf("review plan: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) {
			fmt.Fprintf(w, "%s: extracted %s, %s policy\n", resp.Reference, cli.When(resp.ExtractionCompletedAt), resp.Policy)
			for _, r := range resp.Releases {
				how := fmt.Sprintf("will be %s (%s) at %s", cli.Enum(r.Will, "REVIEW_STATE_"), cli.Enum(r.Rule, "RELEASE_RULE_"), cli.When(r.DueAt))
				if r.State != reviewv1.ReviewState_REVIEW_STATE_OPEN {
					how = fmt.Sprintf("%s (%s) at %s", cli.Enum(r.State, "REVIEW_STATE_"), cli.Enum(r.Rule, "RELEASE_RULE_"), cli.When(r.DueAt))
				}
				fmt.Fprintf(w, "  %-36s %s %s\n", r.DeliverableId, how, r.Justification)
			}
		})
	}
	return c
}
