-- One row per taxon (cd_ref), one column per status type: the extractor joins
-- it on cd_ref, so the ~26 status columns cost one index lookup per taxon
-- rather than a pivot per observation. Refresh after loading taxon statuses:
--   REFRESH MATERIALIZED VIEW oc_dat.taxon_statut_large;
CREATE MATERIALIZED VIEW oc_dat.taxon_statut_large AS
SELECT cd_ref,
    max(valeur) FILTER (WHERE type_statut = 'BERN') AS statut_berne,
    max(valeur) FILTER (WHERE type_statut = 'BONN') AS statut_bonn,
    max(valeur) FILTER (WHERE type_statut = 'CITES') AS statut_cites,
    max(valeur) FILTER (WHERE type_statut = 'CHASSE') AS statut_chasse,
    max(valeur) FILTER (WHERE type_statut = 'DH') AS statut_directive_habitats,
    max(valeur) FILTER (WHERE type_statut = 'DO') AS statut_directive_oiseaux,
    max(valeur) FILTER (WHERE type_statut = 'MENACE') AS statut_menace_extinction,
    max(valeur) FILTER (WHERE type_statut = 'PRIO_REG') AS statut_priorite_regionale,
    max(valeur) FILTER (WHERE type_statut = 'ZNIEFF_FLORE') AS statut_hierarchie_znieff_flore,
    max(valeur) FILTER (WHERE type_statut = 'EEE') AS statut_invasive,
    max(valeur) FILTER (WHERE type_statut = 'LR1995') AS statut_livre_rouge_1995,
    max(valeur) FILTER (WHERE type_statut = 'LRN') AS statut_lr_france,
    max(valeur) FILTER (WHERE type_statut = 'LRE') AS statut_lr_europe,
    max(valeur) FILTER (WHERE type_statut = 'LRM') AS statut_lr_monde,
    max(valeur) FILTER (WHERE type_statut = 'LRR') AS statut_lr_regionale,
    max(valeur) FILTER (WHERE type_statut = 'PN') AS statut_protection_nationale,
    max(valeur) FILTER (WHERE type_statut = 'PR') AS statut_protection_regionale,
    max(valeur) FILTER (WHERE type_statut = 'PD') AS statut_protection_departementale,
    max(valeur) FILTER (WHERE type_statut = 'PNA') AS statut_pna,
    max(valeur) FILTER (WHERE type_statut = 'PREF') AS statut_protection_prefectorale,
    max(valeur) FILTER (WHERE type_statut = 'LRBRYO') AS statut_livre_rouge_bryophytes,
    max(valeur) FILTER (WHERE type_statut = 'SCAP') AS statut_scap,
    max(valeur) FILTER (WHERE type_statut = 'SINP') AS statut_sinp,
    max(valeur) FILTER (WHERE type_statut = 'SRCE') AS statut_srce,
    max(valeur) FILTER (WHERE type_statut = 'ZH') AS statut_zone_humide,
    max(valeur) FILTER (WHERE type_statut = 'ZNIEFF') AS statut_znieff
FROM oc_dat.taxon_statut
GROUP BY cd_ref;
CREATE UNIQUE INDEX taxon_statut_large_cd_ref_idx ON oc_dat.taxon_statut_large (cd_ref);
COMMENT ON MATERIALIZED VIEW oc_dat.taxon_statut_large IS 'Taxon statuses pivoted: one row per cd_ref, one column per status type (oc_dat.statut_type.colonne). Refresh after loading oc_dat.taxon_statut.';
