package pg_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

// trips counts what a pool sends: each query and each batch is one round
// trip (once the statements are prepared).
type trips struct{ n atomic.Int64 }

func (c *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// txDB is a database with a table t(k int primary key), reached by a pool
// of one connection (so that a test sees what a transaction left on it)
// that counts round trips.
func txDB(t *testing.T) (*pgxpool.Pool, *trips) {
	t.Helper()
	counter := &trips{}
	pool, _ := oneConnDB(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = counter })
	return pool, counter
}

// oneConnDB is a database with the table t, a pool of one connection
// configured by configure, and the database's URL.
func oneConnDB(t *testing.T, configure func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDBURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	configure(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE t (k int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	return pool, url
}

func keys(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM t`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

const insert = `INSERT INTO t VALUES ($1)`

// roundTrips runs fn in InTx twice (the first prepares its statements)
// and returns the round trips of the second.
func roundTrips(t *testing.T, pool *pgxpool.Pool, counter *trips, fn func(tx pgx.Tx, run int) error) int64 {
	t.Helper()
	ctx := context.Background()
	for run := range 2 {
		before := counter.n.Load()
		if err := pg.InTx(ctx, pool, func(tx pgx.Tx) error { return fn(tx, run) }); err != nil {
			t.Fatal(err)
		}
		if run == 1 {
			return counter.n.Load() - before
		}
	}
	return 0
}

func TestQueuedStatementsCommitInOneRoundTrip(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	n := roundTrips(t, pool, counter, func(tx pgx.Tx, run int) error {
		for k := range 3 {
			if err := pg.Queue(ctx, tx, insert, 10*run+k); err != nil {
				return err
			}
		}
		return nil
	})
	if n != 1 {
		t.Errorf("%d round trips for BEGIN, three queued inserts and COMMIT, want 1", n)
	}
	if got := keys(t, pool); got != "0,1,2,10,11,12" {
		t.Errorf("committed %q", got)
	}
}

func TestBeginGoesWithTheFirstStatement(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	n := roundTrips(t, pool, counter, func(tx pgx.Tx, run int) error {
		if _, err := tx.Exec(ctx, insert, run); err != nil {
			return err
		}
		var count int
		return tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE k >= $1`, 0).Scan(&count)
	})
	if n != 3 { // BEGIN with the insert, the count, COMMIT
		t.Errorf("%d round trips, want 3", n)
	}
	if got := keys(t, pool); got != "0,1" {
		t.Errorf("committed %q", got)
	}
}

func TestNothingSentNothingEnded(t *testing.T) {
	pool, counter := txDB(t)
	ran := false
	n := roundTrips(t, pool, counter, func(tx pgx.Tx, _ int) error {
		pg.AfterCommit(tx, func() { ran = true })
		return nil
	})
	if n != 0 || !ran {
		t.Errorf("an empty transaction: %d round trips, hook ran %v; want 0, true", n, ran)
	}
}

// A queued statement reaches the server before the next one, so that the
// transaction reads its own writes.
func TestQueuedStatementsRunBeforeTheNext(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		for _, k := range []int{1, 2} {
			if err := pg.Queue(ctx, tx, insert, k); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT k FROM t ORDER BY k`)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		if len(got) != 2 {
			t.Errorf("the transaction read %v, want its two queued rows", got)
		}
		if err := pg.Queue(ctx, tx, insert, 3); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 3 {
			t.Errorf("count %d (%v), want 3", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, pool); got != "1,2,3" {
		t.Errorf("committed %q", got)
	}
}

// A queued statement that fails fails the commit with its own error, the
// whole transaction is rolled back, and the connection is clean.
func TestAFailingQueuedStatementFailsTheCommit(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, insert, 1); err != nil {
		t.Fatal(err)
	}
	hook := false
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		pg.AfterCommit(tx, func() { hook = true })
		for _, k := range []int{2, 1, 3} {
			if err := pg.Queue(ctx, tx, insert, k); err != nil {
				return err
			}
		}
		return nil
	})
	var qe *pg.QueuedError
	var pgErr *pgconn.PgError
	if !errors.As(err, &qe) || !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("err = %v, want a QueuedError wrapping a unique violation", err)
	}
	if !strings.Contains(err.Error(), "INSERT INTO t VALUES") {
		t.Errorf("the error %q does not name the statement", err)
	}
	if hook {
		t.Error("the after-commit hook ran for a failed commit")
	}
	if got := keys(t, pool); got != "1" {
		t.Errorf("after the failed commit the table holds %q, want 1", got)
	}
}

func TestAFailingQueuedStatementFailsTheNextStatement(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	var next error
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := pg.Queue(ctx, tx, `INSERT INTO t VALUES ($1::int / 0)`, 1); err != nil {
			return err
		}
		_, next = tx.Exec(ctx, insert, 5)
		return next
	})
	var qe *pg.QueuedError
	if !errors.As(next, &qe) || err == nil {
		t.Fatalf("next statement: %v; InTx: %v; want the queued statement's error from both", next, err)
	}
	if got := keys(t, pool); got != "" {
		t.Errorf("the table holds %q, want nothing", got)
	}
}

func TestARolledBackTransactionSendsWhatWaitsNot(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	before := counter.n.Load()
	boom := errors.New("boom")
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := pg.Queue(ctx, tx, insert, 1); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || counter.n.Load() != before {
		t.Errorf("err %v after %d round trips, want boom after 0", err, counter.n.Load()-before)
	}
	err = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insert, 2); err != nil {
			return err
		}
		if err := pg.Queue(ctx, tx, insert, 3); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := keys(t, pool); got != "" {
		t.Errorf("rolled back, the table holds %q", got)
	}
}

// What was queued before a savepoint is outside it: rolling the savepoint
// back keeps it.
func TestASavepointKeepsWhatWasQueuedBefore(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := pg.Queue(ctx, tx, insert, 1); err != nil {
			return err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, insert, 2); err != nil {
			return err
		}
		if err := sp.Rollback(ctx); err != nil {
			return err
		}
		// Nested InTx is a savepoint too.
		return pg.InTx(ctx, tx, func(inner pgx.Tx) error { return pg.Queue(ctx, inner, insert, 3) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, pool); got != "1,3" {
		t.Errorf("committed %q, want 1,3", got)
	}
}

func TestWithSettingsHoldForTheTransactionOnly(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	setting := func(q pg.Querier) string {
		var s string
		if err := q.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	async := pg.WithSettings(pool, "synchronous_commit", "off")
	setting(pool) // prepares the statement
	before := counter.n.Load()
	err := pg.InTx(ctx, async, func(tx pgx.Tx) error {
		if got := setting(tx); got != "off" {
			t.Errorf("in the transaction synchronous_commit = %s", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if trips := counter.n.Load() - before; trips != 2 {
		t.Errorf("%d round trips for a read, want 2 (the settings go with it, then COMMIT)", trips)
	}
	if got := setting(pool); got != "on" {
		t.Errorf("after the transaction, on its connection, synchronous_commit = %s", got)
	}
	// Its Begin, for other callers, sets them too.
	tx, err := async.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if got := setting(tx); got != "off" {
		t.Errorf("in Begin's transaction synchronous_commit = %s", got)
	}
}

// An Exec without arguments may hold several statements (migrations); a
// QueryRow on the first statement keeps pgx's answers.
func TestFirstStatementsOfEveryKind(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		var k int
		if err := tx.QueryRow(ctx, `SELECT k FROM t WHERE k = $1`, 9).Scan(&k); !pg.IsNoRows(err) {
			t.Errorf("no row: %v, want pgx.ErrNoRows", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO nowhere VALUES ($1)`, 1)
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
		t.Errorf("a failing first statement: %v, want its own error", err)
	}
	if got := keys(t, pool); got != "1,2" {
		t.Errorf("committed %q", got)
	}
}

// On a transaction InTx did not begin, Queue runs the statement at once.
func TestQueueElsewhereRunsAtOnce(t *testing.T) {
	pool, _ := txDB(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := pg.Queue(ctx, tx, insert, 1); err != nil {
		t.Fatal(err)
	}
	if err := pg.Queue(ctx, tx, insert, 1); err == nil {
		t.Error("a duplicate key queued on a plain transaction did not fail at once")
	}
}

// A transaction that queues much sends it as it goes, a few hundred
// statements or a few MiB at a time: what waits in memory stays bounded.
func TestQueuedStatementsAreSentAsTheyPileUp(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	n := roundTrips(t, pool, counter, func(tx pgx.Tx, run int) error {
		for k := range 1000 {
			if err := pg.Queue(ctx, tx, insert, 1000*run+k); err != nil {
				return err
			}
		}
		return nil
	})
	if n != 4 { // at 256, 512 and 768 queued, then the rest with COMMIT
		t.Errorf("1,000 queued inserts took %d round trips, want 4", n)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE blob (b bytea)`); err != nil {
		t.Fatal(err)
	}
	mib := make([]byte, 1<<20)
	n = roundTrips(t, pool, counter, func(tx pgx.Tx, _ int) error {
		for range 10 {
			if err := pg.Queue(ctx, tx, `INSERT INTO blob VALUES ($1)`, mib); err != nil {
				return err
			}
		}
		return nil
	})
	if n != 3 { // at 4 MiB and 8 MiB, then the rest with COMMIT
		t.Errorf("ten queued inserts of 1 MiB took %d round trips, want 3", n)
	}
}
