package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sinp.occitanie.fr/platform/pgtest"
)

// The README's main job, on the manual clock: every file of both
// requests is published at its rule's instant exactly (F1 at E+6d, the
// favorable pôle's F2 six days after its opinion at E+2d, the silent
// pôles' by tacit consent and the unfavorable pôle's notice at E+21d),
// the account-less requester gets F1 only, and each F2 opens with the
// password its requester is shown.
func TestTheDemoPublishesEachFileAtItsRulesInstant(t *testing.T) {
	dir := t.TempDir()
	env := []string{"SINP_DATABASE_URL=" + pgtest.NewDBURL(t), "SINP_DATA_DIR=" + dir}
	out, err := run(t, env, "demo", "--clock", "manual", "--observations", "20000", "--json")
	if err != nil {
		t.Fatalf("sinp demo: %v\n%s", err, tail(filepath.Join(dir, "demo", "sinp.log")))
	}
	var r demoReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(r.Requests) != 2 || len(r.Zones) != 2 {
		t.Fatalf("%d requests, %d zones:\n%s", len(r.Requests), len(r.Zones), out)
	}
	const day = 24 * time.Hour
	for i, q := range r.Requests {
		if q.State != "completed" {
			t.Errorf("%s is %s", q.Reference, q.State)
		}
		e, z := q.Extracted, r.Zones[i]
		favorable := ""
		for _, o := range q.Opinions {
			if p, ok := strings.CutSuffix(o, ": favorable"); ok {
				favorable = p
			}
		}
		natures := map[string]int{}
		for _, f := range z.Files {
			natures[f.Nature]++
			var want time.Time
			switch {
			case f.Rule == "f1":
				want = e.Add(6 * day)
			case f.Rule == "favorable" && strings.HasSuffix(f.Deliverable, "/"+favorable):
				want = e.Add(8 * day)
			case f.Rule == "tacit" || f.Rule == "unfavorable":
				want = e.Add(21 * day)
			default:
				t.Errorf("%s: released by rule %q", f.Path, f.Rule)
				continue
			}
			if !f.ReleasedAt.Equal(want) || !f.PublishedAt.Equal(want) {
				t.Errorf("%s (%s): released %s, published %s; its rule says E+%s", f.Path, f.Rule,
					f.ReleasedAt.Format(time.RFC3339Nano), f.PublishedAt.Format(time.RFC3339Nano), want.Sub(e))
			}
			isF2 := strings.Contains(f.Deliverable, "/F2/")
			if f.Rule == "unfavorable" && f.Nature != "notice" {
				t.Errorf("%s: a withheld F2 published as %s", f.Path, f.Nature)
			}
			if isF2 && f.Nature == "archive" && !f.PasswordOpen {
				t.Errorf("%s does not open with the password its requester is shown", f.Path)
			}
		}
		switch q.Membership {
		case "adherent":
			if natures["archive"] < 3 || natures["notice"] != 1 {
				t.Errorf("the adherent's zone %s: %v", z.Zone, natures)
			}
		default:
			if len(z.Files) != 1 || z.Files[0].Rule != "f1" || !strings.HasPrefix(z.Zone, "req-") {
				t.Errorf("the account-less requester's zone %s: %+v", z.Zone, z.Files)
			}
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
