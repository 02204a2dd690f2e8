package service_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/service"
)

// A process accepts no token before it has read the revocations published
// before it started: while its services set up (before it serves), a
// valid token is "starting", not accepted; once it is up, accepted.
func TestNoTokenIsAcceptedBeforeTheRevocationsAreRead(t *testing.T) {
	ns := bustest.Start(t)
	dir := t.TempDir()
	env := config.Map(map[string]string{"SINP_DATABASE_URL": pgtest.NewDBURL(t), "SINP_NATS_URL": ns.URL, "SINP_DATA_DIR": dir,
		"SINP_GRPC_ADDR": "127.0.0.1:0", "SINP_HTTP_ADDR": "127.0.0.1:0", "SINP_AUTH_KEY_FILE": filepath.Join(dir, "signing.key")})
	var atSetup, atReady error
	d := service.Definition{Name: "probe"}
	d.Setup = func(ctx context.Context, p *service.Process) (service.Runner, error) {
		tok, _, err := p.Signer.Issue(auth.Principal{Kind: auth.Requester, Subject: "acc-1"}, time.Now(), time.Hour)
		if err != nil {
			return nil, err
		}
		_, atSetup = p.Auth.Verifier.Verify(tok, time.Now())
		return nil, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- service.Up(ctx, env, []service.Definition{d}, slog.New(slog.DiscardHandler), service.Options{Ready: func(p *service.Process, _ service.Addrs) {
			tok, _, _ := p.Signer.Issue(auth.Principal{Kind: auth.Requester, Subject: "acc-1"}, time.Now(), time.Hour)
			_, atReady = p.Auth.Verifier.Verify(tok, time.Now())
			cancel()
		}})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(atSetup, auth.ErrStarting) {
		t.Errorf("a token before the revocations are read: %v, want %v", atSetup, auth.ErrStarting)
	}
	if atReady != nil {
		t.Errorf("a token once up: %v", atReady)
	}
}
