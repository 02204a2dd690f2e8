-- observation_sensitive_idx (0007) never served: the extractor tests the
-- sensitive predicate through oc_dat.v_extract_source, whose sensi_niveau
-- is a cast (o.sensi_niveau::integer), so the planner cannot prove the
-- index's predicate; and for a whole region the sensitive rows (one in
-- seven, on nearly every page) are cheaper to read by a sequential scan
-- anyway. The extractor now reads them on a second connection while the
-- rest streams. An index that never serves only slows loading.
DROP INDEX IF EXISTS oc_dat.observation_sensitive_idx;
