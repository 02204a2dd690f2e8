// Package pg owns the PostgreSQL plumbing every service shares: the pgx pool,
// transactions, and the numbered SQL migrations each service applies to its
// own schema.
package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is the database part of a service's configuration.
type Config struct {
	URL      string `env:"SINP_DATABASE_URL"`
	MaxConns int    `env:"SINP_DATABASE_MAX_CONNS" default:"16"`
}

// Connect opens a pool and checks the server answers.
func Connect(ctx context.Context, url string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pg.Connect: SINP_DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pg.Connect: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pg.Connect: ping %s: %w", redact(cfg.ConnConfig), err)
	}
	return pool, nil
}

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Beginner is what InTx needs: a pool, a connection or a transaction.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise. Functions registered with AfterCommit on the transaction
// run once it has committed.
func InTx(ctx context.Context, db Beginner, fn func(tx pgx.Tx) error) error {
	inner, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pg.InTx: begin: %w", err)
	}
	tx := &hookedTx{Tx: inner}
	defer func() { _ = inner.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := inner.Commit(ctx); err != nil {
		return fmt.Errorf("pg.InTx: commit: %w", err)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// hookedTx is a transaction that knows what to do once committed.
type hookedTx struct {
	pgx.Tx
	after []func()
}

// AfterCommit registers f to run once tx, a transaction InTx began, has
// committed (never if it rolls back). It reports false, registering
// nothing, for a transaction begun elsewhere.
func AfterCommit(tx pgx.Tx, f func()) bool {
	h, ok := tx.(*hookedTx)
	if ok {
		h.after = append(h.after, f)
	}
	return ok
}

// ErrNotFound is returned by repositories when a row does not exist.
var ErrNotFound = errors.New("not found")

// IsNoRows reports whether err means a query returned no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// WithDatabase returns url pointing at database db on the same server.
func WithDatabase(url, db string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return url
	}
	auth := cfg.User
	if cfg.Password != "" {
		auth += ":" + cfg.Password
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", auth, cfg.Host, cfg.Port, db)
}

// Querier is what reads and writes go through: a pool, a connection or a
// transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
