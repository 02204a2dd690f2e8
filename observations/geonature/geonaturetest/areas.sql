-- ref_geo objects around the sample's observations (POINT(6.5 44.85),
-- Vallouise-Pelvoux in the Écrins, x=976446 y=6422887 in EPSG:2154). The
-- shapes are boxes drawn for the test, not the real boundaries: the
-- commune straddles four 10 km cells, the national park's core covers the
-- commune, the département covers everything.
INSERT INTO ref_geo.bib_areas_types (id_type, type_name, type_code, type_desc, ref_name, ref_version, num_version, size_hierarchy) VALUES
    (25, 'Communes', 'COM', 'Type commune', 'IGN admin_express', 2019, NULL, 10000),
    (26, 'Départements', 'DEP', 'Type département', 'IGN admin_express', 2019, NULL, 100000),
    (27, 'Mailles10*10', 'M10', 'Type maille INPN 10*10', 'INPN', 2013, NULL, 10000),
    (28, 'Mailles1*1', 'M1', 'Type maille INPN 1*1', 'INPN', 2013, NULL, 1000),
    (1, 'Coeurs des Parcs nationaux', 'ZC', 'Zone coeur des parcs nationaux', NULL, NULL, '2018-12', NULL);

INSERT INTO ref_geo.l_areas (id_area, id_type, area_name, area_code, geom, enable) VALUES
    (1, 26, 'Hautes-Alpes', '05', ST_Multi(ST_MakeEnvelope(930000, 6380000, 1010000, 6460000, 2154)), true),
    (2, 25, 'Vallouise-Pelvoux', '05101', ST_Multi(ST_MakeEnvelope(972000, 6418000, 981000, 6426000, 2154)), true),
    -- INPN cells, named as the INPN names them: the adapter renames them.
    (3, 27, 'E097N641', 'E097N641', ST_Multi(ST_MakeEnvelope(970000, 6410000, 980000, 6420000, 2154)), true),
    (4, 27, 'E097N642', 'E097N642', ST_Multi(ST_MakeEnvelope(970000, 6420000, 980000, 6430000, 2154)), true),
    (5, 27, 'E098N641', 'E098N641', ST_Multi(ST_MakeEnvelope(980000, 6410000, 990000, 6420000, 2154)), true),
    (6, 27, 'E098N642', 'E098N642', ST_Multi(ST_MakeEnvelope(980000, 6420000, 990000, 6430000, 2154)), true),
    -- 1 km cells are no kind of the extractor's: ignored.
    (7, 28, 'E0976N6428', 'E0976N6428', ST_Multi(ST_MakeEnvelope(976000, 6422000, 977000, 6423000, 2154)), true),
    (8, 1, 'Cœur du Parc national des Écrins (emprise du test)', 'PNE_COEUR', ST_Multi(ST_MakeEnvelope(960000, 6415000, 990000, 6440000, 2154)), true),
    -- A disabled area is no object of the extractor's.
    (9, 25, 'Commune désactivée', '05999', ST_Multi(ST_MakeEnvelope(975000, 6421000, 978000, 6424000, 2154)), false);
SELECT setval('ref_geo.l_areas_id_area_seq', 9);
