package extraction

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Types of geographic information (nomenclature TYP_INF_GEO).
const (
	// InfoGeoGeoreference: the object is the one the observation was made
	// on (an observation attached to a commune, for its commune).
	InfoGeoGeoreference = "1"
	// InfoGeoAttachment: the object was deduced (from the geometry's
	// intersection, or by blurring).
	InfoGeoAttachment = "2"
)

// AreaInfo is what the standard's companion fields say of one object.
type AreaInfo struct {
	Name        string
	Type        string // TYP_EN of a natural area
	Referential string
	Version     string
}

// Attachment is one row's geographic attachment: the objects of each kind
// it lists, and the kind it is attached to when it has no geometry of its
// own ("" when georeferenced).
type Attachment struct {
	Attached     string
	Communes     []string
	Mailles10    []string
	Departements []string
	Espaces      []string
	// Blurred rows carry objects that are not their geometry's: every
	// object is then deduced.
	Blurred bool
}

// Companions are the values of the derived columns of one attachment
// group, in the order of source.DerivedColumns (CSV-encoded, ';'-joined).
type Companions [derivedGroups][]byte

// CompanionValues computes the companion fields of an attachment: for each
// kind with objects, their names (communes) or types (natural areas)
// aligned with the codes, the referential's name and year or version (one
// value per distinct one), and the type of geographic information: 1 for
// the kind an attached observation is attached to, 2 for every other kind
// and for every object of a blurred row. A kind without objects has its
// companions empty. lookup gives what the store knows of an object (ok
// false: unknown, its values empty).
func CompanionValues(a Attachment, lookup func(AreaRef) (AreaInfo, bool)) [derivedGroups][]string {
	var out [derivedGroups][]string
	infos := func(kind string, codes []string) []AreaInfo {
		r := make([]AreaInfo, len(codes))
		for i, c := range codes {
			r[i], _ = lookup(AreaRef{kind, c})
		}
		return r
	}
	typ := func(kind string) string {
		if a.Attached == kind && !a.Blurred {
			return InfoGeoGeoreference
		}
		return InfoGeoAttachment
	}
	if len(a.Communes) > 0 {
		in := infos(KindCommune, a.Communes)
		out[groupCommune] = []string{joinField(in, func(i AreaInfo) string { return i.Name }), distinct(in, func(i AreaInfo) string { return i.Version }), typ(KindCommune)}
	} else {
		out[groupCommune] = []string{"", "", ""}
	}
	if len(a.Mailles10) > 0 {
		in := infos(KindMaille10, a.Mailles10)
		out[groupMaille] = []string{distinct(in, func(i AreaInfo) string { return i.Referential }), distinct(in, func(i AreaInfo) string { return i.Version }), typ(KindMaille10)}
	} else {
		out[groupMaille] = []string{"", "", ""}
	}
	if len(a.Departements) > 0 {
		in := infos(KindDepartement, a.Departements)
		out[groupDepartement] = []string{distinct(in, func(i AreaInfo) string { return i.Version }), typ(KindDepartement)}
	} else {
		out[groupDepartement] = []string{"", ""}
	}
	if len(a.Espaces) > 0 {
		in := infos(KindEspaceNaturel, a.Espaces)
		out[groupEN] = []string{joinField(in, func(i AreaInfo) string { return i.Type }), distinct(in, func(i AreaInfo) string { return i.Version }), typ(KindEspaceNaturel)}
	} else {
		out[groupEN] = []string{"", "", ""}
	}
	if a.Blurred {
		out[groupFloutage] = []string{"OUI"}
	} else {
		out[groupFloutage] = []string{"NON"}
	}
	return out
}

// joinField lists one value per object, aligned with the codes.
func joinField(in []AreaInfo, f func(AreaInfo) string) string {
	vals := make([]string, len(in))
	for i, v := range in {
		vals[i] = f(v)
	}
	return strings.Join(vals, "|")
}

// distinct lists each distinct non-empty value once, in order of first
// appearance.
func distinct(in []AreaInfo, f func(AreaInfo) string) string {
	var seen []string
	for _, v := range in {
		if s := f(v); s != "" && !slices.Contains(seen, s) {
			seen = append(seen, s)
		}
	}
	return strings.Join(seen, "|")
}

// encodeCompanions CSV-encodes companion values, one ';'-joined group each.
func encodeCompanions(v [derivedGroups][]string) Companions {
	var c Companions
	for g, vals := range v {
		var b []byte
		for i, s := range vals {
			if i > 0 {
				b = append(b, ';')
			}
			b = append(b, quote([]byte(s))...)
		}
		c[g] = b
	}
	return c
}

// areaBook holds what the companions need of every object (names, types,
// referentials), read once per run from v_extract_area without
// geometries, and the département covering each blurring cell.
type areaBook struct {
	db    *pgxpool.Pool
	info  map[AreaRef]AreaInfo
	depts map[AreaRef][]string
}

func loadAreaBook(ctx context.Context, db *pgxpool.Pool) (*areaBook, error) {
	rows, err := db.Query(ctx, `SELECT kind, code, coalesce(name, ''), coalesce(type, ''), coalesce(referential, ''), coalesce(version, '')
		FROM oc_dat.v_extract_area WHERE kind IN ('commune', 'maille10', 'departement', 'espace_naturel')`)
	if err != nil {
		return nil, fmt.Errorf("extraction: area names and referentials: %w", err)
	}
	b := &areaBook{db: db, info: map[AreaRef]AreaInfo{}, depts: map[AreaRef][]string{}}
	var ref AreaRef
	var in AreaInfo
	_, err = pgx.ForEachRow(rows, []any{&ref.Kind, &ref.Code, &in.Name, &in.Type, &in.Referential, &in.Version}, func() error {
		b.info[ref] = in
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extraction: area names and referentials: %w", err)
	}
	return b, nil
}

// objects are every object the store lists, in order (compareRefs).
func (b *areaBook) objects() []AreaRef {
	return slices.SortedFunc(maps.Keys(b.info), compareRefs)
}

func (b *areaBook) lookup(ref AreaRef) (AreaInfo, bool) {
	in, ok := b.info[ref]
	return in, ok
}

// loadCells reads at once which département covers each of these cells
// whole (one query for all the cells a run blurs to, before its sensitive
// rows are written).
func (b *areaBook) loadCells(ctx context.Context, cells map[string]struct{}) error {
	var codes []string
	for c := range cells {
		if _, ok := b.depts[AreaRef{KindMaille10, c}]; !ok {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return nil
	}
	for _, c := range codes {
		b.depts[AreaRef{KindMaille10, c}] = nil
	}
	rows, err := b.db.Query(ctx, `
		SELECT a.code, d.code
		FROM oc_dat.v_extract_area a
		JOIN oc_dat.v_extract_area d ON d.kind = 'departement' AND ST_Covers(d.geom, a.geom)
		WHERE a.kind = 'maille10' AND a.code = ANY($1)`, codes)
	if err != nil {
		return fmt.Errorf("extraction: départements of the cells: %w", err)
	}
	var cell, dept string
	_, err = pgx.ForEachRow(rows, []any{&cell, &dept}, func() error {
		ref := AreaRef{KindMaille10, cell}
		b.depts[ref] = append(b.depts[ref], dept)
		return nil
	})
	if err != nil {
		return fmt.Errorf("extraction: départements of the cells: %w", err)
	}
	return nil
}

// cellDepartements returns the départements that cover a blurring cell
// whole, as loadCells read them (none for another kind of object, or a
// cell not loaded: no département is then shown).
func (b *areaBook) cellDepartements(ref AreaRef) []string {
	if ref.Kind != KindMaille10 {
		return nil
	}
	return b.depts[ref]
}
