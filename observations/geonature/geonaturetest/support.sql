-- The least of a GeoNature database the shared table definitions
-- (../shared/data/geonature/*.sql) need to load: the schemas, the tables
-- their foreign keys name, and the functions their defaults, checks and
-- triggers call. Tables and functions keep GeoNature's names and columns;
-- their bodies are reduced to what a test needs.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE SCHEMA gn_synthese;
CREATE SCHEMA gn_meta;
CREATE SCHEMA gn_commons;
CREATE SCHEMA ref_geo;
CREATE SCHEMA ref_nomenclatures;
CREATE SCHEMA ref_habitats;
CREATE SCHEMA taxonomie;
CREATE SCHEMA utilisateurs;

-- utilisateurs: what the nomenclature file and the foreign keys touch.
CREATE TABLE utilisateurs.bib_organismes (
    id_organisme serial PRIMARY KEY,
    nom_organisme character varying(500) NOT NULL UNIQUE,
    adresse_organisme character varying(128),
    cp_organisme character varying(5),
    ville_organisme character varying(100),
    tel_organisme character varying(14),
    fax_organisme character varying(14),
    email_organisme character varying(100)
);
CREATE TABLE utilisateurs.t_roles (
    id_role serial PRIMARY KEY,
    groupe boolean DEFAULT false NOT NULL,
    identifiant character varying(100),
    nom_role character varying(50),
    prenom_role character varying(50),
    id_organisme integer
);
-- The users a GeoNature install creates, which the sample's datasets name.
INSERT INTO utilisateurs.t_roles (id_role, groupe, identifiant, nom_role, prenom_role) VALUES
    (1, false, 'admin', 'Administrateur', 'test'),
    (2, false, 'agent', 'Agent', 'test'),
    (3, false, 'partenaire', 'Partenaire', 'test');
SELECT setval('utilisateurs.t_roles_id_role_seq', 3);
CREATE TABLE gn_commons.t_modules (id_module serial PRIMARY KEY, module_code character varying(50));
CREATE FUNCTION gn_commons.get_default_parameter(myparamname text, myidorganisme integer DEFAULT 0) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT NULL::text $$;
CREATE TABLE ref_habitats.habref (cd_hab integer PRIMARY KEY);

-- ref_nomenclatures: GeoNature's tables, filled by nomenclatures_inpn_data.sql.
CREATE TABLE ref_nomenclatures.bib_nomenclatures_types (
    id_type serial PRIMARY KEY,
    mnemonique character varying(255) UNIQUE,
    label_default character varying(255),
    definition_default text,
    label_fr character varying(255),
    definition_fr text,
    label_en character varying(255),
    definition_en text,
    source character varying(50),
    statut character varying(20),
    meta_create_date timestamp without time zone DEFAULT now(),
    meta_update_date timestamp without time zone DEFAULT now()
);
CREATE TABLE ref_nomenclatures.t_nomenclatures (
    id_nomenclature serial PRIMARY KEY,
    id_type integer NOT NULL REFERENCES ref_nomenclatures.bib_nomenclatures_types,
    cd_nomenclature character varying(255) NOT NULL,
    mnemonique character varying(255),
    label_default character varying(255),
    definition_default text,
    label_fr character varying(255),
    definition_fr text,
    label_en character varying(255),
    definition_en text,
    source character varying(50),
    statut character varying(20),
    id_broader integer,
    hierarchy character varying(255),
    meta_create_date timestamp without time zone DEFAULT now(),
    meta_update_date timestamp without time zone,
    active boolean DEFAULT true NOT NULL,
    UNIQUE (id_type, cd_nomenclature)
);
CREATE TABLE ref_nomenclatures.defaults_nomenclatures_value (
    mnemonique_type character varying(255) NOT NULL,
    id_organism integer NOT NULL DEFAULT 0,
    regne character varying(20) NOT NULL DEFAULT '0',
    group2_inpn character varying(255) NOT NULL DEFAULT '0',
    id_nomenclature integer NOT NULL,
    PRIMARY KEY (mnemonique_type, id_organism, regne, group2_inpn)
);
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature_type(mytype character varying) RETURNS integer
    LANGUAGE sql STABLE AS $$ SELECT id_type FROM ref_nomenclatures.bib_nomenclatures_types WHERE mnemonique = mytype $$;
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature(mytype character varying, mycdnomenclature character varying) RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT n.id_nomenclature FROM ref_nomenclatures.t_nomenclatures n
    JOIN ref_nomenclatures.bib_nomenclatures_types t ON t.id_type = n.id_type
    WHERE t.mnemonique = mytype AND n.cd_nomenclature = mycdnomenclature $$;
CREATE FUNCTION ref_nomenclatures.get_default_nomenclature_value(mytype character varying, myidorganism integer DEFAULT 0,
        myregne character varying DEFAULT '0', mygroup2inpn character varying DEFAULT '0') RETURNS integer
    LANGUAGE sql STABLE AS $$
    SELECT id_nomenclature FROM ref_nomenclatures.defaults_nomenclatures_value WHERE mnemonique_type = mytype
    ORDER BY id_organism LIMIT 1 $$;
CREATE FUNCTION ref_nomenclatures.check_nomenclature_type_by_mnemonique(id integer, mytype character varying) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT id IS NULL OR EXISTS (SELECT 1 FROM ref_nomenclatures.t_nomenclatures n
        JOIN ref_nomenclatures.bib_nomenclatures_types t ON t.id_type = n.id_type
        WHERE n.id_nomenclature = id AND t.mnemonique = mytype) $$;
CREATE FUNCTION ref_nomenclatures.get_cd_nomenclature(myidnomenclature integer) RETURNS character varying
    LANGUAGE sql STABLE AS $$ SELECT cd_nomenclature FROM ref_nomenclatures.t_nomenclatures WHERE id_nomenclature = myidnomenclature $$;

-- GeoNature's metadata dates: kept when given (the sample gives them), now()
-- otherwise.
CREATE FUNCTION public.fct_trg_meta_dates_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.meta_create_date := coalesce(NEW.meta_create_date, now());
    ELSE
        NEW.meta_update_date := now();
    END IF;
    RETURN NEW;
END $$;

-- taxonomie: GeoNature's taxref table.
CREATE TABLE taxonomie.taxref (
    cd_nom integer NOT NULL PRIMARY KEY,
    id_statut character(1),
    id_habitat integer,
    id_rang character varying(10),
    regne character varying(20),
    phylum character varying(50),
    classe character varying(50),
    ordre character varying(50),
    famille character varying(50),
    sous_famille character varying(50),
    tribu character varying(50),
    cd_taxsup integer,
    cd_sup integer,
    cd_ref integer,
    lb_nom character varying(250),
    lb_auteur character varying(500),
    nom_complet character varying(500),
    nom_complet_html character varying(500),
    nom_valide character varying(500),
    nom_vern character varying(1000),
    nom_vern_eng character varying(500),
    group1_inpn character varying(50),
    group2_inpn character varying(50),
    url text,
    group3_inpn character varying(250)
);

-- ref_geo: GeoNature's area tables.
CREATE TABLE ref_geo.bib_areas_types (
    id_type integer NOT NULL PRIMARY KEY,
    type_name character varying(200) NOT NULL,
    type_code character varying(25) NOT NULL,
    type_desc text,
    ref_name character varying(200),
    ref_version integer,
    num_version character varying(50),
    size_hierarchy integer
);
CREATE TABLE ref_geo.l_areas (
    id_area serial PRIMARY KEY,
    id_type integer NOT NULL REFERENCES ref_geo.bib_areas_types,
    area_name character varying(250),
    area_code character varying(25),
    geom public.geometry(MultiPolygon, 2154),
    centroid public.geometry(Point, 2154),
    source character varying(250),
    comment text,
    enable boolean DEFAULT true NOT NULL,
    additional_data jsonb,
    meta_create_date timestamp without time zone,
    meta_update_date timestamp without time zone,
    geom_4326 public.geometry(MultiPolygon, 4326)
);
CREATE INDEX index_l_areas_geom ON ref_geo.l_areas USING gist (geom);

-- gn_synthese: the sources table and the functions the synthese table's
-- defaults and triggers call. Sensitivity is left to the test (GeoNature
-- computes it from gn_sensitivity's rules); cor_area_synthese is filled as
-- GeoNature's statement trigger fills it, by intersecting the areas.
CREATE TABLE gn_synthese.t_sources (
    id_source serial PRIMARY KEY,
    name_source character varying(255) NOT NULL,
    desc_source text,
    entity_source_pk_field character varying(255),
    url_source character varying(255),
    meta_create_date timestamp without time zone DEFAULT now(),
    meta_update_date timestamp without time zone DEFAULT now()
);
INSERT INTO gn_synthese.t_sources (id_source, name_source, desc_source) VALUES (1, 'Import', 'valid_file.csv and the direct inserts of sample_data.sql');
CREATE FUNCTION gn_synthese.get_default_nomenclature_value(mytype character varying, myidorganism integer DEFAULT NULL,
        myregne character varying DEFAULT '0', mygroup2inpn character varying DEFAULT '0') RETURNS integer
    LANGUAGE sql STABLE AS $$ SELECT ref_nomenclatures.get_default_nomenclature_value(mytype) $$;
CREATE FUNCTION gn_synthese.fct_tri_calculate_sensitivity_on_each_statement() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION gn_synthese.fct_tri_update_sensitivity_on_each_row() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION gn_synthese.fct_tri_log_delete_on_synthese() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION gn_synthese.fct_trig_update_in_cor_area_synthese() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE FUNCTION gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT n.id_synthese, a.id_area
    FROM new n
    JOIN ref_geo.l_areas a ON a.enable
        AND ST_Intersects(a.geom, coalesce(n.the_geom_local, ST_Transform(n.the_geom_4326, 2154)))
    WHERE n.the_geom_4326 IS NOT NULL OR n.the_geom_local IS NOT NULL;
    RETURN NULL;
END $$;
