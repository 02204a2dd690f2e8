package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"testing"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/services/delivery"
	"sinp.occitanie.fr/services/review"
)

// TestMain lets the test binary act as the sinp binary (SINP_TEST_AS_SINP=1
// and sinp's own arguments), so that tests run sinp as real processes,
// including the NATS server `sinp up` starts detached.
func TestMain(m *testing.M) {
	if os.Getenv("SINP_TEST_AS_SINP") == "1" {
		if os.Getenv("SINP_TEST_KILL_BEFORE_SETTLE") == "1" {
			// Dies inside a release timer's transaction, before it commits.
			review.TestHooks.BeforeSettleCommit = func(string) {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		if os.Getenv("SINP_TEST_KILL_BEFORE_PUBLISH_COMMIT") == "1" {
			// Dies once an archive is in its drop zone, before its publication commits.
			delivery.TestHooks.BeforePublishCommit = func(string) {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		if schema := os.Getenv("SINP_TEST_KILL_AFTER_PUBLISH"); schema != "" {
			// Dies after JetStream acknowledged an event of this subject,
			// before the outbox row is marked published.
			subject := os.Getenv("SINP_TEST_KILL_SUBJECT")
			outbox.TestHooks.AfterPublish = func(s string, subjects []string) {
				if s == schema && slices.Contains(subjects, subject) {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {}
				}
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := realMain(ctx, os.Args[1:])
		stop()
		switch {
		case err == nil:
			os.Exit(0)
		case errors.Is(err, cli.ErrUsage):
			fmt.Fprintln(os.Stderr, "sinp:", err)
			os.Exit(2)
		default:
			fmt.Fprintln(os.Stderr, "sinp:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}
