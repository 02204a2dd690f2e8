package pg_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
)

// WithDatabase changes the database and nothing else: a Unix socket's
// directory, TLS, timeouts and passwords survive.
func TestWithDatabaseKeepsEverythingButTheDatabase(t *testing.T) {
	for _, c := range []struct{ dsn, host string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=3", "127.0.0.1"},
		{"postgres://postgres@/postgres?host=/var/run/postgresql&sslmode=disable", "/var/run/postgresql"},
		{"postgresql://app:p%40ss%3Aw0rd@db.example.org:6432/sinp?sslmode=require&connect_timeout=7", "db.example.org"},
		{"postgres://postgres@127.0.0.1/postgres?dbname=other&sslmode=disable", "127.0.0.1"},
		{"host=/var/run/postgresql user=postgres dbname=postgres sslmode=disable", "/var/run/postgresql"},
		{`host=127.0.0.1 user=app password='it\'s' dbname=sinp`, "127.0.0.1"},
	} {
		before, err := pgx.ParseConfig(c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		got := pg.WithDatabase(c.dsn, "sinp_test_x'y")
		after, err := pgx.ParseConfig(got)
		if err != nil {
			t.Fatalf("%s → %s: %v", c.dsn, got, err)
		}
		if after.Database != "sinp_test_x'y" || after.Host != c.host || after.Port != before.Port ||
			after.User != before.User || after.Password != before.Password || after.ConnectTimeout != before.ConnectTimeout ||
			(after.TLSConfig == nil) != (before.TLSConfig == nil) {
			t.Errorf("%s → %s: database %q host %q port %d user %q, TLS %v (was %v), timeout %v (was %v)", c.dsn, got,
				after.Database, after.Host, after.Port, after.User, after.TLSConfig != nil, before.TLSConfig != nil, after.ConnectTimeout, before.ConnectTimeout)
		}
	}
}
