package review_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/service"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review"
)

// Replicas run one release policy. One configured otherwise is refused at
// start, with the variables named; told to change it, it changes it for
// every replica: one still configured progressive then opens reviews
// batched.
func TestReplicasRunTheDeploymentsPolicy(t *testing.T) {
	ns := bustest.Start(t)
	db := pgtest.NewDBURL(t)
	up := func(env map[string]string) (stop func(), err error) {
		full := map[string]string{"SINP_DATABASE_URL": db, "SINP_NATS_URL": ns.URL, "SINP_DATA_DIR": t.TempDir(),
			"SINP_GRPC_ADDR": "127.0.0.1:0", "SINP_HTTP_ADDR": "127.0.0.1:0", "SINP_CLOCK": "manual:" + e0.Format(time.RFC3339)}
		for k, v := range env {
			full[k] = v
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan error, 1)
		go func() {
			done <- service.Up(ctx, config.Map(full), []service.Definition{review.Definition()}, slog.New(slog.DiscardHandler),
				service.Options{Ready: func(*service.Process, service.Addrs) { close(ready) }})
		}()
		select {
		case <-ready:
			return func() { cancel(); <-done }, nil
		case err := <-done:
			cancel()
			return nil, err
		}
	}
	stopA, err := up(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stopA()
	if _, err := up(map[string]string{"SINP_REVIEW_POLICY": "batched"}); err == nil ||
		!strings.Contains(err.Error(), "SINP_REVIEW_POLICY=batched") || !strings.Contains(err.Error(), "SINP_REVIEW_POLICY_CHANGE") {
		t.Fatalf("a replica configured batched beside a progressive one: %v", err)
	}
	if _, err := up(map[string]string{"SINP_REVIEW_FAVORABLE_AFTER": "1h"}); err == nil {
		t.Fatal("a replica with another latency started")
	}
	stopC, err := up(map[string]string{"SINP_REVIEW_POLICY": "batched", "SINP_REVIEW_POLICY_CHANGE": "true"})
	if err != nil {
		t.Fatal(err)
	}
	stopC()
	// Only A runs now, configured progressive.
	bustest.Publish(t, ns.JS, completed("R-2026-000042", eventsv1.Membership_MEMBERSHIP_ADHERENT, "flore"))
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var mode string
	for deadline := time.Now().Add(30 * time.Second); ; {
		err := conn.QueryRow(context.Background(), `SELECT mode FROM review.extraction WHERE reference = 'R-2026-000042'`).Scan(&mode)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the review never opened: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if mode != "batched" {
		t.Fatalf("the review opened %s, the deployment's policy is batched", mode)
	}
}
