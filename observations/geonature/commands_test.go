package geonature_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/geonature"
	"sinp.occitanie.fr/observations/geonature/geonaturetest"
	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
)

// sinp runs `sinp <args>` with the environment env and returns stdout.
func sinp(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdout: &stdout, Stderr: &stderr, Lookup: config.Map(env)}
	err := cli.Dispatch(context.Background(), e, "sinp", observations.Commands(), args)
	return stdout.String(), err
}

// `sinp store init --source geonature` (or SINP_SOURCE=geonature) then
// `sinp store refresh`, as a script reads them (stdout is not a terminal:
// JSON).
func TestStoreCommands(t *testing.T) {
	url := geonaturetest.URL(t)
	env := map[string]string{"SINP_DATABASE_URL": url}

	if _, err := sinp(t, env, "store", "refresh"); !errors.Is(err, geonature.ErrNotInstalled) {
		t.Fatalf("refresh before init: %v", err)
	}
	out, err := sinp(t, env, "store", "init", "--source", "geonature", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var inst geonature.InstallResult
	if err := json.Unmarshal([]byte(out), &inst); err != nil || !inst.Changed || inst.Refresh.Observations != 3 {
		t.Fatalf("init printed %q (%v)", out, err)
	}
	env["SINP_SOURCE"] = "geonature"
	out, err = sinp(t, env, "store", "init")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &inst); err != nil || inst.Changed {
		t.Fatalf("init again (SINP_SOURCE) printed %q (%v)", out, err)
	}
	out, err = sinp(t, env, "store", "refresh")
	if err != nil {
		t.Fatal(err)
	}
	var ref geonature.RefreshResult
	if err := json.Unmarshal([]byte(out), &ref); err != nil || ref.Observations != 3 || len(ref.Relations) != 2 || !ref.Relations[1].Concurrent {
		t.Fatalf("refresh printed %q (%v)", out, err)
	}
	// The store's init leaves the adapter's oc_dat alone.
	if _, err := sinp(t, env, "store", "init", "--source", "oc_dat"); !errors.Is(err, observations.ErrForeignStore) {
		t.Fatalf("store init over the adapter: %v", err)
	}
	if _, err := sinp(t, env, "store", "init", "--source", "biodiv"); !errors.Is(err, cli.ErrUsage) {
		t.Fatalf("unknown source: %v", err)
	}
}
