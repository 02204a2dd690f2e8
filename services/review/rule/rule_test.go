package rule

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The review timeline of DESIGN.md §3, one row per sentence. Instants are
// offsets from E, the instant the extraction completed.

var e = time.Date(2025, time.March, 3, 9, 30, 0, 0, time.UTC)

const (
	oiseaux    = "oiseaux"
	mammiferes = "mammiferes"
	flore      = "flore-fonge"
	poissons   = "poissons"
)

func at(d time.Duration) time.Time { return e.Add(d) }

func fav(pole string, d time.Duration) Opinion {
	return Opinion{Pole: pole, Verdict: Favorable, At: at(d), Author: "relecteur-" + pole}
}

func unfav(pole string, d time.Duration, why string) Opinion {
	return Opinion{Pole: pole, Verdict: Unfavorable, At: at(d), Author: "relecteur-" + pole, Justification: why}
}

func adherent(poles []string, opinions ...Opinion) Facts {
	return Facts{CompletedAt: e, Entitled: true, SensitivePoles: poles, Opinions: opinions}
}

// want is a deliverable's expected fate: state, instant (due or settled),
// and rule (the settling rule, or the one that will settle it).
type want struct {
	state         State
	at            time.Duration
	rule          Rule
	favorable     *time.Duration // F, when the row is about it
	justification string
}

func pending(d time.Duration, r Rule) want  { return want{state: Pending, at: d, rule: r} }
func released(d time.Duration, r Rule) want { return want{state: Released, at: d, rule: r} }
func withheld(d time.Duration) want         { return want{state: Withheld, at: d, rule: RuleUnfavorable} }

func (w want) since(d time.Duration) want { w.favorable = &d; return w }
func (w want) because(j string) want      { w.justification = j; return w }

func (w want) check(t *testing.T, what string, d Decision) {
	t.Helper()
	rule := d.Rule
	if d.State == Pending {
		if d.Rule != RuleNone {
			t.Errorf("%s: pending with rule %s", what, d.Rule)
		}
		rule = d.WillRule
	}
	if d.State != w.state || !d.Due.Equal(at(w.at)) || rule != w.rule {
		t.Errorf("%s: got %s at E+%s (%s), want %s at E+%s (%s)", what, d.State, d.Due.Sub(e), rule, w.state, w.at, w.rule)
	}
	if w.favorable != nil && !d.Favorable.Equal(at(*w.favorable)) {
		t.Errorf("%s: favorable since E+%s, want E+%s", what, d.Favorable.Sub(e), *w.favorable)
	}
	if d.Justification != w.justification {
		t.Errorf("%s: justification %q, want %q", what, d.Justification, w.justification)
	}
}

const ns = time.Nanosecond // day is the package's

var (
	f1Pending  = pending(6*day, RuleF1)
	f1Released = released(6*day, RuleF1)
	none       = time.Duration(-1) // Next: everything settled
)

func TestDecide(t *testing.T) {
	batched := DefaultPolicy()
	batched.Mode = Batched
	one := []string{oiseaux}
	two := []string{oiseaux, mammiferes}

	tests := []struct {
		name    string
		policy  *Policy // DefaultPolicy when nil
		facts   Facts
		now     time.Duration
		f1      want
		f2      map[string]want
		refused []int
		next    time.Duration // none: zero
	}{
		{
			name:  "Without any opinion, F2 is released at E+21d by tacit consent",
			facts: adherent(one), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleTacit)}, next: none,
		},
		{
			name:  "Without any opinion, F2 is still pending one second before E+21d",
			facts: adherent(one), now: 21*day - time.Second,
			f1: f1Released, f2: map[string]want{oiseaux: pending(21*day, RuleTacit)}, next: 21 * day,
		},
		{
			name:  "Without any opinion, F2 is still pending one nanosecond before E+21d",
			facts: adherent(one), now: 21*day - ns,
			f1: f1Released, f2: map[string]want{oiseaux: pending(21*day, RuleTacit)}, next: 21 * day,
		},
		{
			name:  "Right after the extraction, the next thing to happen is F1 at E+6d",
			facts: adherent(one), now: 0,
			f1: f1Pending, f2: map[string]want{oiseaux: pending(21*day, RuleTacit)}, next: 6 * day,
		},
		{
			name:  "A favorable opinion at E+2d releases F2 at E+8d",
			facts: adherent(one, fav(oiseaux, 2*day)), now: 8 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(8*day, RuleFavorable).since(2 * day)}, next: none,
		},
		{
			name:  "A favorable opinion at E+2d: F2 still pending one nanosecond before E+8d",
			facts: adherent(one, fav(oiseaux, 2*day)), now: 8*day - ns,
			f1: f1Released, f2: map[string]want{oiseaux: pending(8*day, RuleFavorable).since(2 * day)}, next: 8 * day,
		},
		{
			name:  "A favorable opinion at E+2d: before E+6d, F1 comes first",
			facts: adherent(one, fav(oiseaux, 2*day)), now: 3 * day,
			f1: f1Pending, f2: map[string]want{oiseaux: pending(8*day, RuleFavorable).since(2 * day)}, next: 6 * day,
		},
		{
			name:  "An unfavorable opinion inside the 6 days after a favorable one blocks the release, and F2 is withheld at E+21d",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 5*day, "site de nidification")), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: withheld(21 * day).because("site de nidification")}, next: none,
		},
		{
			name:  "An unfavorable opinion inside the 6 days: at E+8d nothing is released, the deadline is next",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 5*day, "site de nidification")), now: 8 * day,
			f1: f1Released, f2: map[string]want{oiseaux: pending(21*day, RuleUnfavorable).because("site de nidification")}, next: 21 * day,
		},
		{
			name:  "An unfavorable opinion one nanosecond before the release still blocks it",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 8*day-ns, "colonie")), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: withheld(21 * day).because("colonie")}, next: none,
		},
		{
			name:  "A favorable opinion at E+18d releases F2 at E+21d, not later",
			facts: adherent(one, fav(oiseaux, 18*day)), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleFavorable).since(18 * day)}, next: none,
		},
		{
			name:  "A favorable opinion at E+18d: pending until E+21d",
			facts: adherent(one, fav(oiseaux, 18*day)), now: 20 * day,
			f1: f1Released, f2: map[string]want{oiseaux: pending(21*day, RuleFavorable).since(18 * day)}, next: 21 * day,
		},
		{
			name:  "An unfavorable opinion revised to favorable at E+10d releases F2 at E+16d",
			facts: adherent(one, unfav(oiseaux, 1*day, "à vérifier"), fav(oiseaux, 10*day)), now: 16 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(16*day, RuleFavorable).since(10 * day)}, next: none,
		},
		{
			name:  "A favorable opinion repeated later does not move F: the first one counts",
			facts: adherent(one, fav(oiseaux, 2*day), fav(oiseaux, 5*day)), now: 8 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(8*day, RuleFavorable).since(2 * day)}, next: none,
		},
		{
			name:  "Favorable, unfavorable, favorable again: F is the last time it became favorable",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 4*day, "doute"), fav(oiseaux, 7*day)), now: 12 * day,
			f1: f1Released, f2: map[string]want{oiseaux: pending(13*day, RuleFavorable).since(7 * day)}, next: 13 * day,
		},
		{
			name:  "Favorable, unfavorable, favorable again: released six days after the last one",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 4*day, "doute"), fav(oiseaux, 7*day)), now: 13 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(13*day, RuleFavorable).since(7 * day)}, next: none,
		},
		{
			name:  "Opinions recorded in any order are taken in the order of their instants",
			facts: adherent(one, fav(oiseaux, 7*day), unfav(oiseaux, 4*day, "doute"), fav(oiseaux, 2*day)), now: 13 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(13*day, RuleFavorable).since(7 * day)}, next: none,
		},
		{
			name:  "Two opinions at the same instant count in the order they were recorded",
			facts: adherent(one, fav(oiseaux, 3*day), unfav(oiseaux, 3*day, "finalement non")), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: withheld(21 * day).because("finalement non")}, next: none,
		},
		{
			name:  "An opinion after the release is refused and the release stands",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 9*day, "trop tard")), now: 10 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(8*day, RuleFavorable).since(2 * day)}, refused: []int{1}, next: none,
		},
		{
			name:  "An opinion exactly at the release instant is refused",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 8*day, "pile à l'heure")), now: 8 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(8*day, RuleFavorable).since(2 * day)}, refused: []int{1}, next: none,
		},
		{
			name:  "An opinion exactly at E+21d is refused: the tacit release stands",
			facts: adherent(one, unfav(oiseaux, 21*day, "pile à l'échéance")), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleTacit)}, refused: []int{0}, next: none,
		},
		{
			name:  "A favorable opinion after a withholding is refused: withheld for good",
			facts: adherent(one, unfav(oiseaux, 3*day, "espèce menacée"), fav(oiseaux, 22*day)), now: 30 * day,
			f1: f1Released, f2: map[string]want{oiseaux: withheld(21 * day).because("espèce menacée")}, refused: []int{1}, next: none,
		},
		{
			name:  "An opinion dated after now has not happened yet: neither applied nor refused",
			facts: adherent(one, fav(oiseaux, 2*day), unfav(oiseaux, 5*day, "plus tard")), now: 4 * day,
			f1: f1Pending, f2: map[string]want{oiseaux: pending(8*day, RuleFavorable).since(2 * day)}, next: 6 * day,
		},
		{
			name:  "Two pôles, two outcomes: one released early, the other withheld at the deadline",
			facts: adherent(two, fav(oiseaux, 1*day), unfav(mammiferes, 2*day, "gîte à chiroptères")), now: 21 * day,
			f1: f1Released,
			f2: map[string]want{
				oiseaux:    released(7*day, RuleFavorable).since(1 * day),
				mammiferes: withheld(21 * day).because("gîte à chiroptères"),
			},
			next: none,
		},
		{
			name:  "Two pôles: after one is released, the other's deadline is next",
			facts: adherent(two, fav(oiseaux, 1*day), unfav(mammiferes, 2*day, "gîte à chiroptères")), now: 7 * day,
			f1: f1Released,
			f2: map[string]want{
				oiseaux:    released(7*day, RuleFavorable).since(1 * day),
				mammiferes: pending(21*day, RuleUnfavorable).because("gîte à chiroptères"),
			},
			next: 21 * day,
		},
		{
			name:   "Batched: nothing of F2 is released before E+21d, even long after a favorable opinion",
			policy: &batched, facts: adherent(two, fav(oiseaux, 1*day), unfav(mammiferes, 2*day, "gîte")), now: 21*day - ns,
			f1: f1Released,
			f2: map[string]want{
				oiseaux:    pending(21*day, RuleBatched).since(1 * day),
				mammiferes: pending(21*day, RuleUnfavorable).because("gîte"),
			},
			next: 21 * day,
		},
		{
			name:   "Batched: at E+21d every F2 not under an unfavorable opinion is released together",
			policy: &batched,
			facts: adherent([]string{oiseaux, mammiferes, flore},
				fav(oiseaux, 1*day), unfav(mammiferes, 2*day, "gîte")),
			now: 21 * day,
			f1:  f1Released,
			f2: map[string]want{
				oiseaux:    released(21*day, RuleBatched).since(1 * day),
				mammiferes: withheld(21 * day).because("gîte"),
				flore:      released(21*day, RuleBatched),
			},
			next: none,
		},
		{
			name:   "Batched: an unfavorable opinion revised to favorable before E+21d is released",
			policy: &batched, facts: adherent(one, unfav(oiseaux, 2*day, "doute"), fav(oiseaux, 20*day)), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleBatched).since(20 * day)}, next: none,
		},
		{
			name:   "Batched: F1 is still released at E+6d",
			policy: &batched, facts: adherent(one), now: 6 * day,
			f1: f1Released, f2: map[string]want{oiseaux: pending(21*day, RuleBatched)}, next: 21 * day,
		},
		{
			name:  "F1 is released at E+6d whatever the opinions",
			facts: adherent(two, unfav(oiseaux, 1*day, "non"), unfav(mammiferes, 1*day, "non plus")), now: 6 * day,
			f1: f1Released,
			f2: map[string]want{
				oiseaux:    pending(21*day, RuleUnfavorable).because("non"),
				mammiferes: pending(21*day, RuleUnfavorable).because("non plus"),
			},
			next: 21 * day,
		},
		{
			name:  "F1 is pending one nanosecond before E+6d",
			facts: adherent(one), now: 6*day - ns,
			f1: f1Pending, f2: map[string]want{oiseaux: pending(21*day, RuleTacit)}, next: 6 * day,
		},
		{
			name:  "A non-adherent gets F1 only: no F2, no review, opinions refused",
			facts: Facts{CompletedAt: e, SensitivePoles: one, Opinions: []Opinion{fav(oiseaux, 1*day)}}, now: 6 * day,
			f1: f1Released, f2: nil, refused: []int{0}, next: none,
		},
		{
			name:  "A pre-adherent gets F1 only, still pending before E+6d, and no pôle reviews it",
			facts: Facts{CompletedAt: e, SensitivePoles: two, Opinions: []Opinion{unfav(mammiferes, 1*day, "gîte")}}, now: 5 * day,
			f1: f1Pending, f2: nil, refused: []int{0}, next: 6 * day,
		},
		{
			name:  "A pôle without sensitive rows has no review, and its opinions are refused",
			facts: adherent(one, fav(poissons, 1*day)), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleTacit)}, refused: []int{0}, next: none,
		},
		{
			name:  "An extract without sensitive rows has no F2 at all",
			facts: adherent(nil), now: 6 * day,
			f1: f1Released, f2: nil, next: none,
		},
		{
			name:  "A pôle named several times among the sensitive rows has one F2",
			facts: adherent([]string{oiseaux, mammiferes, oiseaux, oiseaux}, fav(oiseaux, 1*day)), now: 7 * day,
			f1: f1Released,
			f2: map[string]want{
				oiseaux:    released(7*day, RuleFavorable).since(1 * day),
				mammiferes: pending(21*day, RuleTacit),
			},
			next: 21 * day,
		},
		{
			name:  "An opinion before the extraction completed is refused",
			facts: adherent(one, unfav(oiseaux, -ns, "trop tôt")), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleTacit)}, refused: []int{0}, next: none,
		},
		{
			name:  "An opinion exactly when the extraction completed counts",
			facts: adherent(one, fav(oiseaux, 0)), now: 6 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(6*day, RuleFavorable).since(0)}, next: none,
		},
		{
			name:  "An unfavorable opinion without justification is refused and changes nothing",
			facts: adherent(one, fav(oiseaux, 1*day), unfav(oiseaux, 2*day, "  ")), now: 7 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(7*day, RuleFavorable).since(1 * day)}, refused: []int{1}, next: none,
		},
		{
			name:  "An opinion without a verdict is refused",
			facts: adherent(one, Opinion{Pole: oiseaux, At: at(1 * day)}), now: 21 * day,
			f1: f1Released, f2: map[string]want{oiseaux: released(21*day, RuleTacit)}, refused: []int{0}, next: none,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			if tt.policy != nil {
				p = *tt.policy
			}
			got := Decide(p, tt.facts, at(tt.now))

			tt.f1.check(t, "F1", got.F1)
			var poles []string
			for _, d := range got.F2 {
				poles = append(poles, d.Pole)
				w, ok := tt.f2[d.Pole]
				if !ok {
					t.Errorf("F2 of %s: not expected under review", d.Pole)
					continue
				}
				w.check(t, "F2 of "+d.Pole, d.Decision)
			}
			if len(poles) != len(tt.f2) || !slices.IsSorted(poles) {
				t.Errorf("F2 for pôles %v, want one each for %d pôles, sorted", poles, len(tt.f2))
			}

			var refused []int
			for _, r := range got.Refused {
				refused = append(refused, r.Index)
			}
			if !slices.Equal(refused, tt.refused) {
				t.Errorf("refused %v, want %v (%v)", refused, tt.refused, got.Refused)
			}

			wantNext := time.Time{}
			if tt.next != none {
				wantNext = at(tt.next)
			}
			if !got.Next.Equal(wantNext) {
				t.Errorf("next %v, want %v", got.Next, wantNext)
			}
			if got.Settled() != (tt.next == none) {
				t.Errorf("settled %v with next %v", got.Settled(), got.Next)
			}
		})
	}
}

func TestRefusalReasons(t *testing.T) {
	p := DefaultPolicy()
	f := Facts{
		CompletedAt:    e,
		Entitled:       true,
		SensitivePoles: []string{oiseaux},
		Opinions: []Opinion{
			fav(poissons, 1*day),                         // 0 not under review
			unfav(oiseaux, -time.Hour, "x"),              // 1 before the review
			{Pole: oiseaux, Verdict: 7, At: at(1 * day)}, // 2 bad verdict
			unfav(oiseaux, 2*day, ""),                    // 3 no justification
			fav(oiseaux, 3*day),                          // 4 recorded
			fav(oiseaux, 10*day),                         // 5 after the release at E+9d
		},
	}
	want := []error{ErrNotUnderReview, ErrBeforeReview, ErrBadVerdict, ErrJustificationRequired, nil, ErrSettled}
	got := Decide(p, f, at(30*day))
	reasons := make([]error, len(f.Opinions))
	for _, r := range got.Refused {
		reasons[r.Index] = r.Reason
	}
	for i, w := range want {
		if (w == nil) != (reasons[i] == nil) || (w != nil && !errors.Is(reasons[i], w)) {
			t.Errorf("opinion %d refused for %v, want %v", i, reasons[i], w)
		}
	}
}

func TestAccept(t *testing.T) {
	p := DefaultPolicy()
	base := adherent([]string{oiseaux, mammiferes}, fav(oiseaux, 2*day))
	tests := []struct {
		name    string
		facts   Facts
		opinion Opinion
		want    error
	}{
		{"A first favorable opinion is recorded", base, fav(mammiferes, 3*day), nil},
		{"A revision before the release is recorded", base, unfav(oiseaux, 8*day-ns, "finalement non"), nil},
		{"A favorable opinion repeating the standing one is recorded", base, fav(oiseaux, 5*day), nil},
		{"A revision at the release instant is refused", base, unfav(oiseaux, 8*day, "trop tard"), ErrSettled},
		{"A revision after the release is refused", base, fav(oiseaux, 9*day), ErrSettled},
		{"An opinion at the deadline is refused", base, fav(mammiferes, 21*day), ErrSettled},
		{"An opinion one nanosecond before the deadline is recorded", base, unfav(mammiferes, 21*day-ns, "non"), nil},
		{"An unfavorable opinion without justification is refused", base, unfav(mammiferes, 3*day, ""), ErrJustificationRequired},
		{"An unfavorable opinion with a blank justification is refused", base, unfav(mammiferes, 3*day, " \t\n"), ErrJustificationRequired},
		{"An opinion of a pôle without sensitive rows is refused", base, fav(poissons, 3*day), ErrNotUnderReview},
		{"An opinion on a non-adherent's extraction is refused", Facts{CompletedAt: e, SensitivePoles: []string{oiseaux}}, fav(oiseaux, 1*day), ErrNotUnderReview},
		{"An opinion before the extraction completed is refused", base, fav(mammiferes, -ns), ErrBeforeReview},
		{"An opinion without a verdict is refused", base, Opinion{Pole: mammiferes, At: at(3 * day)}, ErrBadVerdict},
		{"An opinion given at the same instant as a recorded one comes after it", adherent([]string{oiseaux}, fav(oiseaux, 2*day), unfav(oiseaux, 3*day, "non")), fav(oiseaux, 3*day), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Accept(tt.facts, tt.opinion)
			if (tt.want == nil) != (got == nil) || (tt.want != nil && !errors.Is(got, tt.want)) {
				t.Errorf("Accept = %v, want %v", got, tt.want)
			}
		})
	}
}

// Following Next from E, as a timer would, visits each settlement once, in order.
func TestNextWalksTheTimeline(t *testing.T) {
	f := adherent([]string{oiseaux, mammiferes, flore},
		fav(oiseaux, 2*day), unfav(mammiferes, 3*day, "gîte"))
	var visits []time.Duration
	now := e
	for range 10 {
		out := Decide(DefaultPolicy(), f, now)
		if out.Next.IsZero() {
			break
		}
		if !out.Next.After(now) {
			t.Fatalf("next %v not after now %v", out.Next, now)
		}
		now = out.Next
		visits = append(visits, now.Sub(e))
	}
	want := []time.Duration{6 * day, 8 * day, 21 * day}
	if !slices.Equal(visits, want) {
		t.Errorf("visited %v, want %v", visits, want)
	}
	out := Decide(DefaultPolicy(), f, now)
	for _, d := range out.F2 {
		if !d.Decision.Settled() {
			t.Errorf("F2 of %s still pending after the walk", d.Pole)
		}
	}
}

func TestDecideDoesNotModifyItsFacts(t *testing.T) {
	f := adherent([]string{oiseaux, mammiferes, oiseaux},
		fav(oiseaux, 7*day), unfav(mammiferes, 3*day, "gîte"), fav(oiseaux, 2*day), fav(poissons, 1*day))
	keep := Facts{
		CompletedAt:    f.CompletedAt,
		Entitled:       f.Entitled,
		SensitivePoles: slices.Clone(f.SensitivePoles),
		Opinions:       slices.Clone(f.Opinions),
	}
	Decide(DefaultPolicy(), f, at(30*day))
	DefaultPolicy().Accept(f, fav(mammiferes, 4*day))
	_ = f.Poles()
	if !reflect.DeepEqual(f, keep) {
		t.Errorf("facts modified:\n got %+v\nwant %+v", f, keep)
	}
}

func TestPolesUnderReview(t *testing.T) {
	f := adherent([]string{poissons, oiseaux, poissons, flore})
	if got, want := f.Poles(), []string{flore, oiseaux, poissons}; !slices.Equal(got, want) {
		t.Errorf("Poles() = %v, want %v", got, want)
	}
	f.Entitled = false
	if got := f.Poles(); got != nil {
		t.Errorf("Poles() of a non-adherent = %v, want none", got)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	edge := Policy{F1Latency: 21 * day, FavorableLatency: 21 * day, Deadline: 21 * day, Mode: Batched}
	if err := edge.Validate(); err != nil {
		t.Errorf("latencies equal to the deadline: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Policy)
		field  string
	}{
		{"A zero F1 latency is refused", func(p *Policy) { p.F1Latency = 0 }, "F1Latency"},
		{"A negative favorable latency is refused", func(p *Policy) { p.FavorableLatency = -day }, "FavorableLatency"},
		{"A zero deadline is refused", func(p *Policy) { p.Deadline = 0 }, "Deadline"},
		{"A favorable latency beyond the deadline is refused", func(p *Policy) { p.FavorableLatency = 22 * day }, "FavorableLatency"},
		{"An F1 latency beyond the deadline is refused", func(p *Policy) { p.F1Latency = 22 * day }, "F1Latency"},
		{"An unknown mode is refused", func(p *Policy) { p.Mode = 5 }, "Mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			tt.change(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), "Policy."+tt.field) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{Progressive, Batched} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("progressif"); err == nil {
		t.Error("ParseMode(progressif) accepted")
	}
	if _, err := ParseMode(""); err == nil {
		t.Error("ParseMode(\"\") accepted")
	}
}

// The names are stable: events, feeds and the store spell them this way.
func TestNames(t *testing.T) {
	names := []struct{ got, want string }{
		{Pending.String(), "pending"}, {Released.String(), "released"}, {Withheld.String(), "withheld"},
		{RuleNone.String(), "none"}, {RuleF1.String(), "f1"}, {RuleFavorable.String(), "favorable"},
		{RuleTacit.String(), "tacit"}, {RuleBatched.String(), "batched"}, {RuleUnfavorable.String(), "unfavorable"},
		{Favorable.String(), "favorable"}, {Unfavorable.String(), "unfavorable"},
		{Progressive.String(), "progressive"}, {Batched.String(), "batched"},
	}
	for _, n := range names {
		if n.got != n.want {
			t.Errorf("name %q, want %q", n.got, n.want)
		}
	}
	if v, err := ParseVerdict("unfavorable"); err != nil || v != Unfavorable {
		t.Errorf("ParseVerdict(unfavorable) = %v, %v", v, err)
	}
	if _, err := ParseVerdict("neutre"); !errors.Is(err, ErrBadVerdict) {
		t.Errorf("ParseVerdict(neutre) = %v, want ErrBadVerdict", err)
	}
}
