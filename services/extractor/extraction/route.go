package extraction

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"sinp.occitanie.fr/observations/source"
)

// router places each record in its partitions: the F1 partition as it is
// or blurred, the F2 partition of its pôle, or nowhere. A run and an
// estimate share it; only their sink differs.
type router struct {
	ctx   context.Context
	spec  Spec
	l     *layout
	areas *areas
	out   sink
	// book serves the attachments' companion fields; nil for an estimate,
	// which writes no row.
	book *areaBook
	// derived caches the companions of the attachments met, by the kind
	// attached to and the raw code fields (rows share a few thousand).
	derived map[string]*derivedRow
	blurred map[AreaRef]*derivedRow
	row     []byte
	// cells are the cells sensitive rows are blurred to, whose
	// départements are read at once before the rows are written.
	cells map[string]struct{}
	// sensitive holds the sensitive rows until the selection is read; nil
	// places them as they come (an estimate: order changes no count).
	sensitive *deferred
	// sensitivePoles are the pôles of the sensitive rows met.
	sensitivePoles map[string]struct{}
	// placed counts the rows written or withheld, for progress.
	placed atomic.Int64
	fields [][]byte
	full   [][]byte
	edits  []edit
	lists  [4][]string
	poles  map[string]string // interned pôle codes
	first  bool              // the first record has been checked whole

	counts Counts
}

// sink is where the router puts rows: the archives of a run (outputs) or
// the tally of an estimate.
type sink interface {
	// write appends one row to partition k; see outputs.write.
	write(k Key, row []byte, fields [][]byte, edits []edit, d *derivedRow) error
}

func newRouter(ctx context.Context, spec Spec, l *layout, a *areas, book *areaBook, out sink, sensitive *deferred) *router {
	return &router{ctx: ctx, spec: spec, l: l, areas: a, book: book, out: out, sensitive: sensitive,
		poles: map[string]string{}, sensitivePoles: map[string]struct{}{},
		derived: map[string]*derivedRow{}, blurred: map[AreaRef]*derivedRow{}, cells: map[string]struct{}{}}
}

// Counts are what a run did with the rows it read.
type Counts struct {
	Selected  int64 `json:"rows_selected"`
	F1        int64 `json:"rows_f1"`
	F1Blurred int64 `json:"rows_f1_blurred"`
	F2        int64 `json:"rows_f2"`
	// Withheld from F1: level 4, or no unique object to blur to, or an
	// object the store does not know.
	WithheldF1 int64 `json:"rows_withheld_f1"`
	// In no file at all.
	Withheld int64 `json:"rows_withheld"`
}

// edit replaces one field of a row (value already CSV-encoded; nil empties
// it).
type edit struct {
	field int
	value []byte
}

var inventoriel = []byte("In")

func levelOf(sensi, dsPub, niv []byte) Level {
	return EffectiveLevel(string(unquote(sensi)), string(unquote(dsPub)), string(unquote(niv)))
}

func (r *router) route(rec []byte) error {
	if !r.first {
		// The select list is ours: checking its shape once is enough.
		if n := len(splitFields(rec, nil)); n != r.l.fields {
			return fmt.Errorf("extraction: a record has %d fields, want %d: %.200q", n, r.l.fields, rec)
		}
		r.first = true
	}
	pole, viewType, place := r.parse(rec)
	r.counts.Selected++
	if place.F1 && place.Blur == Precise {
		if err := r.writeAsIs(r.key(F1, pole, viewType), rec, viewType); err != nil {
			return err
		}
		r.counts.F1++
		r.placed.Add(1)
		return nil
	}
	if _, ok := r.sensitivePoles[pole]; !ok {
		r.sensitivePoles[pole] = struct{}{}
	}
	// Sensitive rows are written once the selection is read, grouped by
	// the object their level blurs them to (level 4, and rows no single
	// object blurs, by pôle only). Those that go nowhere are counted now.
	ref, blurs := BlurObject(place.Blur, r.containment(r.fields))
	if !place.F2 && !(place.F1 && blurs) {
		r.counts.WithheldF1++
		r.counts.Withheld++
		r.placed.Add(1)
		return nil
	}
	if r.sensitive == nil {
		return r.placeSensitive(rec)
	}
	if blurs && ref.Kind == KindMaille10 {
		r.cells[ref.Code] = struct{}{}
	}
	return r.sensitive.add(rec, blurGroup{pole: pole, obj: ref})
}

// parse splits the routing fields of rec into r.fields and says where the
// row goes.
func (r *router) parse(rec []byte) (pole, viewType string, place Placement) {
	r.fields = splitFieldsN(rec, r.fields, r.l.routing+1)
	f := r.fields
	pole, ok := r.poles[string(f[fieldPole])]
	if !ok {
		pole = string(unquote(f[fieldPole]))
		r.poles[string(f[fieldPole])] = pole
	}
	viewType = string(unquote(f[fieldType]))
	return pole, viewType, Place(levelOf(f[r.l.sensi], f[r.l.dsPub], f[r.l.nivPrecis]), r.spec.F2Entitled)
}

// writeDeferred writes the sensitive rows held back, grouped.
func (r *router) writeDeferred() error {
	if r.sensitive == nil {
		return nil
	}
	if r.book != nil {
		if err := r.book.loadCells(r.ctx, r.cells); err != nil {
			return err
		}
	}
	r.areas.readAhead(r.sensitive.objects())
	return r.sensitive.each(func(rec []byte) error {
		if err := r.ctx.Err(); err != nil {
			return err // a region's take seconds: stop when asked
		}
		return r.placeSensitive(rec)
	})
}

// placeSensitive writes a sensitive row: blurred to F1, as it is to the
// F2 of its pôle.
func (r *router) placeSensitive(rec []byte) error {
	pole, viewType, place := r.parse(rec)
	inAny := false
	if place.F1 {
		var err error
		if inAny, err = r.writeBlurred(rec, pole, viewType, viewType == ObjGeograph, place); err != nil {
			return err
		}
	} else {
		r.counts.WithheldF1++
	}
	if place.F2 {
		if err := r.writeAsIs(r.key(F2, pole, viewType), rec, viewType); err != nil {
			return err
		}
		r.counts.F2++
		inAny = true
	}
	if !inAny {
		r.counts.Withheld++
	}
	r.placed.Add(1)
	return nil
}

// writeAsIs writes a row unblurred; r.fields holds its routing fields.
// Attached observations under most_precise carry their object's geometry
// (in both files).
func (r *router) writeAsIs(k Key, rec []byte, viewType string) error {
	f := r.fields
	if r.book == nil { // an estimate counts rows
		return r.out.write(k, nil, f, nil, nil)
	}
	d := r.derivedOf(f)
	var e []edit
	if viewType == ObjGeograph && r.spec.Attached == AttachedMostPrecise {
		if ref, ok := MostPrecise(r.containment(f)); ok {
			w, found, err := r.areas.WKT(r.ctx, ref)
			if err != nil {
				return err
			}
			if found {
				e = append(r.edits[:0], edit{r.l.geom, w})
			}
		}
	}
	if e == nil && !bytes.Contains(rec, emptyQuoted) {
		r.row = r.assembleAsIs(r.row[:0], rec, d)
		return r.out.write(k, r.row, f, nil, d)
	}
	r.full = splitFields(rec, r.full)
	e = emptyEdits(r.full, e)
	r.edits = e
	r.row = r.assemble(r.row[:0], r.full, e, d)
	return r.out.write(k, r.row, r.full, e, d)
}

// emptyQuoted is an empty string as PostgreSQL's CSV writes it, to tell it
// from a NULL. The extract writes every empty value the same way: bare.
var emptyQuoted = []byte(`""`)

// emptyEdits adds to e (sorted by field) an edit emptying each field that
// is a quoted empty string, and returns e sorted.
func emptyEdits(fields [][]byte, e []edit) []edit {
	for i := routingFields; i < len(fields); i++ {
		if bytes.Equal(fields[i], emptyQuoted) && !slices.ContainsFunc(e, func(x edit) bool { return x.field == i }) {
			e = append(e, edit{i, nil})
		}
	}
	slices.SortFunc(e, func(a, b edit) int { return a.field - b.field })
	return e
}

// assembleAsIs appends the row rec unchanged but for its routing fields,
// dropped, and the derived columns, inserted after their fields (all of
// them among the routing fields r.fields splits).
func (r *router) assembleAsIs(dst, rec []byte, d *derivedRow) []byte {
	f := r.fields
	pos := 0
	for i := 0; i < routingFields; i++ {
		pos += len(f[i]) + 1
	}
	off := pos
	next := routingFields
	for g := range derivedGroups {
		for ; next <= r.l.after[g]; next++ {
			off += len(f[next]) + 1
		}
		dst = append(dst, rec[pos:off-1]...)
		dst = append(dst, ';')
		dst = append(dst, d.groups[g]...)
		pos = off - 1
	}
	return append(dst, rec[pos:]...)
}

// assemble appends the row made of fields (routing ones dropped) with the
// edits applied (sorted by field, values CSV-encoded) and the derived
// columns inserted after their fields.
func (r *router) assemble(dst []byte, fields [][]byte, edits []edit, d *derivedRow) []byte {
	e, g := 0, 0
	for i := routingFields; i < len(fields); i++ {
		if i > routingFields {
			dst = append(dst, ';')
		}
		v := fields[i]
		if e < len(edits) && edits[e].field == i {
			v = edits[e].value
			e++
		}
		dst = append(dst, v...)
		if g < derivedGroups && r.l.after[g] == i {
			dst = append(dst, ';')
			dst = append(dst, d.groups[g]...)
			g++
		}
	}
	return dst
}

// derivedRow is the derived columns of one attachment: CSV-encoded by
// group, and as values for the descriptor's list of codes met.
type derivedRow struct {
	groups Companions
	// coded holds the values of the coded derived columns, joined by a
	// NUL in column order: archives keep the few distinct ones for their
	// descriptor, not every attachment met.
	coded string
}

func newDerivedRow(v [derivedGroups][]string) *derivedRow {
	var coded []string
	for g, vals := range v {
		for j, s := range vals {
			if source.DerivedColumns[derivedIndex(g, j)].Nomenclature != "" {
				coded = append(coded, s)
			}
		}
	}
	return &derivedRow{groups: encodeCompanions(v), coded: strings.Join(coded, "\x00")}
}

// derivedIndex is the rank in source.DerivedColumns of the j-th column of
// group g (the catalogue lists them in group order).
func derivedIndex(g, j int) int {
	n := j
	for _, d := range source.DerivedColumns {
		if derivedGroupOf[d.After] < g {
			n++
		}
	}
	return n
}

// derivedGroupOf is the group of the derived columns following each view
// column.
var derivedGroupOf = map[string]int{"dee_floutage": groupFloutage, "communes": groupCommune, "mailles10": groupMaille,
	"departements": groupDepartement, "espaces_naturels": groupEN}

// derivedCacheRows bounds the cache of derived columns: emptied when full.
// At 64k entries (some 400 bytes each) a 5M-row region filled it, and its
// peak RSS was 176 MB against 150 MB at 1M; at 16k, 141 and 133 MB, and
// the 1M region takes as long.
const derivedCacheRows = 1 << 14

// derivedOf returns the derived columns of an unblurred row, from its
// routing fields.
func (r *router) derivedOf(f [][]byte) *derivedRow {
	// The four code fields are adjacent: their raw bytes, with the kind
	// attached to, are the key.
	first, last := f[r.l.communes], f[r.l.espaces]
	start := cap(first) - cap(last) // offset of last from first's start
	codes := first[:start+len(last)]
	att := unquote(f[fieldAttach])
	r.row = append(append(append(r.row[:0], att...), 0), codes...)
	if d, ok := r.derived[string(r.row)]; ok {
		return d
	}
	c := r.containment(f)
	v := CompanionValues(Attachment{Attached: string(att), Communes: c.Communes, Mailles10: c.Mailles10,
		Departements: c.Departements, Espaces: r.lists[3]}, r.book.lookup)
	d := newDerivedRow(v)
	if len(r.derived) >= derivedCacheRows {
		clear(r.derived)
	}
	r.derived[string(r.row)] = d
	return d
}

// derivedBlurred returns the derived columns of a row blurred to ref,
// showing codes.
func (r *router) derivedBlurred(ref AreaRef, codes Containment) *derivedRow {
	if d, ok := r.blurred[ref]; ok {
		return d
	}
	v := CompanionValues(Attachment{Communes: codes.Communes, Mailles10: codes.Mailles10,
		Departements: codes.Departements, Blurred: true}, r.book.lookup)
	d := newDerivedRow(v)
	if len(r.blurred) >= derivedCacheRows {
		clear(r.blurred)
	}
	r.blurred[ref] = d
	return d
}

// writeBlurred writes a sensitive row to F1 with the geometry of its
// blurring object, the precise fields emptied and codes no finer than the
// object; the producer's dEEFloutage stays, floutageExtraction says OUI.
func (r *router) writeBlurred(rec []byte, pole, viewType string, attached bool, place Placement) (bool, error) {
	c := r.containment(r.fields)
	ref, ok := BlurObject(place.Blur, c)
	if !ok {
		r.counts.WithheldF1++
		return false, nil
	}
	var geom []byte
	if !attached || r.spec.Attached == AttachedMostPrecise {
		w, found, err := r.areas.WKT(r.ctx, ref)
		if err != nil {
			return false, err
		}
		if !found {
			r.counts.WithheldF1++
			return false, nil
		}
		geom = w
	}
	k := r.key(F1, pole, geometryOf(viewType, true))
	if r.book == nil { // an estimate counts rows
		return true, r.countBlurred(k)
	}
	codes := ref.Codes(c, r.book.cellDepartements(ref))
	e := append(r.edits[:0],
		edit{r.l.geom, geom},
		edit{r.l.precision, nil},
		edit{r.l.nature, inventoriel},
		edit{r.l.communes, joinCodes(codes.Communes)},
		edit{r.l.mailles, joinCodes(codes.Mailles10)},
		edit{r.l.depts, joinCodes(codes.Departements)},
		edit{r.l.espaces, nil},
	)
	for _, i := range r.l.precise {
		e = append(e, edit{i, nil})
	}
	r.full = splitFields(rec, r.full)
	e = emptyEdits(r.full, e)
	r.edits = e
	d := r.derivedBlurred(ref, codes)
	r.row = r.assemble(r.row[:0], r.full, e, d)
	if err := r.out.write(k, r.row, r.full, e, d); err != nil {
		return false, err
	}
	r.counts.F1++
	r.counts.F1Blurred++
	return true, nil
}

// countBlurred counts a blurred row of an estimate.
func (r *router) countBlurred(k Key) error {
	if err := r.out.write(k, nil, r.fields, nil, nil); err != nil {
		return err
	}
	r.counts.F1++
	r.counts.F1Blurred++
	return nil
}

func joinCodes(codes []string) []byte { return quote([]byte(strings.Join(codes, "|"))) }

func (r *router) key(file, pole, viewType string) Key {
	k := Key{File: file, Pole: pole}
	if r.spec.SplitByGeometry {
		k.Geometry = viewType
	}
	return k
}

func (r *router) containment(f [][]byte) Containment {
	r.lists[0] = splitList(f[r.l.communes], r.lists[0])
	r.lists[1] = splitList(f[r.l.mailles], r.lists[1])
	r.lists[2] = splitList(f[r.l.depts], r.lists[2])
	r.lists[3] = splitList(f[r.l.espaces], r.lists[3])
	return Containment{Communes: r.lists[0], Mailles10: r.lists[1], Departements: r.lists[2]}
}
