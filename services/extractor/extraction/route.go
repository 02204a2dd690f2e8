package extraction

import (
	"bytes"
	"context"
	"fmt"
)

// router places each record in its partitions: the F1 partition as it is
// or blurred, the F2 partition of its pôle, or nowhere.
type router struct {
	ctx    context.Context
	spec   Spec
	l      *layout
	areas  *areas
	out    *outputs
	fields [][]byte
	edit   [][]byte
	lists  [3][]string
	poles  map[string]string // interned pôle codes

	counts Counts
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

var (
	inventoriel = []byte("In")
	oui         = []byte("OUI")
	pipeSep     = []byte("|")
)

func levelOf(sensi, dsPub, niv []byte) Level {
	return EffectiveLevel(string(unquote(sensi)), string(unquote(dsPub)), string(unquote(niv)))
}

func (r *router) route(rec []byte) error {
	r.fields = splitFields(rec, r.fields)
	f := r.fields
	if len(f) != r.l.fields {
		return fmt.Errorf("extraction: a record has %d fields, want %d: %.200q", len(f), r.l.fields, rec)
	}
	r.counts.Selected++
	pole, ok := r.poles[string(f[fieldPole])]
	if !ok {
		pole = string(unquote(f[fieldPole]))
		r.poles[string(f[fieldPole])] = pole
	}
	viewType := string(unquote(f[fieldType]))
	attached := viewType == ObjGeograph
	place := Place(levelOf(f[r.l.sensi], f[r.l.dsPub], f[r.l.nivPrecis]), r.spec.F2Entitled)
	body := rec[len(f[0])+len(f[1])+2:]

	// Attached observations under most_precise carry their object's
	// geometry in both files.
	var attachedWKT []byte
	if attached && r.spec.Attached == AttachedMostPrecise {
		if ref, ok := MostPrecise(r.containment(f)); ok {
			w, found, err := r.areas.WKT(r.ctx, ref)
			if err != nil {
				return err
			}
			if found {
				attachedWKT = w
			}
		}
	}

	inAny := false
	if place.F1 {
		written, err := r.writeF1(f, pole, viewType, attached, place, body, attachedWKT)
		if err != nil {
			return err
		}
		inAny = written
	} else {
		r.counts.WithheldF1++
	}
	if place.F2 {
		k := r.key(F2, pole, viewType)
		var err error
		if attachedWKT != nil {
			err = r.out.write(k, r.rebuild(f, map[int][]byte{r.l.geom: attachedWKT}), f, r.l)
		} else {
			err = r.out.write(k, body, f, r.l)
		}
		if err != nil {
			return err
		}
		r.counts.F2++
		inAny = true
	}
	if !inAny {
		r.counts.Withheld++
	}
	return nil
}

func (r *router) writeF1(f [][]byte, pole, viewType string, attached bool, place Placement, body, attachedWKT []byte) (bool, error) {
	if place.Blur == Precise {
		k := r.key(F1, pole, viewType)
		var err error
		if attachedWKT != nil {
			err = r.out.write(k, r.rebuild(f, map[int][]byte{r.l.geom: attachedWKT}), f, r.l)
		} else {
			err = r.out.write(k, body, f, r.l)
		}
		if err == nil {
			r.counts.F1++
		}
		return err == nil, err
	}

	c := r.containment(f)
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
	codes := ref.Codes(c)
	edits := map[int][]byte{
		r.l.geom:      geom,
		r.l.precision: nil,
		r.l.nature:    inventoriel,
		r.l.floutage:  oui,
		r.l.communes:  bytes.Join(byteList(codes.Communes), pipeSep),
		r.l.mailles:   bytes.Join(byteList(codes.Mailles10), pipeSep),
		r.l.depts:     bytes.Join(byteList(codes.Departements), pipeSep),
		r.l.espaces:   nil,
	}
	for _, i := range r.l.precise {
		edits[i] = nil
	}
	k := r.key(F1, pole, geometryOf(viewType, true))
	row := r.rebuild(f, edits)
	// The edited fields are what the descriptor must count.
	if err := r.out.write(k, row, splitFields(append([]byte("x;x;"), row...), nil), r.l); err != nil {
		return false, err
	}
	r.counts.F1++
	r.counts.F1Blurred++
	return true, nil
}

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
	return Containment{Communes: r.lists[0], Mailles10: r.lists[1], Departements: r.lists[2]}
}

// rebuild joins the exported fields back with some replaced (nil: empty).
func (r *router) rebuild(f [][]byte, edits map[int][]byte) []byte {
	var b bytes.Buffer
	for i := routingFields; i < len(f); i++ {
		if i > routingFields {
			b.WriteByte(';')
		}
		if v, ok := edits[i]; ok {
			b.Write(quote(v))
		} else {
			b.Write(f[i])
		}
	}
	return b.Bytes()
}

func byteList(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}
