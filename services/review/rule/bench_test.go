package rule

import (
	"testing"
	"time"
)

// BenchmarkDecide is one review as a timer or an opinion sees it: six pôles,
// twenty opinions, mid-review.
func BenchmarkDecide(b *testing.B) {
	f := Facts{CompletedAt: e, Entitled: true, SensitivePoles: allPoles}
	for i := range 20 {
		o := Opinion{Pole: allPoles[i%len(allPoles)], Verdict: Favorable, At: at(time.Duration(i) * 17 * time.Hour), Author: "relecteur"}
		if i%3 == 1 {
			o.Verdict, o.Justification = Unfavorable, "site sensible"
		}
		f.Opinions = append(f.Opinions, o)
	}
	p := DefaultPolicy()
	b.ReportAllocs()
	for b.Loop() {
		Decide(p, f, at(10*day))
	}
}
