-- The pôles as the extractor's API gives them (GetTerritory, CheckScope):
-- their codes, names and the platform's order, which no other view
-- carries. Another layout plugs in by providing this view too.
CREATE VIEW oc_dat.v_extract_pole AS
SELECT p.code, p.nom AS name, p.ordre AS sort_order
FROM oc_dat.pole p;

COMMENT ON VIEW oc_dat.v_extract_pole IS
'The thematic pôles: v_extract_source.pole codes, their names and the platform''s order (sort_order).';
COMMENT ON COLUMN oc_dat.v_extract_pole.code IS 'Pôle code, as in v_extract_source.pole and v_extract_dataset.pole';
COMMENT ON COLUMN oc_dat.v_extract_pole.name IS 'Name of the pôle (French)';
COMMENT ON COLUMN oc_dat.v_extract_pole.sort_order IS 'Rank of the pôle in the platform''s lists, from 1';
