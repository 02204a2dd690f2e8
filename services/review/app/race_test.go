package app_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/outbox"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/timer"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/review"
	"sinp.occitanie.fr/services/review/app"
	"sinp.occitanie.fr/services/review/rule"
	"sinp.occitanie.fr/services/review/store"
)

var e0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

const ref = "R-2026-000001"

// fixture is one review of an adherent's extraction completed at e0 with
// the F2 of pôle flore, on a database of its own.
type fixture struct {
	db *pgxpool.Pool
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db := pgtest.NewDB(t, review.Migrations, timer.Migrations(app.Schema), outbox.Migrations(app.Schema))
	f := fixture{db: db}
	s := f.service(clock.NewManual(e0))
	ev := &eventsv1.ExtractionCompleted{Meta: &eventsv1.Meta{EventId: "done", RequestId: ref}, Reference: ref, RunId: ref + "#0",
		CompletedAt: timestamppb.New(e0), SensitivePoles: []string{"flore"}, F2Entitled: true,
		Requester: &eventsv1.Requester{AccountId: "acc-1", Membership: eventsv1.Membership_MEMBERSHIP_ADHERENT},
		Deliverables: []*eventsv1.Deliverable{{DeliverableId: ref + "/F1", Kind: eventsv1.FileKind_FILE_KIND_F1},
			{DeliverableId: ref + "/F2/flore", Kind: eventsv1.FileKind_FILE_KIND_F2, Pole: "flore"}}}
	if err := pg.InTx(context.Background(), db, func(tx pgx.Tx) error { return s.Open(context.Background(), tx, ev) }); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) service(c clock.Clock) *app.Service {
	return &app.Service{DB: f.db, Clock: c, Policy: rule.DefaultPolicy(), Log: slog.New(slog.DiscardHandler),
		Emitter: &outbox.Emitter{Schema: app.Schema, Producer: "review", Clock: c}}
}

func (f fixture) scanner(s *app.Service) *timer.Scanner {
	return &timer.Scanner{Pool: f.db, Schema: app.Schema, Clock: s.Clock,
		Handlers: map[string]timer.Handler{app.TimerKind: s.Fire}}
}

func (f fixture) opinion(s *app.Service, v rule.Verdict, why string) error {
	_, _, _, err := s.RecordOpinion(context.Background(), app.Opinion{Reference: ref, Pole: "flore", Verdict: v,
		Justification: why, Reviewer: "rev-flore"})
	return err
}

// due is when the release timer is set for.
func (f fixture) due(t *testing.T) time.Time {
	t.Helper()
	tm, err := timer.Get(context.Background(), f.db, app.Schema, "release:"+ref)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Due
}

func (f fixture) f2(t *testing.T) store.Deliverable {
	t.Helper()
	r, err := store.Get(context.Background(), f.db, ref)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.Deliverable("F2", "flore")
	return *d
}

// An unfavorable opinion given just before a favorable F2 is due, whose
// transaction is still running when the release timer comes due, is
// recorded and holds the F2: the opinion and the firing are ordered (the
// timer is taken first by both), never deadlocked with the opinion as the
// victim and the F2 released over it.
func TestAnOpinionRacingTheReleaseTimerHoldsTheF2(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := clock.NewManual(e0)
	s := f.service(c)
	if err := f.opinion(s, rule.Favorable, ""); err != nil {
		t.Fatal(err)
	}
	due := f.due(t)
	if _, err := c.Set(ctx, due.Add(-time.Millisecond), "", ""); err != nil {
		t.Fatal(err)
	}
	// The opinion's transaction is slow (a loaded database).
	if _, err := f.db.Exec(ctx, `CREATE FUNCTION review.slow() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(1.5); RETURN NEW; END $$;
		CREATE TRIGGER slow BEFORE INSERT ON review.opinion FOR EACH ROW EXECUTE FUNCTION review.slow()`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.opinion(s, rule.Unfavorable, "station de Sabline à protéger") }()
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Advance(ctx, time.Millisecond, ""); err != nil {
		t.Fatal(err)
	}
	sc := f.scanner(s)
	if _, err := sc.Fire(ctx); err != nil {
		t.Errorf("the scanner: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the opinion given before the due instant: %v", err)
	}
	if _, err := sc.Fire(ctx); err != nil {
		t.Fatal(err)
	}
	if d := f.f2(t); d.State != rule.Pending {
		t.Fatalf("F2 %s by %s over an unfavorable opinion", d.State, d.Rule)
	}
	if next := f.due(t); !next.Equal(e0.Add(21 * 24 * time.Hour)) {
		t.Fatalf("the timer is set for %s, want E+21d", next)
	}
}

// Two replicas whose clocks differ: once one has released the F2, an
// opinion through the other, whose clock lags, is refused as settled.
func TestAnOpinionAfterASettlementOnAnotherReplicaIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ahead, behind := clock.NewManual(e0), clock.NewManual(e0)
	a, b := f.service(ahead), f.service(behind)
	if err := f.opinion(a, rule.Favorable, ""); err != nil {
		t.Fatal(err)
	}
	due := f.due(t)
	if _, err := ahead.Set(ctx, due.Add(50*time.Millisecond), "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := behind.Set(ctx, due.Add(-50*time.Millisecond), "", ""); err != nil {
		t.Fatal(err)
	}
	if n, err := f.scanner(a).Fire(ctx); err != nil || n != 1 {
		t.Fatalf("replica A fired %d: %v", n, err)
	}
	err := f.opinion(b, rule.Unfavorable, "colonie découverte hier soir")
	if !errors.Is(err, rule.ErrSettled) {
		t.Fatalf("an opinion after the release: %v", err)
	}
	if d := f.f2(t); d.State != rule.Released {
		t.Fatalf("F2 %s", d.State)
	}
	var opinions int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM review.opinion WHERE verdict <> 'favorable'`).Scan(&opinions); err != nil {
		t.Fatal(err)
	}
	if opinions != 0 {
		t.Fatalf("%d unfavorable opinions stored after the release", opinions)
	}
}

// A reviewer says favorable through one replica, then corrects it to
// unfavorable a moment later through another whose clock lags by a
// second: the correction is dated after what it corrects, so it stands,
// and the F2 is held, as the reviewer was told.
func TestACorrectionThroughALaggingReplicaIsNotOverruled(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	day := 24 * time.Hour
	ahead, behind := clock.NewManual(e0.Add(3*day)), clock.NewManual(e0.Add(3*day-time.Second))
	a, b := f.service(ahead), f.service(behind)
	if err := f.opinion(a, rule.Favorable, ""); err != nil {
		t.Fatal(err)
	}
	_, out, _, err := b.RecordOpinion(ctx, app.Opinion{Reference: ref, Pole: "flore", Verdict: rule.Unfavorable,
		Justification: "nid de gypaète : ne pas diffuser", Reviewer: "rev-flore"})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := out.Pole("flore"); dec.WillRule != rule.RuleUnfavorable {
		t.Fatalf("the reviewer is told %s", dec.WillRule)
	}
	r, err := store.Get(ctx, f.db, ref)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.Opinions); n != 2 || r.Opinions[1].Verdict != rule.Unfavorable || r.Opinions[1].At.Before(r.Opinions[0].At) {
		t.Fatalf("opinions as the rule reads them: %+v", r.Opinions)
	}
	if _, err := ahead.Set(ctx, e0.Add(9*day), "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.scanner(a).Fire(ctx); err != nil {
		t.Fatal(err)
	}
	if d := f.f2(t); d.State != rule.Pending {
		t.Fatalf("F2 %s by %s over the unfavorable correction", d.State, d.Rule)
	}
}
