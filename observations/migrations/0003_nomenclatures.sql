-- SINP nomenclature codes and labels the store uses (facts of the public
-- standard; checked against the INPN reference by nomenclature_test.go).

INSERT INTO oc_dat.nomenclature_type (type, label, definition) VALUES
    ('STATUT_OBS', 'Statut d''observation', NULL),
    ('OBJ_DENBR', 'Objet du dénombrement', NULL),
    ('TYP_DENBR', 'Type de dénombrement', NULL),
    ('STATUT_SOURCE', 'Statut de la source', NULL),
    ('DS_PUBLIQUE', 'Code d''origine de la donnée', 'Origine publique ou privée de la donnée.'),
    ('NAT_OBJ_GEO', 'Nature d''objet géographique', 'Nature de l''objet géographique : stationnel (le taxon est présent partout dans l''objet) ou inventoriel (quelque part dans l''objet).'),
    ('TYP_INF_GEO', 'Type d''information géographique', 'Géoréférencement (géométrie propre) ou rattachement à un objet géographique (commune, maille, département, espace naturel).'),
    ('METH_OBS', 'Méthodes d''observation', NULL),
    ('ETA_BIO', 'Etat biologique de l''observation', NULL),
    ('METH_DETERMIN', 'Méthode de détermination', NULL),
    ('NATURALITE', 'Niveau de naturalité', NULL),
    ('SEXE', 'Sexe', NULL),
    ('STADE_VIE', 'Stade de vie : stade de développement du sujet', NULL),
    ('STAT_BIOGEO', 'Statut biogéographique', NULL),
    ('STATUT_BIO', 'Statut biologique', NULL),
    ('OCC_COMPORTEMENT', 'Comportement des occurrences observées', NULL),
    ('PREUVE_EXIST', 'Preuve existante', NULL),
    ('STATUT_VALID', 'Statut de validation', NULL),
    ('NIV_PRECIS', 'Niveaux de précision de diffusion souhaités', 'Précision de diffusion souhaitée par le producteur d''une donnée privée.'),
    ('SENSIBILITE', 'Niveaux de sensibilité', 'Niveau de sensibilité de la donnée, qui fixe la précision à laquelle elle est diffusée au grand public.'),
    ('DEE_FLOU', 'Existence d''un floutage sur la donnée', NULL),
    ('TYP_EN', 'Type d''espace naturel', NULL);

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STATUT_OBS', 'No', 'Non observé'),
    ('STATUT_OBS', 'Pr', 'Présent'),
    ('STATUT_OBS', 'NSP', 'Ne Sait Pas');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('OBJ_DENBR', 'NSP', 'Ne Sait Pas'),
    ('OBJ_DENBR', 'IND', 'Individu'),
    ('OBJ_DENBR', 'CPL', 'Couple'),
    ('OBJ_DENBR', 'COL', 'Colonie'),
    ('OBJ_DENBR', 'NID', 'Nid'),
    ('OBJ_DENBR', 'PON', 'Ponte'),
    ('OBJ_DENBR', 'HAM', 'Hampe florale'),
    ('OBJ_DENBR', 'TIGE', 'Tige'),
    ('OBJ_DENBR', 'TOUF', 'Touffe'),
    ('OBJ_DENBR', 'SURF', 'Surface');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('TYP_DENBR', 'Ca', 'Calculé'),
    ('TYP_DENBR', 'Co', 'Compté'),
    ('TYP_DENBR', 'Es', 'Estimé'),
    ('TYP_DENBR', 'NSP', 'Ne sait pas');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STATUT_SOURCE', 'Co', 'Collection'),
    ('STATUT_SOURCE', 'Li', 'Littérature'),
    ('STATUT_SOURCE', 'NSP', 'Ne Sait Pas'),
    ('STATUT_SOURCE', 'Te', 'Terrain');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('DS_PUBLIQUE', 'NSP', 'Ne sait pas'),
    ('DS_PUBLIQUE', 'Pr', 'Privée'),
    ('DS_PUBLIQUE', 'Pu', 'Publique');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('NAT_OBJ_GEO', 'In', 'Inventoriel'),
    ('NAT_OBJ_GEO', 'NSP', 'Ne sait pas'),
    ('NAT_OBJ_GEO', 'St', 'Stationnel');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('TYP_INF_GEO', '1', 'Géoréférencement'),
    ('TYP_INF_GEO', '2', 'Rattachement');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('METH_OBS', '0', 'Vu'),
    ('METH_OBS', '1', 'Entendu'),
    ('METH_OBS', '2', 'Coquilles d''œuf'),
    ('METH_OBS', '3', 'Ultrasons'),
    ('METH_OBS', '4', 'Empreintes'),
    ('METH_OBS', '5', 'Exuvie'),
    ('METH_OBS', '6', 'Fèces/Guano/Epreintes'),
    ('METH_OBS', '7', 'Mues'),
    ('METH_OBS', '8', 'Nid/Gîte'),
    ('METH_OBS', '9', 'Pelote de réjection'),
    ('METH_OBS', '10', 'Restes dans pelote de réjection'),
    ('METH_OBS', '11', 'Poils/plumes/phanères'),
    ('METH_OBS', '12', 'Restes de repas'),
    ('METH_OBS', '13', 'Spore'),
    ('METH_OBS', '14', 'Pollen'),
    ('METH_OBS', '15', 'Oosphère'),
    ('METH_OBS', '16', 'Ovule'),
    ('METH_OBS', '17', 'Fleur'),
    ('METH_OBS', '18', 'Feuille'),
    ('METH_OBS', '19', 'ADN environnemental'),
    ('METH_OBS', '20', 'Autre'),
    ('METH_OBS', '21', 'Inconnu'),
    ('METH_OBS', '22', 'Mine'),
    ('METH_OBS', '23', 'Galerie/terrier'),
    ('METH_OBS', '24', 'Oothèque'),
    ('METH_OBS', '25', 'Vu et entendu'),
    ('METH_OBS', '26', 'Olfactif'),
    ('METH_OBS', '27', 'Empreintes et fèces');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('ETA_BIO', '0', 'NSP'),
    ('ETA_BIO', '1', 'Non renseigné'),
    ('ETA_BIO', '2', 'Observé vivant'),
    ('ETA_BIO', '3', 'Trouvé mort');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('METH_DETERMIN', '3', 'Analyse d’ADN environnemental'),
    ('METH_DETERMIN', '4', 'Analyse ADN de l''individu ou de ses restes'),
    ('METH_DETERMIN', '5', 'Analyse biophysique ou biochimique'),
    ('METH_DETERMIN', '6', 'Déduction de l''espèce par n° d''identification'),
    ('METH_DETERMIN', '7', 'Détermination informatique par un outil de reconnaissance automatique'),
    ('METH_DETERMIN', '8', 'Examen biométrique'),
    ('METH_DETERMIN', '9', 'Examen auditif direct'),
    ('METH_DETERMIN', '10', 'Examen auditif avec transformation électronique'),
    ('METH_DETERMIN', '11', 'Examen des organes reproducteurs ou critères spécifiques en laboratoire'),
    ('METH_DETERMIN', '2', 'Autre méthode de détermination'),
    ('METH_DETERMIN', '1', 'Non renseigné'),
    ('METH_DETERMIN', '12', 'Examen des organes reproducteurs ou critères spécifiques sur le terrain'),
    ('METH_DETERMIN', '13', 'Examen des restes de l’individu sous loupe ou microscope'),
    ('METH_DETERMIN', '14', 'Examen visuel des restes de l’individu'),
    ('METH_DETERMIN', '15', 'Examen des restes de l''individu sur photo ou vidéo'),
    ('METH_DETERMIN', '16', 'Examen des traces ou indices de présence sur photo ou vidéo'),
    ('METH_DETERMIN', '17', 'Examen direct des traces ou indices de présence'),
    ('METH_DETERMIN', '18', 'Examen visuel à distance'),
    ('METH_DETERMIN', '19', 'Examen visuel en collection '),
    ('METH_DETERMIN', '20', 'Examen visuel sous loupe ou microscope'),
    ('METH_DETERMIN', '21', 'Examen visuel de l’individu en main'),
    ('METH_DETERMIN', '22', 'Examen visuel sur photo ou vidéo');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('NATURALITE', '0', 'Inconnu'),
    ('NATURALITE', '1', 'Sauvage'),
    ('NATURALITE', '2', 'Cultivé/élevé'),
    ('NATURALITE', '3', 'Planté'),
    ('NATURALITE', '4', 'Féral'),
    ('NATURALITE', '5', 'Subspontané');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('SEXE', '0', 'Inconnu'),
    ('SEXE', '1', 'Indéterminé'),
    ('SEXE', '2', 'Femelle'),
    ('SEXE', '3', 'Mâle'),
    ('SEXE', '4', 'Hermaphrodite'),
    ('SEXE', '5', 'Mixte'),
    ('SEXE', '6', 'Non renseigné');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STADE_VIE', '0', 'Inconnu'),
    ('STADE_VIE', '1', 'Indéterminé'),
    ('STADE_VIE', '2', 'Adulte'),
    ('STADE_VIE', '3', 'Juvénile'),
    ('STADE_VIE', '4', 'Immature'),
    ('STADE_VIE', '5', 'Sub-adulte'),
    ('STADE_VIE', '6', 'Larve'),
    ('STADE_VIE', '7', 'Chenille'),
    ('STADE_VIE', '8', 'Têtard'),
    ('STADE_VIE', '9', 'Œuf'),
    ('STADE_VIE', '10', 'Mue'),
    ('STADE_VIE', '11', 'Exuvie'),
    ('STADE_VIE', '12', 'Chrysalide'),
    ('STADE_VIE', '13', 'Nymphe'),
    ('STADE_VIE', '14', 'Pupe'),
    ('STADE_VIE', '15', 'Imago'),
    ('STADE_VIE', '16', 'Sub-imago'),
    ('STADE_VIE', '17', 'Alevin'),
    ('STADE_VIE', '18', 'Germination'),
    ('STADE_VIE', '19', 'Fané'),
    ('STADE_VIE', '20', 'Graine'),
    ('STADE_VIE', '21', 'Thalle, protothalle'),
    ('STADE_VIE', '22', 'Tubercule'),
    ('STADE_VIE', '23', 'Bulbe'),
    ('STADE_VIE', '24', 'Rhizome'),
    ('STADE_VIE', '25', 'Emergent'),
    ('STADE_VIE', '26', 'Post-Larve'),
    ('STADE_VIE', '27', 'Fruit');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STAT_BIOGEO', '0', 'Inconnu/cryptogène'),
    ('STAT_BIOGEO', '1', 'Non renseigné'),
    ('STAT_BIOGEO', '2', 'Présent (indigène ou indéterminé)'),
    ('STAT_BIOGEO', '3', 'Introduit'),
    ('STAT_BIOGEO', '4', 'Introduit envahissant'),
    ('STAT_BIOGEO', '5', 'Introduit non établi (dont domestique)'),
    ('STAT_BIOGEO', '6', 'Occasionnel');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STATUT_BIO', '0', 'Inconnu'),
    ('STATUT_BIO', '1', 'Non renseigné'),
    ('STATUT_BIO', '2', 'Non Déterminé'),
    ('STATUT_BIO', '3', 'Reproduction'),
    ('STATUT_BIO', '4', 'Hibernation'),
    ('STATUT_BIO', '5', 'Estivation'),
    ('STATUT_BIO', '9', 'Pas de reproduction'),
    ('STATUT_BIO', '13', 'Végétatif');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('OCC_COMPORTEMENT', '0', 'Inconnu'),
    ('OCC_COMPORTEMENT', '1', 'Non renseigné'),
    ('OCC_COMPORTEMENT', '2', 'Echouage'),
    ('OCC_COMPORTEMENT', '3', 'Dortoir'),
    ('OCC_COMPORTEMENT', '4', 'Migration'),
    ('OCC_COMPORTEMENT', '5', 'Construction de toile'),
    ('OCC_COMPORTEMENT', '6', 'Halte migratoire'),
    ('OCC_COMPORTEMENT', '7', 'Swarming'),
    ('OCC_COMPORTEMENT', '8', 'Chasse/alimentation'),
    ('OCC_COMPORTEMENT', '9', 'Hivernage'),
    ('OCC_COMPORTEMENT', '10', 'Passage en vol'),
    ('OCC_COMPORTEMENT', '11', 'Erratique'),
    ('OCC_COMPORTEMENT', '12', 'Sédentaire'),
    ('OCC_COMPORTEMENT', '13', 'Estivage'),
    ('OCC_COMPORTEMENT', '14', 'Nourrissage des jeunes'),
    ('OCC_COMPORTEMENT', '15', 'Posé'),
    ('OCC_COMPORTEMENT', '16', 'Déplacement'),
    ('OCC_COMPORTEMENT', '17', 'Repos'),
    ('OCC_COMPORTEMENT', '18', 'Chant'),
    ('OCC_COMPORTEMENT', '19', 'Accouplement'),
    ('OCC_COMPORTEMENT', '20', 'Cœur copulatoire'),
    ('OCC_COMPORTEMENT', '21', 'Tandem'),
    ('OCC_COMPORTEMENT', '22', 'Territorial'),
    ('OCC_COMPORTEMENT', '23', 'Pond');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('PREUVE_EXIST', '0', 'Inconnu'),
    ('PREUVE_EXIST', '1', 'Oui'),
    ('PREUVE_EXIST', '2', 'Non'),
    ('PREUVE_EXIST', '3', 'Non acquise');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('STATUT_VALID', '1', 'Certain - très probable'),
    ('STATUT_VALID', '2', 'Probable'),
    ('STATUT_VALID', '3', 'Douteux'),
    ('STATUT_VALID', '4', 'Invalide'),
    ('STATUT_VALID', '5', 'Non réalisable'),
    ('STATUT_VALID', '6', 'Inconnu'),
    ('STATUT_VALID', '0', 'En attente de validation');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('NIV_PRECIS', '0', 'Standard'),
    ('NIV_PRECIS', '1', 'Commune'),
    ('NIV_PRECIS', '2', 'Maille'),
    ('NIV_PRECIS', '3', 'Département'),
    ('NIV_PRECIS', '4', 'Aucune'),
    ('NIV_PRECIS', '5', 'Précise');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('SENSIBILITE', '0', 'Non sensible - Diffusion précise'),
    ('SENSIBILITE', '1', 'Sensible - Diffusion à la Commune ou Znieff'),
    ('SENSIBILITE', '2', 'Sensible - Diffusion à la maille 10km'),
    ('SENSIBILITE', '3', 'Sensible - Diffusion au département'),
    ('SENSIBILITE', '4', 'Sensible - Aucune diffusion');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('DEE_FLOU', 'NON', 'Non'),
    ('DEE_FLOU', 'OUI', 'Oui'),
    ('DEE_FLOU', 'NSP', 'NSP');

INSERT INTO oc_dat.nomenclature (type, code, label) VALUES
    ('TYP_EN', 'AAPN', 'AAPN'),
    ('TYP_EN', 'ANTAR', 'ANTAR'),
    ('TYP_EN', 'APB', 'APB'),
    ('TYP_EN', 'APIA', 'APIA'),
    ('TYP_EN', 'ASPIM', 'ASPIM'),
    ('TYP_EN', 'BPM', 'BPM'),
    ('TYP_EN', 'CARTH', 'CARTH'),
    ('TYP_EN', 'CNP', 'CNP'),
    ('TYP_EN', 'ENS', 'ENS'),
    ('TYP_EN', 'MAB', 'MAB'),
    ('TYP_EN', 'N2000', 'N2000'),
    ('TYP_EN', 'NAIRO', 'NAIRO'),
    ('TYP_EN', 'OSPAR', 'OSPAR'),
    ('TYP_EN', 'PNM', 'PNM'),
    ('TYP_EN', 'PNR', 'PNR'),
    ('TYP_EN', 'PRN', 'PRN'),
    ('TYP_EN', 'RAMSAR', 'RAMSAR'),
    ('TYP_EN', 'RBD', 'RBD'),
    ('TYP_EN', 'RBI', 'RBI'),
    ('TYP_EN', 'RCFS', 'RCFS'),
    ('TYP_EN', 'RIPN', 'RIPN'),
    ('TYP_EN', 'RNC', 'RNC'),
    ('TYP_EN', 'RNCFS', 'RNCFS'),
    ('TYP_EN', 'RNN', 'RNN'),
    ('TYP_EN', 'RNR', 'RNR'),
    ('TYP_EN', 'SCEN', 'SCEN'),
    ('TYP_EN', 'SCL', 'SCL'),
    ('TYP_EN', 'ZHAE', 'ZHAE'),
    ('TYP_EN', 'ZNIEFF', 'ZNIEFF'),
    ('TYP_EN', 'ZNIEFF1', 'ZNIEFF1'),
    ('TYP_EN', 'ZNIEFF2', 'ZNIEFF2');

