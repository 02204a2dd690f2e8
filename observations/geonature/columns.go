package geonature

import (
	"fmt"
	"strings"

	"sinp.occitanie.fr/observations/source"
)

// In the expressions below, s is gn_synthese.synthese, t its taxon
// (taxonomie.taxref on cd_nom), d its dataset (gn_meta.t_datasets), pg the
// pôle of the taxon's group2_inpn, att the object an attached observation is
// attached to (oc_dat.geonature_area), arr the attachment arrays, g.geom the
// geometry in EPSG:2154 (NULL for an attached observation), and
// nomenclature(col) the SINP code (cd_nomenclature) of s.col.

// columns maps each column of the catalogue (source.Columns) to its
// GeoNature expression. A column the catalogue gains and this map lacks is
// installed as NULL (the extractor keeps running) and fails
// TestEveryColumnIsDecided until someone decides where it comes from.
var columns = map[string]string{
	"id":             "s.id_synthese",
	"pole":           "pg.pole",
	"type_geometrie": "CASE ST_Dimension(g.geom) WHEN 0 THEN 'points' WHEN 1 THEN 'lignes' WHEN 2 THEN 'polygones' ELSE 'obj_geograph' END",
	"rattachement":   "att.kind",

	"id_sinp_occtax":     "s.unique_id_sinp",
	"id_origine":         "s.entity_source_pk_value",
	"statut_observation": "nomenclature(id_nomenclature_observation_status)",
	"cd_nom":             "s.cd_nom",
	"cd_ref":             "t.cd_ref",
	"nom_cite":           "s.nom_cite",
	"nom_valide":         "t.nom_valide",
	"version_taxref":     "s.meta_v_taxref",
	"date_debut":         "s.date_min",
	// GeoNature records a date without an hour at midnight.
	"heure_debut":        "NULLIF(s.date_min::time, '00:00')",
	"date_fin":           "s.date_max",
	"heure_fin":          "NULLIF(s.date_max::time, '00:00')",
	"date_determination": "NULL",
	"denombrement_min":   "s.count_min",
	"denombrement_max":   "s.count_max",
	"objet_denombrement": "nomenclature(id_nomenclature_obj_count)",
	"type_denombrement":  "nomenclature(id_nomenclature_type_count)",

	"observateur":                   "s.observers",
	"observateur_organisme":         "NULL",
	"determinateur":                 "s.determiner",
	"determinateur_organisme":       "NULL",
	"validateur":                    "s.validator",
	"validateur_organisme":          "NULL",
	"organisme_gestionnaire_donnee": "NULL",
	"organisme_standard":            "NULL",
	"org_transformation":            "NULL",
	"statut_source":                 "nomenclature(id_nomenclature_source_status)",
	"reference_biblio":              "s.reference_biblio",
	// GeoNature keeps the public/private origin on the dataset.
	"ds_publique":   "nd.cd_nomenclature",
	"jdd_id":        "s.id_dataset",
	"jdd_code":      "d.dataset_shortname",
	"jdd_source_id": "NULL",
	"jdd_meta_id":   "d.unique_dataset_id",

	"id_regroupement":      "s.unique_id_sinp_grp",
	"methode_regroupement": "s.grp_method",
	"type_regroupement":    "nomenclature(id_nomenclature_grp_typ)",
	"nature_objet_geo":     "nomenclature(id_nomenclature_geo_object_nature)",
	"precision_geometrie":  "s.\"precision\"",
	"dee_floutage":         "nomenclature(id_nomenclature_blurring)",

	"communes":         "arr.communes",
	"mailles10":        "arr.mailles10",
	"departements":     "arr.departements",
	"espaces_naturels": "arr.espaces_naturels",

	"altitude_min":       "s.altitude_min",
	"altitude_max":       "s.altitude_max",
	"altitude_moyenne":   "NULL",
	"profondeur_min":     "s.depth_min",
	"profondeur_max":     "s.depth_max",
	"profondeur_moyenne": "NULL",
	"nom_lieu":           "s.place_name",
	"commentaire":        "NULL",
	"obs_contexte":       "s.comment_context",
	"obs_description":    "s.comment_description",

	"obs_technique":              "nomenclature(id_nomenclature_obs_technique)",
	"occ_etat_biologique":        "nomenclature(id_nomenclature_bio_condition)",
	"occ_methode_determination":  "nomenclature(id_nomenclature_determination_method)",
	"occ_naturalite":             "nomenclature(id_nomenclature_naturalness)",
	"occ_sexe":                   "nomenclature(id_nomenclature_sex)",
	"occ_stade_de_vie":           "nomenclature(id_nomenclature_life_stage)",
	"occ_statut_biogeographique": "nomenclature(id_nomenclature_biogeo_status)",
	"occ_statut_biologique":      "nomenclature(id_nomenclature_bio_status)",
	"occ_comportement":           "nomenclature(id_nomenclature_behaviour)",
	"preuve_existante":           "nomenclature(id_nomenclature_exist_proof)",
	"preuve_numerique":           "s.digital_proof",
	"preuve_non_numerique":       "s.non_digital_proof",
	"statut_validation":          "nomenclature(id_nomenclature_valid_status)",
	"diffusion_niveau_precision": "nomenclature(id_nomenclature_diffusion_level)",

	"sensible":     "CASE WHEN sensi.level > 0 THEN 'OUI' ELSE 'NON' END",
	"sensi_niveau": "sensi.level",
	// GeoNature's synthese keeps the level only: when and by which rules it
	// was computed is not recorded per observation.
	"sensi_date_attribution":    "NULL",
	"sensi_referentiel":         "NULL",
	"sensi_version_referentiel": "NULL",
	"sensi_manuelle":            "'NON'",
	// The zone is the database's default TimeZone, read at install time.
	"dee_date_derniere_modification": "s.meta_update_date AT TIME ZONE {{zone}}",
	"geom":                           "g.geom",
}

// sensitivityLevel is the SENSIBILITE level of an observation: NULL (the
// synthese triggers that compute it did not run) reads as 0, as GeoNature's
// own filters read it; a code that is not a level reads as 4, no diffusion.
const sensitivityLevel = `CASE WHEN nsensi.cd_nomenclature IS NULL THEN 0
	WHEN nsensi.cd_nomenclature IN ('0', '1', '2', '3', '4') THEN nsensi.cd_nomenclature::integer ELSE 4 END`

// selectList is the select list of oc_dat.v_extract_source in catalogue
// order, every expression cast to the catalogue's type, and the joins the
// nomenclature codes need.
func selectList(zone string) (list []string, joins []string) {
	seen := map[string]bool{}
	for _, c := range source.Columns {
		expr, ok := columns[c.View]
		if !ok || c.Group == source.Status {
			// GeoNature keeps statuses in taxonomie.bdc_statut, keyed by
			// texts this adapter does not map yet.
			expr = "NULL"
		}
		expr = strings.ReplaceAll(expr, "{{zone}}", quote(zone))
		if col, ok := strings.CutPrefix(expr, "nomenclature("); ok {
			col = strings.TrimSuffix(col, ")")
			alias := "n_" + strings.TrimPrefix(col, "id_nomenclature_")
			if !seen[alias] {
				seen[alias] = true
				joins = append(joins, fmt.Sprintf("LEFT JOIN ref_nomenclatures.t_nomenclatures %[1]s ON %[1]s.id_nomenclature = s.%[2]s", alias, col))
			}
			expr = alias + ".cd_nomenclature"
		}
		list = append(list, fmt.Sprintf("(%s)::%s AS %s", expr, c.SQLType, c.View))
	}
	return list, joins
}

// comment is the column's comment as the store's view carries it:
// 'csvName: meaning [NOMENCLATURE]' (the meaning alone for internal ones).
func comment(c source.Column) string {
	s := c.Meaning
	if c.Exported() {
		s = c.CSV + ": " + s
	}
	if c.Nomenclature != "" {
		s += " [" + c.Nomenclature + "]"
	}
	return s
}

// quote is s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
