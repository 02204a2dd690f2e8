package review_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/service"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
	"sinp.occitanie.fr/services/review"
)

// e0 is when the test deployment's manual clock starts, and when every
// extraction of a test completes.
var e0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// harness runs the review service in this process on a real PostgreSQL,
// a real NATS and the deployment's manual clock.
type harness struct {
	ns     *bustest.Server
	conn   *grpc.ClientConn
	api    reviewv1.ReviewServiceClient
	clock  adminv1.ClockServiceClient
	signer auth.Signer
	stop   func()
}

func newHarness(t *testing.T, env map[string]string) *harness {
	t.Helper()
	h := &harness{ns: bustest.Start(t)}
	dir := t.TempDir()
	grpcAddr := freeAddr(t)
	full := map[string]string{
		"SINP_DATABASE_URL": pgtest.NewDBURL(t), "SINP_NATS_URL": h.ns.URL, "SINP_DATA_DIR": dir,
		"SINP_GRPC_ADDR": grpcAddr, "SINP_HTTP_ADDR": "127.0.0.1:0", "SINP_CLOCK": "manual:" + e0.Format(time.RFC3339),
		"SINP_NATS_ACK_WAIT": "5s",
	}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- service.Up(ctx, config.Map(full), []service.Definition{review.Definition()}, slog.New(slog.DiscardHandler),
			service.Options{Ready: func(*service.Process, service.Addrs) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("review did not start: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("review not ready after a minute")
	}
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("review stopped with %v", err)
		}
	}
	t.Cleanup(h.stop)
	var err error
	if h.signer, err = auth.ReadKey(filepath.Join(dir, "auth", "signing.key")); err != nil {
		t.Fatal(err)
	}
	if h.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.conn.Close() })
	h.api, h.clock = reviewv1.NewReviewServiceClient(h.conn), adminv1.NewClockServiceClient(h.conn)
	return h
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// as returns a context calling as p.
func (h *harness) as(t *testing.T, p auth.Principal) context.Context {
	t.Helper()
	tok, _, err := h.signer.Issue(p, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return auth.WithToken(context.Background(), tok)
}

func reviewer(pole string) auth.Principal {
	return auth.Principal{Kind: auth.Reviewer, Subject: "rev-" + pole, Name: "Reviewer " + pole, Pole: pole}
}

var admin = auth.Principal{Kind: auth.Administrator, Subject: "dreal-1", Name: "DREAL"}

// advanceTo moves the deployment's clock to e0 + d.
func (h *harness) advanceTo(t *testing.T, d time.Duration) {
	t.Helper()
	ctx := h.as(t, auth.Principal{Kind: auth.Operator, Subject: "op"})
	now, err := h.clock.Now(ctx, &adminv1.NowRequest{})
	if err != nil {
		t.Fatal(err)
	}
	by := e0.Add(d).Sub(now.Now.AsTime())
	if by <= 0 {
		return
	}
	if _, err := h.clock.Advance(ctx, &adminv1.AdvanceRequest{By: durationpb.New(by)}); err != nil {
		t.Fatal(err)
	}
}

// completed is an ExtractionCompleted at e0 for a requester, with F1 and
// the F2 of each pôle.
func completed(ref string, membership eventsv1.Membership, poles ...string) *eventsv1.ExtractionCompleted {
	ev := &eventsv1.ExtractionCompleted{
		Meta: &eventsv1.Meta{EventId: "done-" + ref, RequestId: ref}, Reference: ref, RunId: ref + "#0",
		CompletedAt: timestamppb.New(e0), SensitivePoles: poles, F2Entitled: membership == eventsv1.Membership_MEMBERSHIP_ADHERENT,
		Requester:    &eventsv1.Requester{AccountId: "acc-" + ref, StructureName: "Bureau d'études", Membership: membership},
		Deliverables: []*eventsv1.Deliverable{{DeliverableId: ref + "/F1", Kind: eventsv1.FileKind_FILE_KIND_F1, ArchiveName: "F1.7z", Rows: 1000}},
	}
	for _, p := range poles {
		ev.Deliverables = append(ev.Deliverables, &eventsv1.Deliverable{DeliverableId: ref + "/F2/" + p, Kind: eventsv1.FileKind_FILE_KIND_F2,
			Pole: p, ArchiveName: "F2_" + p + ".7z", Rows: 40, Datasets: []string{"12", "31"}})
		ev.Partitions = append(ev.Partitions, &eventsv1.Partition{Key: &eventsv1.PartitionKey{Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: p,
			GeometryType: eventsv1.GeometryType_GEOMETRY_TYPE_POINTS}, Rows: 30}, &eventsv1.Partition{Key: &eventsv1.PartitionKey{
			Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: p, GeometryType: eventsv1.GeometryType_GEOMETRY_TYPE_POLYGONES}, Rows: 10})
	}
	return ev
}

func (h *harness) publish(t *testing.T, ev bus.Event) { bustest.Publish(t, h.ns.JS, ev) }

// events reads every event of the stream.
func (h *harness) events(t *testing.T) []bus.Event { return bustest.Events(t, h.ns.JS) }

// waitEvents waits until cond holds on the stream's events.
func (h *harness) waitEvents(t *testing.T, what string, cond func([]bus.Event) bool) []bus.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs := h.events(t)
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%d events)", what, len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
