-- The views the extractor reads. They are the whole contract between the
-- store and the extractor: another layout (GeoNature's gn_synthese) plugs in
-- by providing views with the same names and columns. Column meanings are in
-- COMMENT ON COLUMN below and in the Go catalogue (observations/source).

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
    o.date_fin,
    o.date_determination,
    o.denombrement_min,
    o.denombrement_max,
    o.objet_denombrement,
    o.type_denombrement,
    o.observateur,
    o.determinateur,
    o.organisme_gestionnaire_donnee,
    o.statut_source,
    o.reference_biblio,
    o.ds_publique,
    o.jdd_id,
    j.id_sinp_jdd AS jdd_meta_id,
    o.nature_objet_geo,
    o.precision_geometrie,
    o.type_info_geo,
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
    o.statut_validation,
    o.diffusion_niveau_precision,
    o.sensi_niveau::integer AS sensi_niveau,
    o.sensi_date_attribution,
    o.sensi_referentiel,
    o.sensi_version_referentiel,
    CASE WHEN o.sensi_manuelle THEN 'OUI' ELSE 'NON' END AS sensi_manuelle,
    o.dee_floutage,
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
'Select perimeters with ST_Intersects(geom, perimeter) (GiST index on oc_dat.geo) and attached observations '
'through the array of their rattachement kind (GIN indexes).';

CREATE VIEW oc_dat.v_extract_area AS
SELECT 'commune'::text AS kind, code, nom AS name, geom::geometry AS geom FROM oc_dat.commune
UNION ALL
SELECT 'maille10', code, code, ST_Multi(geom)::geometry FROM oc_dat.maille10
UNION ALL
SELECT 'departement', code, nom, geom::geometry FROM oc_dat.departement
UNION ALL
SELECT 'espace_naturel', code, nom, geom::geometry FROM oc_dat.espace_naturel;

COMMENT ON VIEW oc_dat.v_extract_area IS
'Geographic objects observations are attached to, by kind (commune, maille10, departement, espace_naturel) and code, '
'with their MultiPolygon geometry in EPSG:2154: what blurring and attached observations take their geometry from. '
'Filter on kind and code (each branch uses its table''s primary key) or on geom (GiST).';
COMMENT ON COLUMN oc_dat.v_extract_area.kind IS 'commune, maille10, departement or espace_naturel';
COMMENT ON COLUMN oc_dat.v_extract_area.code IS 'INSEE code (commune, département), grid code 10kmL93E074N695 (lower-left corner x=740000, y=6950000), or natural-area identifier';
COMMENT ON COLUMN oc_dat.v_extract_area.name IS 'Name of the object (the code for grid cells)';
COMMENT ON COLUMN oc_dat.v_extract_area.geom IS 'MultiPolygon, EPSG:2154';

CREATE VIEW oc_dat.v_extract_dataset AS
SELECT
    j.id,
    j.id_sinp_jdd,
    j.code,
    j.libelle AS titre,
    j.description,
    p.code AS pole,
    p.nom AS pole_nom,
    j.producteur,
    j.contact_nom,
    j.contact_email,
    j.licence,
    j.conditions_diffusion,
    j.citation,
    j.ds_publique,
    j.diffusion_niveau_precision,
    j.date_debut,
    j.date_fin,
    j.date_creation,
    j.date_revision,
    c.id AS ca_id,
    c.id_sinp_ca AS ca_id_sinp,
    c.libelle AS ca_titre,
    c.description AS ca_description,
    c.objectif AS ca_objectif,
    c.territoire AS ca_territoire,
    c.maitre_ouvrage AS ca_maitre_ouvrage,
    c.maitre_oeuvre AS ca_maitre_oeuvre,
    c.financement AS ca_financement,
    c.date_lancement AS ca_date_lancement,
    c.date_cloture AS ca_date_cloture
FROM oc_dat.jeu_donnees j
JOIN oc_dat.cadre_acquisition c ON c.id = j.id_cadre_acquisition
LEFT JOIN oc_dat.pole p ON p.code = j.pole;

COMMENT ON VIEW oc_dat.v_extract_dataset IS
'Dataset (jeu de données) and acquisition-framework (cadre d''acquisition) metadata for the metadata sheets: '
'one row per dataset, joined on v_extract_source.jdd_id = id.';
COMMENT ON COLUMN oc_dat.v_extract_dataset.id IS 'Dataset id in the platform (v_extract_source.jdd_id)';
COMMENT ON COLUMN oc_dat.v_extract_dataset.id_sinp_jdd IS 'SINP metadata id of the dataset (v_extract_source.jdd_meta_id)';
COMMENT ON COLUMN oc_dat.v_extract_dataset.titre IS 'Title of the dataset';
COMMENT ON COLUMN oc_dat.v_extract_dataset.producteur IS 'Producer (organisation that collected the data)';
COMMENT ON COLUMN oc_dat.v_extract_dataset.licence IS 'Licence under which the data may be reused';
COMMENT ON COLUMN oc_dat.v_extract_dataset.conditions_diffusion IS 'Diffusion terms the producer set';
COMMENT ON COLUMN oc_dat.v_extract_dataset.citation IS 'How to cite the dataset';
COMMENT ON COLUMN oc_dat.v_extract_dataset.ds_publique IS 'DS_PUBLIQUE code of the dataset';
COMMENT ON COLUMN oc_dat.v_extract_dataset.diffusion_niveau_precision IS 'NIV_PRECIS code the producer asked for (private data)';

CREATE VIEW oc_dat.v_extract_nomenclature AS
SELECT n.type, n.code, n.label, n.definition
FROM oc_dat.nomenclature n;

COMMENT ON VIEW oc_dat.v_extract_nomenclature IS
'SINP nomenclature codes and labels: decodes every coded column of v_extract_source (the column''s nomenclature type is in the catalogue).';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.type IS 'Nomenclature type (SINP mnemonic), e.g. SENSIBILITE';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.code IS 'Code as carried by observations';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.label IS 'Label (French)';
COMMENT ON COLUMN oc_dat.v_extract_nomenclature.definition IS 'Definition, when the store ships one';

-- Column meanings: 'csvName: meaning [NOMENCLATURE]', as in observations/source.
COMMENT ON COLUMN oc_dat.v_extract_source.id IS 'Identifiant stable de l''observation dans la plateforme (stable id)';
COMMENT ON COLUMN oc_dat.v_extract_source.pole IS 'Code du pôle thématique du taxon, oc_dat.pole (pôle code)';
COMMENT ON COLUMN oc_dat.v_extract_source.type_geometrie IS 'points, lignes, polygones ou obj_geograph (sans géométrie propre) (geometry kind, partition key)';
COMMENT ON COLUMN oc_dat.v_extract_source.rattachement IS 'Sans géométrie : type d''objet de rattachement commune, maille10, departement, espace_naturel (kind of attachment object)';
COMMENT ON COLUMN oc_dat.v_extract_source.id_sinp_occtax IS 'idSINPOccTax: Identifiant permanent SINP de l''occurrence (permanent SINP id)';
COMMENT ON COLUMN oc_dat.v_extract_source.id_origine IS 'idOrigine: Identifiant de la donnée chez le producteur (producer''s id)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_observation IS 'statutObservation: Présence ou absence constatée (present / not observed) [STATUT_OBS]';
COMMENT ON COLUMN oc_dat.v_extract_source.cd_nom IS 'cdNom: Code TAXREF du nom cité (TAXREF name id)';
COMMENT ON COLUMN oc_dat.v_extract_source.cd_ref IS 'cdRef: Code TAXREF du taxon de référence (TAXREF valid taxon id)';
COMMENT ON COLUMN oc_dat.v_extract_source.nom_cite IS 'nomCite: Nom du taxon cité par l''observateur (name as cited)';
COMMENT ON COLUMN oc_dat.v_extract_source.nom_valide IS 'nomValide: Nom valide TAXREF du taxon (valid name)';
COMMENT ON COLUMN oc_dat.v_extract_source.version_taxref IS 'versionTAXREF: Version de TAXREF utilisée (TAXREF version)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_debut IS 'dateDebut: Date de début de l''observation (start date)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_fin IS 'dateFin: Date de fin de l''observation (end date)';
COMMENT ON COLUMN oc_dat.v_extract_source.date_determination IS 'dateDetermination: Date de la dernière détermination (identification date)';
COMMENT ON COLUMN oc_dat.v_extract_source.denombrement_min IS 'denombrementMin: Nombre minimal d''objets dénombrés (minimum count)';
COMMENT ON COLUMN oc_dat.v_extract_source.denombrement_max IS 'denombrementMax: Nombre maximal d''objets dénombrés (maximum count)';
COMMENT ON COLUMN oc_dat.v_extract_source.objet_denombrement IS 'objetDenombrement: Objet du dénombrement (what was counted) [OBJ_DENBR]';
COMMENT ON COLUMN oc_dat.v_extract_source.type_denombrement IS 'typeDenombrement: Méthode de dénombrement (counting method) [TYP_DENBR]';
COMMENT ON COLUMN oc_dat.v_extract_source.observateur IS 'observateur: Observateurs, « NOM Prénom (Organisme) » (observers)';
COMMENT ON COLUMN oc_dat.v_extract_source.determinateur IS 'determinateur: Déterminateur (who identified the taxon)';
COMMENT ON COLUMN oc_dat.v_extract_source.organisme_gestionnaire_donnee IS 'organismeGestionnaireDonnee: Organisme gestionnaire de la donnée (data custodian)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_source IS 'statutSource: Origine : terrain, collection, littérature (source status) [STATUT_SOURCE]';
COMMENT ON COLUMN oc_dat.v_extract_source.reference_biblio IS 'referenceBiblio: Référence bibliographique (bibliographic reference)';
COMMENT ON COLUMN oc_dat.v_extract_source.ds_publique IS 'dSPublique: Donnée publique ou privée (public or private data) [DS_PUBLIQUE]';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_id IS 'jddId: Identifiant du jeu de données dans la plateforme, v_extract_dataset.id (dataset id)';
COMMENT ON COLUMN oc_dat.v_extract_source.jdd_meta_id IS 'jddMetaId: Identifiant SINP des métadonnées du jeu de données (dataset SINP id)';
COMMENT ON COLUMN oc_dat.v_extract_source.nature_objet_geo IS 'natureObjetGeo: Nature de l''objet géographique (stationnel/inventoriel) [NAT_OBJ_GEO]';
COMMENT ON COLUMN oc_dat.v_extract_source.precision_geometrie IS 'precisionGeometrie: Précision de la géométrie en mètres (geometric precision, metres)';
COMMENT ON COLUMN oc_dat.v_extract_source.type_info_geo IS 'typeInfoGeo: Géoréférencement ou rattachement (georeferenced or attached) [TYP_INF_GEO]';
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
COMMENT ON COLUMN oc_dat.v_extract_source.obs_technique IS 'obsTechnique: Technique d''observation (how the subject was observed) [METH_OBS]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_etat_biologique IS 'occEtatBiologique: État biologique (alive / dead) [ETA_BIO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_methode_determination IS 'occMethodeDetermination: Méthode de détermination (identification method) [METH_DETERMIN]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_naturalite IS 'occNaturalite: Naturalité (wild, planted...) [NATURALITE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_sexe IS 'occSexe: Sexe (sex) [SEXE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_stade_de_vie IS 'occStadeDeVie: Stade de vie (life stage) [STADE_VIE]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_statut_biogeographique IS 'occStatutBioGeographique: Statut biogéographique (biogeographic status) [STAT_BIOGEO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_statut_biologique IS 'occStatutBiologique: Statut biologique (biological status) [STATUT_BIO]';
COMMENT ON COLUMN oc_dat.v_extract_source.occ_comportement IS 'occComportement: Comportement (behaviour) [OCC_COMPORTEMENT]';
COMMENT ON COLUMN oc_dat.v_extract_source.preuve_existante IS 'preuveExistante: Existence d''une preuve (proof exists) [PREUVE_EXIST]';
COMMENT ON COLUMN oc_dat.v_extract_source.preuve_numerique IS 'preuveNumerique: Adresse de la preuve numérique (URL of the digital proof)';
COMMENT ON COLUMN oc_dat.v_extract_source.statut_validation IS 'statutValidation: Statut de validation (validation status) [STATUT_VALID]';
COMMENT ON COLUMN oc_dat.v_extract_source.diffusion_niveau_precision IS 'diffusionNiveauPrecision: Précision de diffusion souhaitée par le producteur (producer''s diffusion level) [NIV_PRECIS]';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_niveau IS 'sensiNiveau: Niveau de sensibilité 0 à 4 (sensitivity level) [SENSIBILITE]';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_date_attribution IS 'sensiDateAttribution: Date d''attribution de la sensibilité (when the level was set)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_referentiel IS 'sensiReferentiel: Référentiel de sensibilité appliqué (sensitivity referential)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_version_referentiel IS 'sensiVersionReferentiel: Version du référentiel de sensibilité (referential version)';
COMMENT ON COLUMN oc_dat.v_extract_source.sensi_manuelle IS 'sensiManuelle: OUI si la sensibilité a été fixée manuellement, sinon NON (set by hand)';
COMMENT ON COLUMN oc_dat.v_extract_source.dee_floutage IS 'dEEFloutage: Floutage à la création de la donnée (blurred at creation) [DEE_FLOU]';
COMMENT ON COLUMN oc_dat.v_extract_source.dee_date_derniere_modification IS 'dEEDateDerniereModification: Date de dernière modification de la donnée (last modification)';
COMMENT ON COLUMN oc_dat.v_extract_source.geom IS 'geometrie: Géométrie en WKT, EPSG:2154 ; vide pour les données rattachées (geometry, empty when attached)';
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
