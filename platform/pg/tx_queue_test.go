package pg_test

// What a transaction that queues much sends as it goes, and savepoints of
// the pipelined transaction.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/retry"
)

// A caller may queue while reading rows or inside a COPY's source (an
// import emitting an event per row read): past the bound, Queue does not
// send on the busy connection ("conn busy", which pgconn calls safe to
// retry: a consumer would wait it out forever) but with what comes next.
func TestQueueWhileRowsAreOpen(t *testing.T) {
	ctx := context.Background()
	const n = 300
	report := func(t *testing.T, err error) {
		t.Helper()
		var qe *pg.QueuedError
		t.Errorf("queueing %d inserts while reading rows: %v (a *pg.QueuedError: %v; retry.Transient: %v)",
			n, err, errors.As(err, &qe), retry.Transient(err))
	}
	for _, begun := range []bool{false, true} {
		name := "rows of the first statement"
		if begun {
			name = "rows after BEGIN was sent"
		}
		t.Run(name, func(t *testing.T) {
			pool, _ := faultDB(t, 0)
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				if begun {
					if _, err := tx.Exec(ctx, insert, 0); err != nil {
						return err
					}
				}
				rows, err := tx.Query(ctx, `SELECT generate_series(1, $1::int)`, n)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var k int
					if err := rows.Scan(&k); err != nil {
						return err
					}
					if err := pg.Queue(ctx, tx, insert, k); err != nil {
						return err
					}
				}
				return rows.Err()
			})
			if err != nil {
				report(t, err)
			}
			clean(t, pool)
		})
	}
	t.Run("inside a CopyFrom source", func(t *testing.T) {
		pool, _ := faultDB(t, 0)
		if _, err := pool.Exec(ctx, `CREATE TABLE src (k int)`); err != nil {
			t.Fatal(err)
		}
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			i := 0
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"src"}, []string{"k"}, pgx.CopyFromFunc(func() ([]any, error) {
				i++
				if i > n {
					return nil, nil
				}
				if err := pg.Queue(ctx, tx, insert, i); err != nil {
					return nil, err
				}
				return []any{i}, nil
			}))
			return err
		})
		if err != nil {
			report(t, err)
		}
		clean(t, pool)
	})
}

// A savepoint that escapes fn refuses everything once InTx has returned:
// the connection may be another transaction's, which a ROLLBACK TO
// SAVEPOINT sent there would abort.
func TestAnEscapedSavepointTouchesNoOtherTransaction(t *testing.T) {
	ctx := context.Background()
	pool, _ := faultDB(t, 0)
	var sp pgx.Tx
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insert, 1); err != nil {
			return err
		}
		var err error
		if sp, err = tx.Begin(ctx); err != nil {
			return err
		}
		if _, err := sp.Exec(ctx, insert, 2); err != nil {
			return err
		}
		// The savepoint is left open (released by COMMIT), as a caller
		// that commits it elsewhere, or defers its Rollback outside fn,
		// would.
		return pg.Queue(ctx, tx, insert, 3) // COMMIT goes in a batch
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := sp.Conn(); c != nil {
		t.Errorf("the escaped savepoint's Conn() is the pooled connection after InTx returned (the transaction's own is nil)")
	}
	// Someone else's transaction on the pool's one connection.
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, insert, 10); err != nil {
		t.Fatal(err)
	}
	_, perr := sp.Prepare(ctx, "stray", `SELECT 1`)
	rerr := sp.Rollback(ctx)
	tag, cerr := c.Exec(ctx, `COMMIT`)
	c.Release()
	// Rollback reports pgx.ErrTxClosed (the refused flush) yet has sent
	// ROLLBACK TO SAVEPOINT: see the table below.
	t.Logf("escaped sp.Rollback after InTx returned: %v", rerr)
	if perr == nil {
		t.Errorf("escaped sp.Prepare after InTx returned ran on the pooled connection")
	}
	if got := keys(t, pool); !strings.Contains(got, "10") {
		t.Errorf("another transaction's insert was lost (its COMMIT: %v %v; table %q): the escaped savepoint's Rollback ran on its connection", tag, cerr, got)
	}
}

// The bound counts named byte slices and strings too (json.RawMessage).
func TestQueuedBytesCountNamedTypes(t *testing.T) {
	pool, counter := txDB(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE j (v jsonb)`); err != nil {
		t.Fatal(err)
	}
	doc := json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)
	n := roundTrips(t, pool, counter, func(tx pgx.Tx, _ int) error {
		for range 10 {
			if err := pg.Queue(ctx, tx, `INSERT INTO j VALUES ($1)`, doc); err != nil {
				return err
			}
		}
		return nil
	})
	if n != 3 {
		t.Errorf("ten queued json.RawMessage of 1 MiB took %d round trips, want 3 (at 4 and 8 MiB, then COMMIT)", n)
	}
}

// The flush at the 256th statement fails on an earlier queued statement; a
// caller that ignores Queue's error cannot commit, and nothing is left.
func TestAFailedSendAtTheBoundLosesTheTransaction(t *testing.T) {
	ctx := context.Background()
	pool, _ := faultDB(t, 0)
	var queueErr, execErr error
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		for k := range 256 {
			v := k
			if k == 100 {
				v = 5 // a duplicate key
			}
			if err := pg.Queue(ctx, tx, insert, v); err != nil && queueErr == nil {
				queueErr = err
			}
		}
		_ = pg.Queue(ctx, tx, insert, 1000)
		_, execErr = tx.Exec(ctx, insert, 1001)
		return nil // ignores everything
	})
	var qe *pg.QueuedError
	if !errors.As(queueErr, &qe) {
		t.Errorf("the 256th Queue: %v, want a *pg.QueuedError", queueErr)
	}
	if execErr == nil {
		t.Error("an Exec after the failed flush succeeded")
	}
	if err == nil {
		t.Error("InTx committed after a failed flush")
	}
	if got := keys(t, pool); got != "" {
		t.Errorf("table %q after a failed flush, want nothing", got)
	}
	clean(t, pool)
}

// A context already done at the 256th Queue: Queue reports it, InTx never
// commits, the connection comes back clean.
func TestACancelledContextAtTheBound(t *testing.T) {
	for _, began := range []bool{false, true} {
		pool, _ := faultDB(t, 0)
		ctx := context.Background()
		dead, cancel := context.WithCancel(ctx)
		cancel()
		var queueErr error
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			if began {
				if _, err := tx.Exec(ctx, insert, 9999); err != nil {
					return err
				}
			}
			for k := range 255 {
				if err := pg.Queue(ctx, tx, insert, k); err != nil {
					return err
				}
			}
			queueErr = pg.Queue(dead, tx, insert, 255)
			return nil
		})
		if !errors.Is(queueErr, context.Canceled) {
			t.Errorf("began %v: the 256th Queue under a cancelled context: %v", began, queueErr)
		}
		if err == nil {
			t.Errorf("began %v: InTx committed", began)
		}
		if got := keys(t, pool); got != "" {
			t.Errorf("began %v: table %q", began, got)
		}
		clean(t, pool)
	}
}

// Statements queued on the transaction while a savepoint is open, crossing
// the threshold, go inside the savepoint: undone by its Rollback, kept by
// its Commit, in order with what was queued after the flush.
func TestTheSendAtTheBoundInsideAnOpenSavepoint(t *testing.T) {
	ctx := context.Background()
	for _, commit := range []bool{false, true} {
		pool, _ := faultDB(t, 0)
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			if err := pg.Queue(ctx, tx, insert, -1); err != nil {
				return err
			}
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			for k := range 300 {
				if err := pg.Queue(ctx, tx, insert, k); err != nil {
					return err
				}
			}
			if commit {
				return sp.Commit(ctx)
			}
			return sp.Rollback(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 1, true: 301}[commit]; n != want {
			t.Errorf("commit %v: %d rows, want %d", commit, n, want)
		}
		clean(t, pool)
	}
}

// A failed flush under a savepoint: the savepoint's statement, its
// Rollback and the commit all fail; nothing commits.
func TestASavepointAfterAFailedSend(t *testing.T) {
	ctx := context.Background()
	pool, _ := faultDB(t, 0)
	var spErr, rbErr, nestedErr error
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insert, 1); err != nil {
			return err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if err := pg.Queue(ctx, tx, insert, 1); err != nil { // duplicate
			return err
		}
		_, spErr = sp.Exec(ctx, insert, 2)
		rbErr = sp.Rollback(ctx)
		_, nestedErr = sp.Begin(ctx)
		_, err = tx.Exec(ctx, insert, 3)
		if err == nil {
			t.Error("the transaction ran a statement after a failed flush and a savepoint rollback")
		}
		return nil
	})
	var qe *pg.QueuedError
	if !errors.As(spErr, &qe) || rbErr == nil || nestedErr == nil || err == nil {
		t.Errorf("savepoint Exec %v, Rollback %v, Begin after %v, InTx %v", spErr, rbErr, nestedErr, err)
	}
	if got := keys(t, pool); got != "" {
		t.Errorf("table %q", got)
	}
	clean(t, pool)
}

// Nested savepoints, InTx on a savepoint, AfterCommit on a savepoint.
func TestNestedSavepoints(t *testing.T) {
	ctx := context.Background()
	pool, _ := faultDB(t, 0)
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if pg.AfterCommit(sp, func() {}) {
			t.Error("AfterCommit on a savepoint registered a hook")
		}
		if err := pg.Queue(ctx, tx, insert, 1); err != nil {
			return err
		}
		sp2, err := sp.Begin(ctx) // flushes 1 inside sp
		if err != nil {
			return err
		}
		if err := pg.Queue(ctx, tx, insert, 2); err != nil {
			return err
		}
		if err := sp2.Rollback(ctx); err != nil { // 2 undone
			return err
		}
		if err := pg.InTx(ctx, sp, func(inner pgx.Tx) error {
			for k := range 300 {
				if err := pg.Queue(ctx, inner, insert, 100+k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if err := pg.InTx(ctx, sp, func(inner pgx.Tx) error {
			if err := pg.Queue(ctx, inner, insert, 3); err != nil {
				return err
			}
			return errors.New("undo 3")
		}); err == nil {
			t.Error("the nested InTx's error was lost")
		}
		return sp.Commit(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, lo, hi int
	if err := pool.QueryRow(ctx, `SELECT count(*), min(k), max(k) FROM t`).Scan(&n, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if n != 301 || lo != 1 || hi != 399 {
		t.Errorf("%d rows from %d to %d, want 301 from 1 to 399", n, lo, hi)
	}
	clean(t, pool)
}
