package observations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/pgtest"
)

// run runs `sinp <args>` against the database at url and returns stdout.
func run(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdout: &stdout, Stderr: &stderr, Lookup: config.Map(map[string]string{"SINP_DATABASE_URL": url})}
	err := cli.Dispatch(context.Background(), e, "sinp", observations.Commands(), args)
	return stdout.String(), err
}

func TestCommandsBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"seed", "--observations", "-3"}, "--observations"},
		{[]string{"seed", "--observations", "many"}, "-observations"},
		{[]string{"sensitivity", "apply"}, "--referential"},
		{[]string{"sensitivity", "apply", "--referential", "/nonexistent.sql"}, "--referential"},
		{[]string{"stats", "--datasets", "-1"}, "--datasets"},
	} {
		_, err := run(t, "postgres://nowhere.invalid/x", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sinp %s: error %v, want one naming %s", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	_, err := run(t, "", "seed", "--observations", "x")
	if !errors.Is(err, cli.ErrUsage) {
		t.Errorf("bad flag value: %v is not a usage error", err)
	}
}

// `sinp seed` then `sinp stats --json` on a generated territory.
func TestSeedAndStatsCommands(t *testing.T) {
	url := pgtest.NewDBURL(t, observations.Migrations)
	out, err := run(t, url, "seed", "--observations", "3000", "--seed", "7")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Observations int64 `json:"observations"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Observations != 3000 {
		t.Fatalf("seed printed %q (%v)", out, err)
	}
	out, err = run(t, url, "stats", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Observations int64 `json:"observations"`
		ByPole       []struct {
			Key   string `json:"key"`
			Count int64  `json:"count"`
		} `json:"by_pole"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Observations != 3000 || len(s.ByPole) != 6 {
		t.Fatalf("stats printed %q (%v)", out, err)
	}
}
