package review_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/bus"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	reviewv1 "sinp.occitanie.fr/proto/gen/go/sinp/review/v1"
)

// step is a reviewer's opinion at E + at, and the answer the API gives.
type step struct {
	at            time.Duration
	pole          string
	verdict       eventsv1.Opinion
	justification string
	want          codes.Code
}

// outcome is how a deliverable (F1 when pole is empty) is settled: at
// E + at, released or withheld, by a rule.
type outcome struct {
	pole     string
	released bool
	rule     eventsv1.ReleaseRule
	at       time.Duration
}

type scenario struct {
	ref        string
	membership eventsv1.Membership
	poles      []string
	steps      []step
	want       []outcome
}

const (
	fav   = eventsv1.Opinion_OPINION_FAVORABLE
	unfav = eventsv1.Opinion_OPINION_UNFAVORABLE
	adh   = eventsv1.Membership_MEMBERSHIP_ADHERENT
	f1    = eventsv1.ReleaseRule_RELEASE_RULE_F1
)

var f1At6 = outcome{"", true, f1, 6 * day}

func released(pole string, rule eventsv1.ReleaseRule, at time.Duration) outcome {
	return outcome{pole, true, rule, at}
}

func withheld(pole string, at time.Duration) outcome {
	return outcome{pole, false, eventsv1.ReleaseRule_RELEASE_RULE_UNFAVORABLE, at}
}

// The release timing of DESIGN.md, through the API on a running service,
// with the deployment's clock moved from E to E + 22 days: each
// deliverable is released or withheld exactly at its rule's instant (not
// a microsecond before), once, with the rule that settled it.
func TestReleaseTimingEndToEnd(t *testing.T) {
	const (
		favorableRule = eventsv1.ReleaseRule_RELEASE_RULE_FAVORABLE
		tacit         = eventsv1.ReleaseRule_RELEASE_RULE_TACIT
	)
	scenarios := []scenario{
		{ref: "R-no-opinion", membership: adh, poles: []string{"oiseaux"},
			want: []outcome{f1At6, released("oiseaux", tacit, 21*day)}},
		{ref: "R-favorable-2d", membership: adh, poles: []string{"flore"},
			steps: []step{{at: 2 * day, pole: "flore", verdict: fav}},
			want:  []outcome{f1At6, released("flore", favorableRule, 8*day)}},
		{ref: "R-favorable-then-unfavorable", membership: adh, poles: []string{"mammiferes"},
			steps: []step{{at: day, pole: "mammiferes", verdict: fav}, {at: 3 * day, pole: "mammiferes", verdict: unfav, justification: "colonie de chiroptères en reproduction"}},
			want:  []outcome{f1At6, withheld("mammiferes", 21*day)}},
		{ref: "R-favorable-18d", membership: adh, poles: []string{"poissons"},
			steps: []step{{at: 18 * day, pole: "poissons", verdict: fav}},
			want:  []outcome{f1At6, released("poissons", favorableRule, 21*day)}},
		{ref: "R-unfavorable-then-favorable-10d", membership: adh, poles: []string{"invertebres"},
			steps: []step{{at: day, pole: "invertebres", verdict: unfav, justification: "données en cours de validation"}, {at: 10 * day, pole: "invertebres", verdict: fav}},
			want:  []outcome{f1At6, released("invertebres", favorableRule, 16*day)}},
		{ref: "R-favorable-twice", membership: adh, poles: []string{"oiseaux"},
			steps: []step{{at: 2 * day, pole: "oiseaux", verdict: fav}, {at: 5 * day, pole: "oiseaux", verdict: fav}},
			want:  []outcome{f1At6, released("oiseaux", favorableRule, 8*day)}},
		{ref: "R-opinion-after-release", membership: adh, poles: []string{"flore"},
			steps: []step{{at: 2 * day, pole: "flore", verdict: fav},
				{at: 9 * day, pole: "flore", verdict: unfav, justification: "trop tard", want: codes.FailedPrecondition}},
			want: []outcome{f1At6, released("flore", favorableRule, 8*day)}},
		{ref: "R-opinion-at-the-due-instant", membership: adh, poles: []string{"flore"},
			steps: []step{{at: 2 * day, pole: "flore", verdict: fav},
				{at: 8 * day, pole: "flore", verdict: unfav, justification: "à l'instant même", want: codes.FailedPrecondition}},
			want: []outcome{f1At6, released("flore", favorableRule, 8*day)}},
		{ref: "R-two-poles", membership: adh, poles: []string{"oiseaux", "reptiles_amphibiens"},
			steps: []step{{at: day, pole: "oiseaux", verdict: fav}, {at: day, pole: "reptiles_amphibiens", verdict: unfav, justification: "station de Lézard ocellé"}},
			want:  []outcome{f1At6, released("oiseaux", favorableRule, 7*day), withheld("reptiles_amphibiens", 21*day)}},
		{ref: "R-non-adherent", membership: eventsv1.Membership_MEMBERSHIP_NON_ADHERENT,
			steps: []step{{at: day, pole: "flore", verdict: fav, want: codes.NotFound}},
			want:  []outcome{f1At6}},
		// The event names an F2 (it should not): a pre-adherent gets F1 only.
		{ref: "R-pre-adherent", membership: eventsv1.Membership_MEMBERSHIP_PRE_ADHERENT, poles: []string{"flore"},
			steps: []step{{at: day, pole: "flore", verdict: fav, want: codes.NotFound}},
			want:  []outcome{f1At6}},
		{ref: "R-pole-without-sensitive-rows", membership: adh, poles: []string{"oiseaux"},
			steps: []step{{at: day, pole: "flore", verdict: fav, want: codes.NotFound}},
			want:  []outcome{f1At6, released("oiseaux", tacit, 21*day)}},
		// F1's timer fires half an hour before the F2 is due: it must not
		// take the F2 along.
		{ref: "R-close-instants", membership: adh, poles: []string{"flore"},
			steps: []step{{at: 30 * time.Minute, pole: "flore", verdict: fav}},
			want:  []outcome{f1At6, released("flore", favorableRule, 6*day+30*time.Minute)}},
		{ref: "R-unfavorable-needs-a-justification", membership: adh, poles: []string{"poissons"},
			steps: []step{{at: day, pole: "poissons", verdict: unfav, justification: "  ", want: codes.InvalidArgument}},
			want:  []outcome{f1At6, released("poissons", tacit, 21*day)}},
		// Nor is an invisible one, or one with a control character: it
		// reaches the requester and the feeds.
		{ref: "R-unfavorable-invisible-justification", membership: adh, poles: []string{"poissons"},
			steps: []step{{at: day, pole: "poissons", verdict: unfav, justification: "\u200b\u200b\u200b\u200b", want: codes.InvalidArgument},
				{at: day, pole: "poissons", verdict: unfav, justification: "frayère\x00 protégée", want: codes.InvalidArgument},
				{at: day, pole: "poissons", verdict: unfav, justification: "frayère \u202eprotégée", want: codes.InvalidArgument}},
			want: []outcome{f1At6, released("poissons", tacit, 21*day)}},
	}
	runScenarios(t, nil, scenarios)
}

// The batched policy: nothing of F2 before E + 21 days, then every F2 not
// under an unfavorable opinion; F1 still at E + 6 days.
func TestBatchedReleaseEndToEnd(t *testing.T) {
	batched := eventsv1.ReleaseRule_RELEASE_RULE_BATCHED
	runScenarios(t, map[string]string{"SINP_REVIEW_POLICY": "batched"}, []scenario{
		{ref: "B-favorable-early", membership: adh, poles: []string{"flore", "oiseaux", "poissons"},
			steps: []step{{at: day, pole: "flore", verdict: fav}, {at: 2 * day, pole: "oiseaux", verdict: unfav, justification: "nidification"}},
			want:  []outcome{f1At6, released("flore", batched, 21*day), withheld("oiseaux", 21*day), released("poissons", batched, 21*day)}},
	})
}

func runScenarios(t *testing.T, env map[string]string, scenarios []scenario) {
	h := newHarness(t, env)
	reviews := 0
	for _, s := range scenarios {
		h.publish(t, completed(s.ref, s.membership, s.poles...))
		if s.membership == adh {
			reviews += len(s.poles)
		}
	}
	h.waitEvents(t, "the reviews opened", func(evs []bus.Event) bool { return count[*eventsv1.ReviewOpened](evs) == reviews })

	// Every instant something happens, and a microsecond before each
	// settlement (the deployment's clock has PostgreSQL's precision).
	var instants []time.Duration
	for _, s := range scenarios {
		for _, st := range s.steps {
			instants = append(instants, st.at)
		}
		for _, o := range s.want {
			instants = append(instants, o.at-time.Microsecond, o.at)
		}
	}
	instants = append(instants, 22*day)
	slices.Sort(instants)
	instants = slices.Compact(instants)

	for _, at := range instants {
		h.advanceTo(t, at)
		for _, s := range scenarios {
			for _, st := range s.steps {
				if st.at != at {
					continue
				}
				_, err := h.api.RecordOpinion(h.as(t, reviewer(st.pole)), &reviewv1.RecordOpinionRequest{
					Reference: s.ref, Opinion: st.verdict, Justification: st.justification})
				if status.Code(err) != st.want {
					t.Errorf("%s: %s opinion of %s at E+%v: %v, want %v", s.ref, st.verdict, st.pole, at, err, st.want)
				}
			}
		}
		// What is due by now is settled, once; nothing else is.
		var due []outcome
		for _, s := range scenarios {
			for _, o := range s.want {
				if o.at <= at {
					due = append(due, o)
				}
			}
		}
		evs := h.waitEvents(t, "releases due by E+"+at.String(), func(evs []bus.Event) bool { return len(settlements(evs)) >= len(due) })
		checkSettlements(t, at, scenarios, settlements(evs))
	}
}

// settlement is a ReleaseGranted or ReleaseWithheld as seen on the bus.
type settlement struct {
	deliverable string
	released    bool
	rule        eventsv1.ReleaseRule
	due         time.Time
	occurred    time.Time
	justified   string
}

func settlements(evs []bus.Event) []settlement {
	var out []settlement
	for _, ev := range evs {
		switch e := ev.(type) {
		case *eventsv1.ReleaseGranted:
			out = append(out, settlement{e.GetDeliverable().GetDeliverableId(), true, e.GetRule(), e.GetDueAt().AsTime(), e.GetMeta().GetOccurredAt().AsTime(), ""})
		case *eventsv1.ReleaseWithheld:
			out = append(out, settlement{e.GetDeliverable().GetDeliverableId(), false, e.GetRule(), e.GetDueAt().AsTime(), e.GetMeta().GetOccurredAt().AsTime(), e.GetJustification()})
		}
	}
	return out
}

func checkSettlements(t *testing.T, now time.Duration, scenarios []scenario, got []settlement) {
	t.Helper()
	want := map[string]outcome{}
	for _, s := range scenarios {
		for _, o := range s.want {
			id := s.ref + "/F1"
			if o.pole != "" {
				id = s.ref + "/F2/" + o.pole
			}
			want[id] = o
		}
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g.deliverable]++
		w, ok := want[g.deliverable]
		switch {
		case !ok:
			t.Errorf("at E+%v: %s settled (%+v) but never should be", now, g.deliverable, g)
		case seen[g.deliverable] > 1:
			t.Errorf("at E+%v: %s settled %d times", now, g.deliverable, seen[g.deliverable])
		case w.at > now:
			t.Errorf("at E+%v: %s settled early, due at E+%v", now, g.deliverable, w.at)
		case g.released != w.released || g.rule != w.rule || !g.due.Equal(e0.Add(w.at)):
			t.Errorf("%s: released=%v by %s at E+%v, want released=%v by %s at E+%v", g.deliverable, g.released, g.rule, g.due.Sub(e0), w.released, w.rule, w.at)
		case g.occurred.Before(g.due):
			t.Errorf("%s: announced at %v, before its due instant %v", g.deliverable, g.occurred, g.due)
		case !g.released && g.justified == "":
			t.Errorf("%s: withheld without the pôle's justification", g.deliverable)
		}
	}
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
