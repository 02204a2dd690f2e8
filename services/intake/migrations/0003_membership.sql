-- The membership registry (services/intake/membership): the structures,
-- their status and its history, and the promotions of pre-adherents with
-- each pôle's position. The rules are in membership/rule; these tables
-- only remember, with the constraints that keep a bug from writing
-- something the rules forbid.

-- A structure of the registry. Its status is the one entitlement reads
-- (only adherents receive F2).
CREATE TABLE structure (
    id             text PRIMARY KEY,
    -- The registry's own number (id_adher), for structures imported from
    -- its CSV: importing again updates the same row.
    registry_id    text UNIQUE,
    name           text NOT NULL CHECK (name <> ''),
    type           text NOT NULL DEFAULT '',
    -- Taxonomic scope: pôle codes (oc_dat.pole); empty for all.
    poles          text[] NOT NULL DEFAULT '{}',
    -- Geographic scope: département codes and/or a MULTIPOLYGON in
    -- EPSG:2154 as WKT; both empty for the whole region.
    departements   text[] NOT NULL DEFAULT '{}',
    scope_wkt      text NOT NULL DEFAULT '',
    contact_name   text NOT NULL DEFAULT '',
    contact_email  text NOT NULL DEFAULT '',
    contact_phone  text NOT NULL DEFAULT '',
    status         text NOT NULL CHECK (status IN ('pre-adherent', 'adherent', 'withdrawn')),
    -- When the structure asked to join (date_demande).
    requested_at   timestamptz,
    remarks        text NOT NULL DEFAULT '',
    -- Since when it is an adherent; null unless it is one.
    adherent_since timestamptz CHECK ((status = 'adherent') = (adherent_since IS NOT NULL)),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- Listings by status, in name order (keyset pages on (name, id)).
CREATE INDEX structure_status_name ON structure (status, name, id);
CREATE INDEX structure_name ON structure (name, id);

-- Every change of a structure's status, oldest first: its entry in the
-- registry (from ''), promotions decided (a refusal is pre-adherent to
-- pre-adherent), withdrawals, re-admissions.
CREATE TABLE membership_change (
    id           bigserial PRIMARY KEY,
    structure_id text NOT NULL REFERENCES structure,
    changed_at   timestamptz NOT NULL,
    from_status  text NOT NULL CHECK (from_status IN ('', 'pre-adherent', 'adherent', 'withdrawn')),
    to_status    text NOT NULL CHECK (to_status IN ('pre-adherent', 'adherent', 'withdrawn')),
    changed_by   text NOT NULL,
    remarks      text NOT NULL DEFAULT ''
);
CREATE INDEX membership_change_structure ON membership_change (structure_id, id);

-- The promotion of a pre-adherent, opened by the administrator, decided
-- by the administrator.
CREATE TABLE promotion (
    id               bigserial PRIMARY KEY,
    structure_id     text NOT NULL REFERENCES structure,
    state            text NOT NULL CHECK (state IN ('open', 'promoted', 'refused')),
    opened_at        timestamptz NOT NULL,
    opened_by        text NOT NULL,
    remarks          text NOT NULL DEFAULT '',
    decided_at       timestamptz,
    decided_by       text NOT NULL DEFAULT '',
    decision_remarks text NOT NULL DEFAULT '',
    CHECK ((state = 'open') = (decided_at IS NULL))
);
-- One open promotion per structure at a time.
CREATE UNIQUE INDEX promotion_one_open ON promotion (structure_id) WHERE state = 'open';
CREATE INDEX promotion_structure ON promotion (structure_id, id);

-- Each pôle's position on a promotion, revised in place until the
-- decision: an approval, or an objection with its argument.
CREATE TABLE promotion_position (
    promotion_id bigint NOT NULL REFERENCES promotion,
    pole         text NOT NULL,
    approves     boolean NOT NULL,
    argument     text NOT NULL DEFAULT '',
    reviewer     text NOT NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (promotion_id, pole),
    CHECK (approves OR argument <> '')
);
