-- The extractor reads sensitive observations apart (grouped by the object
-- they blur to): this index finds them without scanning the store again.
-- The predicate is the extractor's "sensitive" test: a sensitivity level, or
-- private data whose producer restricted its diffusion (NIV_PRECIS 1-4).
CREATE INDEX observation_sensitive_idx ON oc_dat.observation (id)
    WHERE sensi_niveau > 0 OR (ds_publique = 'Pr' AND diffusion_niveau_precision IN ('1', '2', '3', '4'));
