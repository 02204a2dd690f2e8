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

	// The writing goroutine's side, guarded by wmu so that an aborted
	// Writer.Close can drop the input of entries left open.
	wmu      sync.Mutex
	buf      []byte // without SpoolInput: history, then the block being filled
	hist     int    // bytes of history at the start of buf
	pooled   bool   // buf came from the pool's free list
	in       *inputSpool
	blockLen int // bytes of the block being filled
	seq      int
	size     int64
	maxInput int // the largest block with its history: the dictionary needed
	crc      hash.Hash32
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
	e.wmu.Lock()
	defer e.wmu.Unlock()
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
	for len(p) > 0 {
		k := min(len(p), bs-e.blockLen)
		if e.in != nil {
			if err := e.in.write(p[:k]); err != nil {
				return n - len(p), e.fail(err)
			}
		} else {
			e.appendMem(p[:k])
		}
		e.blockLen += k
		e.size += int64(k)
		p = p[k:]
		if e.blockLen == bs {
			if err := e.flushBlock(false); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// appendMem adds p to the block held in memory.
func (e *entry) appendMem(p []byte) {
	bs := e.w.opts.BlockSize
	if e.buf == nil {
		if e.seq == 0 {
			// Small files stay small in memory: the first block grows.
			e.buf = make([]byte, 0, min(bs, max(64<<10, len(p))))
		} else {
			e.buf, e.pooled = e.w.pool.ins.get(bs), true
		}
	}
	if len(e.buf)+len(p) > cap(e.buf) {
		grown := make([]byte, len(e.buf), min(e.hist+bs, max(2*cap(e.buf), len(e.buf)+len(p))))
		copy(grown, e.buf)
		e.buf, e.pooled = grown, false
	}
	e.buf = append(e.buf, p...)
}

func (e *entry) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// fail records err as the entry's error, unless it has one already.
func (e *entry) fail(err error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
	return e.err
}

// flushBlock hands the block being filled to the compressing goroutines,
// with as much history as its coder may use.
func (e *entry) flushBlock(final bool) error {
	o := &e.w.opts
	j := &job{e: e, seq: e.seq, start: e.size - int64(e.blockLen), final: final}
	history := 0
	if e.blockLen > 0 {
		history = int(min(int64(historyOf(o)), j.start))
	}
	if e.in != nil {
		if err := e.in.cut(j, history, final); err != nil {
			return e.fail(err)
		}
	} else {
		j.data, j.history, j.pooled = e.buf[e.hist-history:], history, e.pooled && history == e.hist
		e.buf, e.hist, e.pooled = nil, 0, false
		if h := historyOf(o); h > 0 && !final {
			// The next block's history is the end of this one's input,
			// copied now: the goroutine that compresses this block recycles
			// its buffer.
			next := e.w.pool.ins.get(h + o.BlockSize)
			tail := j.data[max(0, len(j.data)-h):]
			e.buf, e.hist, e.pooled = append(next, tail...), len(tail), true
		}
	}
	e.maxInput = max(e.maxInput, j.history+e.blockLen)
	e.seq++
	e.blockLen = 0
	if err := e.w.submit(j); err != nil {
		j.releasePieces()
		return e.fail(err)
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
		e.w.pool.release(j)
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
	e.wmu.Lock()
	if e.closed {
		e.wmu.Unlock()
		return nil
	}
	e.closed = true
	var err error
	if e.size > 0 && e.failed() == nil {
		err = e.flushBlock(true)
	}
	e.dropInput()
	e.wmu.Unlock()
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
		cs := folderCoder(e.w.opts, e.maxInput)
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
	if e.w.copyBuf == nil {
		e.w.copyBuf = make([]byte, 256<<10)
	}
	if _, err := io.CopyBuffer(body, f, e.w.copyBuf); err != nil {
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

// dropInput lets go of input not yet handed to the compressing goroutines.
// Called with wmu held.
func (e *entry) dropInput() {
	if e.in != nil {
		e.in.drop()
	}
	e.buf = nil
}
