package extraction

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"sinp.occitanie.fr/sevenz"
)

// Names of the files every archive holds besides the partitions.
const (
	ReadmeName     = "LISEZMOI.txt"
	DescriptorName = "descripteur.csv"
	MetadataDir    = "metadonnees"
)

// PackOptions choose how archives are compressed.
type PackOptions struct {
	Codec sevenz.Codec
	Level int
	// BlockSize is the unit of parallel compression (0: sevenz's default);
	// Window how far back a block may find repeats (0: one block).
	BlockSize, Window int
	// F2Password, when set, gives the password that encrypts each F2
	// archive (content and names), from its deliverable id.
	F2Password func(deliverableID string) string
	// Concurrency is the compressing goroutines all archives share (0:
	// GOMAXPROCS).
	Concurrency int
	// FullVerify decodes every archive back before it is staged; otherwise
	// each is checked (header and packed-stream CRCs, at disk speed).
	FullVerify bool
}

// outputs are the archives of one run, written while rows stream.
type outputs struct {
	spec     Spec
	l        *layout
	dir      string
	opts     PackOptions
	archives map[DeliverableKey]*archive
	order    []*archive
	last     *partition
	// pool compresses for every archive of the run: the cores are used
	// once and memory is bounded once, however many archives are open.
	pool     *sevenz.Pool
	poolDone sync.Once
}

// closePool stops the compressing goroutines once every archive is closed.
func (o *outputs) closePool() { o.poolDone.Do(o.pool.Close) }

// archive is one deliverable being written.
type archive struct {
	key      DeliverableKey
	name     string
	path     string
	file     *os.File
	w        *sevenz.Writer
	readme   io.WriteCloser
	desc     io.WriteCloser
	parts    map[Key]*partition
	order    []*partition
	codes    []map[string]struct{} // per coded column of the layout
	derived  map[string]struct{}   // derivedRow.coded of the rows written
	datasets map[string]struct{}
	rows     int64
	// lastCode is the last value noted per coded column: rows repeat
	// their neighbours' codes, and comparing is cheaper than hashing.
	lastCode [][]byte
}

// partition is one CSV file being written.
type partition struct {
	key     Key
	archive *archive
	entry   io.WriteCloser
	w       *bufio.Writer
	rows    int64
	bytes   int64
}

func newOutputs(spec Spec, l *layout, dir string, opts PackOptions) *outputs {
	return &outputs{spec: spec, l: l, dir: dir, opts: opts, archives: map[DeliverableKey]*archive{},
		pool: sevenz.NewPool(opts.Concurrency)}
}

func (o *outputs) header(name string) *sevenz.FileHeader {
	return &sevenz.FileHeader{Name: name, Modified: o.spec.Stamp, Mode: 0o644}
}

// archiveFor opens the deliverable's archive on first use.
func (o *outputs) archiveFor(d DeliverableKey) (*archive, error) {
	if a, ok := o.archives[d]; ok {
		return a, nil
	}
	a := &archive{
		key:      d,
		name:     d.ArchiveName(o.spec.Reference),
		parts:    map[Key]*partition{},
		codes:    make([]map[string]struct{}, len(o.l.coded)),
		lastCode: make([][]byte, len(o.l.coded)),
		derived:  map[string]struct{}{},
		datasets: map[string]struct{}{},
	}
	for i := range a.codes {
		a.codes[i] = map[string]struct{}{}
	}
	a.path = filepath.Join(o.dir, a.name)
	f, err := os.Create(a.path)
	if err != nil {
		return nil, fmt.Errorf("extraction: %w", err)
	}
	a.file = f
	// Each partition's pending input waits on disk, not in memory: some
	// fifty CSV files are open at once.
	opts := sevenz.Options{Codec: o.opts.Codec, Level: o.opts.Level, BlockSize: o.opts.BlockSize,
		Window: o.opts.Window, TempDir: o.dir, Pool: o.pool, SpoolInput: true}
	if d.File == F2 && o.opts.F2Password != nil {
		opts.Password = o.opts.F2Password(d.ID(o.spec.Reference))
		// Salt and IVs derived from the deliverable: a repeated run gives
		// the same bytes.
		opts.Rand = newDeterministicRand(d.ID(o.spec.Reference))
	}
	a.w, err = sevenz.NewWriter(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("extraction: %w", err)
	}
	// The readme and descriptor come first in the listing; they are
	// written when the rows are all in.
	if a.readme, err = a.w.Create(o.header(ReadmeName)); err != nil {
		return nil, err
	}
	if a.desc, err = a.w.Create(o.header(DescriptorName)); err != nil {
		return nil, err
	}
	o.archives[d] = a
	o.order = append(o.order, a)
	return a, nil
}

// partitionFor opens the partition's CSV (with its header and sidecars) on
// first use.
func (o *outputs) partitionFor(k Key) (*partition, error) {
	if o.last != nil && o.last.key == k {
		return o.last, nil
	}
	a, err := o.archiveFor(k.Deliverable())
	if err != nil {
		return nil, err
	}
	if p, ok := a.parts[k]; ok {
		o.last = p
		return p, nil
	}
	name := k.Name()
	entry, err := a.w.Create(o.header(name))
	if err != nil {
		return nil, err
	}
	p := &partition{key: k, archive: a, entry: entry, w: bufio.NewWriterSize(entry, 64<<10)}
	h := o.l.header()
	if o.spec.Excel {
		h = append(append([]byte{}, utf8BOM...), h...)
	}
	if _, err := p.w.Write(h); err != nil {
		return nil, err
	}
	p.bytes = int64(len(h))
	base := name[:len(name)-len(".csv")]
	for _, side := range []struct {
		ext  string
		data []byte
	}{{".csvt", o.l.csvt()}, {".prj", []byte(Lambert93PRJ + "\n")}} {
		if err := writeEntry(a.w, o.header(base+side.ext), side.data); err != nil {
			return nil, err
		}
	}
	a.parts[k] = p
	a.order = append(a.order, p)
	o.last = p
	return p, nil
}

// utf8BOM opens the CSV files of an extract for Excel (Spec.Excel).
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// write appends one row to a partition and notes the codes and dataset it
// carries. row is the CSV row without its newline; fields are the record's
// fields, routing ones in front, and edits (sorted by field, values
// CSV-encoded) the ones row changed; d its derived columns.
func (o *outputs) write(k Key, row []byte, fields [][]byte, edits []edit, d *derivedRow) error {
	p, err := o.partitionFor(k)
	if err != nil {
		return err
	}
	n, _ := p.w.Write(row)
	if err := p.w.WriteByte('\n'); err != nil {
		return err
	}
	p.rows++
	p.bytes += int64(n) + 1
	a := p.archive
	a.rows++
	if d != nil {
		if _, ok := a.derived[d.coded]; !ok {
			a.derived[d.coded] = struct{}{}
		}
	}
	e := 0
	for ci, idx := range o.l.coded {
		v := fields[idx]
		for e < len(edits) && edits[e].field < idx {
			e++
		}
		if e < len(edits) && edits[e].field == idx {
			v = edits[e].value
		}
		if v = unquote(v); len(v) == 0 || bytes.Equal(v, a.lastCode[ci]) {
			continue
		}
		a.lastCode[ci] = append(a.lastCode[ci][:0], v...)
		if _, ok := a.codes[ci][string(v)]; !ok {
			a.codes[ci][string(v)] = struct{}{}
		}
	}
	if ds := unquote(fields[o.l.dataset]); len(ds) > 0 {
		if _, ok := a.datasets[string(ds)]; !ok {
			a.datasets[string(ds)] = struct{}{}
		}
	}
	return nil
}

func (p *partition) close() error {
	if err := p.w.Flush(); err != nil {
		return err
	}
	return p.entry.Close()
}

// closePartitions closes every partition of every archive at once. Closing
// an entry waits for its last block: one by one, the pool would compress a
// single block at a time while the other core idles.
func (o *outputs) closePartitions() error {
	var g errgroup.Group
	for _, a := range o.order {
		for _, p := range a.order {
			g.Go(p.close)
		}
	}
	return g.Wait()
}

// finish writes the closing files and the archive's header, once
// outputs.closePartitions has ended the CSV entries.
func (a *archive) finish(readme, descriptor []byte, sheets []Sheet, stamp time.Time) error {
	for _, w := range []struct {
		wc   io.WriteCloser
		data []byte
	}{{a.readme, readme}, {a.desc, descriptor}} {
		if _, err := w.wc.Write(w.data); err != nil {
			return err
		}
		if err := w.wc.Close(); err != nil {
			return err
		}
	}
	slices.SortFunc(sheets, func(x, y Sheet) int { return strings.Compare(x.Name, y.Name) })
	for _, s := range sheets {
		h := &sevenz.FileHeader{Name: MetadataDir + "/" + s.Name, Modified: stamp, Mode: 0o644}
		if err := writeEntry(a.w, h, s.Text); err != nil {
			return err
		}
	}
	if err := a.w.Close(); err != nil {
		return err
	}
	if err := a.file.Sync(); err != nil {
		return err
	}
	return a.file.Close()
}

func writeEntry(w *sevenz.Writer, h *sevenz.FileHeader, b []byte) error {
	e, err := w.Create(h)
	if err != nil {
		return err
	}
	if _, err := e.Write(b); err != nil {
		return err
	}
	return e.Close()
}

// abort releases everything after a failure; the files stay in the run's
// temporary directory, which the caller removes.
func (o *outputs) abort() {
	for _, a := range o.order {
		if a.w != nil {
			_ = a.w.Close()
		}
		if a.file != nil {
			_ = a.file.Close()
		}
	}
	o.closePool()
}

// deterministicRand is a reproducible stream (SHA-256 in counter mode) for
// the salt and IVs of encrypted archives: the same deliverable always gets
// the same bytes. The secret is the password, not the salt.
type deterministicRand struct {
	seed    [32]byte
	counter uint64
	buf     []byte
}

func newDeterministicRand(seed string) *deterministicRand {
	return &deterministicRand{seed: sha256.Sum256([]byte(seed))}
}

func (d *deterministicRand) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(d.buf) == 0 {
			var block [40]byte
			copy(block[:], d.seed[:])
			binary.LittleEndian.PutUint64(block[32:], d.counter)
			d.counter++
			sum := sha256.Sum256(block[:])
			d.buf = sum[:]
		}
		k := copy(p[n:], d.buf)
		d.buf = d.buf[k:]
		n += k
	}
	return n, nil
}
