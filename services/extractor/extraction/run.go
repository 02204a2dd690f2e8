package extraction

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"sinp.occitanie.fr/sevenz"
)

// ErrBadRequest marks a request the extractor cannot serve whatever the
// number of attempts (bad perimeter, unknown areas): it fails at once.
var ErrBadRequest = errors.New("extraction: bad request")

// Options are how a run works, as opposed to what it extracts (Spec).
type Options struct {
	DB   *pgxpool.Pool
	Pack PackOptions
	// Progress, when set, is called about every ProgressEvery (default 1s)
	// with the rows placed so far (written or withheld) and the planner's
	// estimate.
	Progress      func(rowsPlaced, estimated int64)
	ProgressEvery time.Duration
}

// PartitionResult is one CSV written.
type PartitionResult struct {
	Key   Key    `json:"key"`
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// DeliverableResult is one archive written.
type DeliverableResult struct {
	Key         DeliverableKey    `json:"key"`
	ID          string            `json:"id"`
	ArchiveName string            `json:"archive"`
	Path        string            `json:"path"`
	SHA256      string            `json:"sha256"`
	Bytes       int64             `json:"bytes"`
	Rows        int64             `json:"rows"`
	Encrypted   bool              `json:"encrypted"`
	Partitions  []PartitionResult `json:"partitions"`
	// Datasets are the ids of the datasets whose rows it holds.
	Datasets []string `json:"datasets"`
}

// Result is what a run produced.
type Result struct {
	Counts
	Estimated    int64               `json:"rows_estimated"`
	Perimeter    string              `json:"perimeter"`
	Deliverables []DeliverableResult `json:"deliverables"`
	Elapsed      time.Duration       `json:"elapsed_ns"`
}

// SensitivePoles are the pôles that have an F2 archive.
func (r *Result) SensitivePoles() []string {
	var poles []string
	for _, d := range r.Deliverables {
		if d.Key.File == F2 {
			poles = append(poles, d.Key.Pole)
		}
	}
	return poles
}

// Extract runs the pipeline for spec and writes the archives into dir,
// which must exist and belong to this run. The same spec over the same
// store gives byte-identical archives.
func Extract(ctx context.Context, spec Spec, dir string, opt Options) (*Result, error) {
	start := time.Now()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	l, err := newLayout()
	if err != nil {
		return nil, err
	}
	rd, err := openSelection(ctx, opt.DB, spec, l.selectList("s"))
	if err != nil {
		return nil, err
	}
	defer rd.close()

	out := newOutputs(spec, l, dir, opt.Pack)
	ok := false
	defer func() {
		if !ok {
			out.abort()
		}
	}()
	// The F1 archive exists even when nothing is selected: it says so.
	if _, err := out.archiveFor(DeliverableKey{File: F1}); err != nil {
		return nil, err
	}
	book, err := loadAreaBook(ctx, opt.DB)
	if err != nil {
		return nil, err
	}
	sensitive := newDeferred(dir, book.objects())
	defer sensitive.close()
	r := newRouter(ctx, spec, l, newAreas(opt.DB), book, out, sensitive)
	if err := rd.read(ctx, opt, r, dir); err != nil {
		return nil, err
	}
	sensitive.close()

	res, err := finish(ctx, opt, spec, l, out, rd.sel.perimeter)
	if err != nil {
		return nil, err
	}
	ok = true
	res.Counts = r.counts
	res.Estimated = rd.est
	res.Elapsed = time.Since(start)
	return res, nil
}

// afterSnapshot, when a test sets it, runs once the selection's snapshot
// is taken.
var afterSnapshot func()

// reading is the selection of one run or estimate, prepared on a
// connection of its own and ready to be read once.
type reading struct {
	db    *pgxpool.Pool
	conn  *pgx.Conn
	close func()
	sel   *selection
	est   int64 // the planner's row estimate, for progress
	// snapshot is the transaction snapshot the selection is read in, which
	// the connection reading the attached observations shares.
	snapshot string
}

func openSelection(ctx context.Context, db *pgxpool.Pool, spec Spec, list string) (*reading, error) {
	conn, done, err := dedicated(ctx, db)
	if err != nil {
		return nil, err
	}
	sel, err := prepareSelection(ctx, conn, spec, list)
	if err != nil {
		done()
		return nil, err
	}
	est, err := estimate(ctx, conn, sel.planned)
	if err != nil {
		done()
		return nil, err
	}
	var snapshot string
	if _, err = conn.Exec(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`); err == nil {
		err = conn.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot)
	}
	if err != nil {
		done()
		return nil, fmt.Errorf("extraction: snapshot: %w", err)
	}
	if afterSnapshot != nil {
		afterSnapshot()
	}
	return &reading{db: db, conn: conn, close: done, sel: sel, est: est, snapshot: snapshot}, nil
}

// read streams the selection through the router in one pass, releases
// the connection, then has the router write the sensitive rows it held
// back. Progress is reported meanwhile.
//
// The observations with a geometry come first; those attached to an
// object without one are read at the same time on a second connection,
// in the same snapshot, into a temporary file in dir (unlinked at once),
// and routed after them: the same rows in the same order as one query's,
// but PostgreSQL's second core reads the attached rows (a second of a
// region's bitmap scan, where the first connection's rows had left the
// extractor idle) while the first sends the others.
func (rd *reading) read(ctx context.Context, opt Options, r *router, dir string) error {
	stopProgress := startProgress(opt, &r.placed, rd.est)
	defer stopProgress()
	g, gctx := errgroup.WithContext(ctx)
	imported := make(chan struct{})
	var attached *os.File
	g.Go(func() error {
		var err error
		attached, err = rd.copyAttached(gctx, dir, imported)
		return err
	})
	if r.book != nil && len(rd.sel.cells) > 0 {
		// Which département covers each cell takes PostgreSQL half a second
		// for a region: while the rows stream, not after (writeDeferred
		// loads the few cells on the perimeter's edge not among them).
		cells := map[string]struct{}{}
		for _, c := range rd.sel.cells {
			cells[c] = struct{}{}
		}
		g.Go(func() error { return r.book.loadCells(gctx, cells) })
	}
	rec := &records{handle: r.route}
	// The selection's own failure is the one to report: the second
	// connection then fails too (the snapshot it imports is gone), and
	// may do so first.
	var mainErr error
	g.Go(func() error {
		_, err := rd.conn.PgConn().CopyTo(gctx, rec, copySQL(rd.sel.geo))
		if err == nil {
			err = rec.flush()
		}
		mainErr = err
		// The exported snapshot lives as long as this transaction: it ends
		// once the other connection holds it.
		select {
		case <-imported:
		case <-gctx.Done():
		}
		rd.close()
		return err
	})
	err := g.Wait()
	if pe, ok := errors.AsType[*pgconn.PgError](mainErr); ok && pe.Code != "57014" {
		err = mainErr // the server refused the selection itself (not a cancel)
	}
	if attached != nil {
		defer attached.Close()
	}
	if err == nil {
		if _, err = attached.Seek(0, io.SeekStart); err == nil {
			if _, err = io.Copy(rec, bufio.NewReaderSize(attached, 256<<10)); err == nil {
				err = rec.flush()
			}
		}
	}
	if err != nil {
		return fmt.Errorf("extraction: reading the selection: %w", err)
	}
	if err := r.writeDeferred(); err != nil {
		return err
	}
	stopProgress()
	return nil
}

// copyAttached writes the attached observations' records into a temporary
// file, read in rd's snapshot; imported is closed once the snapshot is
// taken (or the attempt failed).
func (rd *reading) copyAttached(ctx context.Context, dir string, imported chan struct{}) (*os.File, error) {
	signal := sync.OnceFunc(func() { close(imported) })
	defer signal()
	conn, done, err := dedicated(ctx, rd.db)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := setUp(ctx, conn, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`,
		`SET TRANSACTION SNAPSHOT `+quoteLiteral(rd.snapshot)); err != nil {
		return nil, err
	}
	signal()
	f, err := unlinkedTemp(dir, ".attached-*")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err = conn.PgConn().CopyTo(ctx, w, copySQL(rd.sel.attached)); err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// dedicated opens a connection for this run alone, outside the pool: a
// run holds it for its whole reading while routing and finishing borrow
// from the pool, so taking it from there could exhaust the pool with a few
// concurrent runs. done closes it (idempotent), and with it its session
// settings and temporary tables.
func dedicated(ctx context.Context, db *pgxpool.Pool) (*pgx.Conn, func(), error) {
	c, err := pgx.ConnectConfig(ctx, db.Config().ConnConfig.Copy())
	if err != nil {
		return nil, nil, fmt.Errorf("extraction: %w", err)
	}
	var once sync.Once
	return c, func() { once.Do(func() { c.Close(context.WithoutCancel(ctx)) }) }, nil
}

func copySQL(query string) string {
	return "COPY (" + query + ") TO STDOUT WITH (FORMAT csv, DELIMITER ';', NULL '')"
}

func startProgress(opt Options, placed *atomic.Int64, est int64) func() {
	if opt.Progress == nil {
		return func() {}
	}
	every := opt.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				opt.Progress(placed.Load(), est)
				return
			case <-t.C:
				opt.Progress(placed.Load(), est)
			}
		}
	}()
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// finish writes each archive's closing files, then verifies and hashes the
// archives in parallel.
func finish(ctx context.Context, opt Options, spec Spec, l *layout, out *outputs, perimeter string) (*Result, error) {
	types := map[string]bool{}
	for _, c := range l.columns() {
		if c.Nomenclature != "" {
			types[c.Nomenclature] = true
		}
	}
	noms, err := loadNomenclatures(ctx, opt.DB, slices.Sorted(maps.Keys(types)))
	if err != nil {
		return nil, err
	}
	if err := out.closePartitions(); err != nil {
		return nil, err
	}
	res := &Result{Perimeter: perimeter}
	for _, a := range out.order {
		ids := slices.Sorted(maps.Keys(a.datasets))
		sheets, err := datasetSheets(ctx, opt.DB, ids)
		if err != nil {
			return nil, err
		}
		// Partitions are closed before the readme is written: it counts them.
		text := readme(readmeData{Spec: spec, Perimeter: perimeter, Archive: a, Sheets: len(sheets)})
		desc := descriptor(l, a, noms)
		if spec.Excel {
			desc = append(append([]byte{}, utf8BOM...), desc...)
		}
		if err := a.finish(text, desc, sheets, spec.Stamp); err != nil {
			return nil, fmt.Errorf("extraction: %s: %w", a.name, err)
		}
		d := DeliverableResult{
			Key: a.key, ID: a.key.ID(spec.Reference), ArchiveName: a.name, Path: a.path, Rows: a.rows,
			Encrypted: a.key.File == F2 && opt.Pack.F2Password != nil, Datasets: ids,
		}
		parts := slices.Clone(a.order)
		sort.Slice(parts, func(i, j int) bool { return parts[i].key.Name() < parts[j].key.Name() })
		for _, p := range parts {
			d.Partitions = append(d.Partitions, PartitionResult{Key: p.key, Name: p.key.Name(), Rows: p.rows, Bytes: p.bytes})
		}
		res.Deliverables = append(res.Deliverables, d)
	}
	out.closePool()
	g, _ := errgroup.WithContext(ctx)
	for i := range res.Deliverables {
		d := &res.Deliverables[i]
		g.Go(func() error {
			password := ""
			if d.Encrypted {
				password = opt.Pack.F2Password(d.ID)
			}
			check := sevenz.Check
			if opt.Pack.FullVerify {
				check = sevenz.Verify
			}
			if err := check(d.Path, password); err != nil {
				return fmt.Errorf("extraction: %s does not read back: %w", d.ArchiveName, err)
			}
			sum, size, err := hashFile(d.Path)
			d.SHA256, d.Bytes = sum, size
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(res.Deliverables, func(i, j int) bool { return res.Deliverables[i].ArchiveName < res.Deliverables[j].ArchiveName })
	return res, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
