package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/grpcserver"
)

type serviceHealth struct {
	Service string `json:"service"`
	Status  string `json:"status"`
}

func healthCommand() *cli.Command {
	c := &cli.Command{
		Name:    "health",
		Summary: "ask a running sinp process (grpc_health_v1) whether each service is SERVING",
		Usage:   "sinp health [--addr HOST:PORT] [--services intake,...] [--wait 30s] [--json]",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the process (default: SINP_GRPC_ADDR)")
		list := fs.String("services", "", "services to check (default: all)")
		wait := fs.Duration("wait", 0, "keep asking until every service serves or this much time passed")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		defs, err := selectServices(*list)
		if err != nil {
			return err
		}
		if *addr == "" {
			var g grpcserver.Config
			if err := loadConfig(e, &g); err != nil {
				return err
			}
			*addr = g.Addr
		}
		conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return fmt.Errorf("--addr %s: %w", *addr, err)
		}
		defer conn.Close()
		client := healthpb.NewHealthClient(conn)
		deadline := time.Now().Add(*wait)
		for {
			var report []serviceHealth
			serving := 0
			for _, d := range defs {
				cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{Service: d.Name})
				cancel()
				st := "UNREACHABLE"
				if err == nil {
					st = resp.Status.String()
				}
				if st == "SERVING" {
					serving++
				}
				report = append(report, serviceHealth{d.Name, st})
			}
			if serving == len(defs) || time.Now().After(deadline) || ctx.Err() != nil {
				if err := e.Output(*asJSON).Result(report, func(w io.Writer) {
					for _, r := range report {
						fmt.Fprintf(w, "%-10s %s\n", r.Service, r.Status)
					}
				}); err != nil {
					return err
				}
				if serving != len(defs) {
					return fmt.Errorf("%d of %d services serving at %s", serving, len(defs), *addr)
				}
				return nil
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return c
}
