package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/observations/storetest"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/bustest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
)

// lifecycle is a deployment under test: a seeded observation store, a NATS
// server of the test, and `sinp up --services extractor,review` as a real
// process the test can kill and start again.
type lifecycle struct {
	t        *testing.T
	services string
	ns       *bustest.Server
	env      []string
	addr     string
	proc     *exec.Cmd
	logs     *syncBuffer
	dbURL    string
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func newLifecycle(t *testing.T) *lifecycle {
	ns := bustest.Start(t)
	l := &lifecycle{t: t, ns: ns, addr: freeAddr(t), services: "extractor,review", dbURL: storetest.URL(t)}
	l.env = []string{"SINP_DATABASE_URL=" + l.dbURL, "SINP_NATS_URL=" + ns.URL, "SINP_DATA_DIR=" + t.TempDir(),
		"SINP_CLOCK=manual:" + t0.Format(time.RFC3339), "SINP_GRPC_ADDR=" + l.addr, "SINP_HTTP_ADDR=" + freeAddr(t),
		"SINP_NATS_ACK_WAIT=5s", "SINP_EXTRACT_LEASE=2s"}
	t.Cleanup(func() {
		if l.proc != nil && l.proc.ProcessState == nil {
			_ = l.proc.Process.Kill()
			_ = l.proc.Wait()
		}
		if t.Failed() && l.logs != nil {
			t.Logf("logs of the last sinp process:\n%s", l.logs.String())
		}
	})
	return l
}

// start runs the process (extra env: test hooks) and waits for its health.
func (l *lifecycle) start(extra ...string) {
	l.t.Helper()
	l.logs = &syncBuffer{}
	l.proc = sinpCmd(append(l.env, extra...), "up", "--services", l.services)
	l.proc.Stdout, l.proc.Stderr = l.logs, l.logs
	if err := l.proc.Start(); err != nil {
		l.t.Fatal(err)
	}
	if _, err := run(l.t, l.env, "health", "--addr", l.addr, "--wait", "60s"); err != nil {
		l.t.Fatalf("sinp did not serve:\n%s", l.logs.String())
	}
}

// published waits until the running process has relayed every event its
// services committed (no pending outbox row in any schema), so that a test
// hook armed on the next start fires on the test's event, not on a late one.
func (l *lifecycle) published() {
	l.t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, l.dbURL)
	if err != nil {
		l.t.Fatal(err)
	}
	defer db.Close(ctx)
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, _ := db.Query(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'`)
		schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			l.t.Fatal(err)
		}
		pending := 0
		for _, s := range schemas {
			var n int
			if err := db.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{s, "outbox"}.Sanitize()+
				` WHERE published_at IS NULL AND parked_at IS NULL`).Scan(&n); err != nil {
				l.t.Fatal(err)
			}
			pending += n
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%d events still unpublished after 60s", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *lifecycle) kill() {
	_ = l.proc.Process.Kill()
	_ = l.proc.Wait()
}

// waitDeath waits for the process to die by itself (a test hook), and
// says how.
func (l *lifecycle) waitDeath(within time.Duration) *exec.Cmd {
	l.t.Helper()
	done := make(chan struct{})
	go func() { _ = l.proc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		l.t.Fatal("the process did not die")
	}
	return l.proc
}

// sinp runs a command as a caller with token (empty: the local operator).
func (l *lifecycle) sinp(token string, args ...string) (string, error) {
	l.t.Helper()
	env := l.env
	if token != "" {
		env = append(slices.Clone(env), "SINP_TOKEN="+token)
	}
	return run(l.t, env, append(args, "--addr", l.addr, "--json")...)
}

func (l *lifecycle) token(kind, subject string, extra ...string) string {
	l.t.Helper()
	out, err := run(l.t, l.env, append([]string{"token", "issue", "--kind", kind, "--subject", subject, "--json"}, extra...)...)
	if err != nil {
		l.t.Fatal(err)
	}
	var got struct{ Token string }
	_ = json.Unmarshal([]byte(out), &got)
	return got.Token
}

func (l *lifecycle) events() []bus.Event {
	l.t.Helper()
	return bustest.Events(l.t, l.ns.JS)
}

func (l *lifecycle) waitFor(what string, cond func([]bus.Event) bool) []bus.Event {
	l.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		evs := l.events()
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *lifecycle) publish(ev bus.Event) {
	l.t.Helper()
	bustest.Publish(l.t, l.ns.JS, ev)
}

// releases are the ReleaseGranted and ReleaseWithheld seen, by deliverable.
type release struct {
	granted  bool
	rule     eventsv1.ReleaseRule
	due      time.Time
	occurred time.Time
	n        int
}

func releases(evs []bus.Event) map[string]*release {
	out := map[string]*release{}
	add := func(id string, granted bool, rule eventsv1.ReleaseRule, due, occ *timestamppb.Timestamp) {
		r := out[id]
		if r == nil {
			r = &release{granted: granted, rule: rule, due: due.AsTime(), occurred: occ.AsTime()}
			out[id] = r
		}
		r.n++
	}
	for _, ev := range evs {
		switch e := ev.(type) {
		case *eventsv1.ReleaseGranted:
			add(e.GetDeliverable().GetDeliverableId(), true, e.GetRule(), e.GetDueAt(), e.GetMeta().GetOccurredAt())
		case *eventsv1.ReleaseWithheld:
			add(e.GetDeliverable().GetDeliverableId(), false, e.GetRule(), e.GetDueAt(), e.GetMeta().GetOccurredAt())
		}
	}
	return out
}

// From a real instructed request and a real extraction, pôle reviewers
// act through the CLI while an operator moves the deployment's manual
// clock through 21 days; the process is SIGKILLed between an opinion and
// its release, and inside a release timer's transaction. Every deliverable
// is settled once, at its rule's instant, never before.
func TestAReviewFromExtractionToReleaseSurvivesKills(t *testing.T) {
	l := newLifecycle(t)
	l.start()
	const ref = "R-2026-0042"
	l.publish(&eventsv1.RequestInstructed{
		Meta:       &eventsv1.Meta{EventId: "instructed-" + ref, RequestId: ref, OccurredAt: timestamppb.New(t0)},
		Reference:  ref,
		Requester:  &eventsv1.Requester{AccountId: "acc-garonne", StructureName: "Bureau d'études Garonne", Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT},
		Purpose:    "Étude d'impact d'un parc photovoltaïque",
		Perimeter:  &eventsv1.Perimeter{Wkt: "POLYGON((540000 6240000,610000 6240000,610000 6310000,540000 6310000,540000 6240000))", SubmittedSrid: 2154},
		Options:    &eventsv1.ExtractionOptions{SplitByGeometryType: true},
		F2Entitled: true,
	})
	evs := l.waitFor("the extraction completed", func(evs []bus.Event) bool { return count[*eventsv1.ExtractionCompleted](evs) == 1 })
	var done *eventsv1.ExtractionCompleted
	for _, ev := range evs {
		if d, ok := ev.(*eventsv1.ExtractionCompleted); ok {
			done = d
		}
	}
	poles := done.GetSensitivePoles()
	if len(poles) < 2 {
		t.Fatalf("the extract has sensitive rows in %v: the test needs two pôles or more", poles)
	}
	e := done.GetCompletedAt().AsTime().Truncate(time.Microsecond)
	l.waitFor("the reviews opened", func(evs []bus.Event) bool { return count[*eventsv1.ReviewOpened](evs) == len(poles) })
	favorable, unfavorable := poles[0], poles[1]
	silent := poles[2:]

	// A reviewer sees the review in its queue and what it covers.
	rev := l.token("reviewer", "rev-"+favorable, "--pole", favorable)
	out, err := l.sinp(rev, "review", "list", "--state", "open")
	if err != nil || !strings.Contains(out, ref) {
		t.Fatalf("review list: %s %v", out, err)
	}
	out, err = l.sinp(rev, "review", "show", ref)
	var shown reviewv1.GetReviewResponse
	if err != nil || protojson.Unmarshal([]byte(out), &shown) != nil || shown.Review.Rows == 0 || len(shown.Review.Datasets) == 0 {
		t.Fatalf("review show: %s %v", out, err)
	}
	// ... and cannot act on another pôle's.
	if _, err := l.sinp(rev, "review", "opinion", ref, "--pole", unfavorable, "--favorable"); err == nil {
		t.Fatal("a reviewer gave an opinion on another pôle's F2")
	}

	if _, err := l.sinp("", "clock", "advance", "2d"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.sinp(rev, "review", "opinion", ref, "--favorable"); err != nil {
		t.Fatal(err)
	}
	against := l.token("reviewer", "rev-"+unfavorable, "--pole", unfavorable)
	if _, err := l.sinp(against, "review", "opinion", ref, "--unfavorable", "--justification", "station d'une espèce en danger critique"); err != nil {
		t.Fatal(err)
	}
	// Killed between the opinions and their releases.
	l.kill()
	l.start("SINP_TEST_KILL_BEFORE_SETTLE=1")
	if _, err := l.sinp("", "clock", "advance", "4d"); err != nil { // E+6d: F1 is due
		t.Fatal(err)
	}
	died := l.waitDeath(30 * time.Second)
	if st, ok := died.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("the process was not killed in the release transaction: %v", died.ProcessState)
	}
	if r := releases(l.events()); len(r) != 0 {
		t.Fatalf("a release survived a transaction that never committed: %v", r)
	}
	// Back: the overdue F1 is released at once, once.
	l.start()
	f1 := ref + "/F1"
	l.waitFor("F1 released", func(evs []bus.Event) bool { return releases(evs)[f1] != nil })
	for _, step := range []string{"1d", "23h59m59.999999s", "1us", "13d", "1d"} { // E+7d, E+8d-1µs, E+8d, E+21d, E+22d
		if _, err := l.sinp("", "clock", "advance", step); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		now := clockNow(t, l)
		for id, r := range releases(l.events()) {
			if r.due.After(now) || r.occurred.Before(r.due) {
				t.Fatalf("%s settled at %v (announced %v) with the clock at %v", id, r.due, r.occurred, now)
			}
		}
	}
	want := map[string]release{
		f1:                         {granted: true, rule: eventsv1.ReleaseRule_RELEASE_RULE_F1, due: e.Add(6 * 24 * time.Hour)},
		ref + "/F2/" + favorable:   {granted: true, rule: eventsv1.ReleaseRule_RELEASE_RULE_FAVORABLE, due: e.Add(8 * 24 * time.Hour)},
		ref + "/F2/" + unfavorable: {granted: false, rule: eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE, due: e.Add(21 * 24 * time.Hour)},
	}
	for _, p := range silent {
		want[ref+"/F2/"+p] = release{granted: true, rule: eventsv1.ReleaseRule_RELEASE_RULE_TACIT, due: e.Add(21 * 24 * time.Hour)}
	}
	got := releases(l.waitFor("every deliverable settled", func(evs []bus.Event) bool { return len(releases(evs)) == len(want) }))
	for id, w := range want {
		g := got[id]
		if g == nil || g.n != 1 || g.granted != w.granted || g.rule != w.rule || !g.due.Equal(w.due) {
			t.Errorf("%s: %+v, want once %+v", id, g, w)
		}
	}
	// The favorable opinion was given at E+2d, before the kill: F2 at E+8d
	// exactly, which the advance to E+8d-1µs did not reach.

	// The requester follows the plan; another requester cannot.
	owner := l.token("requester", "acc-garonne")
	if out, err := l.sinp(owner, "review", "plan", ref); err != nil || !strings.Contains(out, "RELEASE_RULE_FAVORABLE") {
		t.Fatalf("review plan by the owner: %s %v", out, err)
	}
	if _, err := l.sinp(l.token("requester", "acc-other"), "review", "plan", ref); err == nil {
		t.Fatal("another requester read the release plan")
	}
}

func clockNow(t *testing.T, l *lifecycle) time.Time {
	t.Helper()
	out, err := l.sinp("", "clock", "now")
	var r clockReading
	if err != nil || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("clock now: %s %v", out, err)
	}
	return r.Now
}

func count[T bus.Event](evs []bus.Event) int {
	n := 0
	for _, e := range evs {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}
