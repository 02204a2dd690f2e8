package request

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	extractorv1 "sinp.occitanie.fr/proto/gen/go/sinp/extractor/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/migrations"
)

// The use cases against a real PostgreSQL, with a fake extractor (its
// territory a box around Occitanie, CheckScope knows every code) and a
// registry that says adherent.

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fakeExtractor struct{}

func (fakeExtractor) CheckScope(context.Context, *extractorv1.CheckScopeRequest) (*extractorv1.CheckScopeResponse, error) {
	return &extractorv1.CheckScopeResponse{AreasKm2: 120}, nil
}

func (fakeExtractor) EstimateExtraction(context.Context, *extractorv1.EstimateExtractionRequest) (*extractorv1.EstimateExtractionResponse, error) {
	return &extractorv1.EstimateExtractionResponse{}, nil
}

func (fakeExtractor) GetTerritory(context.Context, *extractorv1.GetTerritoryRequest) (*extractorv1.GetTerritoryResponse, error) {
	return &extractorv1.GetTerritoryResponse{RegionWkt: "POLYGON((400000 6100000,900000 6100000,900000 6450000,400000 6450000,400000 6100000))"}, nil
}

type fixture struct {
	svc   *Service
	clock *clock.Manual
	ctx   context.Context
}

func newFixture(t *testing.T, edit func(*Limits)) *fixture {
	t.Helper()
	db := pgtest.NewDB(t, migrations.Intake, outbox.Migrations("intake"))
	clk := clock.NewManual(t0)
	signer, err := auth.LoadOrCreateKey(filepath.Join(t.TempDir(), "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	lim := DefaultLimits()
	if edit != nil {
		edit(&lim)
	}
	svc := &Service{DB: db, Emitter: &outbox.Emitter{Schema: "intake", Producer: "intake", Clock: clk}, Clock: clk, Signer: &signer,
		Extractor: fakeExtractor{}, Limits: lim, TrackingTTL: time.Hour,
		Registry: func(context.Context, pg.Querier, string) (Member, error) {
			return Member{Name: "Faunae", Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT}, nil
		},
		Email: func(_ context.Context, _ pg.Querier, id string) (string, error) { return id + "@faunae.fr", nil },
	}
	return &fixture{svc: svc, clock: clk, ctx: context.Background()}
}

var (
	anne  = auth.Principal{Kind: auth.Requester, Subject: "acc-anne", Name: "Anne Faure", Structure: "st-faunae"}
	dreal = auth.Principal{Kind: auth.Administrator, Subject: "acc-dreal", Name: "DREAL"}
)

func submission() Submission {
	s := good()
	s.Period = nil
	return s
}

func accountLess(email string) Submission {
	s := submission()
	s.Declared = &intakev1.DeclaredRequester{Name: "Jeanne Martin", Email: email, StructureName: "Écologie Conseil"}
	return s
}

const jeanne = "jeanne.martin@ecologie-conseil.fr"

// strongKey is an account-less idempotency key as a client makes one.
func strongKey(i int) string { return fmt.Sprintf("Zq3v8KpW2mXr7LtN9cYb%04d", i) }

func fieldOf(err error) string {
	for _, v := range grpcserver.Violations(err) {
		return v.Field
	}
	return ""
}

func (f *fixture) instruct(t *testing.T, ref string) *Record {
	t.Helper()
	r, _, err := f.svc.Instruct(f.ctx, dreal, Decision{Reference: ref, Accept: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) follow(t *testing.T, ev bus.Event) {
	t.Helper()
	if err := pg.InTx(f.ctx, f.svc.DB, func(tx pgx.Tx) error { return f.svc.Follow(f.ctx, tx, ev) }); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) state(t *testing.T, ref string) *Record {
	t.Helper()
	r, err := getRecord(f.ctx, f.svc.DB, ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// concurrently runs n calls at once and gives their errors.
func concurrently(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Twenty submissions at once from one account leave it with its five
// open requests, not more: the count and the insert are one step.
func TestConcurrentSubmissionsStopAtTheOpenLimit(t *testing.T) {
	f := newFixture(t, nil)
	errs := concurrently(20, func(int) error {
		_, err := f.svc.Submit(f.ctx, anne, submission(), "", "192.0.2.10")
		return err
	})
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case fieldOf(err) != "requester":
			t.Errorf("refused for another reason: %v", err)
		}
	}
	if accepted != 5 {
		t.Fatalf("%d of 20 concurrent submissions accepted, the limit is 5", accepted)
	}
}

// Without an account, the declared email is anyone's to declare: five
// submissions declaring Jeanne's email do not use up her requests, and
// what limits account-less filing is the caller's address.
func TestAnAccountLessRequesterCannotUseUpAnothersRequests(t *testing.T) {
	f := newFixture(t, func(l *Limits) { l.AnonymousPerAddress = 6 })
	for i := range 5 {
		if _, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), "", "198.51.100.66"); err != nil {
			t.Fatalf("attacker's submission %d: %v", i, err)
		}
	}
	out, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), "", "203.0.113.5")
	if err != nil || out.Tracking == "" {
		t.Fatalf("Jeanne herself, after five submissions in her name by someone else: %v", err)
	}
}

// Account-less submissions are limited per address (an IPv6 /64) within
// a window: beyond, ResourceExhausted saying when to try again, even for
// many at once; other addresses are not affected; the window passes.
func TestAccountLessSubmissionsAreLimitedPerAddress(t *testing.T) {
	f := newFixture(t, func(l *Limits) { l.AnonymousPerAddress, l.AnonymousWindow = 3, time.Hour })
	errs := concurrently(12, func(i int) error {
		_, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(fmt.Sprintf("p%d@asso.org", i)), "", fmt.Sprintf("2001:db8:1:2::%x", i+1))
		return err
	})
	accepted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			accepted++
		case !errors.As(err, new(ThrottledError)) || !strings.Contains(err.Error(), "try again after"):
			t.Errorf("refused for another reason: %v", err)
		}
	}
	if accepted != 3 {
		t.Fatalf("%d of 12 concurrent account-less submissions from one /64 accepted, the limit is 3", accepted)
	}
	if _, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), "", "2001:db8:1:3::1"); err != nil {
		t.Errorf("from another /64: %v", err)
	}
	if _, err := f.svc.Submit(f.ctx, anne, submission(), "", "2001:db8:1:2::1"); err != nil {
		t.Errorf("a signed-in requester from the same address: %v", err)
	}
	_, _ = f.clock.Advance(f.ctx, time.Hour+time.Second, "")
	if _, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), "", "2001:db8:1:2::99"); err != nil {
		t.Errorf("once the window has passed: %v", err)
	}
}

// An account-less idempotency key is the only secret that gives a
// request's tracking token back: a guessable one is refused; a strong one
// replays its call; used again with another content, the answer tells
// nothing of the first call; and it is not kept in clear.
func TestAccountLessIdempotencyKeys(t *testing.T) {
	f := newFixture(t, nil)
	for _, key := range []string{"k-1", "jeanne-2026", strings.Repeat("a", 30), "aaaa-bbbb-aaaa-bbbb-aaaa-bbbb", "Zq3v8KpW2mXr7LtN9cYb\x00\x00", "Zq3v8KpW2mXr7LtN9cYb 12"} {
		_, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), key, "192.0.2.1")
		if fieldOf(err) != "idempotency_key" {
			t.Errorf("key %q: %v, want a violation on idempotency_key", key, err)
		}
	}
	key := strongKey(1)
	first, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), key, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Submit(f.ctx, auth.Principal{}, accountLess(jeanne), key, "192.0.2.2")
	if err != nil || !again.Replayed || again.Record.Reference != first.Record.Reference || again.Tracking != first.Tracking {
		t.Fatalf("retried: %+v %v", again, err)
	}
	other := accountLess("mallory@example.org")
	for _, sub := range []Submission{other, func() Submission { s := accountLess(jeanne); s.Purpose += " (bis)"; return s }()} {
		_, err := f.svc.Submit(f.ctx, auth.Principal{}, sub, key, "192.0.2.3")
		if fieldOf(err) != "idempotency_key" || strings.Contains(err.Error(), first.Record.Reference) || strings.Contains(err.Error(), "jeanne") {
			t.Errorf("the key used again with another content: %v", err)
		}
	}
	var stored string
	if err := f.svc.DB.QueryRow(f.ctx, `SELECT submit_key FROM intake.request WHERE reference = $1`, first.Record.Reference).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, key) {
		t.Errorf("the key is kept in clear: %q", stored)
	}
	// A signed-in requester's keys are its own, and may be short.
	if _, err := f.svc.Submit(f.ctx, anne, submission(), "form-1", "192.0.2.1"); err != nil {
		t.Errorf("a signed-in requester's short key: %v", err)
	}
}

// Concurrent retries of one submission (a double click, a client
// retrying on timeout) all get the one request: one is filed, the others
// replay it.
func TestConcurrentRetriesOfOneSubmissionReplay(t *testing.T) {
	f := newFixture(t, nil)
	for name, c := range map[string]struct {
		p   auth.Principal
		sub Submission
		key string
	}{
		"signed in":       {anne, submission(), "k-1"},
		"without account": {auth.Principal{}, accountLess(jeanne), strongKey(7)},
	} {
		t.Run(name, func(t *testing.T) {
			refs := make([]string, 8)
			replayed := make([]bool, 8)
			errs := concurrently(8, func(i int) error {
				out, err := f.svc.Submit(f.ctx, c.p, c.sub, c.key, "192.0.2.77")
				if err == nil {
					refs[i], replayed[i] = out.Record.Reference, out.Replayed
				}
				return err
			})
			fresh := 0
			for i, err := range errs {
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if refs[i] != refs[0] {
					t.Errorf("two requests for one key: %s and %s", refs[0], refs[i])
				}
				if !replayed[i] {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d calls filed a request, want 1", fresh)
			}
		})
	}
}

// Concurrent retries of one instruction replay it; one key used at once
// for two requests instructs one and refuses the other naming the key,
// not with the database's words.
func TestConcurrentInstructionsWithOneKey(t *testing.T) {
	f := newFixture(t, nil)
	var refs []string
	for range 3 {
		out, err := f.svc.Submit(f.ctx, anne, submission(), "", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, out.Record.Reference)
	}
	replayed := make([]bool, 8)
	errs := concurrently(8, func(i int) error {
		var err error
		_, replayed[i], err = f.svc.Instruct(f.ctx, dreal, Decision{Reference: refs[0], Accept: true, Key: "instr-1"})
		return err
	})
	replays := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("a retried instruction: %v", err)
		}
		if replayed[i] {
			replays++
		}
	}
	if replays != 7 {
		t.Errorf("%d replays of 8 calls, want 7", replays)
	}
	errs = concurrently(2, func(i int) error {
		_, _, err := f.svc.Instruct(f.ctx, dreal, Decision{Reference: refs[1+i], Accept: true, Key: "instr-2"})
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case fieldOf(err) != "idempotency_key" || strings.Contains(err.Error(), "duplicate"):
			t.Errorf("one key for two requests: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of the two requests instructed with one key", ok)
	}
}

// Free text is text: a NUL, control characters, a forged line or only
// invisible characters are refused naming the field, before anything
// reaches the database, the events or the history.
func TestFreeTextIsRefusedNamingItsField(t *testing.T) {
	f := newFixture(t, nil)
	nobody := auth.Principal{}
	for _, c := range []struct {
		name  string
		p     auth.Principal
		edit  func(*Submission)
		field string
	}{
		{"a NUL in the purpose", anne, func(s *Submission) { s.Purpose = "Étude\x00 d'impact d'un parc photovoltaïque" }, "purpose"},
		{"a purpose of zero-width spaces", anne, func(s *Submission) { s.Purpose = strings.Repeat("\u200b", 25) }, "purpose"},
		{"an escape sequence in the purpose", anne, func(s *Submission) { s.Purpose = "Étude d'impact\x1b[31m d'un parc photovoltaïque" }, "purpose"},
		{"a forged header in the name", nobody, func(s *Submission) { s.Declared.Name = "Jeanne\r\nX-Injected: 1\x1b[31m" }, "declared.name"},
		{"a line break in the structure", nobody, func(s *Submission) { s.Declared.StructureName = "Écologie\nConseil" }, "declared.structure_name"},
		{"a name of zero-width spaces", nobody, func(s *Submission) { s.Declared.Name = "\u200b\u200b\u200b" }, "declared.name"},
		{"invalid UTF-8 in the email", nobody, func(s *Submission) { s.Declared.Email = "jeanne\xff@ecologie-conseil.fr" }, "declared.email"},
		{"a NUL in the structure type", nobody, func(s *Submission) { s.Declared.StructureType = "bureau\x00" }, "declared.structure_type"},
	} {
		sub := submission()
		if c.p.Kind == auth.Nobody {
			sub = accountLess(jeanne)
		}
		c.edit(&sub)
		_, err := f.svc.Submit(f.ctx, c.p, sub, "", "192.0.2.1")
		if status.Code(err) != codes.InvalidArgument || fieldOf(err) != c.field {
			t.Errorf("%s: %v, want InvalidArgument on %s", c.name, err, c.field)
		}
	}

	sub := submission()
	sub.Purpose = "Étude d'impact\r\nd'un parc photovoltaïque  "
	out, err := f.svc.Submit(f.ctx, anne, sub, "", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ref := out.Record.Reference
	if got := f.state(t, ref).Submission.GetPurpose(); got != "Étude d'impact\nd'un parc photovoltaïque" {
		t.Errorf("purpose stored as %q", got)
	}
	for _, d := range []struct {
		d     Decision
		field string
	}{
		{Decision{Reference: ref, Reason: "hors\x00 périmètre du SINP"}, "reason"},
		{Decision{Reference: ref, Reason: strings.Repeat("\u200b", 12)}, "reason"},
		{Decision{Reference: ref, Accept: true, Remarks: "ok\x1b[2J"}, "remarks"},
		{Decision{Reference: ref, Accept: true, Key: "k\x00"}, "idempotency_key"},
	} {
		if _, _, err := f.svc.Instruct(f.ctx, dreal, d.d); fieldOf(err) != d.field {
			t.Errorf("instructed with %+v: %v, want a violation on %s", d.d, err, d.field)
		}
	}
	for _, reason := range []string{"plus besoin\x00", "plus\u202E besoin"} {
		if _, err := f.svc.Cancel(f.ctx, anne, ref, reason); fieldOf(err) != "reason" {
			t.Errorf("cancelled for %q: %v", reason, err)
		}
	}
	if r := f.state(t, ref); r.State != Deposited || len(r.History) != 1 {
		t.Errorf("after refused calls: %s, %d history entries", r.State, len(r.History))
	}
}

// A failed extraction stays failed until the DREAL retries it, whatever
// late events come; events of the run before a retry move nothing; the
// requester learns that it failed, not the extractor's error, which the
// administrator keeps.
func TestAFailedExtractionStaysFailedUntilRetried(t *testing.T) {
	f := newFixture(t, nil)
	out, err := f.svc.Submit(f.ctx, anne, submission(), "", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ref := out.Record.Reference
	first := f.instruct(t, ref).Instruction.GetMeta().GetEventId()
	if first == "" {
		t.Fatal("the instruction's event id is not kept")
	}
	run := func(cause string) *eventsv1.Meta { return &eventsv1.Meta{CausationId: cause, Producer: "extractor"} }
	const cause = "open /var/lib/sinp/staging/.work/R#0/f1.csv: no space left on device; ERROR: relation \"oc_dat.v_extract\" does not exist (SQLSTATE 42P01)"

	f.follow(t, &eventsv1.ExtractionStarted{Meta: run(first), Reference: ref, RunId: ref + "#0", Attempt: 1})
	f.follow(t, &eventsv1.ExtractionFailed{Meta: run(first), Reference: ref, RunId: ref + "#0", Reason: cause, Attempts: 3})
	// Redelivered late: an attempt's start, the run's start.
	f.follow(t, &eventsv1.ExtractionStarted{Meta: run(first), Reference: ref, RunId: ref + "#0", Attempt: 2})
	f.follow(t, &eventsv1.ExtractionStarted{Meta: run(""), Reference: ref, RunId: ref + "#0", Attempt: 1})
	if st := f.state(t, ref).State; st != Failed {
		t.Fatalf("after a late ExtractionStarted: %s, want failed", st)
	}

	r, err := f.svc.Get(f.ctx, anne, ref)
	if err != nil {
		t.Fatal(err)
	}
	shown := Proto(r, anne)
	if shown.Failure != PublicFailure {
		t.Errorf("the requester is shown the failure %q", shown.Failure)
	}
	for _, h := range shown.History {
		if strings.Contains(h.Detail, "/var/lib") || strings.Contains(h.Detail, "SQLSTATE") {
			t.Errorf("the requester's history: %s %q", h.What, h.Detail)
		}
	}
	admin := Proto(r, dreal)
	if admin.Failure != cause || !strings.Contains(fmt.Sprint(admin.History), "SQLSTATE") {
		t.Errorf("the administrator is not shown the cause: %q", admin.Failure)
	}

	retried, err := f.svc.Retry(f.ctx, dreal, ref)
	if err != nil || retried.State != Instructed {
		t.Fatalf("retry: %v %v", retried, err)
	}
	second := retried.Instruction.GetMeta().GetEventId()
	if second == "" || second == first {
		t.Fatalf("the retry's instruction %q (first %q)", second, first)
	}
	// The first run's failure, redelivered after the retry.
	f.follow(t, &eventsv1.ExtractionFailed{Meta: run(first), Reference: ref, RunId: ref + "#0", Reason: cause, Attempts: 3})
	if st := f.state(t, ref).State; st != Instructed {
		t.Fatalf("a failure of the run before the retry moved the request to %s", st)
	}
	f.follow(t, &eventsv1.ExtractionStarted{Meta: run(second), Reference: ref, RunId: ref + "#1", Attempt: 1})
	if st := f.state(t, ref).State; st != Extracting {
		t.Fatalf("the retried run's start: %s, want extracting", st)
	}
}

// What the API answers never carries the database's words: an internal
// error is logged and the caller told to try again.
func TestInternalErrorsDoNotReachTheCaller(t *testing.T) {
	f := newFixture(t, nil)
	srv := &Server{Requests: f.svc}
	f.svc.DB.Close()
	_, err := srv.GetRequest(auth.NewContext(f.ctx, dreal), &intakev1.GetRequestRequest{Reference: "R-2026-000001"})
	if status.Code(err) != codes.Unavailable || strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "pool") {
		t.Fatalf("%v", err)
	}
	_, err = srv.GetRequest(auth.NewContext(f.ctx, dreal), &intakev1.GetRequestRequest{Reference: "R-2026\x00"})
	if fieldOf(err) != "reference" {
		t.Errorf("a reference with a NUL: %v", err)
	}
	for err, want := range map[error]codes.Code{
		ThrottledError{RetryAt: t0}: codes.ResourceExhausted,
		fmt.Errorf("%w: %v", ErrUnavailable, errors.New("dial tcp 10.1.2.3:7443: connection refused")):                            codes.Unavailable,
		fmt.Errorf("request store: %w", errors.New(`ERROR: duplicate key value violates unique constraint "request_submit_key"`)): codes.Unavailable,
	} {
		got := srv.status(err)
		if status.Code(got) != want || strings.Contains(got.Error(), "10.1.2.3") || strings.Contains(got.Error(), "constraint") {
			t.Errorf("%v: the caller is told %v", err, got)
		}
	}
}

// A non-adherent's history counts the rows of its files, not those kept
// out of every file: in a perimeter of its drawing, that number would say
// how many level-4 observations lie there. The administrator sees both.
func TestTheRequestersHistoryCountsOnlyItsRows(t *testing.T) {
	f := newFixture(t, nil)
	out, err := f.svc.Submit(f.ctx, anne, submission(), "", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ref := out.Record.Reference
	cause := f.instruct(t, ref).Instruction.GetMeta().GetEventId()
	meta := &eventsv1.Meta{CausationId: cause, Producer: "extractor"}
	f.follow(t, &eventsv1.ExtractionStarted{Meta: meta, Reference: ref, RunId: ref + "#0", Attempt: 1})
	f.follow(t, &eventsv1.ExtractionCompleted{Meta: meta, Reference: ref, RunId: ref + "#0", RowsSelected: 1, RowsWithheld: 1,
		Deliverables: []*eventsv1.Deliverable{{DeliverableId: ref + "/F1", Kind: eventsv1.FileKind_FILE_KIND_F1}}})
	r, err := f.svc.Get(f.ctx, anne, ref)
	if err != nil {
		t.Fatal(err)
	}
	var extracted string
	for _, h := range Proto(r, anne).History {
		if strings.Contains(h.Detail, "no file") || strings.Contains(h.Detail, "selected") || h.What == historyCounts {
			t.Errorf("the requester's history: %s %q", h.What, h.Detail)
		}
		if h.What == "extracted" {
			extracted = h.Detail
		}
	}
	if extracted != "0 rows in F1; 1 archives staged" {
		t.Errorf("the requester reads %q", extracted)
	}
	if admin := fmt.Sprint(Proto(r, dreal).History); !strings.Contains(admin, "1 rows selected: 0 in F1, 0 in F2, 1 in no file") {
		t.Errorf("the administrator's history: %s", admin)
	}
}

// An entry written before the counts were split is read by the requester
// as one written since.
func TestAnOlderExtractedEntryShowsTheRowsOfTheFilesOnly(t *testing.T) {
	for in, want := range map[string]string{
		"1 rows selected: 0 in F1, 0 in F2, 1 in no file; 1 archives staged":       "0 rows in F1; 1 archives staged",
		"900 rows selected: 700 in F1, 200 in F2, 0 in no file; 7 archives staged": "700 rows in F1, 200 in F2; 7 archives staged",
		"12 rows in F1; 1 archives staged":                                         "12 rows in F1; 1 archives staged",
	} {
		if got := publicExtracted(in); got != want {
			t.Errorf("publicExtracted(%q) = %q, want %q", in, got, want)
		}
	}
}
