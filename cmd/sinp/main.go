// Command sinp runs any subset of the SINP platform's services in one
// process and carries the operator commands (migrate, seed, extract, clock,
// pack, ...). `sinp --help` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := realMain(ctx, os.Args[1:])
	stop()
	switch {
	case err == nil:
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintln(os.Stderr, "sinp:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "sinp:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context, args []string) error {
	var lc logging.Config
	if err := config.Load(&lc, config.OS); err != nil {
		return err
	}
	e := &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Lookup: config.OS, Log: logging.New(lc, os.Stderr)}
	// SINP_CPUPROFILE=file profiles any command, for performance work.
	if path := os.Getenv("SINP_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("SINP_CPUPROFILE: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("SINP_CPUPROFILE: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// SINP_MEMPROFILE=file writes a heap profile when the command ends.
	if path := os.Getenv("SINP_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	return cli.Dispatch(ctx, e, "sinp", commands(), args)
}
