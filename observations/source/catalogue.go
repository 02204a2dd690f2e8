// Package source is the contract between the observation store and the
// extractor: the catalogue of the columns of oc_dat.v_extract_source, in view
// order, with the CSV name, type, meaning and nomenclature of each exported
// column. The extractor writes its CSV header and descriptor file from it; a
// test checks that it and the view agree exactly.
package source

import "strings"

// View is the relation the extractor reads observations from.
const View = "oc_dat.v_extract_source"

// Type is how a column is written in the CSV (and declared in the CSVT
// sidecar that lets GDAL/QGIS open the file typed).
type Type string

const (
	String     Type = "String"
	Integer    Type = "Integer"
	Real       Type = "Real"
	Date       Type = "Date"     // YYYY-MM-DD
	DateTime   Type = "DateTime" // RFC 3339
	Time       Type = "Time"     // HH:MM
	WKT        Type = "WKT"      // geometry as WKT, EPSG:2154
	StringList Type = "StringList"
)

// CSVT is the type name for a GDAL .csvt sidecar.
func (t Type) CSVT() string {
	switch t {
	case Integer, Real, Date, DateTime, Time, WKT:
		return string(t)
	}
	return "String"
}

// Group says what a column is.
type Group string

const (
	Standard Group = "standard" // a field of the Occurrence de Taxon standard (v1.2.1), spelled as it spells it
	Addition Group = "addition" // the platform's addition to the standard
	Geometry Group = "geometry" // the observation's own geometry
	Status   Group = "status"   // a taxon status (one column per status type)
	Internal Group = "internal" // used by the extractor, not written to the CSV
)

// Column is one column of v_extract_source.
type Column struct {
	View         string // column name in the view
	CSV          string // header in the CSV; empty for internal columns
	Type         Type
	SQLType      string // PostgreSQL type as format_type() prints it
	Group        Group
	Nomenclature string // SINP nomenclature type of the codes, e.g. SENSIBILITE
	// Precise columns are nulled when a sensitive row is blurred (F1): they
	// would locate the observation more precisely than its blurred geometry.
	Precise bool
	Meaning string // one line, French (English)
}

// Exported reports whether the column is written to the CSV.
func (c Column) Exported() bool { return c.Group != Internal }

// StatusType is one taxon status type; its column holds the taxon's value.
type StatusType struct {
	Code   string // oc_dat.statut_type.code
	Column string // view column
	CSV    string
	Label  string
}

// StatusTypes are the status types, in column order. They match the rows of
// oc_dat.statut_type.
var StatusTypes = []StatusType{
	{"BERN", "statut_berne", "statutBerne", "Convention de Berne (annexe)"},
	{"BONN", "statut_bonn", "statutBonn", "Convention de Bonn (annexe)"},
	{"CITES", "statut_cites", "statutCITES", "Convention de Washington, règlement CITES (annexe)"},
	{"CHASSE", "statut_chasse", "statutChasse", "Espèce chassable"},
	{"DH", "statut_directive_habitats", "statutDirectiveHabitats", "Directive Habitats-Faune-Flore (annexes)"},
	{"DO", "statut_directive_oiseaux", "statutDirectiveOiseaux", "Directive Oiseaux (annexes)"},
	{"MENACE", "statut_menace_extinction", "statutMenaceExtinction", "Espèce menacée d'extinction"},
	{"PRIO_REG", "statut_priorite_regionale", "statutPrioriteRegionale", "Priorité régionale d'action"},
	{"ZNIEFF_FLORE", "statut_hierarchie_znieff_flore", "statutHierarchieZnieffFlore", "Hiérarchisation de la flore ZNIEFF"},
	{"EEE", "statut_invasive", "statutInvasive", "Espèce exotique envahissante"},
	{"LR1995", "statut_livre_rouge_1995", "statutLivreRouge1995", "Livre rouge de la flore menacée de France (1995)"},
	{"LRN", "statut_lr_france", "statutListeRougeFrance", "Liste rouge France"},
	{"LRE", "statut_lr_europe", "statutListeRougeEurope", "Liste rouge Europe"},
	{"LRM", "statut_lr_monde", "statutListeRougeMonde", "Liste rouge mondiale (UICN)"},
	{"LRR", "statut_lr_regionale", "statutListeRougeRegionale", "Liste rouge régionale"},
	{"PN", "statut_protection_nationale", "statutProtectionNationale", "Protection nationale"},
	{"PR", "statut_protection_regionale", "statutProtectionRegionale", "Protection régionale"},
	{"PD", "statut_protection_departementale", "statutProtectionDepartementale", "Protection départementale"},
	{"PNA", "statut_pna", "statutPNA", "Plan national d'actions"},
	{"PREF", "statut_protection_prefectorale", "statutProtectionPrefectorale", "Protection préfectorale"},
	{"LRBRYO", "statut_livre_rouge_bryophytes", "statutLivreRougeBryophytes", "Livre rouge des bryophytes"},
	{"SCAP", "statut_scap", "statutSCAP", "Stratégie de création d'aires protégées (SCAP)"},
	{"SINP", "statut_sinp", "statutSINP", "Statut SINP (espèce sensible)"},
	{"SRCE", "statut_srce", "statutSRCE", "Espèce de cohérence SRCE / trame verte et bleue"},
	{"ZH", "statut_zone_humide", "statutZoneHumide", "Espèce déterminante de zone humide"},
	{"ZNIEFF", "statut_znieff", "statutZNIEFF", "Espèce déterminante ZNIEFF"},
}

func std(view, csv string, t Type, sqlType, nomenclature, meaning string) Column {
	return Column{View: view, CSV: csv, Type: t, SQLType: sqlType, Group: Standard, Nomenclature: nomenclature, Meaning: meaning}
}

func addition(view, csv string, t Type, sqlType, nomenclature, meaning string) Column {
	c := std(view, csv, t, sqlType, nomenclature, meaning)
	c.Group = Addition
	return c
}

func precise(c Column) Column { c.Precise = true; return c }

// Geometry kinds of the type_geometrie column (the partition names).
const (
	KindPoints      = "points"
	KindLines       = "lignes"
	KindPolygons    = "polygones"
	KindAttached    = "obj_geograph"
	AttachCommune   = "commune"
	AttachMaille10  = "maille10"
	AttachDept      = "departement"
	AttachEspaceNat = "espace_naturel"
)

// Columns are the columns of v_extract_source in view order.
var Columns = buildColumns()

func buildColumns() []Column {
	cols := []Column{
		{View: "id", Type: Integer, SQLType: "bigint", Group: Internal, Meaning: "Identifiant stable de l'observation dans la plateforme (stable id)"},
		{View: "pole", Type: String, SQLType: "text", Group: Internal, Meaning: "Code du pôle thématique du taxon, oc_dat.pole (pôle code)"},
		{View: "type_geometrie", Type: String, SQLType: "text", Group: Internal, Meaning: "points, lignes, polygones ou obj_geograph (sans géométrie propre) (geometry kind, partition key)"},
		{View: "rattachement", Type: String, SQLType: "text", Group: Internal, Meaning: "Sans géométrie : type d'objet de rattachement commune, maille10, departement, espace_naturel (kind of attachment object)"},
		std("id_sinp_occtax", "identifiantPermanent", String, "uuid", "", "Identifiant permanent SINP de l'occurrence (permanent SINP id)"),
		std("id_origine", "identifiantOrigine", String, "text", "", "Identifiant de la donnée chez le producteur (producer's id)"),
		std("statut_observation", "statutObservation", String, "text", "STATUT_OBS", "Présence ou absence constatée (present / not observed)"),
		std("cd_nom", "cdNom", Integer, "integer", "", "Code TAXREF du nom cité (TAXREF name id)"),
		std("cd_ref", "cdRef", Integer, "integer", "", "Code TAXREF du taxon de référence (TAXREF valid taxon id)"),
		std("nom_cite", "nomCite", String, "text", "", "Nom du taxon cité par l'observateur (name as cited)"),
		addition("nom_valide", "nomValide", String, "text", "", "Nom valide TAXREF du taxon (valid name)"),
		std("version_taxref", "versionTAXREF", String, "text", "", "Version de TAXREF utilisée (TAXREF version)"),
		std("date_debut", "jourDateDebut", Date, "date", "", "Date de début de l'observation (start date)"),
		// Hours, with the observer and the day, would tie a blurred row to
		// the precise records of the same visit: nulled when blurred.
		precise(std("heure_debut", "heureDateDebut", Time, "time without time zone", "", "Heure de début de l'observation, HH:MM, heure locale (start time)")),
		std("date_fin", "jourDateFin", Date, "date", "", "Date de fin de l'observation (end date)"),
		precise(std("heure_fin", "heureDateFin", Time, "time without time zone", "", "Heure de fin de l'observation, HH:MM, heure locale (end time)")),
		std("date_determination", "dateDetermination", Date, "date", "", "Date de la dernière détermination (identification date)"),
		std("denombrement_min", "denombrementMin", Integer, "integer", "", "Nombre minimal d'objets dénombrés (minimum count)"),
		std("denombrement_max", "denombrementMax", Integer, "integer", "", "Nombre maximal d'objets dénombrés (maximum count)"),
		std("objet_denombrement", "objetDenombrement", String, "text", "OBJ_DENBR", "Objet du dénombrement (what was counted)"),
		std("type_denombrement", "typeDenombrement", String, "text", "TYP_DENBR", "Méthode de dénombrement (counting method)"),
		std("observateur", "observateurIdentite", String, "text", "", "Observateurs, « NOM Prénom (Organisme) », séparés par des virgules (observers)"),
		std("observateur_organisme", "observateurNomOrganisme", String, "text", "", "Organisme des observateurs (observers' organisation)"),
		std("determinateur", "determinateurIdentite", String, "text", "", "Déterminateur, « NOM Prénom (Organisme) » (who identified the taxon)"),
		std("determinateur_organisme", "determinateurNomOrganisme", String, "text", "", "Organisme du déterminateur (identifier's organisation)"),
		std("validateur", "validateurIdentite", String, "text", "", "Validateur, « NOM Prénom (Organisme) » (who validated the record)"),
		std("validateur_organisme", "validateurNomOrganisme", String, "text", "", "Organisme du validateur (validator's organisation)"),
		std("organisme_gestionnaire_donnee", "organismeGestionnaireDonnee", String, "text", "", "Organisme gestionnaire de la donnée (data custodian)"),
		std("organisme_standard", "organismeStandard", String, "text", "", "Organisme ayant mis la donnée au standard (who put the record into the standard)"),
		std("org_transformation", "orgTransformation", String, "text", "", "Organisme ayant transformé la donnée source en donnée élémentaire d'échange (who made the exchange record)"),
		std("statut_source", "statutSource", String, "text", "STATUT_SOURCE", "Origine : terrain, collection, littérature (source status)"),
		std("reference_biblio", "referenceBiblio", String, "text", "", "Référence bibliographique (bibliographic reference)"),
		std("ds_publique", "dSPublique", String, "text", "DS_PUBLIQUE", "Donnée publique ou privée (public or private data)"),
		std("jdd_id", "jddId", Integer, "integer", "", "Identifiant du jeu de données dans la plateforme, clé des fiches de métadonnées (dataset id)"),
		std("jdd_code", "jddCode", String, "text", "", "Code ou acronyme du jeu de données chez le producteur (producer's dataset code)"),
		std("jdd_source_id", "jddSourceId", String, "text", "", "Identifiant du jeu de données source chez le producteur (producer's source dataset id)"),
		std("jdd_meta_id", "jddMetadonneeDEEId", String, "uuid", "", "Identifiant SINP des métadonnées du jeu de données (dataset SINP metadata id)"),
		// A grouping (relevé, passage) ties a sensitive record to the
		// precise ones made with it: a blurred row keeps no link to them,
		// not even its kind or method (a station's relevé).
		precise(std("id_regroupement", "identifiantRegroupementPermanent", String, "uuid", "", "Identifiant permanent du regroupement (relevé, passage...) (grouping id)")),
		precise(std("methode_regroupement", "methodeRegroupement", String, "text", "", "Méthode du regroupement (grouping method)")),
		precise(std("type_regroupement", "typeRegroupement", String, "text", "TYP_GRP", "Type de regroupement (grouping type)")),
		std("nature_objet_geo", "natureObjetGeo", String, "text", "NAT_OBJ_GEO", "Nature de l'objet géographique (stationnel/inventoriel)"),
		std("precision_geometrie", "precisionGeometrie", Integer, "integer", "", "Précision de la géométrie en mètres (geometric precision, metres)"),
		std("dee_floutage", "dEEFloutage", String, "text", "DEE_FLOU", "Floutage par le producteur avant l'envoi à la plateforme (blurred by the producer)"),
		std("communes", "codeCommune", StringList, "text[]", "", "Codes INSEE des communes concernées, séparés par | (commune codes)"),
		std("mailles10", "codeMaille", StringList, "text[]", "", "Codes des mailles 10 km concernées, séparés par | (10 km grid cells)"),
		std("departements", "codeDepartement", StringList, "text[]", "", "Codes des départements concernés, séparés par | (départements)"),
		std("espaces_naturels", "codeEN", StringList, "text[]", "", "Codes des espaces naturels concernés, séparés par | (natural areas)"),
		precise(std("altitude_min", "altitudeMin", Integer, "integer", "", "Altitude minimale en mètres (minimum altitude)")),
		precise(std("altitude_max", "altitudeMax", Integer, "integer", "", "Altitude maximale en mètres (maximum altitude)")),
		precise(std("altitude_moyenne", "altitudeMoyenne", Integer, "integer", "", "Altitude moyenne en mètres (mean altitude)")),
		precise(std("profondeur_min", "profondeurMin", Real, "real", "", "Profondeur minimale en mètres (minimum depth)")),
		precise(std("profondeur_max", "profondeurMax", Real, "real", "", "Profondeur maximale en mètres (maximum depth)")),
		precise(std("profondeur_moyenne", "profondeurMoyenne", Real, "real", "", "Profondeur moyenne en mètres (mean depth)")),
		precise(addition("nom_lieu", "nomLieu", String, "text", "", "Nom du lieu ou de la station (place name)")),
		precise(std("commentaire", "commentaire", String, "text", "", "Commentaire sur l'observation (comment)")),
		// Free descriptions of the context and the observation often name
		// the place: a blurred row keeps neither.
		precise(std("obs_contexte", "obsContexte", String, "text", "", "Description libre du contexte de l'observation (context)")),
		precise(std("obs_description", "obsDescription", String, "text", "", "Description libre de l'observation (description)")),
		std("obs_technique", "obsMethode", String, "text", "METH_OBS", "Méthode d'observation (how the subject was observed)"),
		std("occ_etat_biologique", "occEtatBiologique", String, "text", "ETA_BIO", "État biologique (alive / dead)"),
		std("occ_methode_determination", "occMethodeDetermination", String, "text", "METH_DETERMIN", "Méthode de détermination (identification method)"),
		std("occ_naturalite", "occNaturalite", String, "text", "NATURALITE", "Naturalité (wild, planted...)"),
		std("occ_sexe", "occSexe", String, "text", "SEXE", "Sexe (sex)"),
		std("occ_stade_de_vie", "occStadeDeVie", String, "text", "STADE_VIE", "Stade de vie (life stage)"),
		std("occ_statut_biogeographique", "occStatutBioGeographique", String, "text", "STAT_BIOGEO", "Statut biogéographique (biogeographic status)"),
		std("occ_statut_biologique", "occStatutBiologique", String, "text", "STATUT_BIO", "Statut biologique (biological status)"),
		addition("occ_comportement", "occComportement", String, "text", "OCC_COMPORTEMENT", "Comportement (behaviour), champ de la version 2 du standard"),
		std("preuve_existante", "preuveExistante", String, "text", "PREUVE_EXIST", "Existence d'une preuve (proof exists)"),
		// A photo's metadata, or a specimen's label, can carry the exact
		// place: a blurred row keeps no link to them.
		precise(std("preuve_numerique", "preuveNumerique", String, "text", "", "Adresse de la preuve numérique (URL of the digital proof)")),
		precise(std("preuve_non_numerique", "preuveNonNumerique", String, "text", "", "Où trouver la preuve non numérique : collection, herbier... (where the physical proof is kept)")),
		addition("statut_validation", "statutValidation", String, "text", "STATUT_VALID", "Statut de validation (validation status)"),
		std("diffusion_niveau_precision", "diffusionNiveauPrecision", String, "text", "NIV_PRECIS", "Précision de diffusion souhaitée par le producteur (producer's diffusion level)"),
		std("sensible", "sensible", String, "text", "SENSIBLE", "OUI si la donnée est sensible (niveau 1 à 4), sinon NON (sensitive)"),
		std("sensi_niveau", "sensiNiveau", Integer, "integer", "SENSIBILITE", "Niveau de sensibilité 0 à 4 (sensitivity level)"),
		std("sensi_date_attribution", "sensiDateAttribution", DateTime, "timestamp with time zone", "", "Instant où le niveau de sensibilité a été attribué (when the level was set)"),
		std("sensi_referentiel", "sensiReferentiel", String, "text", "", "Référentiel de sensibilité appliqué (sensitivity referential)"),
		std("sensi_version_referentiel", "sensiVersionReferentiel", String, "text", "", "Version du référentiel de sensibilité (referential version)"),
		addition("sensi_manuelle", "sensiManuelle", String, "text", "", "OUI si la sensibilité a été fixée manuellement, sinon NON (set by hand)"),
		std("dee_date_derniere_modification", "dEEDateDerniereModification", DateTime, "timestamp with time zone", "", "Date de dernière modification de la donnée (last modification)"),
		{View: "geom", CSV: "geometrie", Type: WKT, SQLType: "geometry", Group: Geometry, Meaning: "Géométrie en WKT, EPSG:2154, au centimètre ; vide pour les données rattachées (geometry, empty when attached)"},
	}
	for _, s := range StatusTypes {
		cols = append(cols, Column{View: s.Column, CSV: s.CSV, Type: String, SQLType: "text", Group: Status, Meaning: s.Label})
	}
	return cols
}

// Exported returns the columns written to the CSV, in order.
func Exported() []Column {
	var out []Column
	for _, c := range Columns {
		if c.Exported() {
			out = append(out, c)
		}
	}
	return out
}

// Lookup returns the column with that view name.
func Lookup(view string) (Column, bool) {
	for _, c := range Columns {
		if c.View == view {
			return c, true
		}
	}
	return Column{}, false
}

// SelectList is the comma-separated list of every view column, in order,
// ready for "SELECT <list> FROM oc_dat.v_extract_source".
func SelectList() string {
	names := make([]string, len(Columns))
	for i, c := range Columns {
		names[i] = c.View
	}
	return strings.Join(names, ", ")
}

// Derived is a column the extractor computes for each row from the view's:
// the companions the standard gives each geographic attachment (its name,
// referential and type of geographic information), and what the extract
// itself did to the row. It is written right after the view column After.
type Derived struct {
	CSV          string
	Type         Type
	Group        Group
	Nomenclature string
	After        string // view column it follows
	Meaning      string
}

// DerivedColumns are the derived columns, in CSV order. Values aligned with
// a code list (one per code) are separated by | like the codes; the others
// hold one value for all the row's objects of that kind.
var DerivedColumns = []Derived{
	{"floutageExtraction", String, Addition, "DEE_FLOU", "dee_floutage", "OUI si cette extraction a remplacé la géométrie par celle de la commune, de la maille ou du département qui la contient (sensibilité ou précision de diffusion), sinon NON ; dEEFloutage reste la valeur du producteur (blurred by this extract)"},
	{"nomCommune", String, Standard, "", "communes", "Noms des communes, dans l'ordre de codeCommune, séparés par | (commune names)"},
	{"anneeRefCommune", String, Standard, "", "communes", "Année du référentiel des communes (commune referential year)"},
	{"typeInfoGeoCommune", String, Standard, "TYP_INF_GEO", "communes", "1 si la commune est l'objet observé (donnée rattachée à la commune), 2 si elle en est déduite (intersection de la géométrie, floutage) (type of geographic information)"},
	{"nomRefMaille", String, Standard, "", "mailles10", "Nom du référentiel des mailles (grid referential)"},
	{"versionRefMaille", String, Standard, "", "mailles10", "Version du référentiel des mailles (grid referential version)"},
	{"typeInfoGeoMaille", String, Standard, "TYP_INF_GEO", "mailles10", "1 si la maille est l'objet observé, 2 si elle en est déduite (type of geographic information)"},
	{"anneeRefDepartement", String, Standard, "", "departements", "Année du référentiel des départements (département referential year)"},
	{"typeInfoGeoDepartement", String, Standard, "TYP_INF_GEO", "departements", "1 si le département est l'objet observé, 2 s'il en est déduit (type of geographic information)"},
	{"typeEN", String, Standard, "TYP_EN", "espaces_naturels", "Types des espaces naturels, dans l'ordre de codeEN, séparés par | (natural area types)"},
	{"versionEN", String, Standard, "", "espaces_naturels", "Version du référentiel des espaces naturels (natural area referential version)"},
	{"typeInfoGeoEN", String, Standard, "TYP_INF_GEO", "espaces_naturels", "1 si l'espace naturel est l'objet observé, 2 s'il en est déduit (type of geographic information)"},
}

// Omission is a field of the standard the extract does not deliver, and why.
type Omission struct {
	CSV    string
	Reason string
}

// Omitted are the fields of the "Occurrence de Taxon" v1.2.1 standard (its
// sample exchange file) that the extract leaves out, with the reason a data
// manager reads in the descriptor.
var Omitted = []Omission{
	{"observateurMail", "donnée personnelle : la plateforme ne diffuse pas l'adresse électronique des personnes (RGPD)"},
	{"determinateurMail", "donnée personnelle : la plateforme ne diffuse pas l'adresse électronique des personnes (RGPD)"},
	{"validateurMail", "donnée personnelle : la plateforme ne diffuse pas l'adresse électronique des personnes (RGPD)"},
	{"codeHabitat", "la base régionale ne rattache pas les observations à un habitat"},
	{"codeHabRef", "la base régionale ne rattache pas les observations à un habitat"},
	{"refHabitat", "la base régionale ne rattache pas les observations à un habitat"},
	{"versionRefHabitat", "la base régionale ne rattache pas les observations à un habitat"},
	{"codeME", "la base régionale ne tient pas de référentiel des masses d'eau"},
	{"dateME", "la base régionale ne tient pas de référentiel des masses d'eau"},
	{"typeInfoGeoME", "la base régionale ne tient pas de référentiel des masses d'eau"},
	{"versionME", "la base régionale ne tient pas de référentiel des masses d'eau"},
	{"codeIDCNPDispositif", "la base régionale ne reçoit pas de données des dispositifs de collecte du CNP"},
}
