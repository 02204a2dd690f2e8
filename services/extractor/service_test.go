package extractor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/observations/storetest"
	"sinp.occitanie.fr/platform/archivekey"
	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/service"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	"sinp.occitanie.fr/services/extractor/extraction"
)

const box = "POLYGON((555000 6260000,595000 6260000,595000 6300000,555000 6300000,555000 6260000))"

func instructed(ref string) *eventsv1.RequestInstructed {
	return &eventsv1.RequestInstructed{
		Meta:       &eventsv1.Meta{EventId: "instructed-" + ref, RequestId: ref, OccurredAt: timestamppb.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))},
		Reference:  ref,
		Requester:  &eventsv1.Requester{AccountId: "acc-1", StructureName: "Bureau d'études Garonne", Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT},
		Purpose:    "Étude d'impact",
		Perimeter:  &eventsv1.Perimeter{Wkt: box, SubmittedSrid: 2154},
		Options:    &eventsv1.ExtractionOptions{SplitByGeometryType: true, AttachedGeometry: eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE},
		F2Entitled: true,
	}
}

func publish(t *testing.T, js jetstream.JetStream, ev bus.Event) { bustest.Publish(t, js, ev) }

// streamEvents reads every event of the stream.
func streamEvents(t *testing.T, js jetstream.JetStream) []bus.Event { return bustest.Events(t, js) }

func count[T bus.Event](events []bus.Event) int {
	n := 0
	for _, e := range events {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

// harness runs the extractor service on a seeded store and a NATS server
// that outlive it.
type harness struct {
	env map[string]string
	ns  *bustest.Server
	// grpc is where the running service listens.
	grpc string
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	return &harness{ns: bustest.Start(t), env: map[string]string{
		"SINP_DATABASE_URL":           storetest.URL(t),
		"SINP_DATA_DIR":               dir,
		"SINP_STAGING_DIR":            filepath.Join(dir, "staging"),
		"SINP_GRPC_ADDR":              "127.0.0.1:0",
		"SINP_HTTP_ADDR":              "127.0.0.1:0",
		"SINP_CLOCK":                  "manual:2026-03-01T08:00:00Z",
		"SINP_EXTRACT_LEASE":          "2s",
		"SINP_EXTRACT_PROGRESS_EVERY": "50ms",
		"SINP_NATS_MAX_DELIVER":       "3",
		"SINP_NATS_ACK_WAIT":          "5s",
	}}
}

// up runs the service until the returned stop is called.
func (h *harness) up(t *testing.T) (stop func()) {
	t.Helper()
	h.env["SINP_NATS_URL"] = h.ns.URL
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- service.Up(ctx, config.Map(h.env), []service.Definition{Definition()}, testLogger(),
			service.Options{Ready: func(_ *service.Process, a service.Addrs) { h.grpc = a.GRPC; close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("extractor did not start: %v", err)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("extractor stopped with %v", err)
		}
	}
}

func (h *harness) waitFor(t *testing.T, what string, cond func([]bus.Event) bool) []bus.Event {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		evs := streamEvents(t, h.ns.JS)
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %d events", what, len(evs))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func completed(evs []bus.Event) bool { return count[*eventsv1.ExtractionCompleted](evs) > 0 }

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	_, _ = io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// An instructed request, delivered twice, is extracted once: archives in the
// staging area with the SHA-256 the events announce, and events that tell
// the whole story.
func TestInstructedRequestIsExtractedStagedAndAnnounced(t *testing.T) {
	h := newHarness(t)
	stop := h.up(t)
	defer stop()
	ev := instructed("R-2026-0001")
	publish(t, h.ns.JS, ev)
	dup := proto.Clone(ev).(*eventsv1.RequestInstructed)
	dup.Meta.EventId = "instructed-again" // a producer that published twice
	publish(t, h.ns.JS, dup)

	h.waitFor(t, "ExtractionCompleted", completed)
	time.Sleep(500 * time.Millisecond) // anything announced twice would show by now
	evs := streamEvents(t, h.ns.JS)
	if n := count[*eventsv1.ExtractionCompleted](evs); n != 1 {
		t.Fatalf("%d ExtractionCompleted for one request", n)
	}
	if count[*eventsv1.ExtractionStarted](evs) != 1 || count[*eventsv1.ExtractionProgress](evs) == 0 {
		t.Errorf("started %d, progress %d", count[*eventsv1.ExtractionStarted](evs), count[*eventsv1.ExtractionProgress](evs))
	}
	var done *eventsv1.ExtractionCompleted
	for _, e := range evs {
		if c, ok := e.(*eventsv1.ExtractionCompleted); ok {
			done = c
		}
	}
	if done.GetMeta().GetRequestId() != "R-2026-0001" || done.GetMeta().GetCausationId() != "instructed-R-2026-0001" {
		t.Errorf("meta %v", done.GetMeta())
	}
	if got := done.GetCompletedAt().AsTime(); !got.Equal(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("E = %v, want the process clock's time", got)
	}
	if len(done.GetSensitivePoles()) == 0 || done.GetRowsSelected() == 0 || done.GetRequester().GetAccountId() != "acc-1" {
		t.Errorf("completion %v", done)
	}
	// An adherent gets every row in F1 or F2: none in no file, and F1
	// shows all but those it withholds.
	if done.GetRowsWithheld() != 0 || done.GetRowsWithheldF1() == 0 || done.GetRowsF1()+done.GetRowsWithheldF1() != done.GetRowsSelected() {
		t.Errorf("selected %d, F1 %d, withheld from F1 %d, in no file %d", done.GetRowsSelected(), done.GetRowsF1(),
			done.GetRowsWithheldF1(), done.GetRowsWithheld())
	}
	if count[*eventsv1.ArchiveStaged](evs) != len(done.GetDeliverables()) || count[*eventsv1.PartitionExtracted](evs) != len(done.GetPartitions()) {
		t.Errorf("%d staged / %d deliverables, %d partition events / %d partitions", count[*eventsv1.ArchiveStaged](evs),
			len(done.GetDeliverables()), count[*eventsv1.PartitionExtracted](evs), len(done.GetPartitions()))
	}
	for _, d := range done.GetDeliverables() {
		path := filepath.Join(h.env["SINP_STAGING_DIR"], d.GetStagedPath())
		if got := fileSum(t, path); got != d.GetSha256() {
			t.Errorf("%s: SHA-256 %s, announced %s", d.GetStagedPath(), got, d.GetSha256())
		}
		if d.GetKind() == eventsv1.FileKind_FILE_KIND_F2 && d.GetPole() == "" {
			t.Errorf("F2 deliverable without pôle: %v", d)
		}
	}
	work, _ := os.ReadDir(filepath.Join(h.env["SINP_STAGING_DIR"], ".work"))
	if len(work) != 0 {
		t.Errorf("work directories left behind: %v", work)
	}
}

// A request the extractor cannot serve (invalid perimeter) fails at once
// with the reason, without retries.
func TestBadPerimeterFailsWithTheReason(t *testing.T) {
	h := newHarness(t)
	stop := h.up(t)
	defer stop()
	ev := instructed("R-BAD")
	ev.Perimeter.Wkt = "POLYGON((0 0,10 10,10 0,0 10,0 0))" // self-intersecting
	publish(t, h.ns.JS, ev)
	evs := h.waitFor(t, "ExtractionFailed", func(evs []bus.Event) bool { return count[*eventsv1.ExtractionFailed](evs) > 0 })
	for _, e := range evs {
		if f, ok := e.(*eventsv1.ExtractionFailed); ok {
			if f.GetAttempts() != 1 || f.GetReason() == "" {
				t.Errorf("failed after %d attempts: %q", f.GetAttempts(), f.GetReason())
			}
			t.Logf("reason: %s", f.GetReason())
		}
	}
}

// The extractor is killed (SIGKILL) once with its archives written but not
// staged, once with them staged but the run not recorded. Each time the
// restarted service produces the same archives (same SHA-256 as an
// uninterrupted run) and announces them once.
func TestKilledExtractionRestartsToTheSameArchives(t *testing.T) {
	if os.Getenv("EXTRACTOR_CRASH_CHILD") != "" {
		t.Skip("helper process only")
	}
	ref := instructed("R-REF")
	db := storetest.Pool(t)
	spec, err := extraction.SpecFromEvent(ref)
	if err != nil {
		t.Fatal(err)
	}
	// The service encrypts each F2 with its own password, from the
	// deployment's secret: the uninterrupted run uses the same.
	secretFile := filepath.Join(t.TempDir(), "f2.secret")
	secret, err := archivekey.LoadOrCreate(secretFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := extraction.Extract(context.Background(), spec, t.TempDir(),
		extraction.Options{DB: db, Pack: extraction.PackOptions{F2Password: secret.Password}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range res.Deliverables {
		want = append(want, d.ArchiveName+" "+d.SHA256)
	}

	for _, crash := range []string{"after-extract", "after-stage"} {
		t.Run(crash, func(t *testing.T) {
			h := newHarness(t)
			h.env["SINP_NATS_URL"] = h.ns.URL
			h.env["SINP_F2_SECRET_FILE"] = secretFile
			publish(t, h.ns.JS, instructed("R-REF"))
			child := exec.Command(os.Args[0], "-test.run=^TestExtractorCrashChild$", "-test.v")
			child.Env = append(os.Environ(), "EXTRACTOR_CRASH_CHILD="+crash)
			for k, v := range h.env {
				child.Env = append(child.Env, k+"="+v)
			}
			out, _ := child.CombinedOutput()
			if st, ok := child.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed:\n%s", out)
			}
			staged, _ := filepath.Glob(filepath.Join(h.env["SINP_STAGING_DIR"], "R-REF", "*.7z"))
			if crash == "after-extract" && len(staged) != 0 {
				t.Fatalf("archives staged by a run that died before staging: %v", staged)
			}
			if evs := streamEvents(t, h.ns.JS); count[*eventsv1.ArchiveStaged](evs)+count[*eventsv1.ExtractionCompleted](evs) != 0 {
				t.Fatal("the dead run announced archives")
			}

			stop := h.up(t)
			defer stop()
			h.waitFor(t, "ExtractionCompleted after restart", completed)
			time.Sleep(500 * time.Millisecond)
			evs := streamEvents(t, h.ns.JS)
			var got []string
			for _, e := range evs {
				if s, ok := e.(*eventsv1.ArchiveStaged); ok {
					d := s.GetDeliverable()
					got = append(got, d.GetArchiveName()+" "+fileSum(t, filepath.Join(h.env["SINP_STAGING_DIR"], d.GetStagedPath())))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("after the crash:\n%v\nuninterrupted:\n%v", got, want)
			}
			if n := count[*eventsv1.ExtractionCompleted](evs); n != 1 {
				t.Fatalf("%d ExtractionCompleted", n)
			}
			if n := count[*eventsv1.ExtractionStarted](evs); n != 2 {
				t.Errorf("%d ExtractionStarted, want 2 (the killed attempt and the second)", n)
			}
		})
	}
}

// TestExtractorCrashChild is the process the test above kills.
func TestExtractorCrashChild(t *testing.T) {
	crash := os.Getenv("EXTRACTOR_CRASH_CHILD")
	if crash == "" {
		t.Skip("run by TestKilledExtractionRestartsToTheSameArchives")
	}
	kill := func() {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	if crash == "after-extract" {
		testHooks.afterExtract = kill
	} else {
		testHooks.afterStage = kill
	}
	lookup := config.OS
	err := service.Up(context.Background(), lookup, []service.Definition{Definition()}, slog.New(slog.DiscardHandler), service.Options{})
	t.Fatalf("the service stopped without being killed: %v", err)
}

func testLogger() *slog.Logger {
	if os.Getenv("EXTRACTOR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// The running service serves its API, declared healthy under its gRPC
// name, behind the platform's authentication.
func TestServesItsAPI(t *testing.T) {
	h := newHarness(t)
	stop := h.up(t)
	defer stop()
	signer, err := auth.ReadKey(filepath.Join(h.env["SINP_DATA_DIR"], "auth", "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(h.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	as := func(p auth.Principal) context.Context {
		tok, _, err := signer.Issue(p, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return auth.WithToken(context.Background(), tok)
	}
	health, err := healthpb.NewHealthClient(conn).Check(context.Background(),
		&healthpb.HealthCheckRequest{Service: extractorv1.ExtractorService_ServiceDesc.ServiceName})
	if err != nil || health.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of the API: %v %v", health, err)
	}
	c := extractorv1.NewExtractorServiceClient(conn)
	est, err := c.EstimateExtraction(as(auth.Principal{Kind: auth.Administrator, Subject: "dreal"}), &extractorv1.EstimateExtractionRequest{
		Perimeter: &eventsv1.Perimeter{Wkt: box}, F2Entitled: true, Options: &eventsv1.ExtractionOptions{SplitByGeometryType: true}})
	if err != nil || est.RowsSelected == 0 || est.RowsF2 == 0 || len(est.Partitions) == 0 {
		t.Errorf("estimate: %v %v", est, err)
	}
	if _, err := c.GetTerritory(as(auth.Principal{Kind: auth.Requester, Subject: "acc-1"}), &extractorv1.GetTerritoryRequest{}); err != nil {
		t.Errorf("territory for a requester: %v", err)
	}
	if _, err := c.CheckScope(as(auth.Principal{Kind: auth.Requester, Subject: "acc-1"}), &extractorv1.CheckScopeRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a requester checking a scope: %v", err)
	}
}
