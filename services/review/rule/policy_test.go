package rule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReplicasAgreeOnOnePolicy(t *testing.T) {
	progressive, batched := DefaultPolicy(), DefaultPolicy()
	batched.Mode = Batched
	quicker := DefaultPolicy()
	quicker.FavorableLatency = time.Hour
	for _, c := range []struct {
		name       string
		configured Policy
		deployed   *Policy
		change     bool
		record     bool
		refused    bool
	}{
		{"the first replica", progressive, nil, false, true, false},
		{"the same policy", progressive, &progressive, false, false, false},
		{"the same, told to change", progressive, &progressive, true, false, false},
		{"another mode", batched, &progressive, false, false, true},
		{"another latency", quicker, &progressive, false, false, true},
		{"another mode, told to change", batched, &progressive, true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			record, err := Agree(c.configured, c.deployed, c.change)
			if record != c.record || (err != nil) != c.refused {
				t.Fatalf("Agree = %v, %v; want record %v, refused %v", record, err, c.record, c.refused)
			}
			if c.refused && (!errors.Is(err, ErrPolicyDiffers) || !strings.Contains(err.Error(), "SINP_REVIEW_POLICY_CHANGE")) {
				t.Fatalf("refusal %v", err)
			}
		})
	}
}
