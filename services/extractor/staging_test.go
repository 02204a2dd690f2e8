package extractor

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/retry"
	"sinp.occitanie.fr/platform/service"
	"sinp.occitanie.fr/platform/staging"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

func TestWhatEndsAStagedCopy(t *testing.T) {
	f1 := &eventsv1.Deliverable{DeliverableId: "R-1/F1", Kind: eventsv1.FileKind_FILE_KIND_F1}
	f2 := &eventsv1.Deliverable{DeliverableId: "R-1/F2/oiseaux", Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: "oiseaux"}
	for _, c := range []struct {
		name string
		ev   bus.Event
		want stagedEnd // zero: refused
	}{
		{"its file expired", &eventsv1.ArchiveExpired{Reference: "R-1", DeliverableId: "R-1/F1"},
			stagedEnd{Reference: "R-1", DeliverableID: "R-1/F1", Why: endExpired}},
		{"its notice expired", &eventsv1.ArchiveExpired{Reference: "R-1", DeliverableId: "R-1/F2/oiseaux", FileName: "NOTICE_F2_oiseaux.txt"},
			stagedEnd{Reference: "R-1", DeliverableID: "R-1/F2/oiseaux", Why: endExpired}},
		{"withheld for good", &eventsv1.ReleaseWithheld{Reference: "R-1", Deliverable: f2, Rule: eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE},
			stagedEnd{Reference: "R-1", DeliverableID: "R-1/F2/oiseaux", Kind: "F2", Why: endWithheld}},
		// Delivery copies from the staged archive: it stays.
		{"released", &eventsv1.ReleaseGranted{Reference: "R-1", Deliverable: f2}, stagedEnd{}},
		{"published", &eventsv1.ArchivePublished{Reference: "R-1", DeliverableId: "R-1/F1"}, stagedEnd{}},
		// What review and delivery never send.
		{"an F1 withheld", &eventsv1.ReleaseWithheld{Reference: "R-1", Deliverable: f1}, stagedEnd{}},
		{"another request's file expired", &eventsv1.ArchiveExpired{Reference: "R-2", DeliverableId: "R-1/F1"}, stagedEnd{}},
		{"another request's F2 withheld", &eventsv1.ReleaseWithheld{Reference: "R-2", Deliverable: f2}, stagedEnd{}},
		{"a reference that prefixes another", &eventsv1.ArchiveExpired{Reference: "R", DeliverableId: "R-1/F1"}, stagedEnd{}},
		{"no reference", &eventsv1.ArchiveExpired{DeliverableId: "R-1/F1"}, stagedEnd{}},
		{"expired, no deliverable named", &eventsv1.ArchiveExpired{Reference: "R-1"}, stagedEnd{}},
		{"withheld, no deliverable named", &eventsv1.ReleaseWithheld{Reference: "R-1"}, stagedEnd{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := stagedCopyEnds(c.ev)
			if refused := c.want == (stagedEnd{}); refused != (err != nil) || (!refused && got != c.want) {
				t.Fatalf("stagedCopyEnds = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// remove deletes only a staged archive under the root: not the root, not
// a reference's directory, nothing through a link leading out.
func TestRemoveStaysInTheStagingArea(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	s := Staging{Root: root}
	// An area without its mark (a volume not mounted, its mount point
	// empty): nothing is taken for removed, and it is waited for.
	if err := s.remove("R-1/R-1_F1.7z"); !errors.Is(err, staging.ErrUnmarked) || !retry.Transient(err) {
		t.Fatalf("remove in an unmarked area: %v", err)
	}
	if _, err := staging.MarkArea(root, ""); err != nil {
		t.Fatal(err)
	}
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("7z"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "R-9", "R-9_F1.7z"))
	if err := os.Symlink(filepath.Join(outside, "R-9"), filepath.Join(root, "R-9")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", ".", "R-1", "../R-1/R-1_F1.7z", "/etc/passwd", "R-9/R-9_F1.7z", filepath.Join(outside, "R-9", "R-9_F1.7z")} {
		if err := s.remove(p); err == nil {
			t.Errorf("remove(%q) succeeded", p)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "R-9", "R-9_F1.7z")); err != nil {
		t.Fatalf("a file outside the staging area was touched: %v", err)
	}

	// A request's folder that is a link within the area: the archive goes,
	// the link (and what it leads to) stays.
	write(filepath.Join(root, "moved", "R-5", "R-5_F1.7z"))
	write(filepath.Join(root, "moved", "R-5", "R-5_F2_oiseaux.7z"))
	if err := os.Symlink(filepath.Join("moved", "R-5"), filepath.Join(root, "R-5")); err != nil {
		t.Fatal(err)
	}
	if err := s.remove("R-5/R-5_F1.7z"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "R-5", "R-5_F2_oiseaux.7z")); err != nil {
		t.Fatalf("the other archive behind a linked folder: %v", err)
	}

	write(filepath.Join(root, "R-1", "R-1_F1.7z"))
	write(filepath.Join(root, "R-1", "R-1_F2_oiseaux.7z"))
	for _, p := range []string{"R-1/R-1_F2_oiseaux.7z", "R-1/R-1_F2_oiseaux.7z", "R-2/R-2_F1.7z"} {
		if err := s.remove(p); err != nil {
			t.Fatalf("remove(%q): %v (one already gone is removed)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "R-1", "R-1_F1.7z")); err != nil {
		t.Fatalf("the request's other archive: %v", err)
	}
	if err := s.remove("R-1/R-1_F1.7z"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "R-1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the request's emptied directory stays: %v", err)
	}
}

// Once a deliverable can never be published again (its file expired from
// the drop zone, or its F2 withheld for good) the extractor deletes its
// staged archive and records when and why; a released F2 and the other
// deliverables stay. Redelivered or unknown, such an event changes nothing.
func TestAStagedArchiveIsDeletedOnceItCanNeverBePublished(t *testing.T) {
	h := newHarness(t)
	stop := h.up(t)
	defer stop()
	const ref = "R-2026-0042"
	publish(t, h.ns.JS, instructed(ref))
	var done *eventsv1.ExtractionCompleted
	for _, e := range h.waitFor(t, "ExtractionCompleted", completed) {
		if c, ok := e.(*eventsv1.ExtractionCompleted); ok {
			done = c
		}
	}
	var f1 *eventsv1.Deliverable
	var f2 []*eventsv1.Deliverable
	for _, d := range done.GetDeliverables() {
		if d.GetKind() == eventsv1.FileKind_FILE_KIND_F2 {
			f2 = append(f2, d)
		} else {
			f1 = d
		}
	}
	if f1 == nil || len(f2) < 2 {
		t.Fatalf("the test needs an F1 and two F2: %v", done.GetDeliverables())
	}
	staged := func(d *eventsv1.Deliverable) string {
		return filepath.Join(h.env["SINP_STAGING_DIR"], d.GetStagedPath())
	}
	meta := func(id string) *eventsv1.Meta {
		return &eventsv1.Meta{EventId: id, RequestId: ref, OccurredAt: timestamppb.Now()}
	}
	requester := done.GetRequester()
	withheld, granted := f2[0], f2[1]
	deadline := time.Now().Add(30 * time.Second)
	// What review and delivery never send: an F1 withheld, an event of
	// another request naming this one's F2. Dead-lettered; nothing goes.
	publish(t, h.ns.JS, &eventsv1.ReleaseWithheld{Meta: meta("withheld-f1"), Reference: ref, Deliverable: f1, Requester: requester,
		Rule: eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE, DueAt: timestamppb.Now()})
	publish(t, h.ns.JS, &eventsv1.ArchiveExpired{Meta: meta("expired-other"), Reference: "R-2026-0043", DeliverableId: granted.GetDeliverableId()})
	for h.ns.Count(t, bus.StreamDeadLetter, bus.SubjectDeadLetterPrefix+StagingConsumerName) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the forged events were not dead-lettered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range []*eventsv1.Deliverable{f1, granted} {
		if got := fileSum(t, staged(d)); got != d.GetSha256() {
			t.Fatalf("%s: SHA-256 %s, staged %s", d.GetStagedPath(), got, d.GetSha256())
		}
	}
	publish(t, h.ns.JS, &eventsv1.ReleaseGranted{Meta: meta("granted"), Reference: ref, Deliverable: granted, Requester: requester,
		Rule: eventsv1.ReleaseRule_RELEASE_RULE_FAVORABLE, DueAt: timestamppb.Now()})
	publish(t, h.ns.JS, &eventsv1.ReleaseWithheld{Meta: meta("withheld"), Reference: ref, Deliverable: withheld, Requester: requester,
		Rule: eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE, Justification: "nidification en cours", DueAt: timestamppb.Now()})
	publish(t, h.ns.JS, &eventsv1.ArchiveExpired{Meta: meta("expired"), Reference: ref, DeliverableId: f1.GetDeliverableId(),
		FileName: f1.GetArchiveName()})
	publish(t, h.ns.JS, &eventsv1.ArchiveExpired{Meta: meta("expired-unknown"), Reference: "R-2026-9999", DeliverableId: "R-2026-9999/F1"})

	for _, d := range []*eventsv1.Deliverable{withheld, f1} {
		for {
			if _, err := os.Stat(staged(d)); errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is still staged", d.GetStagedPath())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	conn, err := pgx.Connect(context.Background(), h.env["SINP_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Sent again (another event id): nothing more to do. Every event the
	// consumer takes (not the release) is processed, none dead-lettered.
	publish(t, h.ns.JS, &eventsv1.ArchiveExpired{Meta: meta("expired-again"), Reference: ref, DeliverableId: f1.GetDeliverableId()})
	for processed := 0; processed != 4; {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM extractor.processed_event WHERE consumer = $1`,
			StagingConsumerName).Scan(&processed); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events processed by %s, want 4", processed, StagingConsumerName)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range f2[1:] {
		if got := fileSum(t, staged(d)); got != d.GetSha256() {
			t.Errorf("%s: SHA-256 %s, staged %s", d.GetStagedPath(), got, d.GetSha256())
		}
	}
	rows, err := conn.Query(context.Background(), `SELECT deliverable_id, coalesce(removed_because, ''), removed_at IS NOT NULL
		FROM extractor.archive ORDER BY deliverable_id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var id, why string
		var at bool
		if err := rows.Scan(&id, &why, &at); err != nil {
			t.Fatal(err)
		}
		if at != (why != "") {
			t.Errorf("%s: removed because %q, with a time: %v", id, why, at)
		}
		got[id] = why
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{f1.GetDeliverableId(): endExpired, withheld.GetDeliverableId(): endWithheld}
	for _, d := range f2[1:] {
		want[d.GetDeliverableId()] = ""
	}
	if len(got) != len(want) {
		t.Fatalf("archives %v, want %v", got, want)
	}
	for id, why := range want {
		if got[id] != why {
			t.Errorf("%s: removed because %q, want %q", id, got[id], why)
		}
	}
}

// The staging area the deployment recorded must be there: after a first
// start, an empty folder in its place (a volume not mounted, even with
// nothing staged at the time) stops the extractor at start, naming it.
func TestTheExtractorRefusesAnEmptyStandInForItsArea(t *testing.T) {
	h := newHarness(t)
	h.up(t)()
	dir := h.env["SINP_STAGING_DIR"]
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	h.env["SINP_NATS_URL"] = h.ns.URL
	err := service.Up(context.Background(), config.Map(h.env), []service.Definition{Definition()}, testLogger(), service.Options{})
	if err == nil || !strings.Contains(err.Error(), "SINP_STAGING_DIR") || !strings.Contains(err.Error(), "is its volume mounted?") {
		t.Fatalf("started on an empty stand-in: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, staging.Mark)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the stand-in was marked: %v", err)
	}
}
