package territory

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/storetest"
	"sinp.occitanie.fr/services/extractor/extraction"
)

func within(t *testing.T, db *pgxpool.Pool, wkt string, x, y float64) bool {
	t.Helper()
	var in bool
	if err := db.QueryRow(context.Background(), `SELECT ST_Contains(ST_GeomFromText($1, 2154), ST_SetSRID(ST_MakePoint($2, $3), 2154))`,
		wkt, x, y).Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

const toulouseX, toulouseY = 574340, 6279565

// Each kind of code, known and unknown: the store's answer, in the order
// asked, each unknown once; the union of the known areas is theirs.
func TestCheckNamesWhatTheStoreDoesNotKnow(t *testing.T) {
	db := storetest.Pool(t)
	ctx := context.Background()
	var natural string
	var taxon int64
	if err := db.QueryRow(ctx, `SELECT code FROM oc_dat.v_extract_area WHERE kind = 'espace_naturel' ORDER BY code LIMIT 1`).Scan(&natural); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT cd_ref FROM oc_dat.v_extract_source WHERE cd_ref IS NOT NULL ORDER BY id LIMIT 1`).Scan(&taxon); err != nil {
		t.Fatal(err)
	}
	a := func(kind, code string) extraction.AreaRef { return extraction.AreaRef{Kind: kind, Code: code} }
	cases := map[string]struct {
		scope Scope
		want  Check
		// minKm2, maxKm2 bound the union's area; the point (x, y) lies in it
		minKm2, maxKm2 float64
		x, y           float64
	}{
		"nothing asked": {},
		"known commune": {scope: Scope{Areas: []extraction.AreaRef{a("commune", "31555")}}, minKm2: 100, maxKm2: 130, x: toulouseX, y: toulouseY},
		"unknown commune": {scope: Scope{Areas: []extraction.AreaRef{a("commune", "99999"), a("commune", "31555"), a("commune", "99999")}},
			want: Check{UnknownAreas: []extraction.AreaRef{a("commune", "99999")}}, minKm2: 100, maxKm2: 130, x: toulouseX, y: toulouseY},
		"département 31": {scope: Scope{Areas: []extraction.AreaRef{a("departement", "31")}}, minKm2: 6000, maxKm2: 6700, x: toulouseX, y: toulouseY},
		"unknown département": {scope: Scope{Areas: []extraction.AreaRef{a("departement", "75")}},
			want: Check{UnknownAreas: []extraction.AreaRef{a("departement", "75")}}},
		"cells, one unknown": {scope: Scope{Areas: []extraction.AreaRef{a("maille10", "10kmL93E057N627"), a("maille10", "10kmL93E999N999"), a("maille10", "10kmL93E057N628")}},
			want: Check{UnknownAreas: []extraction.AreaRef{a("maille10", "10kmL93E999N999")}}, minKm2: 199, maxKm2: 201, x: toulouseX, y: toulouseY},
		"a cell's code as a commune": {scope: Scope{Areas: []extraction.AreaRef{a("commune", "10kmL93E057N627")}},
			want: Check{UnknownAreas: []extraction.AreaRef{a("commune", "10kmL93E057N627")}}},
		"natural areas": {scope: Scope{Areas: []extraction.AreaRef{a("espace_naturel", natural), a("espace_naturel", "FR0000000")}},
			want: Check{UnknownAreas: []extraction.AreaRef{a("espace_naturel", "FR0000000")}}, minKm2: 0.01, maxKm2: 2000},
		"pôles": {scope: Scope{Poles: []string{"oiseaux", "cetaces", "flore", "Oiseaux", "cetaces"}},
			want: Check{UnknownPoles: []string{"cetaces", "Oiseaux"}}},
		"taxa": {scope: Scope{CdRefs: []int64{taxon, 1, 4242424242, 1}},
			want: Check{UnknownCdRefs: []int64{1, 4242424242}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Store{DB: db}.Check(ctx, c.scope)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.UnknownAreas, c.want.UnknownAreas) || !slices.Equal(got.UnknownPoles, c.want.UnknownPoles) ||
				!slices.Equal(got.UnknownCdRefs, c.want.UnknownCdRefs) {
				t.Errorf("unknown %v %v %v, want %v %v %v", got.UnknownAreas, got.UnknownPoles, got.UnknownCdRefs,
					c.want.UnknownAreas, c.want.UnknownPoles, c.want.UnknownCdRefs)
			}
			if c.maxKm2 == 0 {
				if got.AreasWKT != "" || got.AreasKm2 != 0 {
					t.Errorf("no known area, yet a union of %.1f km²: %.80s", got.AreasKm2, got.AreasWKT)
				}
				return
			}
			if got.AreasKm2 < c.minKm2 || got.AreasKm2 > c.maxKm2 {
				t.Errorf("union of %.1f km², want %.0f to %.0f", got.AreasKm2, c.minKm2, c.maxKm2)
			}
			if c.x != 0 && !within(t, db, got.AreasWKT, c.x, c.y) {
				t.Errorf("the union does not hold (%.0f, %.0f): %.120s", c.x, c.y, got.AreasWKT)
			}
		})
	}
}

// The region is Occitanie: Toulouse is inside, Paris is not; the pôles
// come in the platform's order.
func TestRegionIsTheUnionOfTheDepartements(t *testing.T) {
	db := storetest.Pool(t)
	r, err := Store{DB: db}.Region(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !within(t, db, r.OutlineWKT, toulouseX, toulouseY) {
		t.Errorf("Toulouse is outside the region")
	}
	if within(t, db, r.OutlineWKT, 652000, 6862000) {
		t.Errorf("Paris is inside the region")
	}
	var km2, departements float64
	if err := db.QueryRow(context.Background(), `SELECT ST_Area(ST_GeomFromText($1, 2154)) / 1e6, (SELECT sum(ST_Area(geom)) / 1e6 FROM oc_dat.v_extract_area WHERE kind = 'departement')`,
		r.OutlineWKT).Scan(&km2, &departements); err != nil {
		t.Fatal(err)
	}
	if km2 < departements*0.999 || km2 > departements*1.001 {
		t.Errorf("the outline covers %.0f km², the départements %.0f", km2, departements)
	}
	want := []string{"flore", "invertebres", "mammiferes", "reptiles_amphibiens", "oiseaux", "poissons"}
	if !slices.Equal(r.Poles, want) {
		t.Errorf("pôles %v, want %v", r.Poles, want)
	}
}
