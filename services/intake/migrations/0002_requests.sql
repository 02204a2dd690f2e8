-- Extraction requests. The submission (requester, purpose, perimeter in
-- EPSG:2154, scope, period, options) is kept whole as the RequestSubmitted
-- event; the columns are what listing and filtering need.
CREATE SEQUENCE request_number;

CREATE TABLE request (
    reference           text PRIMARY KEY,
    state               text NOT NULL CHECK (state IN ('deposited', 'instructed', 'rejected', 'cancelled',
                            'extracting', 'extracted', 'completed', 'failed')),
    account_id          text NOT NULL DEFAULT '',     -- '' for an account-less requester
    structure_id        text NOT NULL DEFAULT '',
    declared_email      text NOT NULL DEFAULT '',
    submission          bytea NOT NULL,               -- RequestSubmitted
    poles               text[] NOT NULL DEFAULT '{}', -- the scope's pôles; {} for all
    area_km2            double precision NOT NULL DEFAULT 0,
    submitted_at        timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    submitted_by        text NOT NULL,
    submit_key          text,
    submit_digest       bytea,                        -- what an idempotent retry must repeat
    -- An account-less request's tracking token: its id and instants, so
    -- that a retried submission gets the same token back.
    tracking_id         text,
    tracking_issued_at  timestamptz,
    -- Instruction.
    f2_entitled         boolean,
    instructed_at       timestamptz,
    instructed_by       text NOT NULL DEFAULT '',
    instruction         bytea,                        -- the last RequestInstructed
    retry               integer NOT NULL DEFAULT 0,
    rejection_reason    text NOT NULL DEFAULT '',
    cancellation_reason text NOT NULL DEFAULT '',
    failure             text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX request_submit_key ON request (submitted_by, submit_key) WHERE submit_key IS NOT NULL;
CREATE INDEX request_account ON request (account_id, submitted_at DESC) WHERE account_id <> '';
CREATE INDEX request_listing ON request (submitted_at DESC, reference DESC);

-- Each archive of a request, as the extractor, review and delivery
-- announce it.
CREATE TABLE request_deliverable (
    deliverable_id text PRIMARY KEY,
    reference      text NOT NULL REFERENCES request,
    kind           text NOT NULL CHECK (kind IN ('F1', 'F2')),
    pole           text NOT NULL DEFAULT '',
    state          text NOT NULL CHECK (state IN ('staged', 'under_review', 'released', 'published', 'withheld')),
    rows           bigint NOT NULL DEFAULT 0,
    bytes          bigint NOT NULL DEFAULT 0,
    rule           text NOT NULL DEFAULT '',
    released_at    timestamptz,
    justification  text NOT NULL DEFAULT ''
);
CREATE INDEX request_deliverable_reference ON request_deliverable (reference);

-- Who did what, when, to a request.
CREATE TABLE request_history (
    id        bigserial PRIMARY KEY,
    reference text NOT NULL REFERENCES request,
    at        timestamptz NOT NULL,
    what      text NOT NULL,
    who       text NOT NULL,
    detail    text NOT NULL DEFAULT ''
);
CREATE INDEX request_history_reference ON request_history (reference, at, id);

-- Instruction calls by idempotency key: a retried call returns the first
-- result and emits nothing twice.
CREATE TABLE instruction_key (
    principal text NOT NULL,
    key       text NOT NULL,
    reference text NOT NULL REFERENCES request,
    accept    boolean NOT NULL,
    reason    text NOT NULL DEFAULT '',
    PRIMARY KEY (principal, key)
);
