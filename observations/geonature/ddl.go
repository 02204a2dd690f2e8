package geonature

import (
	"fmt"
	"strings"

	"sinp.occitanie.fr/observations/source"
)

// reference is the adapter's own data: the pôles and the INPN-group→pôle
// mapping (as the store's migration 0001), and which ref_geo area types are
// which kind of geographic object. Operators may add rows (another
// group2_inpn, another area type): Install never overwrites them.
const reference = `
CREATE TABLE IF NOT EXISTS oc_dat.geonature_install (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    digest       text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE oc_dat.geonature_install IS 'Marks oc_dat as the GeoNature adapter''s (sinp store init --source geonature): the digest of the views installed.';

CREATE TABLE IF NOT EXISTS oc_dat.pole (
    code    text PRIMARY KEY,
    nom     text NOT NULL,
    ordre   integer NOT NULL UNIQUE
);
COMMENT ON TABLE oc_dat.pole IS 'The six thematic pôles; each reviews the sensitive data of its taxa.';
INSERT INTO oc_dat.pole (code, nom, ordre) VALUES
    ('flore', 'Flore / Fonge', 1),
    ('invertebres', 'Invertébrés', 2),
    ('mammiferes', 'Mammifères', 3),
    ('reptiles_amphibiens', 'Reptiles-Amphibiens', 4),
    ('oiseaux', 'Oiseaux', 5),
    ('poissons', 'Poissons', 6)
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS oc_dat.pole_groupe (
    group2_inpn text PRIMARY KEY,
    pole        text NOT NULL REFERENCES oc_dat.pole
);
COMMENT ON TABLE oc_dat.pole_groupe IS 'Taxon-to-pôle mapping: which pôle handles each INPN group (taxonomie.taxref.group2_inpn).';
INSERT INTO oc_dat.pole_groupe (group2_inpn, pole) VALUES
    ('Angiospermes', 'flore'),
    ('Gymnospermes', 'flore'),
    ('Fougères', 'flore'),
    ('Mousses', 'flore'),
    ('Hépatiques et Anthocérotes', 'flore'),
    ('Lichens', 'flore'),
    ('Champignons', 'flore'),
    ('Algues', 'flore'),
    ('Insectes', 'invertebres'),
    ('Arachnides', 'invertebres'),
    ('Crustacés', 'invertebres'),
    ('Mollusques', 'invertebres'),
    ('Myriapodes', 'invertebres'),
    ('Annélides', 'invertebres'),
    ('Autres invertébrés', 'invertebres'),
    ('Mammifères', 'mammiferes'),
    ('Reptiles', 'reptiles_amphibiens'),
    ('Amphibiens', 'reptiles_amphibiens'),
    ('Oiseaux', 'oiseaux'),
    ('Poissons', 'poissons')
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS oc_dat.geonature_area_type (
    type_code text PRIMARY KEY,   -- ref_geo.bib_areas_types.type_code
    kind      text NOT NULL CHECK (kind IN ('commune', 'maille10', 'departement', 'espace_naturel')),
    type_en   text CHECK ((kind = 'espace_naturel') = (type_en IS NOT NULL))  -- nomenclature TYP_EN
);
COMMENT ON TABLE oc_dat.geonature_area_type IS 'Which ref_geo area types are communes, 10 km cells, départements and natural areas (with their TYP_EN code). Other types are ignored.';
INSERT INTO oc_dat.geonature_area_type (type_code, kind, type_en) VALUES
    ('COM', 'commune', NULL),
    ('M10', 'maille10', NULL),
    ('DEP', 'departement', NULL),
    ('ZNIEFF1', 'espace_naturel', 'ZNIEFF1'),
    ('ZNIEFF2', 'espace_naturel', 'ZNIEFF2'),
    ('ZPS', 'espace_naturel', 'N2000'),
    ('ZSC', 'espace_naturel', 'N2000'),
    ('SIC', 'espace_naturel', 'N2000'),
    ('APB', 'espace_naturel', 'APB'),
    ('RNN', 'espace_naturel', 'RNN'),
    ('RNR', 'espace_naturel', 'RNR'),
    ('RNCFS', 'espace_naturel', 'RNCFS'),
    ('RBIOL', 'espace_naturel', 'RBD'),
    ('RBIOS', 'espace_naturel', 'MAB'),
    ('ZC', 'espace_naturel', 'CPN'),
    ('AA', 'espace_naturel', 'AAPN'),
    ('RIPN', 'espace_naturel', 'RIPN'),
    ('PNR', 'espace_naturel', 'PNR'),
    ('PNM', 'espace_naturel', 'PNM'),
    ('SRAM', 'espace_naturel', 'RAMSAR'),
    ('SCEN', 'espace_naturel', 'SCEN'),
    ('SCL', 'espace_naturel', 'SCL'),
    ('ENS', 'espace_naturel', 'ENS')
ON CONFLICT DO NOTHING;
`

// relations are what Install drops and recreates when its definitions
// change, in dependency order (dropped in reverse).
var relations = []struct{ name, kind string }{
	{"oc_dat.geonature_area", "MATERIALIZED VIEW"},
	{"oc_dat.v_extract_area", "VIEW"},
	{"oc_dat.v_extract_source", "MATERIALIZED VIEW"},
	{"oc_dat.v_extract_dataset", "VIEW"},
	{"oc_dat.v_extract_nomenclature", "VIEW"},
	{"oc_dat.v_extract_pole", "VIEW"},
}

// materialized are the relations Refresh refreshes, in order.
var materialized = []string{"oc_dat.geonature_area", "oc_dat.v_extract_source"}

// site is what the definitions depend on in the GeoNature database.
type site struct {
	areaSRID  int    // SRID of ref_geo.l_areas.geom
	localSRID int    // SRID of gn_synthese.synthese.the_geom_local (0: none)
	zone      string // the database's default TimeZone
}

// to2154 is the expression of geometry col (of SRID srid) in EPSG:2154.
func to2154(col string, srid int) string {
	if srid == 2154 {
		return col
	}
	return "ST_Transform(" + col + ", 2154)"
}

// cellCode builds the store's grid code (10kmL93E074N695: lower-left
// corner x=740000, y=6950000) from a cell's geometry: the centre of its
// box, so that a cell clipped at a border or a corner off by a rounding
// error still names its square.
const cellCode = `format('10kmL93E%sN%s',
	lpad(floor((ST_XMin(x.geom) + ST_XMax(x.geom)) / 20000)::integer::text, 3, '0'),
	lpad(floor((ST_YMin(x.geom) + ST_YMax(x.geom)) / 20000)::integer::text, 3, '0'))`

// definitions is the SQL that creates the relations, their indexes and
// comments, WITH DATA.
func definitions(st site) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
CREATE MATERIALIZED VIEW oc_dat.geonature_area AS
SELECT a.id_area, k.kind,
    CASE k.kind WHEN 'maille10' THEN %[2]s ELSE a.area_code::text END AS code,
    CASE k.kind WHEN 'maille10' THEN %[2]s ELSE a.area_name::text END AS name,
    k.type_en AS type,
    bt.ref_name::text AS referential,
    coalesce(bt.ref_version::text, bt.num_version::text) AS version,
    x.geom
FROM ref_geo.l_areas a
JOIN ref_geo.bib_areas_types bt ON bt.id_type = a.id_type
JOIN oc_dat.geonature_area_type k ON k.type_code = bt.type_code
CROSS JOIN LATERAL (SELECT ST_Multi(%[1]s)::geometry AS geom) x
WHERE a.enable AND a.geom IS NOT NULL;
CREATE UNIQUE INDEX geonature_area_id_idx ON oc_dat.geonature_area (id_area);
CREATE INDEX geonature_area_code_idx ON oc_dat.geonature_area (kind, code);
CREATE INDEX geonature_area_geom_idx ON oc_dat.geonature_area USING gist (geom);
COMMENT ON MATERIALIZED VIEW oc_dat.geonature_area IS
'ref_geo''s communes, 10 km cells, départements and natural areas (types in oc_dat.geonature_area_type) in EPSG:2154, '
'with the store''s codes (cells renamed 10kmL93E074N695 from their geometry). Refreshed by sinp store refresh.';
`, to2154("a.geom", st.areaSRID), cellCode)

	b.WriteString(`
CREATE VIEW oc_dat.v_extract_area AS
SELECT kind, code, name, type, referential, version, geom FROM oc_dat.geonature_area;
COMMENT ON VIEW oc_dat.v_extract_area IS
'Geographic objects observations are attached to, by kind (commune, maille10, departement, espace_naturel) and code, '
'with their name, type, referential and MultiPolygon geometry in EPSG:2154: what blurring, attached observations and '
'the attachments'' companion fields take their values from. '
'From GeoNature''s ref_geo (oc_dat.geonature_area, indexed on kind and code and on geom).';
COMMENT ON COLUMN oc_dat.v_extract_area.kind IS 'commune, maille10, departement or espace_naturel';
COMMENT ON COLUMN oc_dat.v_extract_area.code IS 'INSEE code (commune, département), grid code 10kmL93E074N695 (lower-left corner x=740000, y=6950000), or natural-area identifier';
COMMENT ON COLUMN oc_dat.v_extract_area.name IS 'Name of the object (the code for grid cells): nomCommune';
COMMENT ON COLUMN oc_dat.v_extract_area.type IS 'Type of a natural area, nomenclature TYP_EN (typeEN); NULL for the other kinds';
COMMENT ON COLUMN oc_dat.v_extract_area.referential IS 'Referential the object comes from (nomRefMaille for grid cells)';
COMMENT ON COLUMN oc_dat.v_extract_area.version IS 'Year or version of that referential (anneeRefCommune, versionRefMaille, anneeRefDepartement, versionEN)';
COMMENT ON COLUMN oc_dat.v_extract_area.geom IS 'MultiPolygon, EPSG:2154';
`)

	geom := to2154("s.the_geom_4326", 4326)
	if st.localSRID == 2154 {
		geom = "coalesce(s.the_geom_local, " + geom + ")"
	}
	list, joins := selectList(st.zone)
	fmt.Fprintf(&b, `
CREATE MATERIALIZED VIEW oc_dat.v_extract_source AS
WITH located AS (
    -- Georeferenced observations: the objects of cor_area_synthese (what
    -- GeoNature's triggers found intersecting the geometry).
    SELECT c.id_synthese,
        coalesce(array_agg(DISTINCT a.code ORDER BY a.code) FILTER (WHERE a.kind = 'commune'), '{}') AS communes,
        coalesce(array_agg(DISTINCT a.code ORDER BY a.code) FILTER (WHERE a.kind = 'maille10'), '{}') AS mailles10,
        coalesce(array_agg(DISTINCT a.code ORDER BY a.code) FILTER (WHERE a.kind = 'departement'), '{}') AS departements,
        coalesce(array_agg(DISTINCT a.code ORDER BY a.code) FILTER (WHERE a.kind = 'espace_naturel'), '{}') AS espaces_naturels
    FROM gn_synthese.cor_area_synthese c
    JOIN oc_dat.geonature_area a ON a.id_area = c.id_area
    GROUP BY c.id_synthese
), attached AS (
    -- Objects observations are attached to: the object itself, the objects
    -- of the other kinds whose interior meets its interior, nothing finer
    -- than a département for a département.
    SELECT x.id_area,
        CASE x.kind WHEN 'commune' THEN ARRAY[x.code] WHEN 'departement' THEN '{}' ELSE ARRAY(
            SELECT DISTINCT o.code FROM oc_dat.geonature_area o
            WHERE o.kind = 'commune' AND o.geom && x.geom AND ST_Relate(o.geom, x.geom, 'T********') ORDER BY o.code) END AS communes,
        CASE x.kind WHEN 'maille10' THEN ARRAY[x.code] WHEN 'departement' THEN '{}' ELSE ARRAY(
            SELECT DISTINCT o.code FROM oc_dat.geonature_area o
            WHERE o.kind = 'maille10' AND o.geom && x.geom AND ST_Relate(o.geom, x.geom, 'T********') ORDER BY o.code) END AS mailles10,
        CASE x.kind WHEN 'departement' THEN ARRAY[x.code] ELSE ARRAY(
            SELECT DISTINCT o.code FROM oc_dat.geonature_area o
            WHERE o.kind = 'departement' AND o.geom && x.geom AND ST_Relate(o.geom, x.geom, 'T********') ORDER BY o.code) END AS departements,
        CASE x.kind WHEN 'espace_naturel' THEN ARRAY[x.code] WHEN 'departement' THEN '{}' ELSE ARRAY(
            SELECT DISTINCT o.code FROM oc_dat.geonature_area o
            WHERE o.kind = 'espace_naturel' AND o.geom && x.geom AND ST_Relate(o.geom, x.geom, 'T********') ORDER BY o.code) END AS espaces_naturels
    FROM oc_dat.geonature_area x
    WHERE x.id_area IN (SELECT DISTINCT id_area_attachment FROM gn_synthese.synthese WHERE id_area_attachment IS NOT NULL)
)
SELECT
    %[2]s
FROM gn_synthese.synthese s
LEFT JOIN taxonomie.taxref t ON t.cd_nom = s.cd_nom
LEFT JOIN oc_dat.pole_groupe pg ON pg.group2_inpn = t.group2_inpn
LEFT JOIN gn_meta.t_datasets d ON d.id_dataset = s.id_dataset
LEFT JOIN ref_nomenclatures.t_nomenclatures nd ON nd.id_nomenclature = d.id_nomenclature_data_origin
LEFT JOIN ref_nomenclatures.t_nomenclatures nsensi ON nsensi.id_nomenclature = s.id_nomenclature_sensitivity
LEFT JOIN oc_dat.geonature_area att ON att.id_area = s.id_area_attachment
LEFT JOIN located l ON l.id_synthese = s.id_synthese AND att.id_area IS NULL
LEFT JOIN attached aa ON aa.id_area = att.id_area
%[3]s
CROSS JOIN LATERAL (SELECT CASE WHEN att.id_area IS NULL THEN ST_Force2D(%[1]s) END AS geom) g
CROSS JOIN LATERAL (SELECT %[4]s AS level) sensi
CROSS JOIN LATERAL (
    SELECT coalesce(aa.communes, l.communes, '{}') AS communes,
        coalesce(aa.mailles10, l.mailles10, '{}') AS mailles10,
        coalesce(aa.departements, CASE WHEN cardinality(l.departements) > 0 THEN l.departements END,
            -- no département area: those of the communes' INSEE codes
            ARRAY(SELECT DISTINCT CASE WHEN c LIKE '97%%' THEN left(c, 3) ELSE left(c, 2) END
                  FROM unnest(l.communes) c ORDER BY 1)) AS departements,
        coalesce(aa.espaces_naturels, l.espaces_naturels, '{}') AS espaces_naturels
) arr
-- The extractor finds an observation through its geometry or its
-- attachment, and files it under a pôle: others could never be extracted.
WHERE (g.geom IS NOT NULL OR att.id_area IS NOT NULL) AND pg.pole IS NOT NULL;
`, geom, strings.Join(list, ",\n    "), strings.Join(joins, "\n"), sensitivityLevel)

	b.WriteString(`
CREATE UNIQUE INDEX v_extract_source_id_idx ON oc_dat.v_extract_source (id);
CREATE INDEX v_extract_source_geom_idx ON oc_dat.v_extract_source USING gist (geom);
CREATE INDEX v_extract_source_communes_idx ON oc_dat.v_extract_source USING gin (communes);
CREATE INDEX v_extract_source_mailles10_idx ON oc_dat.v_extract_source USING gin (mailles10);
CREATE INDEX v_extract_source_departements_idx ON oc_dat.v_extract_source USING gin (departements);
CREATE INDEX v_extract_source_espaces_naturels_idx ON oc_dat.v_extract_source USING gin (espaces_naturels);
CREATE INDEX v_extract_source_att_commune_idx ON oc_dat.v_extract_source USING gin (communes) WHERE rattachement = 'commune';
CREATE INDEX v_extract_source_att_maille10_idx ON oc_dat.v_extract_source USING gin (mailles10) WHERE rattachement = 'maille10';
CREATE INDEX v_extract_source_att_departement_idx ON oc_dat.v_extract_source USING gin (departements) WHERE rattachement = 'departement';
CREATE INDEX v_extract_source_att_espace_naturel_idx ON oc_dat.v_extract_source USING gin (espaces_naturels) WHERE rattachement = 'espace_naturel';
CREATE INDEX v_extract_source_cd_ref_idx ON oc_dat.v_extract_source (cd_ref);
CREATE INDEX v_extract_source_precision_idx ON oc_dat.v_extract_source (precision_geometrie);
CREATE INDEX v_extract_source_date_debut_idx ON oc_dat.v_extract_source (date_debut);
CREATE INDEX v_extract_source_jdd_idx ON oc_dat.v_extract_source (jdd_id);
CREATE INDEX v_extract_source_pole_idx ON oc_dat.v_extract_source (pole);
CREATE INDEX v_extract_source_sensible_idx ON oc_dat.v_extract_source (sensi_niveau) WHERE sensi_niveau > 0;
COMMENT ON MATERIALIZED VIEW oc_dat.v_extract_source IS
'What the extractor reads, from GeoNature''s gn_synthese.synthese: one row per observation with every exported column (codes stay codes), '
'its geometry in EPSG:2154 (NULL when the observation is only attached to geographic objects), '
'its attachment codes, pôle, sensitivity and diffusion levels. '
'Attachment arrays (communes, mailles10, departements, espaces_naturels) are never NULL: for a georeferenced '
'observation they list the objects of gn_synthese.cor_area_synthese; for an attached one (id_area_attachment) '
'the object it is attached to, the objects of the other kinds it meets, and nothing finer than a département '
'for an observation attached to a département. '
'Materialized: refreshed by sinp store refresh (observations/geonature).';
`)
	for _, c := range source.Columns {
		fmt.Fprintf(&b, "COMMENT ON COLUMN oc_dat.v_extract_source.%s IS %s;\n", c.View, quote(comment(c)))
	}

	b.WriteString(`
CREATE VIEW oc_dat.v_extract_dataset AS
SELECT
    d.id_dataset::integer AS id,
    d.unique_dataset_id::uuid AS id_sinp_jdd,
    d.dataset_shortname::text AS code,
    d.dataset_name::text AS titre,
    d.dataset_desc::text AS description,
    NULL::text AS pole,
    NULL::text AS pole_nom,
    NULL::text AS producteur,
    NULL::text AS contact_nom,
    NULL::text AS contact_email,
    NULL::text AS licence,
    NULL::text AS conditions_diffusion,
    NULL::text AS citation,
    nd.cd_nomenclature::text AS ds_publique,
    NULL::text AS diffusion_niveau_precision,
    NULL::date AS date_debut,
    NULL::date AS date_fin,
    d.meta_create_date::date AS date_creation,
    d.meta_update_date::date AS date_revision,
    c.id_acquisition_framework::integer AS ca_id,
    c.unique_acquisition_framework_id::uuid AS ca_id_sinp,
    c.acquisition_framework_name::text AS ca_titre,
    c.acquisition_framework_desc::text AS ca_description,
    c.target_description::text AS ca_objectif,
    c.territory_desc::text AS ca_territoire,
    NULL::text AS ca_maitre_ouvrage,
    NULL::text AS ca_maitre_oeuvre,
    nf.label_default::text AS ca_financement,
    c.acquisition_framework_start_date::date AS ca_date_lancement,
    c.acquisition_framework_end_date::date AS ca_date_cloture
FROM gn_meta.t_datasets d
JOIN gn_meta.t_acquisition_frameworks c ON c.id_acquisition_framework = d.id_acquisition_framework
LEFT JOIN ref_nomenclatures.t_nomenclatures nd ON nd.id_nomenclature = d.id_nomenclature_data_origin
LEFT JOIN ref_nomenclatures.t_nomenclatures nf ON nf.id_nomenclature = c.id_nomenclature_financing_type;
COMMENT ON VIEW oc_dat.v_extract_dataset IS
'Dataset (jeu de données) and acquisition-framework (cadre d''acquisition) metadata for the metadata sheets, from gn_meta: '
'one row per dataset, joined on v_extract_source.jdd_id = id.';
COMMENT ON COLUMN oc_dat.v_extract_dataset.id IS 'Dataset id in the platform (v_extract_source.jdd_id)';
COMMENT ON COLUMN oc_dat.v_extract_dataset.id_sinp_jdd IS 'SINP metadata id of the dataset (v_extract_source.jdd_meta_id)';
COMMENT ON COLUMN oc_dat.v_extract_dataset.titre IS 'Title of the dataset';
COMMENT ON COLUMN oc_dat.v_extract_dataset.ds_publique IS 'DS_PUBLIQUE code of the dataset';

CREATE VIEW oc_dat.v_extract_nomenclature AS
SELECT ty.mnemonique::text AS type, n.cd_nomenclature::text AS code, n.label_default::text AS label, n.definition_default::text AS definition
FROM ref_nomenclatures.t_nomenclatures n
JOIN ref_nomenclatures.bib_nomenclatures_types ty ON ty.id_type = n.id_type;
COMMENT ON VIEW oc_dat.v_extract_nomenclature IS
'SINP nomenclature codes and labels, from ref_nomenclatures: decodes every coded column of v_extract_source (the column''s nomenclature type is in the catalogue).';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.type IS 'Nomenclature type (SINP mnemonic), e.g. SENSIBILITE';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.code IS 'Code as carried by observations';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.label IS 'Label (French)';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.definition IS 'Definition, when the store ships one';

CREATE VIEW oc_dat.v_extract_pole AS
SELECT p.code, p.nom AS name, p.ordre AS sort_order
FROM oc_dat.pole p;
COMMENT ON VIEW oc_dat.v_extract_pole IS
'The thematic pôles: v_extract_source.pole codes, their names and the platform''s order (sort_order).';
COMMENT ON COLUMN oc_dat.v_extract_pole.code IS 'Pôle code, as in v_extract_source.pole and v_extract_dataset.pole';
COMMENT ON COLUMN oc_dat.v_extract_pole.name IS 'Name of the pôle (French)';
COMMENT ON COLUMN oc_dat.v_extract_pole.sort_order IS 'Rank of the pôle in the platform''s lists, from 1';
`)
	return b.String()
}
