package pg_test

// Faults under InTx's pipelined transaction (tx.go): contexts ending and
// backends killed at each step, client-side failures, rows left open, every
// kind of statement after queued ones, a transaction kept past InTx.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
)

// faultDB is txDB with the URL (for a second connection that terminates
// backends) and a query exec mode of choice (zero: pgx's default).
func faultDB(t *testing.T, mode pgx.QueryExecMode) (*pgxpool.Pool, string) {
	t.Helper()
	return oneConnDB(t, func(cfg *pgxpool.Config) {
		if mode != 0 {
			cfg.ConnConfig.DefaultQueryExecMode = mode
		}
	})
}

// clean checks that the pool's one connection is back, idle, outside any
// transaction, and that a new transaction on it works and sees nothing
// half done.
func clean(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	// A connection pgxpool destroys (not clean) is destroyed
	// asynchronously: give it a moment.
	for i := 0; pool.Stat().AcquiredConns() != 0; i++ {
		if i == 100 {
			t.Fatalf("%d connections still acquired after 1s", pool.Stat().AcquiredConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after the transaction: %v", err)
	}
	if s := c.Conn().PgConn().TxStatus(); s != 'I' {
		t.Errorf("the pooled connection is in TxStatus %q, want 'I'", s)
	}
	c.Release()
	err = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		// A fresh transaction has no transaction id yet: nothing of a
		// stray one is left on the connection.
		var xid *int64
		if err := tx.QueryRow(ctx, `SELECT txid_current_if_assigned() WHERE $1`, true).Scan(&xid); err != nil {
			return err
		}
		if xid != nil {
			return fmt.Errorf("the new transaction already has xid %d", *xid)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("a transaction after: %v", err)
	}
}

func pid(t *testing.T, tx pgx.Tx) uint32 { return tx.Conn().PgConn().PID() }

func terminate(t *testing.T, url string, pid uint32) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, int(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d): %v %v", pid, ok, err)
	}
}

// A statement that fails before anything reaches the server (an argument
// that cannot be encoded, a context already done) takes the queued writes
// sent with it: the transaction is lost, and even a caller that tolerates
// that statement's failure gets an error from InTx, never a commit
// without them.
func TestAStatementFailingBeforeItIsSentLosesTheTransaction(t *testing.T) {
	for _, c := range []struct {
		name string
		next func(ctx context.Context, tx pgx.Tx) error
	}{
		{"unencodable argument", func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT $1::jsonb`, map[string]any{"x": math.NaN()})
			return err
		}},
		{"context already done", func(ctx context.Context, tx pgx.Tx) error {
			dctx, cancel := context.WithCancel(ctx)
			cancel()
			var n int
			return tx.QueryRow(dctx, `SELECT count(*) FROM t WHERE k > $1`, 0).Scan(&n)
		}},
		{"strict named args missing", func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT @a::int`, pgx.StrictNamedArgs{"b": 1})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, _ := faultDB(t, 0)
			ctx := context.Background()
			var nextErr error
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, insert, 1); err != nil { // BEGIN goes here
					return err
				}
				if err := pg.Queue(ctx, tx, insert, 2); err != nil {
					return err
				}
				nextErr = c.next(ctx, tx) // an optional step whose failure the caller tolerates
				return nil
			})
			if nextErr == nil {
				t.Fatal("the next statement did not fail")
			}
			got := keys(t, pool)
			if err == nil && got != "1,2" {
				t.Errorf("InTx returned nil but committed %q: the queued insert of 2 was lost silently (next statement's error: %v)", got, nextErr)
			}
			clean(t, pool)
		})
	}
}

// A queued statement pgx cannot prepare or encode (a table or column that
// does not exist, a value that cannot be encoded) fails the whole batch
// before it is sent; the error still names it, as a *pg.QueuedError.
func TestAQueuedStatementPgxCannotPrepareIsAQueuedError(t *testing.T) {
	for _, c := range []struct {
		name string
		sql  string
		arg  any
	}{
		{"undefined table", `INSERT INTO nowhere VALUES ($1)`, 1},
		{"undefined column", `UPDATE t SET nothing = $1`, 1},
		{"unencodable argument", `INSERT INTO t SELECT 1 WHERE $1::jsonb IS NOT NULL`, map[string]any{"x": math.NaN()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, _ := faultDB(t, 0)
			ctx := context.Background()
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				return pg.Queue(ctx, tx, c.sql, c.arg)
			})
			var qe *pg.QueuedError
			if !errors.As(err, &qe) {
				t.Errorf("a transaction of one failing queued statement: %v, want a *pg.QueuedError", err)
			}
			if err != nil && strings.Contains(err.Error(), "begin:") {
				t.Errorf("the failure is reported as BEGIN's: %v", err)
			}
			clean(t, pool)
		})
	}
}

// The other way round: when the caller's own statement cannot be
// prepared, the error is not blamed on the queued one sent with it.
func TestTheCallersStatementFailingToPrepareIsItsOwn(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	var own error
	_ = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insert, 1); err != nil {
			return err
		}
		if err := pg.Queue(ctx, tx, insert, 2); err != nil {
			return err
		}
		_, own = tx.Exec(ctx, `INSERT INTO nowhere VALUES ($1)`, 1)
		return own
	})
	var qe *pg.QueuedError
	if errors.As(own, &qe) {
		t.Errorf("the failing statement is the caller's own (relation nowhere), the error blames the queued %q: %v", qe.SQL, own)
	}
	clean(t, pool)
}

// Query's rows carry its error, as pgx's do: the idiom
// `rows, _ := tx.Query(...); pgx.CollectRows(rows, ...)` does not panic.
func TestQueryRowsAreNeverNil(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	for _, sql := range []string{`SELECT k FROM nowhere WHERE k = $1`, `SELECT k FROM t WHERE k = $1::int / 0`} {
		var panicked any
		_ = pg.InTx(ctx, pool, func(tx pgx.Tx) (err error) {
			defer func() {
				if p := recover(); p != nil {
					panicked = p
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			rows, _ := tx.Query(ctx, sql, 1)
			_, err = pgx.CollectRows(rows, pgx.RowTo[int])
			if err == nil {
				t.Errorf("%s: no error", sql)
			}
			return err
		})
		if panicked != nil {
			t.Errorf("%s: rows, _ := tx.Query(...); pgx.CollectRows(rows, ...) panicked: %v", sql, panicked)
		}
		clean(t, pool)
	}
}

// pgx closes rows when Scan fails and callers return without closing
// them; the first statement's rows, read from the batch that carried
// BEGIN, close the batch too, so that the transaction and its connection
// stay usable.
func TestAScanErrorOnTheFirstQueryFreesTheConnection(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO t VALUES (1), (2)`); err != nil {
		t.Fatal(err)
	}
	before := pidOf(t, pool)
	var after error
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT k::text || 'x' FROM t WHERE k > $1`, 0)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k int
			if err := rows.Scan(&k); err != nil {
				break // as `return err` would, without rows.Close()
			}
		}
		_, after = tx.Exec(ctx, insert, 3)
		return after
	})
	if after != nil {
		t.Errorf("after a Scan error the transaction is unusable: %v", after)
	}
	if err != nil {
		t.Errorf("InTx: %v", err)
	}
	if pidOf(t, pool) != before {
		t.Error("the pooled connection was destroyed (the rollback failed on a busy connection)")
	}
	clean(t, pool)
}

func pidOf(t *testing.T, pool *pgxpool.Pool) uint32 {
	t.Helper()
	c, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	return c.Conn().PgConn().PID()
}

// WithSettings' SET LOCAL takes no snapshot: SET TRANSACTION ISOLATION
// LEVEL may still come first.
func TestWithSettingsAllowsSetTransaction(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	err := pg.InTx(ctx, pg.WithSettings(pool, "synchronous_commit", "off"), func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`)
		return err
	})
	if err != nil {
		t.Errorf("SET TRANSACTION first in a WithSettings transaction: %v", err)
	}
	clean(t, pool)
}

// A context cancelled or past its deadline at each step: the error comes
// back, nothing is committed, no hook runs, the connection is clean.
func TestContextEndingAtEachStep(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func(ctx context.Context, tx pgx.Tx) error
	}{
		{"cancelled before the first statement", func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, insert, 1)
			return err
		}},
		{"deadline while the batch carrying BEGIN runs", func(ctx context.Context, tx pgx.Tx) error {
			if err := pg.Queue(ctx, tx, insert, 1); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT pg_sleep($1)`, 2.0)
			return err
		}},
		{"deadline in a queued statement of the COMMIT batch", func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), insert, 1); err != nil {
				return err
			}
			if err := pg.Queue(ctx, tx, insert, 2); err != nil {
				return err
			}
			return pg.Queue(ctx, tx, `SELECT pg_sleep($1)`, 2.0)
		}},
		{"deadline in the COMMIT batch that carries BEGIN", func(ctx context.Context, tx pgx.Tx) error {
			if err := pg.Queue(ctx, tx, insert, 2); err != nil {
				return err
			}
			return pg.Queue(ctx, tx, `SELECT pg_sleep($1)`, 2.0)
		}},
		{"deadline while reading the first statement's rows", func(ctx context.Context, tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT g, pg_sleep(CASE WHEN g = 3 THEN 2 ELSE 0 END) FROM generate_series(1, $1::int) g`, 5)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, insert, 1)
			return err
		}},
		{"deadline in a deferred-constraint COMMIT", func(ctx context.Context, tx pgx.Tx) error {
			return pg.Queue(ctx, tx, insert, 1)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, _ := faultDB(t, 0)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if strings.HasPrefix(c.name, "cancelled") {
				cancel()
			}
			if strings.Contains(c.name, "deferred") {
				// COMMIT itself is slow: a deferred trigger sleeps.
				if _, err := pool.Exec(context.Background(), `CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(2); RETURN NULL; END$$;
					CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow()`); err != nil {
					t.Fatal(err)
				}
			}
			hook := false
			start := time.Now()
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				pg.AfterCommit(tx, func() { hook = true })
				return c.fn(ctx, tx)
			})
			if err == nil || hook {
				t.Errorf("err %v, hook ran %v: want an error and no hook", err, hook)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("InTx took %v with a 200ms deadline", d)
			}
			if got := keys(t, pool); got != "" {
				t.Errorf("committed %q", got)
			}
			clean(t, pool)
		})
	}
}

// The backend terminated from another connection at each step: an error,
// never a commit, never a hook, and the pool recovers.
func TestTerminatedBackendAtEachStep(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error
	}{
		{"before BEGIN, then queued only", func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error {
			kill()
			return pg.Queue(ctx, tx, insert, 1)
		}},
		{"before BEGIN, then a query", func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error {
			kill()
			var n int
			return tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE k > $1`, 0).Scan(&n)
		}},
		{"after BEGIN, before the COMMIT batch", func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error {
			if _, err := tx.Exec(ctx, insert, 1); err != nil {
				return err
			}
			if err := pg.Queue(ctx, tx, insert, 2); err != nil {
				return err
			}
			kill()
			return nil
		}},
		{"after BEGIN, before a plain COMMIT", func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error {
			if _, err := tx.Exec(ctx, insert, 1); err != nil {
				return err
			}
			kill()
			return nil
		}},
		{"while the first statement's rows are read", func(t *testing.T, ctx context.Context, tx pgx.Tx, kill func()) error {
			rows, err := tx.Query(ctx, `SELECT g FROM generate_series(1, $1::int) g`, 100000)
			if err != nil {
				return err
			}
			defer rows.Close()
			rows.Next()
			kill()
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return pg.Queue(ctx, tx, insert, 1)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool, url := faultDB(t, 0)
			ctx := context.Background()
			// Once without the kill and rolled back, so that the statements
			// are prepared (the steady state), and once with it.
			warm := errors.New("warm-up")
			if err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				if err := c.fn(t, ctx, tx, func() {}); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `SELECT 1 WHERE $1`, true) // sends what waits
				if err != nil {
					return err
				}
				return warm
			}); !errors.Is(err, warm) {
				t.Fatal(err)
			}
			hook := false
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				pg.AfterCommit(tx, func() { hook = true })
				p := pid(t, tx)
				return c.fn(t, ctx, tx, func() { terminate(t, url, p) })
			})
			t.Logf("InTx: %v (transient-looking: %v)", err, err != nil && looksTransient(err))
			if err == nil || hook {
				t.Errorf("err %v, hook ran %v: want an error and no hook", err, hook)
			}
			if got := keys(t, pool); got != "" {
				t.Errorf("committed %q", got)
			}
			clean(t, pool)
		})
	}
}

// Rows of the first statement (batchRows) in every way a caller reads them.
func TestFirstStatementRows(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO t SELECT generate_series(1, 5)`); err != nil {
		t.Fatal(err)
	}
	const all = `SELECT k FROM t WHERE k > $1 AND k <= 5 ORDER BY k`
	run := func(name string, wantErr bool, fn func(tx pgx.Tx) error) {
		t.Run(name, func(t *testing.T) {
			hook := false
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				pg.AfterCommit(tx, func() { hook = true })
				if err := pg.Queue(ctx, tx, `UPDATE t SET k = k WHERE k = $1`, 1); err != nil {
					return err
				}
				if err := fn(tx); err != nil {
					return err
				}
				return pg.Queue(ctx, tx, `UPDATE t SET k = k WHERE k = $1`, 2)
			})
			if (err != nil) != wantErr || hook == wantErr {
				t.Errorf("err %v, hook %v; want error %v", err, hook, wantErr)
			}
			clean(t, pool)
		})
	}
	run("CollectRows", false, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, all, 0)
		ks, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err == nil && len(ks) != 5 {
			err = fmt.Errorf("got %v", ks)
		}
		return err
	})
	run("ForEachRow", false, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, all, 0)
		var k, n int
		tag, err := pgx.ForEachRow(rows, []any{&k}, func() error { n++; return nil })
		if err == nil && (n != 5 || tag.RowsAffected() != 5) {
			err = fmt.Errorf("%d rows, tag %v", n, tag)
		}
		return err
	})
	run("closed early after one row", false, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, all, 0)
		if err != nil {
			return err
		}
		rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, insert, 100)
		return err
	})
	run("Values and RawValues", false, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, all, 0)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			v, err := rows.Values()
			if err != nil || len(v) != 1 || len(rows.RawValues()) != 1 {
				return fmt.Errorf("values %v %v", v, err)
			}
			n++
		}
		if n != 5 {
			return fmt.Errorf("%d rows", n)
		}
		return rows.Err()
	})
	run("division by zero on row 3", true, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT 1 / (3 - k) FROM t WHERE k > $1 ORDER BY k`, 0)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			n++
		}
		err = rows.Err()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22012" || n != 2 {
			t.Errorf("after %d rows, rows.Err() = %v, want division_by_zero", n, err)
		}
		if err == nil {
			return errors.New("no error")
		}
		return err
	})
	run("division by zero, error ignored, commit must fail", true, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT 1 / (3 - k) FROM t WHERE k > $1 ORDER BY k`, 0)
		rows.Close()
		return nil
	})
	run("QueryRow over several rows", false, func(tx pgx.Tx) error {
		var k int
		if err := tx.QueryRow(ctx, all, 0).Scan(&k); err != nil || k != 1 {
			return fmt.Errorf("%d %v", k, err)
		}
		_, err := tx.Exec(ctx, insert, 101)
		return err
	})
	run("QueryRow no row", false, func(tx pgx.Tx) error {
		var k int
		if err := tx.QueryRow(ctx, all, 5).Scan(&k); !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("want ErrNoRows, got %v", err)
		}
		return nil
	})
	run("QueryRow Scan error", true, func(tx pgx.Tx) error {
		var k int
		return tx.QueryRow(ctx, `SELECT 'x' || k FROM t WHERE k > $1`, 0).Scan(&k)
	})
	run("QueryRow error in the row stream after the first row", true, func(tx pgx.Tx) error {
		var k int
		return tx.QueryRow(ctx, `SELECT 1 / (2 - k) FROM t WHERE k > $1 ORDER BY k`, 0).Scan(&k)
	})
	run("rows left open, fn returns nil", true, func(tx pgx.Tx) error {
		_, err := tx.Query(ctx, all, 0)
		return err
	})
	if got := keys(t, pool); got != "1,2,3,4,5,100,101" {
		t.Errorf("the table holds %q", got)
	}
}

// Rows left open when there is nothing queued after: commit must fail, not
// succeed with the batch still open.
func TestRowsLeftOpenNothingQueued(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insert, 1); err != nil {
			return err
		}
		_, err := tx.Query(ctx, `SELECT k FROM t WHERE k > $1`, 0)
		return err
	})
	if err == nil {
		t.Error("InTx committed with rows left open")
	}
	if got := keys(t, pool); got != "" {
		t.Errorf("committed %q", got)
	}
	clean(t, pool)
}

// Every kind of statement after queued ones, on every query exec mode.
func TestStatementsOfEveryKindAfterQueued(t *testing.T) {
	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			pool, _ := faultDB(t, mode)
			ctx := context.Background()
			step := func(name string, fn func(tx pgx.Tx) error) {
				t.Helper()
				err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
					if err := pg.Queue(ctx, tx, `INSERT INTO t VALUES ($1) ON CONFLICT DO NOTHING`, 1000); err != nil {
						return err
					}
					return fn(tx)
				})
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				clean(t, pool)
			}
			step("Exec with several statements", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)`)
				return err
			})
			step("simple protocol argument", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, insert, pgx.QueryExecModeSimpleProtocol, 3)
				return err
			})
			step("NamedArgs", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO t VALUES (@k)`, pgx.NamedArgs{"k": 4})
				return err
			})
			step("NamedArgs Query", func(tx pgx.Tx) error {
				var k int
				return tx.QueryRow(ctx, `SELECT k FROM t WHERE k = @k`, pgx.NamedArgs{"k": 1000}).Scan(&k)
			})
			step("result formats", func(tx pgx.Tx) error {
				var k int
				return tx.QueryRow(ctx, `SELECT k FROM t WHERE k = $1`, pgx.QueryResultFormats{pgx.TextFormatCode}, 1000).Scan(&k)
			})
			step("CopyFrom", func(tx pgx.Tx) error {
				_, err := tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"k"}, pgx.CopyFromRows([][]any{{5}, {6}}))
				return err
			})
			step("SendBatch", func(tx pgx.Tx) error {
				b := &pgx.Batch{}
				b.Queue(insert, 7)
				b.Queue(insert, 8)
				return tx.SendBatch(ctx, b).Close()
			})
			step("Prepare", func(tx pgx.Tx) error {
				if _, err := tx.Prepare(ctx, "ins", insert); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "ins", 9)
				return err
			})
			step("savepoint", func(tx pgx.Tx) error {
				sp, err := tx.Begin(ctx)
				if err != nil {
					return err
				}
				if _, err := sp.Exec(ctx, insert, 10); err != nil {
					return err
				}
				return sp.Commit(ctx)
			})
			step("nested InTx", func(tx pgx.Tx) error {
				return pg.InTx(ctx, tx, func(tx pgx.Tx) error { return pg.Queue(ctx, tx, insert, 11) })
			})
			step("LargeObjects", func(tx pgx.Tx) error {
				lo := tx.LargeObjects()
				oid, err := lo.Create(ctx, 0)
				if err != nil {
					return err
				}
				return lo.Unlink(ctx, oid)
			})
			step("advisory lock first", func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, 42)
				return err
			})
			step("SET TRANSACTION first (no settings)", func(tx pgx.Tx) error {
				// Not first: the queued insert went before it.
				return nil
			})
			if got := keys(t, pool); got != "1,2,3,4,5,6,7,8,9,10,11,1000" {
				t.Errorf("the table holds %q", got)
			}
			// A failing queued statement in this mode.
			err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				if err := pg.Queue(ctx, tx, insert, 1); err != nil {
					return err
				}
				return pg.Queue(ctx, tx, insert, 2000)
			})
			var qe *pg.QueuedError
			if !errors.As(err, &qe) {
				t.Errorf("a duplicate queued in mode %v: %v, want a QueuedError", mode, err)
			}
			clean(t, pool)
		})
	}
}

// SET TRANSACTION as the first statement without settings, and the
// transaction's snapshot: REPEATABLE READ still works.
func TestSetTransactionFirst(t *testing.T) {
	pool, url := faultDB(t, 0)
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	err = pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
			return err
		}
		var n1, n2 int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE k > $1`, -1).Scan(&n1); err != nil {
			return err
		}
		if _, err := other.Exec(ctx, insert, 1); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE k > $1`, -1).Scan(&n2); err != nil {
			return err
		}
		if n1 != n2 {
			t.Errorf("REPEATABLE READ saw %d then %d rows", n1, n2)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clean(t, pool)
}

// InTx on a *pgx.Conn: after each kind of failure the connection is
// reusable and outside a transaction.
func TestInTxOnAConnection(t *testing.T) {
	_, url := faultDB(t, 0)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	boom := errors.New("boom")
	for i, fn := range []func(tx pgx.Tx) error{
		func(tx pgx.Tx) error { return pg.Queue(ctx, tx, insert, 1) },
		func(tx pgx.Tx) error { _ = pg.Queue(ctx, tx, insert, 1); return nil }, // duplicate at commit
		func(tx pgx.Tx) error { _, _ = tx.Exec(ctx, insert, 2); return boom },
		func(tx pgx.Tx) error { _ = pg.Queue(ctx, tx, insert, 3); return boom },
		func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `INSERT INTO nowhere VALUES ($1)`, 1); return err },
	} {
		_ = pg.InTx(ctx, conn, fn)
		if s := conn.PgConn().TxStatus(); s != 'I' || conn.IsClosed() {
			t.Errorf("step %d: TxStatus %q, closed %v", i, s, conn.IsClosed())
		}
	}
	var got string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(k::text, ','), '') FROM t`).Scan(&got); err != nil || got != "1" {
		t.Errorf("table %q %v", got, err)
	}
}

// Migrations and advisory locks over the pipelined transaction, and
// concurrent transactions on a pool of several connections (for -race).
func TestMigrateAndAdvisoryLocksUnderInTx(t *testing.T) {
	url := pgtest.NewDBURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (k int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			errs <- pg.InTx(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, 1); err != nil {
					return err
				}
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE k >= $1`, 0).Scan(&n); err != nil {
					return err
				}
				// Under the lock, n is exactly the transactions before.
				return pg.Queue(ctx, tx, insert, n)
			})
			_ = i
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var n, max int
	if err := pool.QueryRow(ctx, `SELECT count(*), max(k) FROM t`).Scan(&n, &max); err != nil || n != 40 || max != 39 {
		t.Errorf("%d rows, max %d, %v: the advisory lock did not serialise", n, max, err)
	}
}

// looksTransient is retry.Transient's view, roughly (pg cannot import it).
func looksTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P0")
	}
	for _, s := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// Once InTx has returned, its transaction refuses every statement
// (pgx.ErrTxClosed), in an AfterCommit hook too: whether COMMIT went in a
// batch or nothing was ever sent, a statement must not run autocommitted
// or on a connection back in the pool.
func TestTheTransactionEndsWithInTx(t *testing.T) {
	ctx := context.Background()
	t.Run("Queue in an AfterCommit hook", func(t *testing.T) {
		pool, _ := faultDB(t, 0)
		var hookErr error
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			pg.AfterCommit(tx, func() { hookErr = pg.Queue(ctx, tx, insert, 9) })
			return pg.Queue(ctx, tx, insert, 1)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(t, pool); hookErr == nil && got != "1,9" {
			t.Errorf("Queue after commit returned nil, and the table holds %q: the write went nowhere", got)
		}
	})
	t.Run("Exec after a COMMIT sent in a batch", func(t *testing.T) {
		pool, _ := faultDB(t, 0)
		var escaped pgx.Tx
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			escaped = tx
			if _, err := tx.Exec(ctx, insert, 1); err != nil {
				return err
			}
			return pg.Queue(ctx, tx, insert, 2)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := escaped.Exec(ctx, insert, 3); !errors.Is(err, pgx.ErrTxClosed) {
			t.Errorf("Exec on the transaction after InTx returned: %v, want pgx.ErrTxClosed (it ran on a pooled connection, autocommitted; table %q)", err, keys(t, pool))
		}
	})
	t.Run("Exec after an empty transaction", func(t *testing.T) {
		pool, _ := faultDB(t, 0)
		var escaped pgx.Tx
		if err := pg.InTx(ctx, pool, func(tx pgx.Tx) error { escaped = tx; return nil }); err != nil {
			t.Fatal(err)
		}
		_, err := escaped.Exec(ctx, insert, 1)
		if !errors.Is(err, pgx.ErrTxClosed) {
			t.Errorf("Exec on the transaction after InTx returned: %v, want pgx.ErrTxClosed", err)
		}
		if err == nil {
			// The pool's idle connection is now inside a transaction nobody
			// owns: someone else's autocommit write goes into it.
			tag, err := pool.Exec(ctx, insert, 2)
			t.Logf("a later pool.Exec on that connection: %v %v", tag, err)
			if got := keys(t, pool); err == nil && got != "2" {
				t.Errorf("a later pool.Exec returned success, yet the table holds %q: its write went into the stray transaction and was lost", got)
			}
		}
	})
}

// Queue takes Exec's options: with a query mode of its own, the statement
// runs at once.
func TestQueueWithAQueryExecMode(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		return pg.Queue(ctx, tx, insert, pgx.QueryExecModeSimpleProtocol, 1)
	})
	if err != nil {
		t.Errorf("Queue with a query exec mode: %v", err)
	}
	clean(t, pool)
}

// AfterCommit on a nested InTx (a savepoint) runs once the outermost
// transaction has committed, never when it rolls back: an Emitter's wake-up
// must not come before the event is committed.
func TestNestedAfterCommitWaitsForTheOutermostCommit(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx := context.Background()
	for _, outerFails := range []bool{true, false} {
		var order []string
		err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			err = pg.InTx(ctx, sp, func(inner pgx.Tx) error {
				if !pg.AfterCommit(inner, func() { order = append(order, "nested hook") }) {
					t.Error("a nested InTx refused a hook")
				}
				return pg.Queue(ctx, inner, insert, 1)
			})
			if err != nil {
				return err
			}
			if err := sp.Commit(ctx); err != nil {
				return err
			}
			order = append(order, "outer body done")
			if outerFails {
				return errors.New("boom")
			}
			return nil
		})
		want := "outer body done,nested hook"
		if outerFails {
			want = "outer body done"
		}
		if got := strings.Join(order, ","); got != want {
			t.Errorf("outer fails %v: %s, want %s (err %v)", outerFails, got, want, err)
		}
	}
	if got := keys(t, pool); got != "1" {
		t.Errorf("committed %q", got)
	}
}

// Concurrent migrators on a fresh database: the advisory lock, sent with
// BEGIN in one batch, still serialises them; each migration applied once.
func TestConcurrentMigrators(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDBURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	errs := make(chan error, 8)
	applied := make(chan int, 8)
	for range 8 {
		go func() {
			a, err := pg.Migrate(ctx, pool, demo)
			if err == nil {
				applied <- len(a[0].Versions)
			}
			errs <- err
		}()
	}
	total := 0
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(applied)
	for n := range applied {
		total += n
	}
	if total != 2 {
		t.Errorf("%d migrations applied by 8 migrators, want 2", total)
	}
}

// Many queued statements (an import that emits an event per row) go in
// batches of a few hundred: pgx writes each before reading, and the
// server's answers must not deadlock against the client's writes.
func TestAHugeCommitBatch(t *testing.T) {
	pool, _ := faultDB(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, `CREATE TABLE big (k int, payload text)`); err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("x", 2000)
	err := pg.InTx(ctx, pool, func(tx pgx.Tx) error {
		for k := range 30000 {
			// RETURNING: each answer is a row, so the server writes a lot back.
			if err := pg.Queue(ctx, tx, `INSERT INTO big VALUES ($1, $2) RETURNING payload`, k, payload); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM big`).Scan(&n); err != nil || n != 30000 {
		t.Errorf("%d rows, %v", n, err)
	}
	clean(t, pool)
}
