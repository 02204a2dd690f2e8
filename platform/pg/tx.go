package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Beginner is what InTx needs: a pool, a connection or a transaction.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise. Functions registered with AfterCommit on the transaction
// run once it has committed.
//
// On a pool or a connection the transaction costs no round trip of its
// own: BEGIN reaches the server with the transaction's first statement,
// and the statements queued with Queue go with the next statement or with
// COMMIT. A transaction of queued statements only is one round trip; one
// that sends nothing sends no BEGIN and no COMMIT. On a transaction (a
// savepoint) or another Beginner, InTx begins at once.
func InTx(ctx context.Context, db Beginner, fn func(tx pgx.Tx) error) error {
	t := &pipelinedTx{}
	var pool *pgxpool.Pool
	switch d := db.(type) {
	case *pgxpool.Pool:
		pool = d
	case withSettings:
		pool, t.settings = d.pool, d.settings
	case *pgxpool.Conn:
		t.conn, t.own = d.Conn(), true
	case *pgx.Conn:
		t.conn, t.own = d, true
	default:
		inner, err := db.Begin(ctx)
		if err != nil {
			return fmt.Errorf("pg.InTx: begin: %w", err)
		}
		t.inner = inner
	}
	if pool != nil {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("pg.InTx: begin: %w", err)
		}
		// Deferred first, so released last: after the rollback below.
		defer c.Release()
		t.conn, t.own = c.Conn(), true
	}
	defer t.rollback(context.WithoutCancel(ctx))
	if err := fn(t); err != nil {
		return err
	}
	if err := t.commit(ctx); err != nil {
		return fmt.Errorf("pg.InTx: commit: %w", err)
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// WithSettings is pool whose InTx transactions set each name to its value
// for themselves (set_config(name, value, true), like SET LOCAL), in their
// BEGIN's round trip: WithSettings(pool, "synchronous_commit", "off").
func WithSettings(pool *pgxpool.Pool, nameValues ...string) Beginner {
	if len(nameValues)%2 != 0 {
		panic("pg.WithSettings: names and values go in pairs")
	}
	return withSettings{pool, nameValues}
}

type withSettings struct {
	pool     *pgxpool.Pool
	settings []string
}

// Begin begins at once, for callers other than InTx.
func (w withSettings) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(w.settings); i += 2 {
		if _, err := tx.Exec(ctx, setConfig, w.settings[i], w.settings[i+1]); err != nil {
			_ = tx.Rollback(ctx)
			return nil, err
		}
	}
	return tx, nil
}

const setConfig = `SELECT set_config($1, $2, true)`

// Queue adds to tx a statement whose answer its caller does not need (an
// INSERT, an UPDATE): it reaches the server with tx's next statement or
// with its COMMIT, in their round trip, and in order. Should it fail, that
// statement or the commit fails with a *QueuedError and the transaction
// is rolled back. sql is one statement. On a transaction InTx did not
// begin, the statement runs at once.
func Queue(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	if t, ok := tx.(*pipelinedTx); ok {
		t.queued = append(t.queued, queued{sql, args})
		return nil
	}
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// QueuedError is the failure of a statement Queue held back, reported by
// the statement or the commit it was sent with.
type QueuedError struct {
	SQL string
	Err error
}

func (e *QueuedError) Error() string {
	sql := strings.Join(strings.Fields(e.SQL), " ")
	if len(sql) > 80 {
		sql = sql[:80] + "…"
	}
	return fmt.Sprintf("queued statement %q: %v", sql, e.Err)
}

func (e *QueuedError) Unwrap() error { return e.Err }

// AfterCommit registers f to run once tx, a transaction InTx began, has
// committed (never if it rolls back). It reports false, registering
// nothing, for a transaction begun elsewhere.
func AfterCommit(tx pgx.Tx, f func()) bool {
	t, ok := tx.(*pipelinedTx)
	if ok {
		t.after = append(t.after, f)
	}
	return ok
}

type queued struct {
	sql  string
	args []any
}

// pipelinedTx is InTx's transaction: BEGIN and the queued statements wait
// for the next statement to go with it in one batch (one round trip).
type pipelinedTx struct {
	// conn is where BEGIN is sent when own; inner is the transaction once
	// BEGIN has been sent (at once when not own).
	conn  *pgx.Conn
	own   bool
	inner pgx.Tx
	// settings are name, value pairs set after BEGIN.
	settings []string
	queued   []queued
	after    []func()
	// finished: COMMIT went in a batch; inner must not be touched.
	finished bool
}

// prelude is what must precede the next statement: BEGIN (and the
// settings) if not sent yet, then the queued statements.
func (t *pipelinedTx) prelude() *pgx.Batch {
	b := &pgx.Batch{}
	if t.inner == nil {
		b.BeginTx(pgx.TxOptions{})
		for i := 0; i < len(t.settings); i += 2 {
			b.Queue(setConfig, t.settings[i], t.settings[i+1])
		}
	}
	for _, q := range t.queued {
		b.Queue(q.sql, q.args...)
	}
	return b
}

// send sends b, a prelude and what was added to it, and reads the
// prelude's results: the caller reads the rest and closes.
func (t *pipelinedTx) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	began := t.inner == nil
	pending := t.queued
	t.queued = nil
	var br pgx.BatchResults
	if began {
		br = t.conn.SendBatch(ctx, b)
		t.inner = br.Tx()
	} else {
		br = t.inner.SendBatch(ctx, b)
	}
	if began {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("begin: %w", err)
		}
		for range len(t.settings) / 2 {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return nil, fmt.Errorf("begin: settings: %w", err)
			}
		}
	}
	for _, q := range pending {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, &QueuedError{SQL: q.sql, Err: err}
		}
	}
	return br, nil
}

func (t *pipelinedTx) waiting() bool { return t.inner == nil || len(t.queued) > 0 }

// flush sends what waits, alone.
func (t *pipelinedTx) flush(ctx context.Context) error {
	if !t.waiting() {
		return nil
	}
	br, err := t.send(ctx, t.prelude())
	if err != nil {
		return err
	}
	return br.Close()
}

// batchable says whether a statement with these arguments can go in a
// batch: not with a query mode or result format of its own. An Exec
// without arguments may hold several statements (pgx sends it by the
// simple protocol), so it does not either.
func batchable(args []any) bool {
	if len(args) == 0 {
		return true
	}
	switch args[0].(type) {
	case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
		return false
	}
	return true
}

func (t *pipelinedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !t.waiting() {
		return t.inner.Exec(ctx, sql, args...)
	}
	if len(args) == 0 || !batchable(args) {
		if err := t.flush(ctx); err != nil {
			return pgconn.CommandTag{}, err
		}
		return t.inner.Exec(ctx, sql, args...)
	}
	b := t.prelude()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !t.waiting() {
		return t.inner.Query(ctx, sql, args...)
	}
	if !batchable(args) {
		if err := t.flush(ctx); err != nil {
			return nil, err
		}
		return t.inner.Query(ctx, sql, args...)
	}
	b := t.prelude()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *pipelinedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

func (t *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return t.inner.SendBatch(ctx, b)
}

func (t *pipelinedTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.inner.CopyFrom(ctx, table, columns, src)
}

func (t *pipelinedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.inner.Prepare(ctx, name, sql)
}

// Begin starts a savepoint; what waits is sent first, outside it.
func (t *pipelinedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.inner.Begin(ctx)
}

func (t *pipelinedTx) LargeObjects() pgx.LargeObjects {
	_ = t.flush(context.Background()) // a failure shows in the first call
	return t.inner.LargeObjects()
}

// Conn is the transaction's connection. Statements sent on it directly
// bypass what waits: send them through the transaction.
func (t *pipelinedTx) Conn() *pgx.Conn {
	if t.inner == nil {
		return t.conn
	}
	return t.inner.Conn()
}

// Commit and Rollback belong to InTx, which ends the transaction.
func (t *pipelinedTx) Commit(context.Context) error {
	return errors.New("pg: the transaction is InTx's: return nil from its function to commit")
}

func (t *pipelinedTx) Rollback(context.Context) error {
	return errors.New("pg: the transaction is InTx's: return an error from its function to roll back")
}

func (t *pipelinedTx) commit(ctx context.Context) error {
	switch {
	case t.inner == nil && len(t.queued) == 0:
		t.finished = true // nothing was sent: nothing to end
		return nil
	case !t.own:
		if err := t.flush(ctx); err != nil {
			return err
		}
		return t.inner.Commit(ctx)
	case len(t.queued) == 0:
		return t.inner.Commit(ctx)
	}
	b := t.prelude()
	b.Queue("COMMIT")
	br, err := t.send(ctx, b)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	t.finished = err == nil
	return err
}

func (t *pipelinedTx) rollback(ctx context.Context) {
	if t.finished || t.inner == nil {
		return
	}
	_ = t.inner.Rollback(ctx)
}

// batchRows are a query's rows read from a batch, closed with them.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// row is QueryRow's result, as pgx's: the first row, or pgx.ErrNoRows.
type row struct {
	rows pgx.Rows
	err  error
}

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
