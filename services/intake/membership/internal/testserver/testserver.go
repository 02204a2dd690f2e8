// Package testserver runs the membership registry's gRPC API in a test's
// process: a real PostgreSQL database (intake's migrations and outbox), a
// manual clock, a signing key of its own, and the API behind the same
// authentication and access rules a deployment uses.
package testserver

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pgtest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/api"
	"sinp.occitanie.fr/services/intake/membership/app"
	"sinp.occitanie.fr/services/intake/migrations"
)

// T0 is when the test deployment's clock starts.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Server is a running registry API.
type Server struct {
	Addr   string
	DB     *pgxpool.Pool
	App    *app.Service
	Client intakev1.MembershipServiceClient
	Signer auth.Signer
	// KeyFile holds the signing key, for commands acting as the local
	// operator (SINP_AUTH_KEY_FILE).
	KeyFile string
	Clock   *clock.Manual
}

// Start runs a registry API until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	db := pgtest.NewDB(t, migrations.Intake, outbox.Migrations("intake"))
	clk := clock.NewManual(T0)
	svc := &app.Service{DB: db, Emitter: &outbox.Emitter{Schema: "intake", Producer: "intake", Clock: clk}, Clock: clk}
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	signer, err := auth.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier()
	v.AddKey(signer.Public())
	authn := &auth.Authenticator{Verifier: v, Rules: api.Access}
	gs := grpcserver.New(slog.New(slog.DiscardHandler), authn.Authenticate)
	intakev1.RegisterMembershipServiceServer(gs, api.New(svc, nil))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Server{Addr: l.Addr().String(), DB: db, App: svc, Client: intakev1.NewMembershipServiceClient(conn),
		Signer: signer, KeyFile: keyFile, Clock: clk}
}

// Token is a token for p, valid an hour.
func (s *Server) Token(t testing.TB, p auth.Principal) string {
	t.Helper()
	tok, _, err := s.Signer.Issue(p, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// As is a context calling as p (Nobody: without a token).
func (s *Server) As(t testing.TB, p auth.Principal) context.Context {
	t.Helper()
	if p.Kind == auth.Nobody {
		return context.Background()
	}
	return auth.WithToken(context.Background(), s.Token(t, p))
}

// Events are the MembershipChanged events in intake's outbox, in commit
// order.
func (s *Server) Events(t testing.TB) []*eventsv1.MembershipChanged {
	t.Helper()
	rows, err := s.DB.Query(context.Background(), `SELECT subject, payload FROM intake.outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []*eventsv1.MembershipChanged
	for rows.Next() {
		var subject string
		var payload []byte
		if err := rows.Scan(&subject, &payload); err != nil {
			t.Fatal(err)
		}
		ev, err := bus.Decode(subject, payload)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := ev.(*eventsv1.MembershipChanged); ok {
			out = append(out, m)
		} else {
			t.Fatalf("an event of another kind in the outbox: %s", subject)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The callers of the tests.
var (
	Admin    = auth.Principal{Kind: auth.Administrator, Subject: "dreal-1", Name: "DREAL Occitanie"}
	Operator = auth.Principal{Kind: auth.Operator, Subject: "op-1", Name: "ops"}
	Service  = auth.Principal{Kind: auth.Service, Subject: "extractor"}
	Tracking = auth.Principal{Kind: auth.Tracking, Subject: "trk-1", Request: "R-2026-0001"}
)

// Reviewer is a reviewer of a pôle.
func Reviewer(pole string) auth.Principal {
	return auth.Principal{Kind: auth.Reviewer, Subject: "rev-" + pole, Name: "Relecteur " + pole, Pole: pole}
}

// Requester is a person of a structure.
func Requester(structureID string) auth.Principal {
	return auth.Principal{Kind: auth.Requester, Subject: "acc-" + structureID, Name: "Demandeur", Structure: structureID}
}
