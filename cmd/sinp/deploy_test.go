package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	"sinp.occitanie.fr/platform/testenv"
)

type composeFile struct {
	Services map[string]struct {
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Volumes []string `yaml:"volumes"`
		Ports   []string `yaml:"ports"`
	} `yaml:"services"`
}

// deploy/compose.yaml runs every service sinp knows, each from the
// repository's Dockerfile, each waiting for a healthy PostGIS and NATS with
// JetStream and pointed at them.
func TestComposeRunsEveryServiceWithItsDependencies(t *testing.T) {
	b, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	pgSvc, ok := c.Services["postgres"]
	if !ok || !strings.Contains(pgSvc.Image, "postgis") || pgSvc.Healthcheck == nil {
		t.Errorf("postgres: want a PostGIS image with a health check, got %+v", pgSvc)
	}
	natsSvc, ok := c.Services["nats"]
	if !ok || !strings.HasPrefix(natsSvc.Image, "nats:") || !slices.Contains(natsSvc.Command, "-js") || natsSvc.Healthcheck == nil {
		t.Errorf("nats: want a NATS image with -js and a health check, got %+v", natsSvc)
	}
	if _, err := os.Stat("../../Dockerfile"); err != nil {
		t.Fatalf("no Dockerfile at the root: %v", err)
	}
	for _, d := range definitions() {
		s, ok := c.Services[d.Name]
		if !ok {
			t.Errorf("service %s missing from compose.yaml", d.Name)
			continue
		}
		if s.Build == nil || s.Build.Context != ".." || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: not built from the repository's Dockerfile: %+v", d.Name, s.Build)
		}
		if want := []string{"up", "--services", d.Name}; !slices.Equal(s.Command, want) {
			t.Errorf("%s: command %q, want %q", d.Name, s.Command, want)
		}
		for _, dep := range []string{"postgres", "nats"} {
			if s.DependsOn[dep].Condition != "service_healthy" {
				t.Errorf("%s: does not wait for a healthy %s", d.Name, dep)
			}
		}
		if !strings.Contains(s.Environment["SINP_DATABASE_URL"], "@postgres:5432/") || s.Environment["SINP_NATS_URL"] != natsURL {
			t.Errorf("%s: environment %v does not point at the compose PostgreSQL and NATS", d.Name, s.Environment)
		}
		// Tokens: intake signs them; every other service verifies them with
		// the public key intake writes beside its own, in a volume it sees.
		signing, public := s.Environment["SINP_AUTH_KEY_FILE"], s.Environment["SINP_AUTH_PUBLIC_KEYS"]
		switch {
		case d.Name == "intake":
			if signing == "" || signing == "-" {
				t.Errorf("intake signs no token: SINP_AUTH_KEY_FILE=%q", signing)
			}
		case signing != "-":
			t.Errorf("%s: SINP_AUTH_KEY_FILE=%q, want - (verify only)", d.Name, signing)
		case public != intakeKey(c)+".pub" || !mounts(s.Volumes, "auth", filepath.Dir(public)):
			t.Errorf("%s: verifies with SINP_AUTH_PUBLIC_KEYS=%q, volumes %v; want intake's %s.pub from the auth volume", d.Name, public, s.Volumes, intakeKey(c))
		}
	}
	// The bus wants its password, and is reached on the compose network only.
	if cmd := strings.Join(natsSvc.Command, " "); !strings.Contains(cmd, "--user sinp --pass "+password) {
		t.Errorf("nats runs %q, without the password the services give", cmd)
	}
	for _, p := range c.Services["nats"].Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("nats publishes %q to every interface", p)
		}
	}
}

// The bus's password is the operator's, given when compose starts.
const (
	password = "${SINP_NATS_PASSWORD:?set SINP_NATS_PASSWORD}"
	natsURL  = "nats://sinp:" + password + "@nats:4222"
)

func intakeKey(c composeFile) string { return c.Services["intake"].Environment["SINP_AUTH_KEY_FILE"] }

// mounts says whether volumes mount the named volume at dir.
func mounts(volumes []string, name, dir string) bool {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[0] == name && parts[1] == dir {
			return true
		}
	}
	return false
}

// sinp pack writes an archive a real 7-Zip accepts.
func TestPackWritesAnArchive7ZipAccepts(t *testing.T) {
	if _, err := exec.LookPath("7zz"); err != nil {
		testenv.Missing(t, "7zz (./scripts/setup.sh installs it): %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "relevé.csv")
	if err := os.WriteFile(src, []byte(strings.Repeat("a;b;c\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	e := &cli.Env{Stdout: &out, Stderr: &out, Lookup: config.Map(nil)}
	archive := filepath.Join(dir, "out.7z")
	if err := cli.Dispatch(context.Background(), e, "sinp", commands(), []string{"pack", archive, src, "--level", "5"}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if b, err := exec.Command("7zz", "t", archive).CombinedOutput(); err != nil || !bytes.Contains(b, []byte("Everything is Ok")) {
		t.Fatalf("7zz t: %v\n%s", err, b)
	}
	if err := cli.Dispatch(context.Background(), e, "sinp", commands(), []string{"pack", archive}); !errors.Is(err, cli.ErrUsage) {
		t.Fatalf("pack without files: %v", err)
	}
}
