package extraction

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// deferred holds the sensitive rows until the selection has been read,
// then hands them back grouped by blurring object and pôle: in each F1
// partition (one pôle's) the same commune or département polygon then
// repeats on adjacent rows, where the compressor finds it, instead of
// megabytes apart (in arrival order a region's F1 was 12% larger), in F2
// neighbours follow each other, and each object's geometry is needed once,
// objects in order (areas reads them ahead in batches).
// Ordering them in PostgreSQL took a second pass over the store and a sort
// before the first row.
//
// The rows wait on disk in spoolBuckets temporary files, unlinked at once
// (nothing is left behind, even by a crash), as much disk as the rows'
// CSV. A row goes to the bucket of its object's rank among the store's
// objects (ranges of ranks, in order), so the buckets read one after the
// other give the rows in order once each is sorted alone: memory holds
// one entry per pôle and object, and the index of one bucket at a time
// (16 bytes a row), not of every row.
type deferred struct {
	dir string
	// known are the store's objects in order (compareRefs): the buckets'
	// ranges. Without them every row goes to the first bucket.
	known   []AreaRef
	buckets [spoolBuckets]*spoolBucket
	groups  map[blurGroup]uint32
	keys    []blurGroup
	head    [8]byte
	buf     []byte
}

// spoolBuckets is how many files the deferred rows are spread over.
const spoolBuckets = 64

// spoolBucket is one file of deferred rows, each written after its length
// and group.
type spoolBucket struct {
	f    *os.File
	w    *bufio.Writer
	size int64
}

// blurGroup is what deferred rows are grouped by.
type blurGroup struct {
	pole string
	obj  AreaRef
}

type deferredRow struct {
	off   int64
	n     uint32
	group uint32
}

// newDeferred keeps rows in dir; known are the store's objects, sorted
// (nil: one bucket).
func newDeferred(dir string, known []AreaRef) *deferred {
	return &deferred{dir: dir, known: known, groups: map[blurGroup]uint32{}}
}

// bucketOf is the bucket of the rows blurred to obj: its rank among the
// objects, scaled. An object the store lacks ranks where it would sort.
func (d *deferred) bucketOf(obj AreaRef) int {
	if len(d.known) == 0 {
		return 0
	}
	i, _ := slices.BinarySearchFunc(d.known, obj, compareRefs)
	return i * spoolBuckets / (len(d.known) + 1)
}

// add keeps rec until each is called.
func (d *deferred) add(rec []byte, g blurGroup) error {
	if len(rec) > math.MaxUint32 {
		return fmt.Errorf("extraction: a record of %d bytes", len(rec))
	}
	id, ok := d.groups[g]
	if !ok {
		id = uint32(len(d.keys))
		d.groups[g] = id
		d.keys = append(d.keys, g)
	}
	b := d.buckets[d.bucketOf(g.obj)]
	if b == nil {
		f, err := unlinkedTemp(d.dir, ".sensitive-*")
		if err != nil {
			return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
		}
		b = &spoolBucket{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		d.buckets[d.bucketOf(g.obj)] = b
	}
	binary.LittleEndian.PutUint32(d.head[:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(d.head[4:], id)
	if _, err := b.w.Write(d.head[:]); err != nil {
		return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
	}
	if _, err := b.w.Write(rec); err != nil {
		return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
	}
	b.size += int64(len(d.head) + len(rec))
	return nil
}

// order is the groups' ids in the order each hands them back: by object
// (kind, code), then pôle.
func (d *deferred) order() []uint32 {
	order := make([]uint32, len(d.keys))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int {
		x, y := d.keys[a], d.keys[b]
		return cmp.Or(compareRefs(x.obj, y.obj), cmp.Compare(x.pole, y.pole))
	})
	return order
}

// objects are the distinct blurring objects of the rows held, in the
// order each hands them back (rows no single object blurs have none).
func (d *deferred) objects() []AreaRef {
	var objs []AreaRef
	for _, id := range d.order() {
		o := d.keys[id].obj
		if o != (AreaRef{}) && (len(objs) == 0 || objs[len(objs)-1] != o) {
			objs = append(objs, o)
		}
	}
	return objs
}

// each hands the rows to fn by object (kind, code), then pôle, each
// group's rows in the order they came. rec is valid during the call only.
func (d *deferred) each(fn func(rec []byte) error) error {
	rank := make([]uint32, len(d.keys))
	for r, id := range d.order() {
		rank[id] = uint32(r)
	}
	var rows []deferredRow
	for _, b := range d.buckets {
		if b == nil {
			continue
		}
		var err error
		if rows, err = b.index(rows[:0]); err != nil {
			return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
		}
		slices.SortStableFunc(rows, func(x, y deferredRow) int { return cmp.Compare(rank[x.group], rank[y.group]) })
		for _, row := range rows {
			d.buf = slices.Grow(d.buf[:0], int(row.n))[:row.n]
			if _, err := b.f.ReadAt(d.buf, row.off); err != nil {
				return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
			}
			if err := fn(d.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// index reads the bucket's rows' places and groups, in the order they came.
func (b *spoolBucket) index(rows []deferredRow) ([]deferredRow, error) {
	if err := b.w.Flush(); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(io.NewSectionReader(b.f, 0, b.size), 64<<10)
	var head [8]byte
	var off int64
	for off < b.size {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, err
		}
		n := binary.LittleEndian.Uint32(head[:4])
		rows = append(rows, deferredRow{off: off + int64(len(head)), n: n, group: binary.LittleEndian.Uint32(head[4:])})
		if _, err := r.Discard(int(n)); err != nil {
			return nil, err
		}
		off += int64(len(head)) + int64(n)
	}
	return rows, nil
}

// unlinkedTemp creates a temporary file in dir and removes its name at
// once: it lives as long as it is open, and a crash leaves nothing behind.
func unlinkedTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// close releases the spool (idempotent).
func (d *deferred) close() {
	for i, b := range d.buckets {
		if b != nil {
			b.f.Close()
			d.buckets[i] = nil
		}
	}
	d.keys, d.groups = nil, nil
}
