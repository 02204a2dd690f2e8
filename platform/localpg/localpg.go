// Package localpg finds or starts the PostgreSQL server a developer machine
// runs the platform on: the URL given in SINP_DATABASE_URL, else the system
// server on 127.0.0.1:5432, else a private cluster it creates with initdb
// under the data directory. It also checks that PostGIS can be installed in
// it and says exactly how to fix it when not.
package localpg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sinp.occitanie.fr/platform/pg"
)

// SystemURL is the system server the Debian package starts, with trust auth.
const SystemURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=3"

// Options say where to look and what to create.
type Options struct {
	URL      string // SINP_DATABASE_URL; when set, used as is
	DataDir  string // the private cluster lives in DataDir/postgres
	Database string // database created on the server, default "sinp"
	Port     int    // port of the private cluster, default 54329
	Log      *slog.Logger
}

// Server is a usable database.
type Server struct {
	URL      string // URL of the platform's database
	AdminURL string // URL of the maintenance database on the same server
	Private  bool   // a cluster this package created under DataDir
	Started  bool   // this call started it; Stop stops it
	dir      string
	binDir   string
	port     int
}

// Ensure returns a reachable server with the platform database created and
// PostGIS available.
func Ensure(ctx context.Context, o Options) (*Server, error) {
	if o.Database == "" {
		o.Database = "sinp"
	}
	if o.Port == 0 {
		o.Port = 54329
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.URL != "" {
		if err := ping(ctx, o.URL); err != nil {
			// A local server that answers but lacks the named database gets
			// it, created from its maintenance database. A remote one is a
			// deployment's: a misspelt name there must fail, not start the
			// platform on an empty store.
			var pgErr *pgconn.PgError
			name, admin, ok := maintenanceURL(o.URL)
			if !errors.As(err, &pgErr) || pgErr.Code != "3D000" || !ok || !isLocal(o.URL) {
				return nil, fmt.Errorf("localpg: SINP_DATABASE_URL: %w", err)
			}
			o.Log.Warn("creating the database SINP_DATABASE_URL names", "database", name)
			if err := createDatabase(ctx, admin, name); err != nil {
				return nil, fmt.Errorf("localpg: SINP_DATABASE_URL: %w", err)
			}
		}
		s := &Server{URL: o.URL, AdminURL: o.URL}
		return s, checkPostGIS(ctx, o.URL)
	}
	var s *Server
	if err := ping(ctx, SystemURL); err == nil {
		o.Log.Debug("using the system PostgreSQL", "url", SystemURL)
		s = &Server{AdminURL: SystemURL}
	} else {
		o.Log.Info("no PostgreSQL on 127.0.0.1:5432; using a private cluster", "dir", filepath.Join(o.DataDir, "postgres"))
		var err error
		s, err = private(ctx, o)
		if err != nil {
			return nil, err
		}
	}
	if err := createDatabase(ctx, s.AdminURL, o.Database); err != nil {
		return nil, err
	}
	s.URL = pg.WithDatabase(s.AdminURL, o.Database)
	return s, checkPostGIS(ctx, s.URL)
}

// ErrInUse is returned by Stop when other clients still use the cluster.
var ErrInUse = errors.New("other clients use the private PostgreSQL: left running")

// Stop stops a private cluster this process started, unless another
// process uses it: a process never stops a database another uses.
func (s *Server) Stop() error {
	if !s.Started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := pgx.Connect(ctx, s.AdminURL); err == nil {
		var others int
		err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&others)
		c.Close(ctx)
		if err == nil && others > 0 {
			return fmt.Errorf("%w (%d connections)", ErrInUse, others)
		}
	}
	return s.Halt()
}

// Halt stops the cluster now, whoever uses it (tests of an outage).
func (s *Server) Halt() error {
	if !s.Private {
		return errors.New("localpg: not a private cluster")
	}
	return runAsPostgres(filepath.Join(s.binDir, "pg_ctl"), "-D", s.dir, "-m", "fast", "-w", "stop")
}

// Restart starts a halted private cluster again on its port.
func (s *Server) Restart(ctx context.Context) error {
	if !s.Private {
		return errors.New("localpg: not a private cluster")
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", s.port, s.dir)
	if err := runAsPostgres(filepath.Join(s.binDir, "pg_ctl"), "-D", s.dir, "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "start"); err != nil {
		return fmt.Errorf("localpg: pg_ctl start (see %s): %w", filepath.Join(s.dir, "server.log"), err)
	}
	return waitPort(ctx, s.port)
}

// StartPrivate creates (once) and starts a private cluster under
// dataDir/postgres on port, as Ensure does when no server runs.
func StartPrivate(ctx context.Context, dataDir string, port int) (*Server, error) {
	return private(ctx, Options{DataDir: dataDir, Port: port, Log: slog.New(slog.DiscardHandler)})
}

// maintenanceURL returns the database a URL names and the same URL on the
// server's "postgres" database, keeping every other parameter.
func maintenanceURL(raw string) (name, admin string, ok bool) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil || cfg.Database == "" || cfg.Database == "postgres" {
		return "", "", false
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", false // a keyword/value string: leave it to the operator
	}
	return cfg.Database, pg.WithDatabase(raw, "postgres"), true
}

// isLocal says whether a URL's server is on this machine (loopback or a
// Unix socket).
func isLocal(raw string) bool {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return false
	}
	if strings.HasPrefix(cfg.Host, "/") || cfg.Host == "localhost" {
		return true
	}
	ip := net.ParseIP(cfg.Host)
	return ip != nil && ip.IsLoopback()
}

func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	c, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := c.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		var again bool
		if c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&again) == nil && again {
			return nil // created by a concurrent caller
		}
		return fmt.Errorf("localpg: create database %s: %w", name, err)
	}
	return nil
}

// ErrNoPostGIS says PostGIS is missing and how to install it.
var ErrNoPostGIS = errors.New("PostGIS is not installed")

func checkPostGIS(ctx context.Context, dsn string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer c.Close(ctx)
	var available bool
	var major int
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'),
		current_setting('server_version_num')::int / 10000`).Scan(&available, &major); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if !available {
		return fmt.Errorf("%w for PostgreSQL %d on this server: run `sudo apt-get install -y postgresql-%d-postgis-3` (or ./scripts/setup.sh), then start again", ErrNoPostGIS, major, major)
	}
	return nil
}

// private creates (once) and starts a cluster under DataDir/postgres.
func private(ctx context.Context, o Options) (*Server, error) {
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := clusterDir(o.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Private:  true,
		dir:      dir,
		binDir:   binDir,
		port:     o.Port,
		AdminURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=3", o.Port),
	}
	if ping(ctx, s.AdminURL) == nil {
		return s, nil // already running from an earlier start
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		// The parents stay traversable for the postgres user; the cluster
		// itself is its alone.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("localpg: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
			return nil, fmt.Errorf("localpg: %w", err)
		}
		if err := chownToPostgres(dir); err != nil {
			return nil, err
		}
		if err := runAsPostgres(filepath.Join(binDir, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
			return nil, fmt.Errorf("localpg: initdb: %w", err)
		}
	}
	if err := s.Restart(ctx); err != nil {
		return nil, err
	}
	s.Started = true
	return s, nil
}

func waitPort(ctx context.Context, port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("localpg: nothing listens on 127.0.0.1:%d after 30s", port)
}

// findBinDir locates initdb and pg_ctl, which Debian keeps out of PATH.
func findBinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("localpg: PostgreSQL is not installed: run `sudo apt-get install -y postgresql postgresql-15-postgis-3` (or ./scripts/setup.sh), or set SINP_DATABASE_URL")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// initdb and postgres refuse to run as root: as root, run them as the
// postgres system user.
func runAsPostgres(name string, args ...string) error {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("localpg: running as root needs a postgres system user (installed with the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// clusterDir is where the private cluster lives: DataDir/postgres, unless
// the process is root and the postgres user, which the server runs as,
// cannot reach the data directory (a checkout under /root): then under
// /var/lib/sinp, named after the data directory.
func clusterDir(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("localpg: %w", err)
	}
	if os.Geteuid() != 0 {
		return filepath.Join(abs, "postgres"), nil
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("localpg: %w", err)
	}
	// Our own data directory may be traversed (not listed) by postgres.
	if st, err := os.Stat(abs); err == nil && st.Mode().Perm()&0o001 == 0 {
		_ = os.Chmod(abs, st.Mode().Perm()|0o011)
	}
	for p := abs; p != "/"; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm()&0o001 == 0 {
			sum := sha256.Sum256([]byte(abs))
			return filepath.Join("/var/lib/sinp", "postgres-"+hex.EncodeToString(sum[:4])), nil
		}
	}
	return filepath.Join(abs, "postgres"), nil
}
