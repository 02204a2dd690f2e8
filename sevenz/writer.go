package sevenz

import (
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"sinp.occitanie.fr/sevenz/internal/lzma"
)

// FileHeader describes one archive member.
type FileHeader struct {
	// Name is the slash-separated path inside the archive; it must be
	// relative and must not leave the archive root.
	Name string
	// Modified is recorded unless zero.
	Modified time.Time
	// Mode says whether this is a directory (fs.ModeDir) and holds the Unix
	// permissions (0644 for files and 0755 for directories when unset).
	Mode fs.FileMode
}

// Writer writes a 7z archive. Files are written through the io.WriteCloser
// that Create returns; several may be open at once. Methods of Writer may be
// called from several goroutines; each entry is written by one goroutine at
// a time.
type Writer struct {
	opts Options
	key  *archiveKey

	out    io.Writer
	seeker io.WriteSeeker // out, when it can seek: the signature is patched in place
	start  int64          // where the archive starts in seeker
	spool  *os.File       // the packed streams, when out cannot seek
	body   *countWriter   // where packed streams go, in archive order

	pool    *Pool
	ownPool bool // started for this Writer alone: closed with it

	life    sync.RWMutex // held for reading while submitting a job
	stopped bool
	closing atomic.Bool // Close was called: entries refuse more data

	mu      sync.Mutex
	copyBuf []byte // for moving spooled streams into the body
	entries []*entry
	flushed int // entries[:flushed] have their stream in body
	open    int
	closed  bool
	err     error
}

// NewWriter starts an archive on out. When out is an io.WriteSeeker that can
// seek (a regular file), packed streams go straight to it and the signature
// header is patched at the end; otherwise they are spooled to a temporary file
// in opts.TempDir and copied to out by Close. A file opened with O_APPEND
// cannot be patched: pass it wrapped in a plain io.Writer.
func NewWriter(out io.Writer, opts Options) (*Writer, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	w := &Writer{opts: o, out: out}
	if o.Password != "" {
		if w.key, err = newArchiveKey(o.Password, o.KeyCycles, o.Rand); err != nil {
			return nil, err
		}
	}
	if ws, ok := out.(io.WriteSeeker); ok {
		if off, err := ws.Seek(0, io.SeekCurrent); err == nil {
			w.seeker, w.start = ws, off
		}
	}
	if w.seeker != nil {
		// Room for the signature header, written last.
		if _, err := out.Write(make([]byte, signatureHeaderSize)); err != nil {
			return nil, fmt.Errorf("sevenz: writing signature: %w", err)
		}
		w.body = &countWriter{w: out}
	} else {
		f, err := os.CreateTemp(o.TempDir, "sevenz-body-*")
		if err != nil {
			return nil, fmt.Errorf("sevenz: spool: %w", err)
		}
		w.spool = f
		w.body = &countWriter{w: f}
	}

	w.pool = o.Pool
	if w.pool == nil {
		w.pool, w.ownPool = NewPool(o.Concurrency), true
	}
	return w, nil
}

// submit queues a block; it blocks while too many blocks are in flight.
func (w *Writer) submit(j *job) error {
	w.life.RLock()
	defer w.life.RUnlock()
	if w.stopped {
		return ErrClosed
	}
	// Added under the lock: stop waits for in-flight blocks once no more
	// can start.
	j.e.inflight.Add(1)
	if err := w.pool.submit(j); err != nil {
		j.e.inflight.Done()
		return err
	}
	return nil
}

// stop refuses new blocks and waits for those in flight.
func (w *Writer) stop() {
	w.life.Lock()
	w.stopped = true
	w.life.Unlock()
	w.mu.Lock()
	entries := w.entries
	w.mu.Unlock()
	for _, e := range entries {
		e.inflight.Wait()
	}
	if w.ownPool {
		w.pool.Close()
	}
}

// Create adds a file or directory to the archive and returns the writer of
// its content. Entries appear in the archive in Create order, whatever order
// they are closed in. Closing the returned writer finishes the entry.
func (w *Writer) Create(h *FileHeader) (io.WriteCloser, error) {
	name, err := cleanName(h.Name)
	if err != nil {
		return nil, err
	}
	isDir := h.Mode.IsDir()
	perm := uint32(h.Mode.Perm())
	attrib := uint32(attrArchive)
	unixMode := uint32(unixTypeRegular)
	if isDir {
		attrib, unixMode = attrDirectory, unixTypeDir
		if perm == 0 {
			perm = 0o755
		}
	} else if perm == 0 {
		perm = 0o644
	}
	attrib |= attrUnixExtension | (unixMode|perm)<<16

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if w.err != nil {
		return nil, w.err
	}
	e := &entry{
		w:     w,
		index: len(w.entries),
		hdr:   headerEntry{name: name, modified: h.Modified, attrib: attrib, isDir: isDir, empty: true},
		crc:   crc32.NewIEEE(),
		ready: map[int]*job{},
		// Only the first unfinished entry may write to the archive itself;
		// the others spool until their turn.
		direct: w.flushed == len(w.entries),
	}
	if w.opts.SpoolInput {
		o := &w.opts
		keep := (historyOf(o) + o.BlockSize - 1) / o.BlockSize
		e.in = &inputSpool{dir: o.TempDir, keep: keep}
	}
	if w.key != nil {
		e.iv = make([]byte, ivSize)
		if _, err := io.ReadFull(w.opts.Rand, e.iv); err != nil {
			return nil, fmt.Errorf("sevenz: drawing IV: %w", err)
		}
	}
	w.entries = append(w.entries, e)
	w.open++
	return e, nil
}

// cleanName makes a name safe to extract: relative, slash-separated, with no
// way out of the extraction folder.
func cleanName(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	n = strings.TrimPrefix(path.Clean("/"+n), "/")
	if n == "" || name == "" {
		return "", fmt.Errorf("sevenz: empty file name %q", name)
	}
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("sevenz: file name %q is not valid UTF-8 text", name)
	}
	for _, part := range strings.Split(strings.ReplaceAll(name, "\\", "/"), "/") {
		if part == ".." {
			return "", fmt.Errorf("sevenz: file name %q leaves the archive root", name)
		}
	}
	return n, nil
}

// entryDone records a closed entry and moves every finished stream that is
// next in archive order into the body.
func (w *Writer) entryDone(e *entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open--
	e.done = true
	if e.err != nil && w.err == nil {
		w.err = e.err
	}
	for w.err == nil && w.flushed < len(w.entries) && w.entries[w.flushed].done {
		if err := w.entries[w.flushed].unspool(w.body); err != nil {
			w.err = err
		}
		w.flushed++
	}
	return w.err
}

// Close finishes the archive: it writes the compressed (and, with a
// password, encrypted) header and the signature header. Close fails with
// ErrEntryOpen if an entry is still open; the archive is then abandoned. In
// every case Close removes the temporary files.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.closing.Store(true)
	open := w.open
	w.mu.Unlock()

	w.stop()
	defer w.cleanup()
	if open > 0 {
		return ErrEntryOpen
	}
	if w.err != nil {
		return w.err
	}
	if err := w.finish(); err != nil {
		return fmt.Errorf("sevenz: finishing archive: %w", err)
	}
	return nil
}

func (w *Writer) cleanup() {
	for _, e := range w.entries {
		e.wmu.Lock()
		e.dropInput()
		e.wmu.Unlock()
		e.removeSpool()
	}
	if w.spool != nil {
		w.spool.Close()
		os.Remove(w.spool.Name())
		w.spool = nil
	}
}

func (w *Writer) finish() error {
	var entries []headerEntry
	var streams []stream
	for _, e := range w.entries {
		entries = append(entries, e.hdr)
		if !e.hdr.empty {
			streams = append(streams, e.stream)
		}
	}

	var next []byte
	if len(entries) > 0 {
		plain := encodeHeader(entries, streams)
		hs, err := w.writeHeaderStream(plain)
		if err != nil {
			return err
		}
		next = encodedHeader(uint64(w.body.n)-hs.packSize, hs)
	}
	nextOffset := uint64(w.body.n)
	sig := signatureHeader(nextOffset, next)

	if w.seeker != nil {
		if _, err := w.out.Write(next); err != nil {
			return err
		}
		if _, err := w.seeker.Seek(w.start, io.SeekStart); err != nil {
			return err
		}
		if _, err := w.out.Write(sig); err != nil {
			return err
		}
		_, err := w.seeker.Seek(w.start+signatureHeaderSize+int64(nextOffset)+int64(len(next)), io.SeekStart)
		return err
	}
	if _, err := w.out.Write(sig); err != nil {
		return err
	}
	if _, err := w.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(w.out, w.spool); err != nil {
		return err
	}
	_, err := w.out.Write(next)
	return err
}

// headerParams compress the header harder than files: it is small, and its
// names and sizes repeat.
var headerParams = lzma.Level(5)

// writeHeaderStream compresses (and encrypts) the header into the body.
func (w *Writer) writeHeaderStream(plain []byte) (stream, error) {
	enc := lzma.NewEncoder(headerParams)
	packed := lzma.AppendEnd(enc.AppendBlock(nil, plain))
	s := stream{
		size: uint64(len(plain)),
		crc:  crc32.ChecksumIEEE(plain),
	}
	lz := coderSpec{id: methodLZMA2, props: []byte{lzma.DictProp(headerParams.Window(len(plain)))}}
	if w.key != nil {
		iv := make([]byte, ivSize)
		if _, err := io.ReadFull(w.opts.Rand, iv); err != nil {
			return s, fmt.Errorf("drawing IV: %w", err)
		}
		var enc bytes.Buffer
		cw, err := newCBCWriter(&enc, w.key.key, iv)
		if err != nil {
			return s, err
		}
		cw.Write(packed)
		cw.Close()
		s.folder = folderSpec{
			coders:      []coderSpec{w.key.coder(iv), lz},
			unpackSizes: []uint64{uint64(len(packed)), s.size},
		}
		packed = enc.Bytes()
	} else {
		s.folder = folderSpec{coders: []coderSpec{lz}, unpackSizes: []uint64{s.size}}
	}
	s.packSize = uint64(len(packed))
	s.packCRC = crc32.ChecksumIEEE(packed)
	_, err := w.body.Write(packed)
	return s, err
}

// countWriter counts the bytes it passes on.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// packWriter measures a packed stream on its way to the archive or a spool.
type packWriter struct {
	w   io.Writer
	n   int64
	crc hash.Hash32
}

func (p *packWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.crc.Write(b[:n])
	return n, err
}

var errWriteDir = errors.New("sevenz: a directory has no content")
