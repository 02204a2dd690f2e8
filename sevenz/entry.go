package sevenz

import (
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"sync"
)

// entry is one archive member being written. Its content is cut into blocks
// that compress in parallel; delivery puts them back in order.
type entry struct {
	w      *Writer
	index  int
	hdr    headerEntry
	direct bool   // its stream goes straight to the archive body
	iv     []byte // with a password

	// The writing goroutine's side.
	buf      []byte
	seq      int
	size     int64
	maxBlock int
	crc      hash.Hash32
	tail     []byte // deflate: the end of the last block
	closed   bool

	// The delivery side, guarded by mu.
	mu       sync.Mutex
	next     int
	ready    map[int]*job
	pack     *packWriter
	sink     io.Writer
	cbc      *cbcWriter
	coded    int64 // compressed bytes, before encryption
	spool    *os.File
	spooled  string // the spool's path once closed: finished entries waiting their turn hold no descriptor
	err      error
	inflight sync.WaitGroup

	done   bool // guarded by w.mu
	stream stream
}

// Write buffers p into blocks and hands full blocks to the compressing
// goroutines; it blocks while too many blocks are in flight.
func (e *entry) Write(p []byte) (int, error) {
	if e.closed || e.w.closing.Load() {
		return 0, ErrClosed
	}
	if e.hdr.isDir {
		if len(p) > 0 {
			return 0, errWriteDir
		}
		return 0, nil
	}
	if err := e.failed(); err != nil {
		return 0, err
	}
	bs := e.w.opts.BlockSize
	n := len(p)
	e.crc.Write(p)
	e.size += int64(n)
	for len(p) > 0 {
		if e.buf == nil {
			if e.seq == 0 {
				// Small files stay small in memory: the first block grows.
				e.buf = make([]byte, 0, min(bs, max(64<<10, len(p))))
			} else {
				e.buf = e.w.inBuf()
			}
		}
		if len(e.buf) == cap(e.buf) {
			grown := make([]byte, len(e.buf), min(bs, 2*cap(e.buf)))
			copy(grown, e.buf)
			e.buf = grown
		}
		k := min(len(p), cap(e.buf)-len(e.buf))
		e.buf = append(e.buf, p[:k]...)
		p = p[k:]
		if len(e.buf) == bs {
			if err := e.flushBlock(false); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (e *entry) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *entry) flushBlock(final bool) error {
	j := &job{e: e, seq: e.seq, data: e.buf, final: final}
	if e.w.opts.Codec == Deflate {
		j.prev = e.tail
		if !final {
			e.tail = append([]byte(nil), e.buf[max(0, len(e.buf)-deflateWindow):]...)
		}
	}
	e.maxBlock = max(e.maxBlock, len(e.buf))
	e.seq++
	e.buf = nil
	e.inflight.Add(1)
	if err := e.w.submit(j); err != nil {
		e.inflight.Done()
		return err
	}
	return nil
}

// deliver takes a compressed block and writes out every block that is next
// in order.
func (e *entry) deliver(j *job, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil && e.err == nil {
		e.err = err
	}
	e.ready[j.seq] = j
	for {
		j, ok := e.ready[e.next]
		if !ok {
			return
		}
		delete(e.ready, e.next)
		e.next++
		if e.err == nil {
			e.err = e.writeOut(j.out)
		}
		e.w.release(j)
		e.inflight.Done()
	}
}

// writeOut appends compressed bytes to the entry's packed stream. Called
// with mu held.
func (e *entry) writeOut(b []byte) error {
	if e.sink == nil {
		var dest io.Writer = e.w.body
		if !e.direct {
			f, err := os.CreateTemp(e.w.opts.TempDir, "sevenz-entry-*")
			if err != nil {
				return fmt.Errorf("sevenz: spool: %w", err)
			}
			e.spool, dest = f, f
		}
		e.pack = &packWriter{w: dest, crc: crc32.NewIEEE()}
		e.sink = e.pack
		if key := e.w.key; key != nil {
			cbc, err := newCBCWriter(e.pack, key.key, e.iv)
			if err != nil {
				return err
			}
			e.cbc, e.sink = cbc, cbc
		}
	}
	e.coded += int64(len(b))
	if _, err := e.sink.Write(b); err != nil {
		return fmt.Errorf("sevenz: writing %s: %w", e.hdr.name, err)
	}
	return nil
}

// Close finishes the entry's stream. The archive records it in Create order.
func (e *entry) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	var err error
	if e.size > 0 {
		err = e.flushBlock(true)
	}
	e.inflight.Wait()

	e.mu.Lock()
	if e.err != nil {
		err = e.err
	}
	if err == nil && e.cbc != nil {
		err = e.cbc.Close()
	}
	if err == nil && e.size > 0 {
		e.hdr.empty = false
		e.stream = stream{
			packSize: uint64(e.pack.n),
			packCRC:  e.pack.crc.Sum32(),
			size:     uint64(e.size),
			crc:      e.crc.Sum32(),
		}
		cs := folderCoder(e.w.opts, e.maxBlock)
		if e.w.key != nil {
			e.stream.folder = folderSpec{
				coders:      []coderSpec{e.w.key.coder(e.iv), cs},
				unpackSizes: []uint64{uint64(e.coded), uint64(e.size)},
			}
		} else {
			e.stream.folder = folderSpec{coders: []coderSpec{cs}, unpackSizes: []uint64{uint64(e.size)}}
		}
	}
	if e.err == nil {
		e.err = err
	}
	if e.spool != nil {
		// Many finished partitions may wait behind one open entry.
		e.spooled = e.spool.Name()
		if cerr := e.spool.Close(); cerr != nil && e.err == nil {
			e.err = fmt.Errorf("sevenz: spool of %s: %w", e.hdr.name, cerr)
			err = e.err
		}
		e.spool = nil
	}
	e.mu.Unlock()

	if werr := e.w.entryDone(e); err == nil {
		err = werr
	}
	return err
}

// unspool copies a spooled stream into the archive body. Called with w.mu
// held, when every earlier entry is in the body.
func (e *entry) unspool(body io.Writer) error {
	if e.spooled == "" {
		return nil
	}
	defer e.removeSpool()
	f, err := os.Open(e.spooled)
	if err != nil {
		return fmt.Errorf("sevenz: spool of %s: %w", e.hdr.name, err)
	}
	defer f.Close()
	if _, err := io.CopyBuffer(body, f, make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("sevenz: copying %s: %w", e.hdr.name, err)
	}
	return nil
}

func (e *entry) removeSpool() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.spool != nil {
		e.spool.Close()
		e.spooled = e.spool.Name()
		e.spool = nil
	}
	if e.spooled != "" {
		os.Remove(e.spooled)
		e.spooled = ""
	}
}
