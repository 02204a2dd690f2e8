package pg

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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
		pool, t.sets = d.pool, d.sets
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
		// Nested in an InTx transaction: its hooks wait for that one's commit.
		switch o := db.(type) {
		case *pipelinedTx:
			t.outer = o
		case *savepoint:
			t.outer = o.outer
		}
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
	defer t.end(context.WithoutCancel(ctx))
	if err := fn(t); err != nil {
		return err
	}
	if err := t.commit(ctx); err != nil {
		return fmt.Errorf("pg.InTx: commit: %w", err)
	}
	t.end(ctx) // the hooks find it ended
	if t.outer != nil {
		t.outer.after = append(t.outer.after, t.after...)
		return nil
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// WithSettings is pool whose InTx transactions SET LOCAL each name to its
// value, in their BEGIN's round trip: WithSettings(pool,
// "synchronous_commit", "off"). For settings of how statements run
// (synchronous_commit, statement_timeout, lock_timeout), not of how they
// are parsed: the statements sent with BEGIN are prepared before it, so
// search_path would miss them.
func WithSettings(pool *pgxpool.Pool, nameValues ...string) Beginner {
	if len(nameValues)%2 != 0 {
		panic("pg.WithSettings: names and values go in pairs")
	}
	var sets []string
	for i := 0; i < len(nameValues); i += 2 {
		name := nameValues[i]
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz_.") != "" {
			panic(fmt.Sprintf("pg.WithSettings: %q is not a setting's name", name))
		}
		sets = append(sets, "SET LOCAL "+name+" = '"+strings.ReplaceAll(nameValues[i+1], "'", "''")+"'")
	}
	return withSettings{pool, sets}
}

type withSettings struct {
	pool *pgxpool.Pool
	// sets are SET LOCAL statements: unlike a SELECT, they take no
	// snapshot, so SET TRANSACTION may follow.
	sets []string
}

// Begin begins at once, for callers other than InTx.
func (w withSettings) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	for _, set := range w.sets {
		if _, err := tx.Exec(ctx, set); err != nil {
			_ = tx.Rollback(ctx)
			return nil, err
		}
	}
	return tx, nil
}

// Queue adds to tx a statement whose answer its caller does not need (an
// INSERT, an UPDATE): it reaches the server with tx's next statement or
// with its COMMIT, in their round trip and under their context, in order;
// or, once 256 statements or 4 MiB wait, at once, under ctx (unless the
// connection is busy reading rows or copying: then with what comes next).
// Should it fail, the statement it went with, the commit or Queue itself
// fails with a *QueuedError and the transaction is rolled back. sql is one
// statement. On a transaction InTx did not begin, or with a query mode of
// its own, the statement runs at once, under ctx.
func Queue(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	t, ok := tx.(*pipelinedTx)
	if !ok || !batchable(args) {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	}
	if err := t.usable(); err != nil {
		return err
	}
	t.queued = append(t.queued, queued{sql, args})
	t.queuedBytes += len(sql)
	for _, a := range args {
		t.queuedBytes += size(a)
	}
	if (len(t.queued) >= maxQueued || t.queuedBytes >= maxQueuedBytes) && !t.busy() {
		// A transaction that queues much (an import emitting an event per
		// row) sends it as it goes: memory stays flat.
		return t.flush(ctx)
	}
	return nil
}

// size is roughly what an argument weighs: its strings and bytes.
func size(a any) int {
	switch v := a.(type) { // Emit's arguments, without reflection
	case string:
		return len(v)
	case []byte:
		return len(v)
	}
	v := reflect.ValueOf(a)
	switch {
	case !v.IsValid():
		return 0
	case v.Kind() == reflect.String:
		return v.Len()
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return v.Len()
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		n := 0
		for i := range v.Len() {
			n += size(v.Index(i).Interface())
		}
		return n
	}
	return 8
}

// busy says whether the connection is reading rows or copying, when
// nothing else may be sent on it.
func (t *pipelinedTx) busy() bool {
	conn := t.conn
	if t.inner != nil {
		conn = t.inner.Conn()
	}
	return conn != nil && conn.PgConn().IsBusy()
}

// What a transaction holds back at most before sending it.
const (
	maxQueued      = 256
	maxQueuedBytes = 4 << 20
)

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
// committed (never if it rolls back); for an InTx nested in another, once
// the outermost has. It reports false, registering nothing, for a
// transaction begun elsewhere.
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
	// outer is the InTx transaction this one is a savepoint of.
	outer *pipelinedTx
	// sets are SET LOCAL statements sent after BEGIN.
	sets   []string
	queued []queued
	// queuedBytes counts the queued statements' string and byte arguments.
	queuedBytes int
	after       []func()
	// finished: COMMIT went in a batch; inner must not be touched.
	finished bool
	// err: a batch carrying what waited failed; the transaction is lost
	// (queued writes may not have reached the server).
	err error
	// done: InTx has returned; the connection may be another's.
	done bool
}

// usable says whether statements may still go through t.
func (t *pipelinedTx) usable() error {
	switch {
	case t.done:
		return pgx.ErrTxClosed
	case t.err != nil:
		return fmt.Errorf("an earlier statement of the transaction failed: %w", t.err)
	}
	return nil
}

// prelude is what must precede the next statement: BEGIN (and the
// settings) if not sent yet, then the queued statements.
func (t *pipelinedTx) prelude() *pgx.Batch {
	b := &pgx.Batch{}
	if t.inner == nil {
		b.BeginTx(pgx.TxOptions{})
		for _, set := range t.sets {
			b.Queue(set)
		}
	}
	for _, q := range t.queued {
		b.Queue(q.sql, q.args...)
	}
	return b
}

// send sends b, a prelude and what was added to it, and reads the
// prelude's results: the caller reads the rest and closes. A failure here
// loses the transaction: later statements and the commit report it.
func (t *pipelinedTx) send(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	began := t.inner == nil
	pending := t.queued
	t.queued, t.queuedBytes = nil, 0
	var br pgx.BatchResults
	if began {
		br = t.conn.SendBatch(ctx, b)
		t.inner = br.Tx()
	} else {
		br = t.inner.SendBatch(ctx, b)
	}
	fail := func(i int, err error) (pgx.BatchResults, error) {
		_ = br.Close()
		t.err = t.blame(b, i, began, pending, err)
		return nil, t.err
	}
	i := 0
	if began {
		for range 1 + len(t.sets) {
			if _, err := br.Exec(); err != nil {
				return fail(i, err)
			}
			i++
		}
	}
	for range pending {
		if _, err := br.Exec(); err != nil {
			return fail(i, err)
		}
		i++
	}
	return br, nil
}

// blame names the statement of b whose failure err is: the i-th result's,
// unless pgx failed the whole batch before sending it (it names the
// statement it could not prepare or encode) or the context was done.
func (t *pipelinedTx) blame(b *pgx.Batch, i int, began bool, pending []queued, err error) error {
	var pre pgx.ErrPreprocessingBatch
	if errors.As(err, &pre) {
		i = -1
		for j, q := range b.QueuedQueries {
			if q.SQL == pre.SQL() {
				i = j
				break
			}
		}
	} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	first := 0 // index of the first queued statement in b
	if began {
		first = 1 + len(t.sets)
	}
	switch {
	case i >= first && i < first+len(pending):
		return &QueuedError{SQL: pending[i-first].sql, Err: err}
	case began && i >= 0 && i < first:
		return fmt.Errorf("begin: %w", err)
	}
	return err // the caller's own statement, or the whole batch
}

func (t *pipelinedTx) waiting() bool { return t.inner == nil || len(t.queued) > 0 }

// flush sends what waits, alone.
func (t *pipelinedTx) flush(ctx context.Context) error {
	if err := t.usable(); err != nil {
		return err
	}
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
	if err := t.usable(); err != nil {
		return pgconn.CommandTag{}, err
	}
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

// Query's rows are never nil: on error they carry it, as pgx's do.
func (t *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.usable(); err != nil {
		return errRows{err}, err
	}
	if !t.waiting() {
		return t.inner.Query(ctx, sql, args...)
	}
	if !batchable(args) {
		if err := t.flush(ctx); err != nil {
			return errRows{err}, err
		}
		return t.inner.Query(ctx, sql, args...)
	}
	b := t.prelude()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return errRows{err}, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return errRows{err}, err
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

// Begin starts a savepoint; what waits is sent first, outside it. What is
// queued on t while the savepoint is open goes before the savepoint's next
// statement, inside it, as if it had run at once.
func (t *pipelinedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	sp, err := t.inner.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &savepoint{Tx: sp, outer: t}, nil
}

func (t *pipelinedTx) LargeObjects() pgx.LargeObjects {
	if err := t.flush(context.Background()); err != nil || t.inner == nil {
		return pgx.LargeObjects{} // its calls fail
	}
	return t.inner.LargeObjects()
}

// Conn is the transaction's connection (nil once InTx has returned).
// Statements sent on it directly bypass what waits: send them through the
// transaction.
func (t *pipelinedTx) Conn() *pgx.Conn {
	switch {
	case t.done:
		return nil
	case t.inner == nil:
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
	if t.err != nil {
		return fmt.Errorf("an earlier statement of the transaction failed: %w", t.err)
	}
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

// end rolls back what did not commit; t is unusable afterwards.
func (t *pipelinedTx) end(ctx context.Context) {
	if !t.finished && !t.done && t.inner != nil {
		_ = t.inner.Rollback(ctx)
	}
	t.done, t.conn, t.queued, t.queuedBytes = true, nil, nil, 0
}

// savepoint is a savepoint of an InTx transaction: statements queued on
// the transaction while it is open are sent before its own. Once InTx has
// returned it refuses everything, as the transaction does.
type savepoint struct {
	pgx.Tx
	outer *pipelinedTx
}

func (s *savepoint) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if err := s.outer.flush(ctx); err != nil {
		return nil, err
	}
	return s.Tx.Prepare(ctx, name, sql)
}

func (s *savepoint) LargeObjects() pgx.LargeObjects {
	if err := s.outer.flush(context.Background()); err != nil {
		return pgx.LargeObjects{} // its calls fail
	}
	return s.Tx.LargeObjects()
}

func (s *savepoint) Conn() *pgx.Conn {
	if s.outer.done {
		return nil
	}
	return s.Tx.Conn()
}

func (s *savepoint) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := s.outer.flush(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return s.Tx.Exec(ctx, sql, args...)
}

func (s *savepoint) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := s.outer.flush(ctx); err != nil {
		return errRows{err}, err
	}
	return s.Tx.Query(ctx, sql, args...)
}

func (s *savepoint) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := s.Query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

func (s *savepoint) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := s.outer.flush(ctx); err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return s.Tx.SendBatch(ctx, b)
}

func (s *savepoint) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := s.outer.flush(ctx); err != nil {
		return 0, err
	}
	return s.Tx.CopyFrom(ctx, table, columns, src)
}

func (s *savepoint) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := s.outer.flush(ctx); err != nil {
		return nil, err
	}
	sp, err := s.Tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &savepoint{Tx: sp, outer: s.outer}, nil
}

func (s *savepoint) Commit(ctx context.Context) error {
	if err := s.outer.flush(ctx); err != nil {
		return err
	}
	return s.Tx.Commit(ctx)
}

// Rollback sends what was queued first: it is undone with the savepoint,
// as it would have been had it run at once.
func (s *savepoint) Rollback(ctx context.Context) error {
	if s.outer.done {
		return pgx.ErrTxClosed
	}
	if err := s.outer.flush(ctx); err != nil {
		_ = s.Tx.Rollback(ctx)
		return err
	}
	return s.Tx.Rollback(ctx)
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

// Scan and Values close the rows on error, as pgx does (callers return
// without closing): the batch with them, freeing the connection.
func (r *batchRows) Scan(dest ...any) error {
	err := r.Rows.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *batchRows) Values() ([]any, error) {
	v, err := r.Rows.Values()
	if err != nil {
		r.Close()
	}
	return v, err
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

// errRows are the rows of a query that failed before it ran.
type errRows struct{ err error }

func (e errRows) Close()                                       {}
func (e errRows) Err() error                                   { return e.err }
func (e errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (e errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (e errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                            { return e.err }
func (e errRows) Values() ([]any, error)                       { return nil, e.err }
func (e errRows) RawValues() [][]byte                          { return nil }
func (e errRows) Conn() *pgx.Conn                              { return nil }
func (e errRows) TypeMap() *pgtype.Map                         { return nil }
