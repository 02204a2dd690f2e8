-- The observations (SINP "Occurrence de Taxon" v2 fields in snake_case) and
-- their geometries. Codes stay codes: each coded column names its SINP
-- nomenclature in its comment. Bulk loaders (the seed) drop the secondary
-- indexes and constraints of these two tables, COPY, then recreate them from
-- their definitions here.

CREATE TABLE oc_dat.observation (
    id                              bigint PRIMARY KEY,
    id_sinp_occtax                  uuid NOT NULL,
    id_origine                      text,
    statut_observation              text NOT NULL,      -- STATUT_OBS
    cd_nom                          integer,
    cd_ref                          integer,
    nom_cite                        text NOT NULL,
    version_taxref                  text,
    date_debut                      date NOT NULL,
    date_fin                        date NOT NULL,
    date_determination              date,
    denombrement_min                integer,
    denombrement_max                integer,
    objet_denombrement              text,               -- OBJ_DENBR
    type_denombrement               text,               -- TYP_DENBR
    observateur                     text NOT NULL,
    determinateur                   text,
    organisme_gestionnaire_donnee   text NOT NULL,
    statut_source                   text NOT NULL,      -- STATUT_SOURCE
    reference_biblio                text,
    ds_publique                     text NOT NULL,      -- DS_PUBLIQUE
    jdd_id                          integer NOT NULL,   -- oc_dat.jeu_donnees.id
    nature_objet_geo                text,               -- NAT_OBJ_GEO
    precision_geometrie             integer,            -- metres
    type_info_geo                   text NOT NULL,      -- TYP_INF_GEO: 1 georeferenced, 2 attached
    rattachement                    text CHECK (rattachement IN ('commune', 'maille10', 'departement', 'espace_naturel')),
    communes                        text[] NOT NULL DEFAULT '{}',
    mailles10                       text[] NOT NULL DEFAULT '{}',
    departements                    text[] NOT NULL DEFAULT '{}',
    espaces_naturels                text[] NOT NULL DEFAULT '{}',
    altitude_min                    integer,
    altitude_max                    integer,
    altitude_moyenne                integer,
    profondeur_min                  real,
    profondeur_max                  real,
    profondeur_moyenne              real,
    nom_lieu                        text,
    commentaire                     text,
    obs_technique                   text,               -- METH_OBS
    occ_etat_biologique             text,               -- ETA_BIO
    occ_methode_determination       text,               -- METH_DETERMIN
    occ_naturalite                  text,               -- NATURALITE
    occ_sexe                        text,               -- SEXE
    occ_stade_de_vie                text,               -- STADE_VIE
    occ_statut_biogeographique      text,               -- STAT_BIOGEO
    occ_statut_biologique           text,               -- STATUT_BIO
    occ_comportement                text,               -- OCC_COMPORTEMENT
    preuve_existante                text,               -- PREUVE_EXIST
    preuve_numerique                text,
    statut_validation               text,               -- STATUT_VALID
    diffusion_niveau_precision      text,               -- NIV_PRECIS
    sensi_niveau                    smallint NOT NULL DEFAULT 0 CHECK (sensi_niveau BETWEEN 0 AND 4),   -- SENSIBILITE
    sensi_date_attribution          timestamptz,
    sensi_referentiel               text,
    sensi_version_referentiel       text,
    sensi_manuelle                  boolean NOT NULL DEFAULT false,
    dee_floutage                    text,               -- DEE_FLOU
    dee_date_derniere_modification  timestamptz,
    pole                            text NOT NULL,      -- oc_dat.pole.code
    CONSTRAINT observation_id_sinp_occtax_key UNIQUE (id_sinp_occtax)
);
COMMENT ON TABLE oc_dat.observation IS 'Species observations (SINP Occurrence de Taxon v2), with their attachment codes, pôle and sensitivity.';
COMMENT ON COLUMN oc_dat.observation.rattachement IS 'For an observation without geometry, the kind of geographic object it is attached to; NULL when georeferenced.';
COMMENT ON COLUMN oc_dat.observation.communes IS 'Codes of the communes the observation''s footprint intersects (see v_extract_source).';
COMMENT ON COLUMN oc_dat.observation.sensi_manuelle IS 'The level was set by hand (by the producer or a pôle): sensitivity apply leaves it alone.';

CREATE INDEX observation_cd_ref_idx ON oc_dat.observation (cd_ref);
CREATE INDEX observation_date_debut_idx ON oc_dat.observation (date_debut);
CREATE INDEX observation_jdd_id_idx ON oc_dat.observation (jdd_id);
CREATE INDEX observation_pole_idx ON oc_dat.observation (pole);
CREATE INDEX observation_communes_idx ON oc_dat.observation USING gin (communes);
CREATE INDEX observation_mailles10_idx ON oc_dat.observation USING gin (mailles10);
CREATE INDEX observation_departements_idx ON oc_dat.observation USING gin (departements);
CREATE INDEX observation_espaces_naturels_idx ON oc_dat.observation USING gin (espaces_naturels);
-- F2 and sensitivity work reads the few sensitive rows.
CREATE INDEX observation_sensible_idx ON oc_dat.observation (sensi_niveau) WHERE sensi_niveau > 0;

CREATE TABLE oc_dat.geo (
    id_observation  bigint PRIMARY KEY,
    geom            geometry(Geometry, 2154) NOT NULL,
    CONSTRAINT geo_id_observation_fkey FOREIGN KEY (id_observation) REFERENCES oc_dat.observation (id) ON DELETE CASCADE,
    CONSTRAINT geo_geom_kind_check CHECK (ST_Dimension(geom) IN (0, 1, 2))
);
COMMENT ON TABLE oc_dat.geo IS 'One geometry (point, line or polygon, EPSG:2154) per georeferenced observation.';
CREATE INDEX geo_geom_idx ON oc_dat.geo USING gist (geom);

-- Bulk loads drop the secondary indexes and constraints of observation and
-- geo, load, then recreate them. The definitions wait here meanwhile, so a
-- load that dies half-way leaves what the next load needs to restore them.
CREATE TABLE oc_dat.chargement_ddl_differe (
    objet       text PRIMARY KEY,       -- index or constraint name
    table_name  text NOT NULL,
    ddl         text NOT NULL,          -- statement that recreates it
    ordre       integer NOT NULL        -- indexes first, then constraints
);
COMMENT ON TABLE oc_dat.chargement_ddl_differe IS 'Indexes and constraints a bulk load dropped and must recreate (empty outside loads).';
