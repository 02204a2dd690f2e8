-- The extract as a standard exchange file ("Occurrence de Taxon" v1.2.1):
-- the fields a data manager looks for (hours, the producer's dataset ids,
-- groupings, context and description, validator, who put the data into the
-- standard, the non-digital proof), the referentials of the geographic
-- objects (the attachments' companion fields), and v_extract_source and
-- v_extract_area rebuilt with them. The view stays the whole contract:
-- observations/source lists its columns and what the extractor derives from
-- them.

ALTER TABLE oc_dat.observation
    ADD COLUMN heure_debut              time,
    ADD COLUMN heure_fin                time,
    ADD COLUMN observateur_organisme    text,
    ADD COLUMN determinateur_organisme  text,
    ADD COLUMN validateur               text,
    ADD COLUMN validateur_organisme     text,
    ADD COLUMN organisme_standard       text,
    ADD COLUMN org_transformation       text,
    ADD COLUMN id_regroupement          uuid,
    ADD COLUMN methode_regroupement     text,
    ADD COLUMN type_regroupement        text,   -- TYP_GRP
    ADD COLUMN obs_contexte             text,
    ADD COLUMN obs_description          text,
    ADD COLUMN preuve_non_numerique     text;
COMMENT ON COLUMN oc_dat.observation.id_regroupement IS 'Permanent id of the grouping (relevé, passage...) the observation was made in.';

ALTER TABLE oc_dat.jeu_donnees ADD COLUMN id_source text;
COMMENT ON COLUMN oc_dat.jeu_donnees.id_source IS 'The producer''s own id of the source dataset (jddSourceId).';

-- One row per kind of geographic object: the referential its objects come
-- from and its year or version (the companions anneeRefCommune,
-- nomRefMaille, versionRefMaille, anneeRefDepartement, versionEN).
CREATE TABLE oc_dat.referentiel_geo (
    kind        text PRIMARY KEY CHECK (kind IN ('commune', 'maille10', 'departement', 'espace_naturel')),
    nom         text NOT NULL,
    version     text NOT NULL
);
COMMENT ON TABLE oc_dat.referentiel_geo IS 'Referential (name, year or version) of each kind of geographic object.';
INSERT INTO oc_dat.referentiel_geo (kind, nom, version) VALUES
    ('commune', 'IGN Admin Express', '2018'),
    ('departement', 'IGN Admin Express', '2018'),
    ('maille10', 'Grille nationale 10 km Lambert-93 (INPN)', '1.0'),
    ('espace_naturel', 'INPN, espaces protégés et inventaires', '2018-01');

-- The nomenclatures of the new coded fields (labels as the INPN gives them).
INSERT INTO oc_dat.nomenclature_type (type, label, definition) VALUES
    ('TYP_GRP', 'Type de regroupement', 'Nomenclature listant les valeurs possibles pour le type de regroupement.'),
    ('SENSIBLE', 'Valeurs de sensibilité qualitative', 'Nomenclature des valeurs de sensibilité qualitative (oui/non)');
INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('TYP_GRP', 'AUTR', 'AUTR'),
    ('TYP_GRP', 'CAMP', 'CAMP'),
    ('TYP_GRP', 'INVSTA', 'INVSTA'),
    ('TYP_GRP', 'LIEN', 'LIEN'),
    ('TYP_GRP', 'NSP', 'NSP'),
    ('TYP_GRP', 'OBS', 'OBS'),
    ('TYP_GRP', 'OP', 'OP'),
    ('TYP_GRP', 'PASS', 'PASS'),
    ('TYP_GRP', 'POINT', 'POINT'),
    ('TYP_GRP', 'REL', 'REL'),
    ('TYP_GRP', 'STRAT', 'STRAT'),
    ('SENSIBLE', 'NON', 'Non'),
    ('SENSIBLE', 'OUI', 'Oui');

DROP VIEW oc_dat.v_extract_source;
CREATE VIEW oc_dat.v_extract_source AS
SELECT
    o.id,
    o.pole,
    CASE ST_Dimension(g.geom) WHEN 0 THEN 'points' WHEN 1 THEN 'lignes' WHEN 2 THEN 'polygones' ELSE 'obj_geograph' END AS type_geometrie,
    o.rattachement,
    o.id_sinp_occtax,
    o.id_origine,
    o.statut_observation,
    o.cd_nom,
    o.cd_ref,
    o.nom_cite,
    t.nom_valide,
    o.version_taxref,
    o.date_debut,
    o.heure_debut,
    o.date_fin,
    o.heure_fin,
    o.date_determination,
    o.denombrement_min,
    o.denombrement_max,
    o.objet_denombrement,
    o.type_denombrement,
    o.observateur,
    o.observateur_organisme,
    o.determinateur,
    o.determinateur_organisme,
    o.validateur,
    o.validateur_organisme,
    o.organisme_gestionnaire_donnee,
    o.organisme_standard,
    o.org_transformation,
    o.statut_source,
    o.reference_biblio,
    o.ds_publique,
    o.jdd_id,
    j.code AS jdd_code,
    j.id_source AS jdd_source_id,
    j.id_sinp_jdd AS jdd_meta_id,
    o.id_regroupement,
    o.methode_regroupement,
    o.type_regroupement,
    o.nature_objet_geo,
    o.precision_geometrie,
    o.dee_floutage,
    o.communes,
    o.mailles10,
    o.departements,
    o.espaces_naturels,
    o.altitude_min,
    o.altitude_max,
    o.altitude_moyenne,
    o.profondeur_min,
    o.profondeur_max,
    o.profondeur_moyenne,
    o.nom_lieu,
    o.commentaire,
    o.obs_contexte,
    o.obs_description,
    o.obs_technique,
    o.occ_etat_biologique,
    o.occ_methode_determination,
    o.occ_naturalite,
    o.occ_sexe,
    o.occ_stade_de_vie,
    o.occ_statut_biogeographique,
    o.occ_statut_biologique,
    o.occ_comportement,
    o.preuve_existante,
    o.preuve_numerique,
    o.preuve_non_numerique,
    o.statut_validation,
    o.diffusion_niveau_precision,
    CASE WHEN o.sensi_niveau > 0 THEN 'OUI' ELSE 'NON' END AS sensible,
    o.sensi_niveau::integer AS sensi_niveau,
    o.sensi_date_attribution,
    o.sensi_referentiel,
    o.sensi_version_referentiel,
    CASE WHEN o.sensi_manuelle THEN 'OUI' ELSE 'NON' END AS sensi_manuelle,
    o.dee_date_derniere_modification,
    g.geom::geometry AS geom,
    s.statut_berne,
    s.statut_bonn,
    s.statut_cites,
    s.statut_chasse,
    s.statut_directive_habitats,
    s.statut_directive_oiseaux,
    s.statut_menace_extinction,
    s.statut_priorite_regionale,
    s.statut_hierarchie_znieff_flore,
    s.statut_invasive,
    s.statut_livre_rouge_1995,
    s.statut_lr_france,
    s.statut_lr_europe,
    s.statut_lr_monde,
    s.statut_lr_regionale,
    s.statut_protection_nationale,
    s.statut_protection_regionale,
    s.statut_protection_departementale,
    s.statut_pna,
    s.statut_protection_prefectorale,
    s.statut_livre_rouge_bryophytes,
    s.statut_scap,
    s.statut_sinp,
    s.statut_srce,
    s.statut_zone_humide,
    s.statut_znieff
FROM oc_dat.observation o
LEFT JOIN oc_dat.geo g ON g.id_observation = o.id
LEFT JOIN oc_dat.taxon t ON t.cd_nom = o.cd_nom
LEFT JOIN oc_dat.jeu_donnees j ON j.id = o.jdd_id
LEFT JOIN oc_dat.taxon_statut_large s ON s.cd_ref = o.cd_ref;

COMMENT ON VIEW oc_dat.v_extract_source IS
'What the extractor reads: one row per observation with every exported column (codes stay codes), '
'its geometry in EPSG:2154 (NULL when the observation is only attached to geographic objects), '
'its attachment codes, pôle, sensitivity and diffusion levels, and its taxon statuses. '
'Attachment arrays (communes, mailles10, departements, espaces_naturels) are never NULL: for a georeferenced '
'observation they list the objects its geometry intersects; for an attached one (geom NULL, rattachement set) '
'the objects it is attached to, the objects of the other kinds they intersect, and nothing finer than a département '
'for an observation attached to a département. departements is never empty. '
'The companions of each attachment (names, referentials, type of geographic information) are derived by the '
'extractor from these codes and v_extract_area. '
'Select perimeters with ST_Intersects(geom, perimeter) (GiST index on oc_dat.geo) and attached observations '
'through the array of their rattachement kind (GIN indexes).';

COMMENT ON COLUMN oc_dat.v_extract_source.id IS 'Identifiant stable de l''observation dans la plateforme (stable id)';
COMMENT ON COLUMN oc_dat.v_extract_source.pole IS 'Code du pôle thématique du taxon, oc_dat.pole (pôle code)';
COMMENT ON COLUMN oc_dat.v_extract_source.type_geometrie IS 'points, lignes, polygones ou obj_geograph (sans géométrie propre) (geometry kind, partition key)';
COMMENT ON COLUMN oc_dat.v_extract_source.rattachement IS 'Sans géométrie : type d''objet de rattachement commune, maille10, departement, espace_naturel (kind of attachment object)';
COMMENT ON COLUMN oc_dat.v_extract_source.id_sinp_occtax IS 'identifiantPermanent: Identifiant permanent SINP de l''occurrence (permanent SINP id)';
COMMENT ON COLUMN oc_dat.v_extract_source.id_origine IS 'identifiantOrigine: Identifiant de la donnée chez le producteur (producer''s id)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_observation IS 'statutObservation: Présence ou absence constatée (present / not observed) [STATUT_OBS]';
COMMENT ON COLUMN oc_dat.v_extract_source.cd_nom IS 'cdNom: Code TAXREF du nom cité (TAXREF name id)';
COMMENT ON COLUMN oc_dat.v_extract_source.cd_ref IS 'cdRef: Code TAXREF du taxon de référence (TAXREF valid taxon id)';
COMMENT ON COLUMN oc_dat.v_extract_source.nom_cite IS 'nomCite: Nom du taxon cité par l''observateur (name as cited)';
COMMENT ON COLUMN oc_dat.v_extract_source.nom_valide IS 'nomValide: Nom valide TAXREF du taxon (valid name)';
COMMENT ON COLUMN oc_dat.v_extract_source.version_taxref IS 'versionTAXREF: Version de TAXREF utilisée (TAXREF version)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_debut IS 'jourDateDebut: Date de début de l''observation (start date)';
COMMENT ON COLUMN oc_dat.v_extract_source.heure_debut IS 'heureDateDebut: Heure de début de l''observation, HH:MM, heure locale (start time)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_fin IS 'jourDateFin: Date de fin de l''observation (end date)';
COMMENT ON COLUMN oc_dat.v_extract_source.heure_fin IS 'heureDateFin: Heure de fin de l''observation, HH:MM, heure locale (end time)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_determination IS 'dateDetermination: Date de la dernière détermination (identification date)';
COMMENT ON COLUMN oc_dat.v_extract_source.denombrement_min IS 'denombrementMin: Nombre minimal d''objets dénombrés (minimum count)';
COMMENT ON COLUMN oc_dat.v_extract_source.denombrement_max IS 'denombrementMax: Nombre maximal d''objets dénombrés (maximum count)';
COMMENT ON COLUMN oc_dat.v_extract_source.objet_denombrement IS 'objetDenombrement: Objet du dénombrement (what was counted) [OBJ_DENBR]';
COMMENT ON COLUMN oc_dat.v_extract_source.type_denombrement IS 'typeDenombrement: Méthode de dénombrement (counting method) [TYP_DENBR]';
COMMENT ON COLUMN oc_dat.v_extract_source.observateur IS 'observateurIdentite: Observateurs, « NOM Prénom (Organisme) », séparés par des virgules (observers)';
COMMENT ON COLUMN oc_dat.v_extract_source.observateur_organisme IS 'observateurNomOrganisme: Organisme des observateurs (observers'' organisation)';
COMMENT ON COLUMN oc_dat.v_extract_source.determinateur IS 'determinateurIdentite: Déterminateur, « NOM Prénom (Organisme) » (who identified the taxon)';
COMMENT ON COLUMN oc_dat.v_extract_source.determinateur_organisme IS 'determinateurNomOrganisme: Organisme du déterminateur (identifier''s organisation)';
COMMENT ON COLUMN oc_dat.v_extract_source.validateur IS 'validateurIdentite: Validateur, « NOM Prénom (Organisme) » (who validated the record)';
COMMENT ON COLUMN oc_dat.v_extract_source.validateur_organisme IS 'validateurNomOrganisme: Organisme du validateur (validator''s organisation)';
COMMENT ON COLUMN oc_dat.v_extract_source.organisme_gestionnaire_donnee IS 'organismeGestionnaireDonnee: Organisme gestionnaire de la donnée (data custodian)';
COMMENT ON COLUMN oc_dat.v_extract_source.organisme_standard IS 'organismeStandard: Organisme ayant mis la donnée au standard (who put the record into the standard)';
COMMENT ON COLUMN oc_dat.v_extract_source.org_transformation IS 'orgTransformation: Organisme ayant transformé la donnée source en donnée élémentaire d''échange (who made the exchange record)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_source IS 'statutSource: Origine : terrain, collection, littérature (source status) [STATUT_SOURCE]';
COMMENT ON COLUMN oc_dat.v_extract_source.reference_biblio IS 'referenceBiblio: Référence bibliographique (bibliographic reference)';
COMMENT ON COLUMN oc_dat.v_extract_source.ds_publique IS 'dSPublique: Donnée publique ou privée (public or private data) [DS_PUBLIQUE]';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_id IS 'jddId: Identifiant du jeu de données dans la plateforme, clé des fiches de métadonnées (dataset id)';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_code IS 'jddCode: Code ou acronyme du jeu de données chez le producteur (producer''s dataset code)';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_source_id IS 'jddSourceId: Identifiant du jeu de données source chez le producteur (producer''s source dataset id)';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_meta_id IS 'jddMetadonneeDEEId: Identifiant SINP des métadonnées du jeu de données (dataset SINP metadata id)';
COMMENT ON COLUMN oc_dat.v_extract_source.id_regroupement IS 'identifiantRegroupementPermanent: Identifiant permanent du regroupement (relevé, passage...) (grouping id)';
COMMENT ON COLUMN oc_dat.v_extract_source.methode_regroupement IS 'methodeRegroupement: Méthode du regroupement (grouping method)';
COMMENT ON COLUMN oc_dat.v_extract_source.type_regroupement IS 'typeRegroupement: Type de regroupement (grouping type) [TYP_GRP]';
COMMENT ON COLUMN oc_dat.v_extract_source.nature_objet_geo IS 'natureObjetGeo: Nature de l''objet géographique (stationnel/inventoriel) [NAT_OBJ_GEO]';
COMMENT ON COLUMN oc_dat.v_extract_source.precision_geometrie IS 'precisionGeometrie: Précision de la géométrie en mètres (geometric precision, metres)';
COMMENT ON COLUMN oc_dat.v_extract_source.dee_floutage IS 'dEEFloutage: Floutage par le producteur avant l''envoi à la plateforme (blurred by the producer) [DEE_FLOU]';
COMMENT ON COLUMN oc_dat.v_extract_source.communes IS 'codeCommune: Codes INSEE des communes concernées, séparés par | (commune codes)';
COMMENT ON COLUMN oc_dat.v_extract_source.mailles10 IS 'codeMaille: Codes des mailles 10 km concernées, séparés par | (10 km grid cells)';
COMMENT ON COLUMN oc_dat.v_extract_source.departements IS 'codeDepartement: Codes des départements concernés, séparés par | (départements)';
COMMENT ON COLUMN oc_dat.v_extract_source.espaces_naturels IS 'codeEN: Codes des espaces naturels concernés, séparés par | (natural areas)';
COMMENT ON COLUMN oc_dat.v_extract_source.altitude_min IS 'altitudeMin: Altitude minimale en mètres (minimum altitude)';
COMMENT ON COLUMN oc_dat.v_extract_source.altitude_max IS 'altitudeMax: Altitude maximale en mètres (maximum altitude)';
COMMENT ON COLUMN oc_dat.v_extract_source.altitude_moyenne IS 'altitudeMoyenne: Altitude moyenne en mètres (mean altitude)';
COMMENT ON COLUMN oc_dat.v_extract_source.profondeur_min IS 'profondeurMin: Profondeur minimale en mètres (minimum depth)';
COMMENT ON COLUMN oc_dat.v_extract_source.profondeur_max IS 'profondeurMax: Profondeur maximale en mètres (maximum depth)';
COMMENT ON COLUMN oc_dat.v_extract_source.profondeur_moyenne IS 'profondeurMoyenne: Profondeur moyenne en mètres (mean depth)';
COMMENT ON COLUMN oc_dat.v_extract_source.nom_lieu IS 'nomLieu: Nom du lieu ou de la station (place name)';
COMMENT ON COLUMN oc_dat.v_extract_source.commentaire IS 'commentaire: Commentaire sur l''observation (comment)';
COMMENT ON COLUMN oc_dat.v_extract_source.obs_contexte IS 'obsContexte: Description libre du contexte de l''observation (context)';
COMMENT ON COLUMN oc_dat.v_extract_source.obs_description IS 'obsDescription: Description libre de l''observation (description)';
COMMENT ON COLUMN oc_dat.v_extract_source.obs_technique IS 'obsMethode: Méthode d''observation (how the subject was observed) [METH_OBS]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_etat_biologique IS 'occEtatBiologique: État biologique (alive / dead) [ETA_BIO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_methode_determination IS 'occMethodeDetermination: Méthode de détermination (identification method) [METH_DETERMIN]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_naturalite IS 'occNaturalite: Naturalité (wild, planted...) [NATURALITE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_sexe IS 'occSexe: Sexe (sex) [SEXE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_stade_de_vie IS 'occStadeDeVie: Stade de vie (life stage) [STADE_VIE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_statut_biogeographique IS 'occStatutBioGeographique: Statut biogéographique (biogeographic status) [STAT_BIOGEO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_statut_biologique IS 'occStatutBiologique: Statut biologique (biological status) [STATUT_BIO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_comportement IS 'occComportement: Comportement (behaviour), champ de la version 2 du standard [OCC_COMPORTEMENT]';
COMMENT ON COLUMN oc_dat.v_extract_source.preuve_existante IS 'preuveExistante: Existence d''une preuve (proof exists) [PREUVE_EXIST]';
COMMENT ON COLUMN oc_dat.v_extract_source.preuve_numerique IS 'preuveNumerique: Adresse de la preuve numérique (URL of the digital proof)';
COMMENT ON COLUMN oc_dat.v_extract_source.preuve_non_numerique IS 'preuveNonNumerique: Où trouver la preuve non numérique : collection, herbier... (where the physical proof is kept)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_validation IS 'statutValidation: Statut de validation (validation status) [STATUT_VALID]';
COMMENT ON COLUMN oc_dat.v_extract_source.diffusion_niveau_precision IS 'diffusionNiveauPrecision: Précision de diffusion souhaitée par le producteur (producer''s diffusion level) [NIV_PRECIS]';
COMMENT ON COLUMN oc_dat.v_extract_source.sensible IS 'sensible: OUI si la donnée est sensible (niveau 1 à 4), sinon NON (sensitive) [SENSIBLE]';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_niveau IS 'sensiNiveau: Niveau de sensibilité 0 à 4 (sensitivity level) [SENSIBILITE]';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_date_attribution IS 'sensiDateAttribution: Instant où le niveau de sensibilité a été attribué (when the level was set)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_referentiel IS 'sensiReferentiel: Référentiel de sensibilité appliqué (sensitivity referential)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_version_referentiel IS 'sensiVersionReferentiel: Version du référentiel de sensibilité (referential version)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_manuelle IS 'sensiManuelle: OUI si la sensibilité a été fixée manuellement, sinon NON (set by hand)';
COMMENT ON COLUMN oc_dat.v_extract_source.dee_date_derniere_modification IS 'dEEDateDerniereModification: Date de dernière modification de la donnée (last modification)';
COMMENT ON COLUMN oc_dat.v_extract_source.geom IS 'geometrie: Géométrie en WKT, EPSG:2154, au centimètre ; vide pour les données rattachées (geometry, empty when attached)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_berne IS 'statutBerne: Convention de Berne (annexe)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_bonn IS 'statutBonn: Convention de Bonn (annexe)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_cites IS 'statutCITES: Convention de Washington, règlement CITES (annexe)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_chasse IS 'statutChasse: Espèce chassable';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_directive_habitats IS 'statutDirectiveHabitats: Directive Habitats-Faune-Flore (annexes)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_directive_oiseaux IS 'statutDirectiveOiseaux: Directive Oiseaux (annexes)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_menace_extinction IS 'statutMenaceExtinction: Espèce menacée d''extinction';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_priorite_regionale IS 'statutPrioriteRegionale: Priorité régionale d''action';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_hierarchie_znieff_flore IS 'statutHierarchieZnieffFlore: Hiérarchisation de la flore ZNIEFF';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_invasive IS 'statutInvasive: Espèce exotique envahissante';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_livre_rouge_1995 IS 'statutLivreRouge1995: Livre rouge de la flore menacée de France (1995)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_lr_france IS 'statutListeRougeFrance: Liste rouge France';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_lr_europe IS 'statutListeRougeEurope: Liste rouge Europe';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_lr_monde IS 'statutListeRougeMonde: Liste rouge mondiale (UICN)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_lr_regionale IS 'statutListeRougeRegionale: Liste rouge régionale';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_protection_nationale IS 'statutProtectionNationale: Protection nationale';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_protection_regionale IS 'statutProtectionRegionale: Protection régionale';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_protection_departementale IS 'statutProtectionDepartementale: Protection départementale';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_pna IS 'statutPNA: Plan national d''actions';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_protection_prefectorale IS 'statutProtectionPrefectorale: Protection préfectorale';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_livre_rouge_bryophytes IS 'statutLivreRougeBryophytes: Livre rouge des bryophytes';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_scap IS 'statutSCAP: Stratégie de création d''aires protégées (SCAP)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_sinp IS 'statutSINP: Statut SINP (espèce sensible)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_srce IS 'statutSRCE: Espèce de cohérence SRCE / trame verte et bleue';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_zone_humide IS 'statutZoneHumide: Espèce déterminante de zone humide';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_znieff IS 'statutZNIEFF: Espèce déterminante ZNIEFF';

DROP VIEW oc_dat.v_extract_area;
CREATE VIEW oc_dat.v_extract_area AS
SELECT 'commune'::text AS kind, c.code, c.nom AS name, NULL::text AS type, r.nom AS referential, r.version, c.geom::geometry AS geom
FROM oc_dat.commune c LEFT JOIN oc_dat.referentiel_geo r ON r.kind = 'commune'
UNION ALL
SELECT 'maille10', m.code, m.code, NULL, r.nom, r.version, ST_Multi(m.geom)::geometry
FROM oc_dat.maille10 m LEFT JOIN oc_dat.referentiel_geo r ON r.kind = 'maille10'
UNION ALL
SELECT 'departement', d.code, d.nom, NULL, r.nom, r.version, d.geom::geometry
FROM oc_dat.departement d LEFT JOIN oc_dat.referentiel_geo r ON r.kind = 'departement'
UNION ALL
SELECT 'espace_naturel', e.code, e.nom, e.type_en, r.nom, r.version, e.geom::geometry
FROM oc_dat.espace_naturel e LEFT JOIN oc_dat.referentiel_geo r ON r.kind = 'espace_naturel';

COMMENT ON VIEW oc_dat.v_extract_area IS
'Geographic objects observations are attached to, by kind (commune, maille10, departement, espace_naturel) and code, '
'with their name, type, referential and MultiPolygon geometry in EPSG:2154: what blurring, attached observations and '
'the attachments'' companion fields take their values from. '
'Filter on kind and code (each branch uses its table''s primary key) or on geom (GiST).';
COMMENT ON COLUMN oc_dat.v_extract_area.kind IS 'commune, maille10, departement or espace_naturel';
COMMENT ON COLUMN oc_dat.v_extract_area.code IS 'INSEE code (commune, département), grid code 10kmL93E074N695 (lower-left corner x=740000, y=6950000), or natural-area identifier';
COMMENT ON COLUMN oc_dat.v_extract_area.name IS 'Name of the object (the code for grid cells): nomCommune';
COMMENT ON COLUMN oc_dat.v_extract_area.type IS 'Type of a natural area, nomenclature TYP_EN (typeEN); NULL for the other kinds';
COMMENT ON COLUMN oc_dat.v_extract_area.referential IS 'Referential the object comes from (nomRefMaille for grid cells)';
COMMENT ON COLUMN oc_dat.v_extract_area.version IS 'Year or version of that referential (anneeRefCommune, versionRefMaille, anneeRefDepartement, versionEN)';
COMMENT ON COLUMN oc_dat.v_extract_area.geom IS 'MultiPolygon, EPSG:2154';
