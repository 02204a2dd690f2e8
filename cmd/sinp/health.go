package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/cli"
)

type serviceHealth struct {
	Service string `json:"service"`
	Status  string `json:"status"`
}

func healthCommand() *cli.Command {
	c := &cli.Command{
		Name:    "health",
		Summary: "ask a running sinp process (grpc_health_v1) whether each service it runs is SERVING",
		Usage:   "sinp health [--addr HOST:PORT] [--services intake,...] [--wait 30s] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process (default: SINP_GRPC_ADDR)")
		list := fs.String("services", "", "services that must serve (default: those the process runs)")
		wait := fs.Duration("wait", 0, "keep asking until every service serves or this much time passed")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		var want []string
		if *list != "" {
			defs, err := selectServices(*list)
			if err != nil {
				return err
			}
			for _, d := range defs {
				want = append(want, d.Name)
			}
		}
		conn, err := e.Dial(*addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		client := healthpb.NewHealthClient(conn)
		known := map[string]bool{}
		for _, d := range definitions() {
			known[d.Name] = true
		}
		deadline := time.Now().Add(*wait)
		for {
			report, serving := check(ctx, client, want, known)
			if (serving == len(report) && len(report) > 0) || time.Now().After(deadline) || ctx.Err() != nil {
				if err := e.Output(*asJSON).Result(report, func(w io.Writer) {
					for _, r := range report {
						fmt.Fprintf(w, "%-10s %s\n", r.Service, r.Status)
					}
				}); err != nil {
					return err
				}
				if serving != len(report) || len(report) == 0 {
					return fmt.Errorf("%d of %d services serving", serving, len(report))
				}
				return nil
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return c
}

// check asks for the wanted services, or for those the process says it
// runs (health List) when none are named.
func check(ctx context.Context, client healthpb.HealthClient, want []string, known map[string]bool) ([]serviceHealth, int) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if len(want) == 0 {
		resp, err := client.List(cctx, &healthpb.HealthListRequest{})
		if err != nil {
			return []serviceHealth{{"(process)", unreachable(err)}}, 0
		}
		for name := range resp.Statuses {
			if known[name] {
				want = append(want, name)
			}
		}
		slices.Sort(want)
	}
	var report []serviceHealth
	serving := 0
	for _, name := range want {
		resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{Service: name})
		st := unreachable(err)
		if err == nil {
			st = resp.Status.String()
		}
		if st == "SERVING" {
			serving++
		}
		report = append(report, serviceHealth{name, st})
	}
	return report, serving
}

func unreachable(err error) string {
	if status.Code(err) == codes.NotFound {
		return "NOT_RUN_HERE"
	}
	return "UNREACHABLE"
}
