package sevenz

import (
	"fmt"
	"os"
	"slices"
	"sync/atomic"
)

// spoolBufSize is what an open entry keeps in memory with
// Options.SpoolInput: its input goes to disk in writes of this size, and an
// entry that ends within it never touches the disk.
const spoolBufSize = 64 << 10

// blockFile is one block of an entry's input waiting on disk for a
// compressing goroutine. The entry holds a reference while later blocks may
// still need its end as history, and each job that reads it holds one; the
// last to let go removes it.
type blockFile struct {
	path string
	size int64
	refs atomic.Int32
}

func (f *blockFile) release() {
	if f.refs.Add(-1) == 0 {
		os.Remove(f.path)
	}
}

// piece is a part of a block file that a job reads.
type piece struct {
	f      *blockFile
	off, n int64
}

// inputSize is the size of the job's input, history included.
func (j *job) inputSize() int {
	n := len(j.data)
	for _, p := range j.pieces {
		n += int(p.n)
	}
	return n
}

// input returns the job's input, history first. A spooled block is read
// back into buf, which the compressing goroutine keeps from job to job and
// which must have room for it; its files are released as soon as they are
// read.
func (j *job) input(buf *[]byte) ([]byte, error) {
	if len(j.pieces) == 0 {
		return j.data, nil
	}
	defer j.releasePieces()
	b := (*buf)[:0]
	for _, p := range j.pieces {
		var err error
		if b, err = p.appendTo(b); err != nil {
			return nil, fmt.Errorf("sevenz: reading back the input of %s: %w", j.e.hdr.name, err)
		}
	}
	b = append(b, j.data...)
	*buf = b
	return b, nil
}

func (p piece) appendTo(b []byte) ([]byte, error) {
	f, err := os.Open(p.f.path)
	if err != nil {
		return b, err
	}
	defer f.Close()
	at := len(b)
	b = b[:at+int(p.n)]
	if _, err := f.ReadAt(b[at:], p.off); err != nil {
		return b[:at], err
	}
	return b, nil
}

func (j *job) releasePieces() {
	for _, p := range j.pieces {
		p.f.release()
	}
	j.pieces = nil
}

// inputSpool is the disk side of an entry written with SpoolInput: the
// block being filled and the recent blocks whose end later blocks use as
// history. Only the writing goroutine touches it.
type inputSpool struct {
	dir    string
	buf    []byte     // the block's newest bytes, not yet on disk
	cur    *blockFile // the block's older bytes, nil while it is all in buf
	recent []*blockFile
	keep   int // how many recent blocks may still be history
}

// write appends p to the current block.
func (s *inputSpool) write(p []byte) error {
	for len(p) > 0 {
		if s.buf == nil {
			s.buf = make([]byte, 0, spoolBufSize)
		}
		k := min(len(p), cap(s.buf)-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if len(s.buf) == cap(s.buf) {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush moves buffered bytes to the current block's file. The file is opened
// for each write: hundreds of open partitions then hold no descriptor.
func (s *inputSpool) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	var f *os.File
	var err error
	if s.cur == nil {
		if f, err = os.CreateTemp(s.dir, "sevenz-input-*"); err != nil {
			return fmt.Errorf("sevenz: input spool: %w", err)
		}
		s.cur = &blockFile{path: f.Name()}
		s.cur.refs.Store(1)
	} else if f, err = os.OpenFile(s.cur.path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return fmt.Errorf("sevenz: input spool: %w", err)
	}
	_, err = f.Write(s.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sevenz: input spool: %w", err)
	}
	s.cur.size += int64(len(s.buf))
	s.buf = s.buf[:0]
	return nil
}

// cut ends the current block and sets j's input: history pieces from the
// recent blocks, then the block, on disk or (a last block that fits the
// buffer) in memory.
func (s *inputSpool) cut(j *job, history int, final bool) error {
	if !final || s.cur != nil {
		// Later blocks may read this one's end: it must be on disk.
		if err := s.flush(); err != nil {
			return err
		}
	}
	need := int64(history)
	for i := len(s.recent) - 1; i >= 0 && need > 0; i-- {
		f := s.recent[i]
		take := min(need, f.size)
		f.refs.Add(1)
		j.pieces = append(j.pieces, piece{f: f, off: f.size - take, n: take})
		need -= take
	}
	slices.Reverse(j.pieces)
	j.history = history - int(need)
	if s.cur != nil {
		s.cur.refs.Add(1)
		j.pieces = append(j.pieces, piece{f: s.cur, n: s.cur.size})
		s.recent = append(s.recent, s.cur)
		s.cur = nil
	} else {
		j.data, s.buf = s.buf, nil
	}
	for len(s.recent) > s.keep {
		s.recent[0].release()
		s.recent = s.recent[1:]
	}
	return nil
}

// drop lets go of every block file the entry still holds.
func (s *inputSpool) drop() {
	if s.cur != nil {
		s.cur.release()
		s.cur = nil
	}
	for _, f := range s.recent {
		f.release()
	}
	s.recent = nil
	s.buf = nil
}
