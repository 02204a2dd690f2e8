package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

// The system server of the test machine is found and the platform database
// created on it, with PostGIS available.
func TestEnsureFindsServerAndPostGIS(t *testing.T) {
	if os.Getenv("SINP_TEST_DATABASE_URL") != "" && os.Getenv("SINP_TEST_DATABASE_URL") != pgtest.DefaultAdminURL {
		t.Skip("the test server is not the system one")
	}
	ctx := context.Background()
	if ping(ctx, SystemURL) != nil {
		t.Skip("no system PostgreSQL on 127.0.0.1:5432")
	}
	s, err := Ensure(ctx, Options{DataDir: t.TempDir(), Database: "sinp_localpg_test"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Private || s.Started {
		t.Fatalf("started a private cluster although the system one answers: %+v", s)
	}
	if err := ping(ctx, s.URL); err != nil {
		t.Fatalf("platform database unreachable: %v", err)
	}
}

// A SINP_DATABASE_URL naming a database the server lacks gets it created,
// other URL parameters kept; an unreachable server is still an error naming
// the variable.
func TestEnsureCreatesTheNamedDatabase(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.AdminURL()
	if ping(ctx, admin) != nil {
		t.Skip("no test server")
	}
	name := fmt.Sprintf("sinp_localpg_named_%d", os.Getpid())
	dropDatabase(t, admin, name)
	named := pg.WithDatabase(admin, name) + "&application_name=localpg_test"
	s, err := Ensure(ctx, Options{URL: named})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	if s.URL != named {
		t.Errorf("URL = %s, want %s", s.URL, named)
	}
	if err := ping(ctx, s.URL); err != nil {
		t.Fatalf("named database not created: %v", err)
	}
	if _, err := Ensure(ctx, Options{URL: named}); err != nil {
		t.Fatalf("second call: %v", err)
	}

	_, err = Ensure(ctx, Options{URL: "postgres://postgres@127.0.0.1:1/sinp?connect_timeout=2"})
	if err == nil || !strings.Contains(err.Error(), "SINP_DATABASE_URL") {
		t.Fatalf("unreachable server: err = %v, want one naming SINP_DATABASE_URL", err)
	}
}

// Only a server on this machine gets a missing database created: a remote
// one belongs to a deployment, where a misspelt name must fail.
func TestIsLocal(t *testing.T) {
	for url, want := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/sinp":           true,
		"postgres://postgres@localhost/sinp":                true,
		"postgres://postgres@[::1]:5432/sinp":               true,
		"host=/var/run/postgresql dbname=sinp":              true,
		"postgres://sinp@db.example.org:5432/sinp":          false,
		"postgres://sinp@10.0.0.5:5432/sinp":                false,
		"postgres://sinp@postgis:5432/sinp?sslmode=disable": false,
	} {
		if got := isLocal(url); got != want {
			t.Errorf("isLocal(%s) = %v, want %v", url, got, want)
		}
	}
}

func dropDatabase(t *testing.T, admin, name string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
}

func TestFindBinDir(t *testing.T) {
	d, err := findBinDir()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(d + "/pg_ctl"); err != nil {
		t.Fatalf("%s has no pg_ctl", d)
	}
}

// Where no server runs, a private cluster is created and started under the
// data directory (as the postgres user when the test runs as root), and
// found again running by a second call.
func TestPrivateClusterCreatedAndReused(t *testing.T) {
	if testing.Short() {
		t.Skip("initdb takes seconds")
	}
	if _, err := findBinDir(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("/var/tmp", "sinp-localpg-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	o := Options{DataDir: dir, Port: 54391}
	s, err := private(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if !s.Started || !s.Private {
		t.Fatalf("%+v", s)
	}
	again, err := private(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Started {
		t.Fatal("second call started the cluster again")
	}
	if err := createDatabase(ctx, s.AdminURL, "sinp"); err != nil {
		t.Fatal(err)
	}
	if err := checkPostGIS(ctx, s.AdminURL); err != nil {
		t.Logf("PostGIS check on the private cluster: %v", err)
	}

	// Another process still uses it: the process that started it does not
	// stop it under that one.
	other, err := pgx.Connect(ctx, pg.WithDatabase(s.AdminURL, "sinp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); !errors.Is(err, ErrInUse) {
		t.Fatalf("Stop with another client connected: %v", err)
	}
	if err := other.Ping(ctx); err != nil {
		t.Fatalf("the other client lost its database: %v", err)
	}
	other.Close(ctx)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop once alone: %v", err)
	}
	if ping(ctx, s.AdminURL) == nil {
		t.Fatal("still running after Stop")
	}
}

// As root, a data directory the postgres user cannot reach (a checkout under
// /root) puts the cluster under /var/lib/sinp instead; a reachable one keeps
// it in the data directory.
func TestClusterDirIsReachableByPostgres(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	closed, err := os.MkdirTemp("/var/tmp", "sinp-closed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(closed) })
	_ = os.Chmod(closed, 0o700)
	d, err := clusterDir(closed + "/checkout/.data")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d, "/var/lib/sinp/postgres-") {
		t.Fatalf("cluster in %s, which postgres cannot reach", d)
	}
	open, _ := os.MkdirTemp("/var/tmp", "sinp-open-")
	t.Cleanup(func() { _ = os.RemoveAll(open) })
	_ = os.Chmod(open, 0o755)
	data := open + "/.data"
	_ = os.Mkdir(data, 0o700) // as the embedded NATS store would leave it
	if d, _ := clusterDir(data); d != data+"/postgres" {
		t.Fatalf("cluster in %s, want it in the data directory", d)
	}
}
