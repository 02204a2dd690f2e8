package extraction

import (
	"fmt"
	"strings"

	"sinp.occitanie.fr/observations/source"
)

// routing columns precede the exported ones in each COPY record.
const (
	fieldPole = iota
	fieldType
	fieldAttach // rattachement: the kind of object an attached observation is attached to
	routingFields
)

// Derived column groups: each is written right after one view field.
const (
	groupFloutage    = iota // after dEEFloutage: floutageExtraction
	groupCommune            // after codeCommune
	groupMaille             // after codeMaille
	groupDepartement        // after codeDepartement
	groupEN                 // after codeEN
	derivedGroups
)

// layout locates the fields the pipeline reads or rewrites in a record
// (indexes into the record's fields, routing columns included).
type layout struct {
	exported                             []source.Column
	sensi, dsPub, nivPrecis              int
	communes, mailles, depts, espaces    int
	dataset, nature, precision, floutage int
	geom                                 int
	// after[g] is the field derived group g follows (groupFloutage...),
	// in field order; derived[g] are its columns.
	after   [derivedGroups]int
	derived [derivedGroups][]source.Derived
	precise []int
	coded   []int // columns with a nomenclature
	fields  int
	// routing is how many leading fields placing a row and counting its
	// codes needs; rows written as they are need no more to be split.
	routing int
	// placing are the exported fields the router reads to place a row
	// (router.parse, router.containment), besides the routing columns.
	placing []int
}

func newLayout() (*layout, error) {
	l := &layout{exported: source.Exported()}
	at := map[string]int{}
	for i, c := range l.exported {
		at[c.View] = routingFields + i
		if c.Precise {
			l.precise = append(l.precise, routingFields+i)
		}
		if c.Nomenclature != "" {
			l.coded = append(l.coded, routingFields+i)
		}
	}
	l.fields = routingFields + len(l.exported)
	for _, f := range []struct {
		dst  *int
		view string
	}{
		{&l.sensi, "sensi_niveau"}, {&l.dsPub, "ds_publique"}, {&l.nivPrecis, "diffusion_niveau_precision"},
		{&l.communes, "communes"}, {&l.mailles, "mailles10"}, {&l.depts, "departements"}, {&l.espaces, "espaces_naturels"},
		{&l.dataset, "jdd_id"}, {&l.nature, "nature_objet_geo"}, {&l.precision, "precision_geometrie"},
		{&l.floutage, "dee_floutage"}, {&l.geom, "geom"},
	} {
		i, ok := at[f.view]
		if !ok {
			return nil, fmt.Errorf("extraction: the source catalogue has no exported column %s", f.view)
		}
		*f.dst = i
		if f.view != "geom" && f.view != "precision_geometrie" && f.view != "nature_objet_geo" {
			l.routing = max(l.routing, i+1)
		}
	}
	for _, i := range l.coded {
		l.routing = max(l.routing, i+1)
	}
	groups := derivedGroupOf
	for _, d := range source.DerivedColumns {
		g, ok := groups[d.After]
		if !ok {
			return nil, fmt.Errorf("extraction: derived column %s follows %s, which has no derived group", d.CSV, d.After)
		}
		l.derived[g] = append(l.derived[g], d)
	}
	for view, g := range groups {
		l.after[g] = at[view]
	}
	for g := 1; g < derivedGroups; g++ {
		if l.after[g] <= l.after[g-1] {
			return nil, fmt.Errorf("extraction: the view's attachment columns are out of order")
		}
	}
	l.placing = []int{l.sensi, l.dsPub, l.nivPrecis, l.communes, l.mailles, l.depts}
	return l, nil
}

// csvColumn is one column of the CSV: a view column, or a derived one.
type csvColumn struct {
	CSV, Meaning, Nomenclature string
	Type                       source.Type
	Group                      source.Group
	field                      int // the record's field; -1 for a derived column
	group, index               int // a derived column's group and rank in it
}

// columns are the CSV's columns in order: each exported view column,
// followed by the derived columns of its group.
func (l *layout) columns() []csvColumn {
	var out []csvColumn
	for i, c := range l.exported {
		f := routingFields + i
		out = append(out, csvColumn{CSV: c.CSV, Meaning: c.Meaning, Nomenclature: c.Nomenclature, Type: c.Type, Group: c.Group, field: f})
		for g, at := range l.after {
			if at != f {
				continue
			}
			for j, d := range l.derived[g] {
				out = append(out, csvColumn{CSV: d.CSV, Meaning: d.Meaning, Nomenclature: d.Nomenclature, Type: d.Type,
					Group: d.Group, field: -1, group: g, index: j})
			}
		}
	}
	return out
}

// header is the CSV header line.
func (l *layout) header() []byte {
	var names []string
	for _, c := range l.columns() {
		names = append(names, c.CSV)
	}
	return []byte(strings.Join(names, ";") + "\n")
}

// csvt is the GDAL column-type sidecar.
func (l *layout) csvt() []byte {
	var types []string
	for _, c := range l.columns() {
		types = append(types, `"`+c.Type.CSVT()+`"`)
	}
	return []byte(strings.Join(types, ",") + "\n")
}

// selectList is the COPY select list: routing columns, then each exported
// column formatted as the CSV wants it.
func (l *layout) selectList(alias string) string { return l.list(alias, nil) }

// placingList is the select list of an estimate: the same fields, but
// NULL for every one the router does not read to place a row. PostgreSQL
// then formats no geometry or date and the planner drops the view's joins
// of taxa, datasets and statuses: a third of a run's reading time for
// rows that are only counted. The rows are the same: only the projection
// changes.
func (l *layout) placingList(alias string) string {
	read := map[int]bool{}
	for _, i := range l.placing {
		read[i] = true
	}
	return l.list(alias, read)
}

// list is selectList with the fields outside only (when not nil) NULL.
func (l *layout) list(alias string, only map[int]bool) string {
	cols := []string{alias + ".pole", alias + ".type_geometrie", alias + ".rattachement"}
	for i, c := range l.exported {
		if only != nil && !only[routingFields+i] {
			cols = append(cols, "NULL")
			continue
		}
		col := alias + "." + c.View
		switch c.Type {
		case source.StringList:
			// An empty list is an empty field, like a NULL: one empty form.
			col = "NULLIF(array_to_string(" + col + ", '|'), '')"
		case source.DateTime:
			col = "to_char(" + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
		case source.Time:
			col = "to_char(" + col + ", 'HH24:MI')"
		case source.WKT:
			col = wktSQL(col)
		}
		cols = append(cols, col)
	}
	return strings.Join(cols, ", ")
}

// wktSQL formats a geometry as WKT with the shortest decimals that give
// back its coordinates at the store's centimetre precision (no float noise
// such as 740909.8200000001).
func wktSQL(col string) string { return "ST_AsText(" + col + ", 2)" }

// Lambert93PRJ is EPSG:2154 as ESRI WKT on one line: GDAL reads it from a
// .prj beside a CSV (GeoCSV); a multi-line file is ignored.
const Lambert93PRJ = `PROJCS["RGF_1993_Lambert_93",GEOGCS["GCS_RGF_1993",DATUM["D_RGF_1993",SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic"],PARAMETER["False_Easting",700000.0],PARAMETER["False_Northing",6600000.0],PARAMETER["Central_Meridian",3.0],PARAMETER["Standard_Parallel_1",49.0],PARAMETER["Standard_Parallel_2",44.0],PARAMETER["Latitude_Of_Origin",46.5],UNIT["Meter",1.0]]`

// Header returns the names of the CSV's columns, in order: the exported
// view columns, each attachment followed by its companions.
func Header() ([]string, error) {
	l, err := newLayout()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range l.columns() {
		names = append(names, c.CSV)
	}
	return names, nil
}
