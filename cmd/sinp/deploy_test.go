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
		if !strings.Contains(s.Environment["SINP_DATABASE_URL"], "@postgres:5432/") || s.Environment["SINP_NATS_URL"] != "nats://nats:4222" {
			t.Errorf("%s: environment %v does not point at the compose PostgreSQL and NATS", d.Name, s.Environment)
		}
	}
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
