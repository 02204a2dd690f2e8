package extraction

import (
	"context"
	"testing"

	"sinp.occitanie.fr/observations/storetest"
)

// The geometries read ahead are those one query per object gives; an
// object the store lacks among them is reported missing, and the next
// objects announced are already in the cache after the first miss.
func TestReadAheadGivesTheSingleQueryGeometries(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	var objs []AreaRef
	rows, err := db.Query(ctx, `(SELECT kind, code FROM oc_dat.v_extract_area WHERE kind = 'commune' ORDER BY code LIMIT 3)
		UNION ALL (SELECT kind, code FROM oc_dat.v_extract_area WHERE kind = 'departement' ORDER BY code LIMIT 2)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r AreaRef
		if err := rows.Scan(&r.Kind, &r.Code); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, r)
	}
	if err := rows.Err(); err != nil || len(objs) != 5 {
		t.Fatalf("%d objects: %v", len(objs), err)
	}
	missing := AreaRef{KindCommune, objs[2].Code + "x"} // sorts between the third commune and the départements
	announced := []AreaRef{objs[0], objs[1], objs[2], missing, objs[3], objs[4]}

	ahead, single := newAreas(db), newAreas(db)
	ahead.readAhead(announced)
	for i, ref := range announced {
		got, ok, err := ahead.WKT(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			for _, next := range announced[1:] {
				if _, cached := ahead.wkt[next]; !cached {
					t.Fatalf("%v was not read with %v", next, ref)
				}
			}
		}
		want, wantOK, err := single.WKT(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantOK || string(got) != string(want) {
			t.Errorf("%v: read ahead (%v, %d bytes), alone (%v, %d bytes)", ref, ok, len(got), wantOK, len(want))
		}
		if ok != (ref != missing) {
			t.Errorf("%v: found %v", ref, ok)
		}
	}
}
