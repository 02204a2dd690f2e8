package geonature_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations"
	"sinp.occitanie.fr/observations/geonature"
	"sinp.occitanie.fr/observations/geonature/geonaturetest"
	"sinp.occitanie.fr/observations/source"
	"sinp.occitanie.fr/platform/pgtest"
)

// installed is a GeoNature test database with the adapter installed.
func installed(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db := geonaturetest.Pool(t)
	if _, err := geonature.Install(context.Background(), db, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

type column struct{ name, typ, comment string }

func columnsOf(t *testing.T, db *pgxpool.Pool, rel string) []column {
	t.Helper()
	rows, err := db.Query(context.Background(), `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(col_description(a.attrelid, a.attnum), '')
		FROM pg_attribute a
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, rel)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.comment); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The extractor builds its CSV header and descriptor from the catalogue and
// reads the view: the adapter's view must pass the check the store's
// passes (observations.TestCatalogueMatchesView), names, order, types and
// comments.
func TestSourceViewMatchesCatalogue(t *testing.T) {
	db := installed(t)
	cols := columnsOf(t, db, source.View)
	for i, got := range cols {
		if i >= len(source.Columns) {
			t.Errorf("view column %d %s (%s) is not in the catalogue", i, got.name, got.typ)
			continue
		}
		c := source.Columns[i]
		if c.View != got.name || c.SQLType != got.typ {
			t.Errorf("column %d: view has %s %s, catalogue %s %s", i, got.name, got.typ, c.View, c.SQLType)
		}
		if !strings.Contains(got.comment, c.Meaning) || (c.Exported() && !strings.HasPrefix(got.comment, c.CSV+": ")) ||
			(c.Nomenclature != "" && !strings.Contains(got.comment, "["+c.Nomenclature+"]")) {
			t.Errorf("column %s: comment %q does not match the catalogue (%s: %s [%s])", got.name, got.comment, c.CSV, c.Meaning, c.Nomenclature)
		}
	}
	if len(cols) != len(source.Columns) {
		t.Errorf("catalogue has %d columns, the view %d", len(source.Columns), len(cols))
	}
}

// Every relation the extractor reads has the store's columns, in the
// store's order, with the store's types; v_extract_source has its comments
// too.
func TestRelationsMatchTheStore(t *testing.T) {
	gn := installed(t)
	store := pgtest.NewDB(t, observations.Migrations)
	for _, rel := range []string{"oc_dat.v_extract_source", "oc_dat.v_extract_area", "oc_dat.v_extract_dataset",
		"oc_dat.v_extract_nomenclature", "oc_dat.v_extract_pole"} {
		got, want := columnsOf(t, gn, rel), columnsOf(t, store, rel)
		for i := range max(len(got), len(want)) {
			var g, w column
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g.name != w.name || g.typ != w.typ {
				t.Errorf("%s column %d: adapter %s %s, store %s %s", rel, i, g.name, g.typ, w.name, w.typ)
			}
			if rel == source.View && g.comment != w.comment {
				t.Errorf("%s.%s: adapter comment %q, store %q", rel, g.name, g.comment, w.comment)
			}
		}
	}
}

func TestInstallIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := installed(t)
	again, err := geonature.Install(ctx, db, nil)
	if err != nil || again.Changed {
		t.Fatalf("second install: %+v %v", again, err)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM oc_dat.pole`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("pôles after a second install: %d %v", n, err)
	}
	// A definition that changed (here: forced) is rebuilt.
	if _, err := db.Exec(ctx, `UPDATE oc_dat.geonature_install SET digest = 'old'`); err != nil {
		t.Fatal(err)
	}
	if _, err := geonature.Refresh(ctx, db, nil); !errors.Is(err, geonature.ErrNotInstalled) {
		t.Fatalf("refresh of an outdated install: %v", err)
	}
	rebuilt, err := geonature.Install(ctx, db, nil)
	if err != nil || !rebuilt.Changed || rebuilt.Refresh.Observations != 3 {
		t.Fatalf("install over an outdated one: %+v %v", rebuilt, err)
	}
}

// Install names what is missing from a database that is not GeoNature's,
// and leaves alone an oc_dat it did not create: the observation store's,
// or anything else.
func TestInstallRefuses(t *testing.T) {
	ctx := context.Background()
	empty := pgtest.NewDB(t)
	_, err := geonature.Install(ctx, empty, nil)
	if !errors.Is(err, geonature.ErrNotGeoNature) ||
		!strings.Contains(err.Error(), "missing schema gn_synthese, schema gn_meta, schema ref_geo, schema ref_nomenclatures, schema taxonomie, extension postgis") {
		t.Fatalf("install on an empty database: %v", err)
	}

	partial := geonaturetest.Pool(t)
	if _, err := partial.Exec(ctx, `DROP TABLE taxonomie.taxref CASCADE`); err != nil {
		t.Fatal(err)
	}
	if _, err := geonature.Install(ctx, partial, nil); !errors.Is(err, geonature.ErrNotGeoNature) ||
		!strings.HasSuffix(err.Error(), "missing table taxonomie.taxref") {
		t.Fatalf("install without taxref: %v", err)
	}

	foreign := geonaturetest.Pool(t)
	if _, err := foreign.Exec(ctx, `CREATE SCHEMA oc_dat; CREATE TABLE oc_dat.observation (id bigint)`); err != nil {
		t.Fatal(err)
	}
	if _, err := geonature.Install(ctx, foreign, nil); !errors.Is(err, geonature.ErrForeignSchema) {
		t.Fatalf("install over a foreign oc_dat: %v", err)
	}

	// And the store refuses the adapter's oc_dat.
	db := installed(t)
	if _, err := observations.Init(ctx, db); !errors.Is(err, observations.ErrForeignStore) {
		t.Fatalf("store init over the adapter: %v", err)
	}
}

// The sample's import rows, as the extractor reads them.
func TestSourceRows(t *testing.T) {
	ctx := context.Background()
	db := installed(t)
	var got []string
	rows, err := db.Query(ctx, `SELECT concat_ws(' | ', id, pole, type_geometrie, coalesce(rattachement, '-'), id_origine, cd_nom, cd_ref,
			nom_cite, nom_valide, date_debut, heure_debut, date_fin, heure_fin, denombrement_min, denombrement_max,
			objet_denombrement, type_denombrement, observateur, determinateur, jdd_id, jdd_code, jdd_meta_id, ds_publique,
			nature_objet_geo, precision_geometrie, communes, mailles10, departements, espaces_naturels,
			altitude_min, altitude_max, obs_contexte, obs_description, obs_technique, occ_sexe, occ_stade_de_vie,
			occ_naturalite, preuve_existante, preuve_non_numerique, statut_validation, statut_observation, statut_source,
			dee_floutage, diffusion_niveau_precision, sensible, sensi_niveau, sensi_manuelle,
			dee_date_derniere_modification AT TIME ZONE 'UTC', ST_AsText(geom, 2), ST_SRID(geom))
		FROM oc_dat.v_extract_source ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var zone string
	if err := db.QueryRow(ctx, `SELECT to_char(('2021-01-11 14:20:46.492497'::timestamp AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone')) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`).Scan(&zone); err != nil {
		t.Fatal(err)
	}
	point := "POINT(976445.73 6422886.6) | 2154"
	common := " | IND | Co | %s | %s | 1 | Contact aléatoire | 4d331cae-65e4-4948-b0b2-a11bc5bb46c2 | Pu | In | %s" +
		" | {05101} | {10kmL93E097N642} | {05} | {PNE_COEUR} | %s | Relevé n°%s | Occurrence n°%s | 23 | 2 | %s | 1 | 1 | %s" +
		" | 0 | Pr | Te | NON | 5 | NON | 0 | NON | " + zone + " | " + point
	want := []string{
		"1 | mammiferes | points | - | 1 | 60612 | 60612 | Lynx Boréal | Lynx lynx (Linnaeus, 1758) | 2017-01-01 | 12:05:02 | 2017-01-01 | 12:05:02 | 5 | 5" +
			fmt.Sprintf(common, "import user", "Gil", "10", "1500 | 1565", "1", "1", "2", "Poil"),
		"2 | reptiles_amphibiens | points | - | 2 | 351 | 351 | Grenouille rousse | Rana temporaria Linnaeus, 1758 | 2017-01-01 | 12:05:02 | 2017-01-02 | 12:05:02 | 1 | 1" +
			fmt.Sprintf(common, "import user, import user2", "Théo", "10", "1500 | 1565", "2", "2", "4", "Poils de plumes"),
		"6 | reptiles_amphibiens | points | - | 6 | 351 | 351 | Grenouille rousse | Rana temporaria Linnaeus, 1758 | 2017-01-01 | 12:05:02 | 2017-01-01 | 12:05:02 | 1 | 1" +
			fmt.Sprintf(common, "import user| import user3", "Donovan", "100", "1600 | 1600", "6", "6", "3", "Poils de plumes"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("v_extract_source:\n got %q\nwant %q", got, want)
	}
}

// Observations attached to an object (GeoNature's id_area_attachment, its
// geometry the object's) have no geometry of their own in the view, and
// list the object, the objects of the other kinds it meets, and nothing
// finer than a département for a département.
func TestAttachedObservations(t *testing.T) {
	ctx := context.Background()
	db := installed(t)
	if _, err := db.Exec(ctx, `INSERT INTO gn_synthese.synthese (id_synthese, id_dataset, cd_nom, nom_cite, date_min, date_max,
			id_area_attachment, id_nomenclature_info_geo_type, the_geom_local, the_geom_4326)
		SELECT 100 + a.id_area, 1, 60612, 'Lynx', '2020-05-01', '2020-05-01', a.id_area,
			ref_nomenclatures.get_id_nomenclature('TYP_INF_GEO', '2'), a.geom, ST_Transform(a.geom, 4326)
		FROM ref_geo.l_areas a WHERE a.area_code IN ('05101', '05', 'E098N641', 'PNE_COEUR')`); err != nil {
		t.Fatal(err)
	}
	res, err := geonature.Refresh(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Observations != 7 || !res.Relations[1].Concurrent {
		t.Errorf("refresh: %+v", res)
	}
	got := map[string]string{}
	rows, err := db.Query(ctx, `SELECT rattachement, concat_ws(' ', type_geometrie, (geom IS NULL)::text, communes, mailles10, departements, espaces_naturels)
		FROM oc_dat.v_extract_source WHERE rattachement IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got[k] = v
	}
	want := map[string]string{
		"commune":        "obj_geograph true {05101} {10kmL93E097N641,10kmL93E097N642,10kmL93E098N641,10kmL93E098N642} {05} {PNE_COEUR}",
		"departement":    "obj_geograph true {} {} {05} {}",
		"maille10":       "obj_geograph true {05101} {10kmL93E098N641} {05} {PNE_COEUR}",
		"espace_naturel": "obj_geograph true {05101} {10kmL93E097N641,10kmL93E097N642,10kmL93E098N641,10kmL93E098N642} {05} {PNE_COEUR}",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("attached observations:\n got %v\nwant %v", got, want)
	}
}

// v_extract_area: ref_geo's communes, cells (renamed as the store names
// them, from their geometry), départements and natural areas of the known
// types, enabled, with their referential.
func TestAreas(t *testing.T) {
	db := installed(t)
	rows, err := db.Query(context.Background(), `SELECT concat_ws(' | ', kind, code, name, type, referential, version, ST_GeometryType(geom), ST_SRID(geom))
		FROM oc_dat.v_extract_area ORDER BY kind, code`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{
		"commune | 05101 | Vallouise-Pelvoux | IGN admin_express | 2019 | ST_MultiPolygon | 2154",
		"departement | 05 | Hautes-Alpes | IGN admin_express | 2019 | ST_MultiPolygon | 2154",
		"espace_naturel | PNE_COEUR | Cœur du Parc national des Écrins (emprise du test) | CPN | 2018-12 | ST_MultiPolygon | 2154",
		"maille10 | 10kmL93E097N641 | 10kmL93E097N641 | INPN | 2013 | ST_MultiPolygon | 2154",
		"maille10 | 10kmL93E097N642 | 10kmL93E097N642 | INPN | 2013 | ST_MultiPolygon | 2154",
		"maille10 | 10kmL93E098N641 | 10kmL93E098N641 | INPN | 2013 | ST_MultiPolygon | 2154",
		"maille10 | 10kmL93E098N642 | 10kmL93E098N642 | INPN | 2013 | ST_MultiPolygon | 2154",
	}
	if !slices.Equal(got, want) {
		t.Errorf("v_extract_area:\n got %q\nwant %q", got, want)
	}
}

// Refresh follows GeoNature: a level set in the synthese reaches the view.
func TestRefreshFollowsTheSynthese(t *testing.T) {
	ctx := context.Background()
	db := installed(t)
	if _, err := db.Exec(ctx, `UPDATE gn_synthese.synthese SET id_nomenclature_sensitivity = ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '2') WHERE id_synthese = 6`); err != nil {
		t.Fatal(err)
	}
	var level int
	var sensible string
	_ = db.QueryRow(ctx, `SELECT sensi_niveau, sensible FROM oc_dat.v_extract_source WHERE id = 6`).Scan(&level, &sensible)
	if level != 0 {
		t.Fatalf("level %d before the refresh", level)
	}
	res, err := geonature.Refresh(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `SELECT sensi_niveau, sensible FROM oc_dat.v_extract_source WHERE id = 6`).Scan(&level, &sensible); err != nil {
		t.Fatal(err)
	}
	if level != 2 || sensible != "OUI" {
		t.Errorf("after the refresh: level %d, sensible %s", level, sensible)
	}
	if res.Synthese != 5 || res.Observations != 3 || res.Unlocated != 1 || res.NoPole != 1 ||
		res.Areas["maille10"] != 4 || len(res.Relations) != 2 || !res.Relations[0].Concurrent {
		t.Errorf("refresh: %+v", res)
	}
}

// The extractor's selections find their indexes on the materialized view
// (on 5,000 observations, 40 of them attached).
func TestSelectionsUseTheIndexes(t *testing.T) {
	ctx := context.Background()
	db := installed(t)
	conn, err := db.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// Enough rows for the planner to weigh: copies of the lynx around it,
	// and a few observations attached to the commune and the département.
	if _, err := conn.Exec(ctx, `INSERT INTO gn_synthese.synthese (id_synthese, id_dataset, cd_nom, nom_cite, date_min, date_max, the_geom_4326, the_geom_local)
		SELECT 1000 + i, 1, 60612, 'Lynx', '2020-05-01', '2020-05-01', ST_Transform(p, 4326), p
		FROM generate_series(1, 5000) i, ST_SetSRID(ST_MakePoint(972000 + (i * 7919) % 9000, 6418000 + (i * 104729) % 8000), 2154) p;
		INSERT INTO gn_synthese.synthese (id_synthese, id_dataset, cd_nom, nom_cite, date_min, date_max, id_area_attachment)
		SELECT 10000 + i, 1, 60612, 'Lynx', '2020-05-01', '2020-05-01', CASE WHEN i % 2 = 0 THEN 1 ELSE 2 END
		FROM generate_series(1, 40) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := geonature.Refresh(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		query, index string
		few          bool // a table of 7 rows: scanned unless forced
	}{
		{`SELECT id FROM oc_dat.v_extract_source s WHERE ST_Intersects(s.geom, ST_MakeEnvelope(976000, 6422000, 976500, 6422500, 2154))`, "v_extract_source_geom_idx", false},
		{`SELECT id FROM oc_dat.v_extract_source s WHERE s.rattachement = 'commune' AND s.geom IS NULL AND s.communes && ARRAY['05101']`, "v_extract_source_att_commune_idx", false},
		{`SELECT id FROM oc_dat.v_extract_source s WHERE s.rattachement = 'departement' AND s.geom IS NULL AND s.departements && ARRAY['05']`, "v_extract_source_att_departement_idx", false},
		{`SELECT id FROM oc_dat.v_extract_source s WHERE s.cd_ref = 351`, "v_extract_source_cd_ref_idx", false},
		{`SELECT code FROM oc_dat.v_extract_area WHERE kind = 'maille10' AND code = '10kmL93E097N642'`, "geonature_area_code_idx", true},
		{`SELECT code FROM oc_dat.v_extract_area a WHERE ST_Intersects(a.geom, ST_MakeEnvelope(970000, 6420000, 980000, 6430000, 2154))`, "geonature_area_geom_idx", true},
	} {
		query, index := c.query, c.index
		if _, err := conn.Exec(ctx, fmt.Sprintf(`SET enable_seqscan = %t`, !c.few)); err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		rows, err := conn.Query(ctx, "EXPLAIN "+query)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan.WriteString(line + "\n")
		}
		if !strings.Contains(plan.String(), index) {
			t.Errorf("%s\ndoes not use %s:\n%s", query, index, plan.String())
		}
	}
}
