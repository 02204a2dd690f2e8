-- Reference data of the observation store: SINP nomenclatures, pôles and
-- their taxonomic groups, taxa and their statuses, geographic objects, dataset
-- and acquisition-framework metadata, the sensitivity referential.
-- Every geometry is in EPSG:2154 (RGF93 / Lambert-93).

CREATE TABLE oc_dat.nomenclature_type (
    type        text PRIMARY KEY,           -- SINP mnemonic, e.g. SENSIBILITE
    label       text NOT NULL,
    definition  text
);
COMMENT ON TABLE oc_dat.nomenclature_type IS 'SINP nomenclature types used by the store (mnemonics of the public standard).';

CREATE TABLE oc_dat.nomenclature (
    type        text NOT NULL REFERENCES oc_dat.nomenclature_type,
    code        text NOT NULL,              -- the code carried by observations
    label       text NOT NULL,
    definition  text,
    PRIMARY KEY (type, code)
);
COMMENT ON TABLE oc_dat.nomenclature IS 'SINP nomenclature values (codes and labels of the public standard).';

CREATE TABLE oc_dat.pole (
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
    ('poissons', 'Poissons', 6);

CREATE TABLE oc_dat.pole_groupe (
    group2_inpn text PRIMARY KEY,           -- INPN vernacular group (TAXREF group2_inpn)
    pole        text NOT NULL REFERENCES oc_dat.pole
);
COMMENT ON TABLE oc_dat.pole_groupe IS 'Taxon-to-pôle mapping: which pôle handles each INPN taxonomic group.';

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
    ('Poissons', 'poissons');

CREATE TABLE oc_dat.taxon (
    cd_nom      integer PRIMARY KEY,        -- TAXREF name id
    cd_ref      integer NOT NULL,           -- TAXREF id of the valid name
    nom_complet text NOT NULL,              -- the name this cd_nom stands for
    nom_valide  text NOT NULL,              -- the valid name (name of cd_ref)
    nom_vern    text,
    rang        text NOT NULL DEFAULT 'ES',
    regne       text NOT NULL,
    group2_inpn text NOT NULL REFERENCES oc_dat.pole_groupe,
    pole        text NOT NULL REFERENCES oc_dat.pole
);
CREATE INDEX taxon_cd_ref_idx ON oc_dat.taxon (cd_ref);
COMMENT ON TABLE oc_dat.taxon IS 'Taxa met in the store (a TAXREF extract): one row per cd_nom, synonyms pointing to their cd_ref.';

CREATE TABLE oc_dat.statut_type (
    code        text PRIMARY KEY,
    colonne     text NOT NULL UNIQUE,       -- column of taxon_statut_large and v_extract_source
    libelle     text NOT NULL,
    ordre       integer NOT NULL UNIQUE
);
COMMENT ON TABLE oc_dat.statut_type IS 'Taxon status types (protections, red lists, conventions, directives...): one column each in the extracts.';

INSERT INTO oc_dat.statut_type (code, colonne, libelle, ordre) VALUES
    ('BERN', 'statut_berne', 'Convention de Berne (annexe)', 1),
    ('BONN', 'statut_bonn', 'Convention de Bonn (annexe)', 2),
    ('CITES', 'statut_cites', 'Convention de Washington, règlement CITES (annexe)', 3),
    ('CHASSE', 'statut_chasse', 'Espèce chassable', 4),
    ('DH', 'statut_directive_habitats', 'Directive Habitats-Faune-Flore (annexes)', 5),
    ('DO', 'statut_directive_oiseaux', 'Directive Oiseaux (annexes)', 6),
    ('MENACE', 'statut_menace_extinction', 'Espèce menacée d''extinction', 7),
    ('PRIO_REG', 'statut_priorite_regionale', 'Priorité régionale d''action', 8),
    ('ZNIEFF_FLORE', 'statut_hierarchie_znieff_flore', 'Hiérarchisation de la flore ZNIEFF', 9),
    ('EEE', 'statut_invasive', 'Espèce exotique envahissante', 10),
    ('LR1995', 'statut_livre_rouge_1995', 'Livre rouge de la flore menacée de France (1995)', 11),
    ('LRN', 'statut_lr_france', 'Liste rouge France', 12),
    ('LRE', 'statut_lr_europe', 'Liste rouge Europe', 13),
    ('LRM', 'statut_lr_monde', 'Liste rouge mondiale (UICN)', 14),
    ('LRR', 'statut_lr_regionale', 'Liste rouge régionale', 15),
    ('PN', 'statut_protection_nationale', 'Protection nationale', 16),
    ('PR', 'statut_protection_regionale', 'Protection régionale', 17),
    ('PD', 'statut_protection_departementale', 'Protection départementale', 18),
    ('PNA', 'statut_pna', 'Plan national d''actions', 19),
    ('PREF', 'statut_protection_prefectorale', 'Protection préfectorale', 20),
    ('LRBRYO', 'statut_livre_rouge_bryophytes', 'Livre rouge des bryophytes', 21),
    ('SCAP', 'statut_scap', 'Stratégie de création d''aires protégées (SCAP)', 22),
    ('SINP', 'statut_sinp', 'Statut SINP (espèce sensible)', 23),
    ('SRCE', 'statut_srce', 'Espèce de cohérence SRCE / trame verte et bleue', 24),
    ('ZH', 'statut_zone_humide', 'Espèce déterminante de zone humide', 25),
    ('ZNIEFF', 'statut_znieff', 'Espèce déterminante ZNIEFF', 26);

CREATE TABLE oc_dat.taxon_statut (
    cd_ref      integer NOT NULL,
    type_statut text NOT NULL REFERENCES oc_dat.statut_type,
    valeur      text NOT NULL,              -- e.g. 'An. II', 'VU', 'Art. 3'
    PRIMARY KEY (cd_ref, type_statut)
);
COMMENT ON TABLE oc_dat.taxon_statut IS 'Taxon statuses: one row per taxon (cd_ref) and status type.';

-- Geographic objects. Observations refer to them by code (attachment arrays).
CREATE TABLE oc_dat.departement (
    code    text PRIMARY KEY,               -- INSEE code, e.g. 34
    nom     text NOT NULL,
    geom    geometry(MultiPolygon, 2154) NOT NULL
);
CREATE INDEX departement_geom_idx ON oc_dat.departement USING gist (geom);

CREATE TABLE oc_dat.commune (
    code        text PRIMARY KEY,           -- INSEE code, e.g. 34172
    nom         text NOT NULL,
    departement text NOT NULL REFERENCES oc_dat.departement,
    geom        geometry(MultiPolygon, 2154) NOT NULL
);
CREATE INDEX commune_geom_idx ON oc_dat.commune USING gist (geom);
CREATE INDEX commune_departement_idx ON oc_dat.commune (departement);

CREATE TABLE oc_dat.maille10 (
    code    text PRIMARY KEY,               -- 10kmL93E074N695: lower-left corner x=740000, y=6950000
    geom    geometry(Polygon, 2154) NOT NULL
);
CREATE INDEX maille10_geom_idx ON oc_dat.maille10 USING gist (geom);

CREATE TABLE oc_dat.espace_naturel (
    code    text PRIMARY KEY,               -- national identifier (ZNIEFF, Natura 2000, reserve...)
    nom     text NOT NULL,
    type_en text NOT NULL,                  -- nomenclature TYP_EN
    geom    geometry(MultiPolygon, 2154) NOT NULL
);
CREATE INDEX espace_naturel_geom_idx ON oc_dat.espace_naturel USING gist (geom);

-- Metadata: acquisition frameworks and the datasets they hold.
CREATE TABLE oc_dat.cadre_acquisition (
    id              integer PRIMARY KEY,
    id_sinp_ca      uuid NOT NULL UNIQUE,
    libelle         text NOT NULL,
    description     text,
    objectif        text,
    territoire      text,
    maitre_ouvrage  text,
    maitre_oeuvre   text,
    financement     text,
    date_lancement  date,
    date_cloture    date
);
COMMENT ON TABLE oc_dat.cadre_acquisition IS 'SINP acquisition frameworks (cadres d''acquisition).';

CREATE TABLE oc_dat.jeu_donnees (
    id                          integer PRIMARY KEY,
    id_sinp_jdd                 uuid NOT NULL UNIQUE,
    id_cadre_acquisition        integer NOT NULL REFERENCES oc_dat.cadre_acquisition,
    code                        text NOT NULL UNIQUE,
    libelle                     text NOT NULL,
    description                 text,
    pole                        text REFERENCES oc_dat.pole,
    producteur                  text NOT NULL,
    contact_nom                 text,
    contact_email               text,
    licence                     text NOT NULL,
    conditions_diffusion        text,
    citation                    text,
    ds_publique                 text NOT NULL,      -- DS_PUBLIQUE
    diffusion_niveau_precision  text,               -- NIV_PRECIS, producer's wish for private data
    date_debut                  date,
    date_fin                    date,
    date_creation               date,
    date_revision               date
);
COMMENT ON TABLE oc_dat.jeu_donnees IS 'SINP datasets (jeux de données) with what a requester needs to use and cite them.';

-- Sensitivity referential: rules "taxon x département -> level", imported by
-- `sinp sensitivity apply` (and by the seed) from the national/regional files.
CREATE TABLE oc_dat.sensibilite_regle (
    referentiel         text NOT NULL,      -- name of the imported referential
    id                  integer NOT NULL,   -- rule id in the referential
    cd_nom              integer NOT NULL,
    cd_ref              integer NOT NULL,   -- cd_ref of cd_nom when the taxon is known, else cd_nom
    cd_dept             text NOT NULL,      -- département the rule applies in (two digits)
    duree               integer,            -- years a record stays sensitive; NULL = always
    codage              smallint NOT NULL CHECK (codage BETWEEN 0 AND 4),   -- SENSIBILITE
    autre               text,               -- free-text condition (informative only)
    cd_sl               integer,            -- list the rule comes from
    statut_biologique   text,               -- STATUT_BIO (v1) the rule is restricted to; NULL = any
    comportement        text,               -- the same condition as an OCC_COMPORTEMENT code (v1 statuses moved there in v2)
    nom_cite            text,
    PRIMARY KEY (referentiel, id)
);
CREATE INDEX sensibilite_regle_cd_ref_idx ON oc_dat.sensibilite_regle (referentiel, cd_ref);
COMMENT ON TABLE oc_dat.sensibilite_regle IS 'Sensitivity rules: the level (codage) of a taxon in a département, for duree years, for a biological status.';
