package extraction

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Estimation is what Extract would deliver for a spec over the store as
// it is now: the rows of each partition and the same Counts.
type Estimation struct {
	Counts
	// Partitions are the CSV files Extract would write, in the order its
	// Result lists them (archive, then file name).
	Partitions []PartitionCount `json:"partitions"`
	// SensitivePoles are the pôles with sensitive rows (levels 1 to 4) in
	// the selection, sorted: for an entitled requester, the pôles with an
	// F2 (Result.SensitivePoles); otherwise those F1 blurs or withholds.
	SensitivePoles []string      `json:"sensitive_poles"`
	Estimated      int64         `json:"rows_estimated"`
	Perimeter      string        `json:"perimeter"`
	Elapsed        time.Duration `json:"elapsed_ns"`
}

// PartitionCount is the rows one partition would hold.
type PartitionCount struct {
	Key  Key    `json:"key"`
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Estimate counts what Extract would deliver for spec, without writing
// anything: the same selection, read in one pass on a connection of its
// own, through the same router (placement, blurring, attached-geometry
// policy, split by geometry), into a sink that only counts. Sensitive rows
// are placed as they come instead of waiting on disk (their order changes
// no count), and the query selects only the fields placing a row reads.
// opt.Pack is unused; opt.Progress is called as for a run.
func Estimate(ctx context.Context, spec Spec, opt Options) (*Estimation, error) {
	start := time.Now()
	if spec.Reference == "" {
		spec.Reference = "estimate" // names no file: nothing is written
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	l, err := newLayout()
	if err != nil {
		return nil, err
	}
	rd, err := openSelection(ctx, opt.DB, spec, l.placingList("s"))
	if err != nil {
		return nil, err
	}
	defer rd.close()
	t := &tally{rows: map[Key]*int64{}}
	r := newRouter(ctx, spec, l, newAreaPresence(opt.DB), nil, t, nil)
	if err := rd.read(ctx, opt, r, ""); err != nil {
		return nil, err
	}
	e := &Estimation{Counts: r.counts, Estimated: rd.est, Perimeter: rd.sel.perimeter,
		SensitivePoles: slices.Sorted(maps.Keys(r.sensitivePoles))}
	for k, n := range t.rows {
		e.Partitions = append(e.Partitions, PartitionCount{Key: k, Name: k.Name(), Rows: *n})
	}
	slices.SortFunc(e.Partitions, func(a, b PartitionCount) int {
		x, y := a.Key.Deliverable(), b.Key.Deliverable()
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Pole, y.Pole), cmp.Compare(a.Name, b.Name))
	})
	e.Elapsed = time.Since(start)
	return e, nil
}

// tally is the sink of an estimate: rows per partition.
type tally struct {
	rows    map[Key]*int64
	lastKey Key
	last    *int64
}

func (t *tally) write(k Key, _ []byte, _ [][]byte, _ []edit, _ *derivedRow) error {
	if t.last == nil || k != t.lastKey {
		n, ok := t.rows[k]
		if !ok {
			n = new(int64)
			t.rows[k] = n
		}
		t.lastKey, t.last = k, n
	}
	*t.last++
	return nil
}
