package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/pgtest"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

func clockOf(t *testing.T, c *child, token string) (adminv1.ClockServiceClient, context.Context) {
	t.Helper()
	conn, err := grpc.NewClient(c.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminv1.NewClockServiceClient(conn), auth.WithToken(context.Background(), token)
}

func now(t *testing.T, c adminv1.ClockServiceClient, ctx context.Context) time.Time {
	t.Helper()
	resp, err := c.Now(ctx, &adminv1.NowRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Now.AsTime()
}

// operatorToken signs a token with the key a process created in its data
// directory.
func operatorToken(t *testing.T, dataDir string, kind auth.Kind) string {
	t.Helper()
	s, err := auth.ReadKey(dataDir + "/auth/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Issue(auth.Principal{Kind: kind, Subject: "test-" + kind.String(), Pole: "flore", Request: "R-1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Two processes of one deployment read one clock: an advance made through
// one is seen by the other within a second. Only an operator may advance
// it, in either process, with a token signed by the other's key (learnt
// from NATS, its id trusted); a key someone else publishes on NATS signs
// nothing anyone believes.
func TestTwoProcessesShareOneClock(t *testing.T) {
	ns := bustest.Start(t)
	db := pgtest.NewDBURL(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := start(t, "", map[string]string{"SINP_DATABASE_URL": db, "SINP_NATS_URL": ns.URL, "SINP_DATA_DIR": dirA, "SINP_CLOCK": "manual:2026-03-01T08:00:00Z"})
	issuer, err := auth.ReadKey(dirA + "/auth/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	// b trusts a's key id, and learns the key itself from the bus.
	b := start(t, "", map[string]string{"SINP_DATABASE_URL": db, "SINP_NATS_URL": ns.URL, "SINP_DATA_DIR": dirB, "SINP_AUTH_TRUSTED_KEYS": issuer.KeyID})
	op := operatorToken(t, dirA, auth.Operator)
	ca, ctxA := clockOf(t, a, op)
	cb, ctxB := clockOf(t, b, op) // b verifies a's key, learnt from NATS
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if got := now(t, cb, ctxB); !got.Equal(start) {
		t.Fatalf("b reads %v, a's clock starts at %v", got, start)
	}
	if _, err := ca.Advance(ctxA, &adminv1.AdvanceRequest{By: durationpb.New(36 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for !now(t, cb, ctxB).Equal(start.Add(36 * time.Hour)) {
		if time.Now().After(deadline) {
			t.Fatalf("b reads %v a second after a advanced the clock by 36h", now(t, cb, ctxB))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Everyone but an operator is refused, in both processes.
	for _, k := range []auth.Kind{auth.Requester, auth.Tracking, auth.Reviewer, auth.Administrator} {
		_, ctx := clockOf(t, b, operatorToken(t, dirB, k))
		if _, err := cb.Advance(ctx, &adminv1.AdvanceRequest{By: durationpb.New(time.Hour)}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("a %s advancing the clock: %v", k, err)
		}
	}
	if _, err := cb.Advance(context.Background(), &adminv1.AdvanceRequest{By: durationpb.New(time.Hour)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("advancing the clock without a token: %v", err)
	}
	// Anyone on the bus publishes a key of their own and signs an operator token with it.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	evil := auth.NewSigner(priv)
	if err := auth.PublishKey(context.Background(), ns.JS, evil, "mallory"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	forged, _, _ := evil.Issue(auth.Principal{Kind: auth.Operator, Subject: "mallory"}, time.Now(), time.Hour)
	for _, p := range []*child{a, b} {
		c, ctx := clockOf(t, p, forged)
		if _, err := c.Advance(ctx, &adminv1.AdvanceRequest{By: durationpb.New(21 * 24 * time.Hour)}); status.Code(err) != codes.Unauthenticated {
			t.Errorf("a token signed by a key published on the bus but not trusted: %v", err)
		}
	}
}

// A process of an accelerated deployment killed and started again reads a
// time never earlier than before the kill: the clock's origin is the
// deployment's, not the process's.
func TestAnAcceleratedClockSurvivesASIGKILL(t *testing.T) {
	ns := bustest.Start(t)
	db := pgtest.NewDBURL(t)
	dir := t.TempDir()
	env := map[string]string{"SINP_DATABASE_URL": db, "SINP_NATS_URL": ns.URL, "SINP_DATA_DIR": dir, "SINP_CLOCK": "accelerated:3600"}
	p := start(t, "", env)
	c, ctx := clockOf(t, p, operatorToken(t, dir, auth.Operator))
	time.Sleep(500 * time.Millisecond)
	before := now(t, c, ctx)
	p.kill(t)
	again := start(t, "", env)
	c2, ctx2 := clockOf(t, again, operatorToken(t, dir, auth.Operator))
	after := now(t, c2, ctx2)
	if after.Before(before) {
		t.Fatalf("after the SIGKILL the clock reads %v, before it read %v: %v backwards", after, before, before.Sub(after))
	}
}
