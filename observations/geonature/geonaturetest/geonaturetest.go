// Package geonaturetest gives tests a GeoNature database: GeoNature's own
// table definitions and sample data (../shared/data/geonature), the SINP
// nomenclatures (../shared/data/nomenclatures), and the least supporting
// objects they need (support.sql), built once into a template database and
// cloned for each test. The adapter (package geonature) is not installed.
//
// What it holds:
//   - gn_meta: the acquisition framework and three datasets of sample_data.sql;
//   - gn_synthese.synthese: the "valid" rows of valid_file.csv (ids 1, 2 and
//     6: a lynx and two common frogs at POINT(6.5 44.85), EPSG:4326), and the
//     two rows sample_data.sql inserts directly (taxon-less, one without
//     geometry, one without the_geom_local), ids 7 and 8;
//   - gn_synthese.cor_area_synthese: filled by intersecting the areas, as
//     GeoNature's trigger does;
//   - taxonomie.taxref: the taxa of valid_file.csv, from its own columns;
//   - ref_geo: areas.sql (a commune, its département, four 10 km cells, a
//     1 km cell, a national park's core, a disabled commune).
package geonaturetest

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/shareddata"
)

//go:embed support.sql
var supportSQL string

//go:embed areas.sql
var areasSQL string

// version changes when the fill changes in a way the files' digest does not
// show (this file's code).
const version = "1"

// The fixture's objects, as the adapter names them.
const (
	Commune     = "05101"
	Departement = "05"
	Cell        = "10kmL93E097N642" // the cell of POINT(6.5 44.85)
	ParkCore    = "PNE_COEUR"
	CommuneArea = 2 // ref_geo.l_areas.id_area of the commune
)

// Pool returns a pool on a fresh clone of the GeoNature database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	key, fill := prepare(t)
	return pgtest.NewFilledDB(t, key, fill)
}

// URL is Pool for callers that connect themselves.
func URL(t testing.TB) string {
	t.Helper()
	key, fill := prepare(t)
	return pgtest.NewFilledDBURL(t, key, fill)
}

// files are the shared data the fill reads, in load order.
var files = []string{
	"nomenclatures/nomenclatures_inpn_data.sql",
	"geonature/gn_meta.t_acquisition_frameworks.sql",
	"geonature/gn_meta.t_datasets.sql",
	"geonature/gn_synthese.synthese.sql",
	"geonature/gn_synthese.cor_area_synthese.sql",
	"geonature/sample_data.sql",
	"geonature/valid_file.csv",
}

func prepare(t testing.TB) (string, pgtest.Fill) {
	t.Helper()
	dir := shareddata.Require(t, "geonature")
	shareddata.Require(t, "nomenclatures", "nomenclatures_inpn_data.sql")
	root := filepath.Dir(dir)
	h := sha256.New()
	h.Write([]byte(version + supportSQL + areasSQL))
	text := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatalf("geonaturetest: %v", err)
		}
		h.Write(b)
		text[f] = string(b)
	}
	key := "geonature-" + hex.EncodeToString(h.Sum(nil))[:16]
	return key, func(ctx context.Context, pool *pgxpool.Pool) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		return fill(ctx, conn.Conn(), text)
	}
}

func fill(ctx context.Context, c *pgx.Conn, text map[string]string) error {
	exec := func(what, sql string) error {
		if _, err := c.Exec(ctx, sql); err != nil {
			return fmt.Errorf("geonaturetest: %s: %w", what, err)
		}
		return nil
	}
	if err := exec("support.sql", supportSQL); err != nil {
		return err
	}
	// The file sets its own search_path.
	if err := exec("nomenclatures_inpn_data.sql", text[files[0]]+"\nSET search_path TO DEFAULT;"); err != nil {
		return err
	}
	for _, f := range files[1:3] {
		if err := exec(f, text[f]); err != nil {
			return err
		}
	}
	// The published definition lost a statement's tail: an ALTER TABLE
	// with nothing to alter, run into the next one.
	synthese := regexp.MustCompile(`ALTER TABLE ONLY gn_synthese\.synthese\s*\n\s*\n(ALTER TABLE)`).ReplaceAllString(text[files[3]], "$1")
	if err := exec(files[3], synthese); err != nil {
		return err
	}
	// Set by GeoNature outside the table's definition: the id's sequence,
	// and (here) the one source the fixture's rows come from.
	if err := exec("synthese defaults", `ALTER TABLE gn_synthese.synthese ALTER COLUMN id_synthese SET DEFAULT nextval('gn_synthese.synthese_id_synthese_seq');
		ALTER TABLE gn_synthese.synthese ALTER COLUMN id_source SET DEFAULT 1`); err != nil {
		return err
	}
	if err := exec(files[4], text[files[4]]); err != nil {
		return err
	}
	if err := exec("areas.sql", areasSQL); err != nil {
		return err
	}
	rows, err := readValid(text[files[6]])
	if err != nil {
		return err
	}
	if err := insertTaxa(ctx, c, rows); err != nil {
		return err
	}
	// sample_data.sql: its metadata, and (after the import's rows) its
	// direct synthese insert. The rest needs occtax, users and permissions.
	var synthInsert string
	for _, st := range statements(text[files[5]]) {
		switch {
		case strings.HasPrefix(st, "INSERT INTO gn_meta.t_acquisition_frameworks"),
			strings.HasPrefix(st, "INSERT INTO gn_meta.t_datasets"),
			strings.HasPrefix(st, "SELECT pg_catalog.setval('gn_meta.t_datasets"),
			strings.HasPrefix(st, "SELECT pg_catalog.setval('gn_meta.t_acquisition"):
			if err := exec("sample_data.sql", st); err != nil {
				return err
			}
		case strings.HasPrefix(st, "INSERT INTO gn_synthese.synthese"):
			synthInsert = st
		}
	}
	if synthInsert == "" {
		return errors.New("geonaturetest: sample_data.sql has no direct synthese insert")
	}
	if err := insertValid(ctx, c, rows); err != nil {
		return err
	}
	if err := exec("setval", `SELECT setval('gn_synthese.synthese_id_synthese_seq', (SELECT max(id_synthese) FROM gn_synthese.synthese))`); err != nil {
		return err
	}
	return exec("sample_data.sql synthese", synthInsert)
}

// statements splits an SQL file at the semicolons outside quotes, and
// drops comment lines.
func statements(sql string) []string {
	var out []string
	var b strings.Builder
	inQuote := false
	for _, line := range strings.SplitAfter(sql, "\n") {
		if !inQuote && strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		for _, r := range line {
			b.WriteRune(r)
			switch {
			case r == '\'':
				inQuote = !inQuote
			case r == ';' && !inQuote:
				if s := strings.TrimSpace(b.String()); s != ";" {
					out = append(out, s)
				}
				b.Reset()
			}
		}
	}
	return out
}

// record is one row of valid_file.csv by column name.
type record map[string]string

func readValid(text string) ([]record, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ';'
	all, err := r.ReadAll()
	if err != nil || len(all) < 2 {
		return nil, fmt.Errorf("geonaturetest: valid_file.csv: %v", err)
	}
	var out []record
	for _, row := range all[1:] {
		rec := record{}
		for i, name := range all[0] {
			rec[name] = row[i]
		}
		out = append(out, rec)
	}
	return out, nil
}

// insertTaxa fills taxref with the taxa the import file describes (all its
// rows, valid or not).
func insertTaxa(ctx context.Context, c *pgx.Conn, rows []record) error {
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r["cd_nom"]] {
			continue
		}
		seen[r["cd_nom"]] = true
		_, err := c.Exec(ctx, `INSERT INTO taxonomie.taxref (cd_nom, cd_ref, id_rang, regne, classe, ordre, famille,
			nom_complet, nom_valide, lb_nom, nom_vern, group1_inpn, group2_inpn)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text, $8::text, split_part($8::text, ' ', 1) || ' ' || split_part($8::text, ' ', 2), NULLIF($9, ''), $10, $11)`,
			atoi(r["cd_nom"]), atoi(r["cd_ref"]), r["rang_taxo"], r["regne"], r["classe"], r["ordre"], r["famille"],
			r["nom_valide"], r["nom_vernaculaire"], r["group1_inpn"], r["group2_inpn"])
		if err != nil {
			return fmt.Errorf("geonaturetest: taxon %s: %w", r["cd_nom"], err)
		}
	}
	return nil
}

// nomenclatureColumns are the import file's columns that hold a
// nomenclature label, with their type and synthese column.
var nomenclatureColumns = []struct{ csv, typ, col string }{
	{"nature_objet_geo", "NAT_OBJ_GEO", "id_nomenclature_geo_object_nature"},
	{"type_regroupement", "TYP_GRP", "id_nomenclature_grp_typ"},
	{"technique_observation", "METH_OBS", "id_nomenclature_obs_technique"},
	{"biologique_statut", "STATUT_BIO", "id_nomenclature_bio_status"},
	{"etat_biologique", "ETA_BIO", "id_nomenclature_bio_condition"},
	{"biogeographique_statut", "STAT_BIOGEO", "id_nomenclature_biogeo_status"},
	{"naturalite", "NATURALITE", "id_nomenclature_naturalness"},
	{"preuve_existante", "PREUVE_EXIST", "id_nomenclature_exist_proof"},
	{"niveau_precision_diffusion", "NIV_PRECIS", "id_nomenclature_diffusion_level"},
	{"stade_vie", "STADE_VIE", "id_nomenclature_life_stage"},
	{"sexe", "SEXE", "id_nomenclature_sex"},
	{"objet_denombrement", "OBJ_DENBR", "id_nomenclature_obj_count"},
	{"type_denombrement", "TYP_DENBR", "id_nomenclature_type_count"},
	{"niveau_sensibilite", "SENSIBILITE", "id_nomenclature_sensitivity"},
	{"statut_observation", "STATUT_OBS", "id_nomenclature_observation_status"},
	{"floutage_dee", "DEE_FLOU", "id_nomenclature_blurring"},
	{"statut_source", "STATUT_SOURCE", "id_nomenclature_source_status"},
	{"type_info_geo", "TYP_INF_GEO", "id_nomenclature_info_geo_type"},
	{"methode_determination", "METH_DETERMIN", "id_nomenclature_determination_method"},
	{"comportement", "OCC_COMPORTEMENT", "id_nomenclature_behaviour"},
	{"niveau_validation", "STATUT_VALID", "id_nomenclature_valid_status"},
}

// insertValid turns the rows of the import file that GeoNature's import
// accepts (error "valid") into synthese rows, the way the import maps
// them: labels to nomenclature ids, WKT in EPSG:4326 to the_geom_4326, its
// projection to the_geom_local, date and hour to date_min/date_max.
func insertValid(ctx context.Context, c *pgx.Conn, rows []record) error {
	for _, r := range rows {
		if r["error"] != "valid" {
			continue
		}
		cols := []string{"id_synthese", "unique_id_sinp", "entity_source_pk_value", "id_dataset",
			"comment_context", "comment_description", "date_min", "date_max", "cd_nom", "nom_cite",
			"count_min", "count_max", "altitude_min", "altitude_max", "depth_min", "depth_max",
			"observers", "determiner", "the_geom_4326", "place_name", "validator", "digital_proof",
			"non_digital_proof", "precision", "grp_method", "reference_biblio", "meta_create_date", "meta_update_date"}
		id := atoi(r["id_synthese"])
		// The import gives a row without one a permanent id; here a
		// reproducible one.
		uuid := r["uuid_perm_sinp"]
		if uuid == "" {
			sum := sha256.Sum256([]byte("valid_file.csv:" + r["id_synthese"]))
			h := hex.EncodeToString(sum[:16])
			uuid = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		}
		vals := []any{id, uuid, r["id_origine"], atoi(r["jdd_id"]),
			null(r["comment_releve"]), null(r["comment_occurrence"]),
			when(r["date_debut"], r["heure_debut"]), when(coalesce(r["date_fin"], r["date_debut"]), r["heure_fin"]),
			atoi(r["cd_nom"]), r["nom_cite"],
			intOrNil(r["nombre_min"]), intOrNil(r["nombre_max"]), intOrNil(r["alti_min"]), intOrNil(r["alti_max"]),
			intOrNil(r["prof_min"]), intOrNil(r["prof_max"]),
			null(r["observateurs"]), null(r["determinateur"]), r["geometrie_wkt_4326"], null(r["nom_lieu"]),
			null(r["validateur"]), null(r["preuve_numerique_url"]), null(r["preuve_non_numerique"]),
			intOrNil(r["precision_geographique"]), null(r["methode_regroupement"]), null(r["reference_biblio"]),
			null(r["date_creation"]), null(r["date_modification"])}
		exprs := make([]string, len(cols))
		for i := range cols {
			exprs[i] = "$" + strconv.Itoa(i+1)
			if cols[i] == "the_geom_4326" {
				exprs[i] = "ST_GeomFromText($" + strconv.Itoa(i+1) + ", 4326)"
			}
		}
		for _, n := range nomenclatureColumns {
			label := r[n.csv]
			if label == "" {
				continue
			}
			vals = append(vals, n.typ, label)
			cols = append(cols, n.col)
			exprs = append(exprs, fmt.Sprintf(`(SELECT ref_nomenclatures.nomenclature_by_label($%d, $%d))`, len(vals)-1, len(vals)))
		}
		cols = append(cols, "the_geom_local", "the_geom_point")
		exprs = append(exprs, "ST_Transform(ST_GeomFromText($19, 4326), 2154)", "ST_Centroid(ST_GeomFromText($19, 4326))")
		sql := "INSERT INTO gn_synthese.synthese (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(exprs, ", ") + ")"
		if _, err := c.Exec(ctx, labelFunction); err != nil {
			return fmt.Errorf("geonaturetest: %w", err)
		}
		if _, err := c.Exec(ctx, sql, vals...); err != nil {
			return fmt.Errorf("geonaturetest: valid_file.csv row %d: %w", id, err)
		}
	}
	_, err := c.Exec(ctx, `DROP FUNCTION IF EXISTS ref_nomenclatures.nomenclature_by_label(text, text)`)
	return err
}

// labelFunction finds a nomenclature by the label (or code) the import
// file gives, as GeoNature's import does, and fails on an unknown one.
const labelFunction = `CREATE OR REPLACE FUNCTION ref_nomenclatures.nomenclature_by_label(typ text, label text) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE id integer;
BEGIN
    SELECT n.id_nomenclature INTO id FROM ref_nomenclatures.t_nomenclatures n
    JOIN ref_nomenclatures.bib_nomenclatures_types t ON t.id_type = n.id_type
    WHERE t.mnemonique = typ AND (lower(n.label_default) = lower(label) OR lower(n.mnemonique) = lower(label) OR n.cd_nomenclature = label)
    ORDER BY (lower(n.label_default) = lower(label)) DESC, n.id_nomenclature LIMIT 1;
    IF id IS NULL THEN
        RAISE EXCEPTION 'no % nomenclature labelled %', typ, label;
    END IF;
    RETURN id;
END $$`

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func intOrNil(s string) any {
	if s == "" {
		return nil
	}
	return atoi(s)
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func coalesce(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func when(day, hour string) string {
	if hour == "" {
		return day
	}
	return day + " " + hour
}
