-- Observations without geometry are selected through the objects they are
-- attached to: "rattachement = 'commune' AND communes && $codes", etc. These
-- partial indexes hold only the attached observations of each kind, so the
-- selection does not wade through the arrays of every georeferenced
-- observation (which list the objects their geometry crosses).
CREATE INDEX observation_att_commune_idx ON oc_dat.observation USING gin (communes) WHERE rattachement = 'commune';
CREATE INDEX observation_att_maille10_idx ON oc_dat.observation USING gin (mailles10) WHERE rattachement = 'maille10';
CREATE INDEX observation_att_departement_idx ON oc_dat.observation USING gin (departements) WHERE rattachement = 'departement';
CREATE INDEX observation_att_espace_naturel_idx ON oc_dat.observation USING gin (espaces_naturels) WHERE rattachement = 'espace_naturel';
