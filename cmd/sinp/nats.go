package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/cli"
)

type natsConfig struct {
	DataDir string `env:"SINP_DATA_DIR" default:".data"`
	NATS    bus.Config
}

func natsCommand() *cli.Command {
	c := &cli.Command{
		Name:    "nats",
		Summary: "run the deployment's NATS server (JetStream) alone, for services in separate processes",
		Usage:   "sinp nats [--port N]   |   sinp nats stop",
	}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		var cfg natsConfig
		if err := loadConfig(e, &cfg); err != nil {
			return err
		}
		fs := c.Flags(e)
		port := fs.Int("port", cfg.NATS.EmbeddedPort, "port to listen on, 127.0.0.1 (default: SINP_NATS_EMBEDDED_PORT)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		dir := filepath.Join(cfg.DataDir, "nats")
		srv, err := bus.StartEmbedded(dir, *port, e.Log)
		if err != nil {
			return err
		}
		pidFile := filepath.Join(dir, "nats.pid")
		_ = os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o640)
		defer os.Remove(pidFile)
		fmt.Fprintf(e.Stderr, "NATS with JetStream on %s (user %s, password in %s), store %s; Ctrl-C or `sinp nats stop` stops it\n",
			bus.Redacted(srv.URL), bus.User, bus.PasswordFile(dir), dir)
		<-ctx.Done()
		srv.Shutdown()
		return nil
	}
	stop := &cli.Command{Name: "stop", Summary: "stop the NATS server `sinp nats` (or `sinp up`) started", Usage: "sinp nats stop"}
	stop.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		var cfg natsConfig
		if err := loadConfig(e, &cfg); err != nil {
			return err
		}
		pidFile := filepath.Join(cfg.DataDir, "nats", "nats.pid")
		b, err := os.ReadFile(pidFile)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(e.Stderr, "no NATS server of this data directory is running")
			return nil
		}
		if err != nil {
			return err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", pidFile, err)
		}
		// A stale pid file may name another process by now.
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || !strings.Contains(string(cmdline), "nats") {
			_ = os.Remove(pidFile)
			fmt.Fprintf(e.Stderr, "no NATS server of this data directory is running (stale %s removed)\n", pidFile)
			return nil
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			_ = os.Remove(pidFile)
			return fmt.Errorf("stopping NATS (pid %d): %w", pid, err)
		}
		for range 100 {
			if syscall.Kill(pid, 0) != nil {
				fmt.Fprintf(e.Stderr, "NATS (pid %d) stopped\n", pid)
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("NATS (pid %d) still running 10s after SIGTERM", pid)
	}
	c.Sub = []*cli.Command{stop}
	return c
}
