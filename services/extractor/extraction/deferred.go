package extraction

import (
	"bufio"
	"cmp"
	"fmt"
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
// before the first row. The rows wait in a temporary file that is unlinked
// at once (nothing is left behind, even by a crash) and takes as much disk
// as the rows' CSV; memory keeps 16 to 32 bytes per row (a growing slice)
// and one entry per pôle and object.
type deferred struct {
	dir    string
	f      *os.File
	w      *bufio.Writer
	size   int64
	groups map[blurGroup]uint32
	keys   []blurGroup
	rows   []deferredRow
	buf    []byte
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

func newDeferred(dir string) *deferred {
	return &deferred{dir: dir, groups: map[blurGroup]uint32{}}
}

// add keeps rec until each is called.
func (d *deferred) add(rec []byte, g blurGroup) error {
	if d.f == nil {
		f, err := os.CreateTemp(d.dir, ".sensitive-*")
		if err != nil {
			return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
		}
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
		}
		d.f, d.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	if len(rec) > math.MaxUint32 {
		return fmt.Errorf("extraction: a record of %d bytes", len(rec))
	}
	id, ok := d.groups[g]
	if !ok {
		id = uint32(len(d.keys))
		d.groups[g] = id
		d.keys = append(d.keys, g)
	}
	if _, err := d.w.Write(rec); err != nil {
		return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
	}
	d.rows = append(d.rows, deferredRow{off: d.size, n: uint32(len(rec)), group: id})
	d.size += int64(len(rec))
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
	if d.f == nil {
		return nil
	}
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
	}
	order := d.order()
	rank := make([]uint32, len(d.keys))
	for r, id := range order {
		rank[id] = uint32(r)
	}
	slices.SortStableFunc(d.rows, func(a, b deferredRow) int { return cmp.Compare(rank[a.group], rank[b.group]) })
	for _, row := range d.rows {
		d.buf = slices.Grow(d.buf[:0], int(row.n))[:row.n]
		if _, err := d.f.ReadAt(d.buf, row.off); err != nil {
			return fmt.Errorf("extraction: spool of sensitive rows: %w", err)
		}
		if err := fn(d.buf); err != nil {
			return err
		}
	}
	return nil
}

// close releases the spool (idempotent).
func (d *deferred) close() {
	if d.f != nil {
		d.f.Close()
		d.f, d.w = nil, nil
	}
	d.rows, d.keys, d.groups = nil, nil, nil
}
