package rule

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The property DESIGN.md asks to test hardest: no sensitive data is ever
// published before its rule allows it. Decide is checked against an oracle
// written from the text, which walks each pôle's timeline instant by instant,
// and against properties that hold whatever the oracle says.

var allPoles = []string{"flore-fonge", "invertebres", "mammiferes", "reptiles-amphibiens", "oiseaux", "poissons"}

type scenario struct {
	p   Policy
	f   Facts
	now time.Time
}

func (s scenario) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %+v, E %s, entitled %v, sensitive %v, now E%+v\n", s.p, s.f.CompletedAt.Format(time.RFC3339Nano), s.f.Entitled, s.f.SensitivePoles, s.now.Sub(s.f.CompletedAt))
	for i, o := range s.f.Opinions {
		fmt.Fprintf(&b, "  [%d] %s %s at E%+v %q\n", i, o.Pole, o.Verdict, o.At.Sub(s.f.CompletedAt), o.Justification)
	}
	return b.String()
}

func genPolicy(t *rapid.T) Policy {
	// Whole hours, so that latencies and opinion instants meet on boundaries.
	deadline := rapid.IntRange(1, 600).Draw(t, "deadline_h")
	return Policy{
		Deadline:         time.Duration(deadline) * time.Hour,
		FavorableLatency: time.Duration(rapid.IntRange(1, deadline).Draw(t, "favorable_h")) * time.Hour,
		F1Latency:        time.Duration(rapid.IntRange(1, deadline).Draw(t, "f1_h")) * time.Hour,
		Mode:             rapid.SampledFrom([]Mode{Progressive, Batched}).Draw(t, "mode"),
	}
}

// genInstant draws an instant around the review: anywhere in it, or on one
// of its boundaries (E, E+Deadline, E+F1Latency, an earlier instant plus the
// favorable latency, an earlier instant itself), give or take a nanosecond.
func genInstant(t *rapid.T, label string, p Policy, e time.Time, earlier []time.Time) time.Time {
	var base time.Time
	kind := rapid.IntRange(0, 6).Draw(t, label+"_kind")
	if len(earlier) == 0 && kind >= 4 {
		kind = 0
	}
	switch kind {
	case 0, 1:
		span := int64(p.Deadline / time.Minute)
		base = e.Add(time.Duration(rapid.Int64Range(-span/10-60, span*5/4).Draw(t, label+"_min")) * time.Minute)
	case 2:
		base = e.Add(p.Deadline)
	case 3:
		base = rapid.SampledFrom([]time.Time{e, e.Add(p.F1Latency)}).Draw(t, label+"_edge")
	case 4, 5:
		base = rapid.SampledFrom(earlier).Draw(t, label+"_from").Add(p.FavorableLatency)
	case 6:
		base = rapid.SampledFrom(earlier).Draw(t, label+"_tie")
	}
	return base.Add(rapid.SampledFrom([]time.Duration{-1, 0, 0, 0, 1}).Draw(t, label+"_ns"))
}

func genOpinion(t *rapid.T, label string, p Policy, e time.Time, poles []string, earlier []time.Time) Opinion {
	o := Opinion{Author: "relecteur"}
	if rapid.IntRange(0, 9).Draw(t, label+"_outsider") == 0 {
		o.Pole = rapid.SampledFrom(append(slices.Clone(allPoles), "")).Draw(t, label+"_pole")
	} else {
		o.Pole = rapid.SampledFrom(poles).Draw(t, label+"_pole")
	}
	switch v := rapid.IntRange(0, 19).Draw(t, label+"_verdict"); {
	case v == 0:
		o.Verdict = Verdict(rapid.SampledFrom([]int{0, 3, -1}).Draw(t, label+"_bad"))
	case v < 10:
		o.Verdict = Favorable
	default:
		o.Verdict = Unfavorable
	}
	o.Justification = rapid.SampledFrom([]string{"nidification", "gîte"}).Draw(t, label+"_why")
	if rapid.IntRange(0, 7).Draw(t, label+"_blank") == 0 {
		o.Justification = rapid.SampledFrom([]string{"", " \t"}).Draw(t, label+"_blank_why")
	}
	o.At = genInstant(t, label+"_at", p, e, earlier)
	return o
}

func genScenario(t *rapid.T) scenario {
	p := genPolicy(t)
	e := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.IntRange(0, 1_000_000).Draw(t, "e_min")) * time.Minute)
	poles := rapid.SliceOfNDistinct(rapid.SampledFrom(allPoles), 1, 3, func(s string) string { return s }).Draw(t, "poles")
	var sensitive []string
	for _, pole := range poles {
		for range rapid.IntRange(1, 2).Draw(t, "repeat") {
			sensitive = append(sensitive, pole)
		}
	}
	sensitive = rapid.Permutation(sensitive).Draw(t, "sensitive")

	var opinions []Opinion
	var instants []time.Time
	for i := range rapid.IntRange(0, 12).Draw(t, "opinions") {
		o := genOpinion(t, fmt.Sprintf("o%d", i), p, e, poles, instants)
		opinions = append(opinions, o)
		instants = append(instants, o.At)
	}
	opinions = rapid.Permutation(opinions).Draw(t, "order")
	now := genInstant(t, "now", p, e, instants)
	if rapid.IntRange(0, 9).Draw(t, "long_after") == 0 {
		now = e.Add(p.Deadline + time.Duration(rapid.IntRange(0, 1000).Draw(t, "after_h"))*time.Hour)
	}
	return scenario{p: p, now: now, f: Facts{
		CompletedAt:    e,
		Entitled:       rapid.IntRange(0, 9).Draw(t, "entitled") != 0,
		SensitivePoles: sensitive,
		Opinions:       opinions,
	}}
}

// The oracle.

type expected struct {
	state         State
	at            time.Time // settled at, or due
	rule          Rule      // settling rule, or the one that will settle it
	opinion       Verdict
	favorable     time.Time
	justification string
}

func (w expected) String() string {
	return fmt.Sprintf("{%s at %s (%s), opinion %s, favorable since %s, justification %q}",
		w.state, w.at.Format(time.RFC3339Nano), w.rule, w.opinion, w.favorable.Format(time.RFC3339Nano), w.justification)
}

type oracleOutcome struct {
	f1       expected
	f2       map[string]expected
	refused  map[int]error
	accepted map[string][]Opinion // per pôle, in the order they took effect
}

func oracle(s scenario) oracleOutcome {
	p, f, now := s.p, s.f, s.now
	e := f.CompletedAt
	out := oracleOutcome{f2: map[string]expected{}, refused: map[int]error{}, accepted: map[string][]Opinion{}}

	out.f1 = expected{state: Pending, at: e.Add(p.F1Latency), rule: RuleF1}
	if !now.Before(out.f1.at) {
		out.f1.state = Released
	}

	under := map[string]bool{}
	if f.Entitled {
		for _, pole := range f.SensitivePoles {
			under[pole] = true
		}
	}

	// Opinions refused whatever the timeline; the others wait for their pôle's walk.
	candidates := map[string][]int{}
	for i, o := range f.Opinions {
		switch {
		case o.At.After(now):
			// not given yet
		case !under[o.Pole]:
			out.refused[i] = ErrNotUnderReview
		case o.At.Before(e):
			out.refused[i] = ErrBeforeReview
		case o.Verdict != Favorable && o.Verdict != Unfavorable:
			out.refused[i] = ErrBadVerdict
		case o.Verdict == Unfavorable && strings.TrimSpace(o.Justification) == "":
			out.refused[i] = ErrJustificationRequired
		default:
			candidates[o.Pole] = append(candidates[o.Pole], i)
		}
	}

	deadline := e.Add(p.Deadline)
	for pole := range under {
		idx := candidates[pole]
		sort.SliceStable(idx, func(a, b int) bool { return f.Opinions[idx[a]].At.Before(f.Opinions[idx[b]].At) })

		// Every instant at which something can happen to this F2.
		instants := []time.Time{deadline, now}
		for _, i := range idx {
			instants = append(instants, f.Opinions[i].At, f.Opinions[i].At.Add(p.FavorableLatency))
		}
		sort.Slice(instants, func(a, b int) bool { return instants[a].Before(instants[b]) })

		var verdict Verdict
		var since time.Time
		var why string
		var settled *expected
		next := 0
		for _, t := range instants {
			if settled == nil {
				var state State
				var rule Rule
				switch {
				case p.Mode == Progressive && verdict == Favorable && !t.Before(since.Add(p.FavorableLatency)):
					state, rule = Released, RuleFavorable
				case !t.Before(deadline):
					switch {
					case verdict == Unfavorable:
						state, rule = Withheld, RuleUnfavorable
					case p.Mode == Batched:
						state, rule = Released, RuleBatched
					case verdict == Favorable:
						state, rule = Released, RuleFavorable
					default:
						state, rule = Released, RuleTacit
					}
				}
				if rule != RuleNone {
					settled = &expected{state: state, at: t, rule: rule, opinion: verdict, favorable: since, justification: why}
				}
			}
			for ; next < len(idx) && f.Opinions[idx[next]].At.Equal(t); next++ {
				i := idx[next]
				o := f.Opinions[i]
				if settled != nil {
					out.refused[i] = ErrSettled
					continue
				}
				out.accepted[pole] = append(out.accepted[pole], o)
				if o.Verdict == Favorable && verdict != Favorable {
					since = t
				}
				if o.Verdict == Unfavorable {
					since, why = time.Time{}, o.Justification
				} else {
					why = ""
				}
				verdict = o.Verdict
			}
		}
		if settled.at.After(now) {
			settled.state = Pending
		}
		out.f2[pole] = *settled
	}
	return out
}

// standingAt is the pôle's standing opinion at t, and when it last became
// favorable, read from the opinions that took effect.
func standingAt(accepted []Opinion, t time.Time) (Verdict, time.Time) {
	var v Verdict
	var since time.Time
	for _, o := range accepted {
		if o.At.After(t) {
			break
		}
		if o.Verdict == Favorable && v != Favorable {
			since = o.At
		}
		v = o.Verdict
	}
	if v != Favorable {
		since = time.Time{}
	}
	return v, since
}

func sameDecision(a, b Decision) bool {
	return a.State == b.State && a.Due.Equal(b.Due) && a.Will == b.Will && a.WillRule == b.WillRule &&
		a.Rule == b.Rule && a.Justification == b.Justification && a.Favorable.Equal(b.Favorable) && a.Opinion == b.Opinion
}

func matches(d Decision, w expected) bool {
	rule := d.Rule
	if d.State == Pending {
		rule = d.WillRule
	}
	return d.State == w.state && d.Due.Equal(w.at) && rule == w.rule && d.Opinion == w.opinion &&
		d.Favorable.Equal(w.favorable) && d.Justification == w.justification
}

// settledAlike says that every deliverable settled in before is settled the
// same way in after.
func settledAlike(t *rapid.T, what string, before, after Outcome) {
	if before.F1.Settled() && !sameDecision(before.F1, after.F1) {
		t.Fatalf("%s: F1 was %+v, became %+v", what, before.F1, after.F1)
	}
	for _, b := range before.F2 {
		if !b.Decision.Settled() {
			continue
		}
		a, ok := after.Pole(b.Pole)
		if !ok || !sameDecision(b.Decision, a) {
			t.Fatalf("%s: F2 of %s was %+v, became %+v", what, b.Pole, b.Decision, a)
		}
	}
}

func with(f Facts, o Opinion) Facts {
	f.Opinions = append(slices.Clone(f.Opinions), o)
	return f
}

func TestDecideProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genScenario(t)
		p, f, now, e := s.p, s.f, s.now, s.f.CompletedAt
		if err := p.Validate(); err != nil {
			t.Fatalf("generated policy: %v", err)
		}
		t.Log(s)
		got := Decide(p, f, now)
		want := oracle(s)
		deadline := e.Add(p.Deadline)

		// Decide agrees with the oracle.
		if !matches(got.F1, want.f1) {
			t.Fatalf("F1: got %+v, oracle %s", got.F1, want.f1)
		}
		if len(got.F2) != len(want.f2) {
			t.Fatalf("F2 for %d pôles, oracle %d", len(got.F2), len(want.f2))
		}
		for _, d := range got.F2 {
			w, ok := want.f2[d.Pole]
			if !ok || !matches(d.Decision, w) {
				t.Fatalf("F2 of %s: got %+v, oracle %s", d.Pole, d.Decision, w)
			}
		}
		if len(got.Refused) != len(want.refused) {
			t.Fatalf("refused %v, oracle %v", got.Refused, want.refused)
		}
		for _, r := range got.Refused {
			if w := want.refused[r.Index]; w == nil || !errors.Is(r.Reason, w) {
				t.Fatalf("opinion %d refused for %v, oracle %v", r.Index, r.Reason, w)
			}
		}

		for _, d := range got.F2 {
			dec := d.Decision
			if dec.State == Released {
				// (a) never released before its rule allows it.
				earliest := deadline
				v, since := standingAt(want.accepted[d.Pole], dec.Due)
				if p.Mode == Progressive && v == Favorable && since.Add(p.FavorableLatency).Before(deadline) {
					earliest = since.Add(p.FavorableLatency)
				}
				if dec.Due.Before(earliest) {
					t.Fatalf("(a) F2 of %s released at E%+v, allowed from E%+v", d.Pole, dec.Due.Sub(e), earliest.Sub(e))
				}
				// (b) never released under an unfavorable opinion.
				if v == Unfavorable {
					t.Fatalf("(b) F2 of %s released at E%+v under an unfavorable opinion", d.Pole, dec.Due.Sub(e))
				}
			}
			if dec.State == Withheld {
				if v, _ := standingAt(want.accepted[d.Pole], dec.Due); v != Unfavorable || !dec.Due.Equal(deadline) {
					t.Fatalf("F2 of %s withheld at E%+v under %s", d.Pole, dec.Due.Sub(e), v)
				}
			}
			if dec.Settled() && dec.Due.After(now) {
				t.Fatalf("F2 of %s settled in the future, at E%+v", d.Pole, dec.Due.Sub(e))
			}
			// (c) every F2 settled from the deadline on.
			if !now.Before(deadline) && !dec.Settled() {
				t.Fatalf("(c) F2 of %s still pending at E%+v, deadline E%+v", d.Pole, now.Sub(e), p.Deadline)
			}
		}

		// (d) time only settles more.
		later := genInstant(t, "later", p, e, []time.Time{now})
		if later.Before(now) {
			later = now
		}
		settledAlike(t, "(d) later", got, Decide(p, f, later))
		// (d) a new opinion, now or later, never unsettles anything.
		o := genOpinion(t, "new", p, e, allPoles, []time.Time{now})
		if o.At.Before(now) {
			o.At = now
		}
		settledAlike(t, "(d) new opinion", got, Decide(p, with(f, o), now))
		settledAlike(t, "(d) new opinion, later", got, Decide(p, with(f, o), later))

		// Accept judges a new opinion as the oracle does.
		o.At = now
		wantErr := oracle(scenario{p: p, f: with(f, o), now: now}).refused[len(f.Opinions)]
		if err := p.Accept(f, o); (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("Accept(%+v) = %v, oracle %v", o, err, wantErr)
		}

		// (e) a refused opinion changes nothing.
		for _, r := range got.Refused {
			without := f
			without.Opinions = slices.Delete(slices.Clone(f.Opinions), r.Index, r.Index+1)
			alt := Decide(p, without, now)
			if !sameDecision(alt.F1, got.F1) || !alt.Next.Equal(got.Next) || len(alt.F2) != len(got.F2) || len(alt.Refused) != len(got.Refused)-1 {
				t.Fatalf("(e) removing refused opinion %d changed the outcome:\n%+v\n%+v", r.Index, got, alt)
			}
			for k := range got.F2 {
				if !sameDecision(alt.F2[k].Decision, got.F2[k].Decision) {
					t.Fatalf("(e) removing refused opinion %d changed F2 of %s: %+v -> %+v", r.Index, got.F2[k].Pole, got.F2[k].Decision, alt.F2[k].Decision)
				}
			}
		}

		// (f) Next is the earliest pending instant, after now.
		var earliest time.Time
		pendings := []Decision{got.F1}
		for _, d := range got.F2 {
			pendings = append(pendings, d.Decision)
		}
		for _, d := range pendings {
			if d.State == Pending && (earliest.IsZero() || d.Due.Before(earliest)) {
				earliest = d.Due
			}
		}
		if !got.Next.Equal(earliest) || (!got.Next.IsZero() && !got.Next.After(now)) {
			t.Fatalf("(f) next E%+v, earliest pending E%+v, now E%+v", got.Next.Sub(e), earliest.Sub(e), now.Sub(e))
		}

		// (g) F1 released exactly from E + F1Latency on.
		if f1 := e.Add(p.F1Latency); (got.F1.State == Released) != !now.Before(f1) || !got.F1.Due.Equal(f1) || got.F1.State == Withheld {
			t.Fatalf("(g) F1 %s at E%+v, now E%+v, latency %s", got.F1.State, got.F1.Due.Sub(e), now.Sub(e), p.F1Latency)
		}
	})
}
