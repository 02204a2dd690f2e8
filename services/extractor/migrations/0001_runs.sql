-- Extraction runs: one per instructed request (and per retry). A worker
-- claims a pending run with FOR UPDATE SKIP LOCKED and holds it with a lease
-- it renews; a run whose lease expired (its worker died) is claimed again.
CREATE TABLE extractor.run (
    run_id        text PRIMARY KEY,          -- "<reference>#<retry>"
    reference     text NOT NULL,
    retry         integer NOT NULL,
    request       bytea NOT NULL,            -- the RequestInstructed event
    cause_id      text NOT NULL,             -- its event id
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'running', 'completed', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    not_before    timestamptz NOT NULL DEFAULT now(),
    lease_until   timestamptz,
    owner         text,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    rows_selected bigint,
    UNIQUE (reference, retry)
);
CREATE INDEX run_claimable ON extractor.run (created_at) WHERE state IN ('pending', 'running');

-- The archives a completed run staged.
CREATE TABLE extractor.archive (
    run_id         text NOT NULL REFERENCES extractor.run,
    deliverable_id text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('F1', 'F2')),
    pole           text NOT NULL DEFAULT '',
    archive_name   text NOT NULL,
    staged_path    text NOT NULL,
    sha256         text NOT NULL,
    bytes          bigint NOT NULL,
    rows           bigint NOT NULL,
    encrypted      boolean NOT NULL,
    PRIMARY KEY (run_id, deliverable_id)
);

CREATE FUNCTION extractor.run_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('extractor_run', '');
    RETURN NULL;
END $$;
CREATE TRIGGER run_notify AFTER INSERT ON extractor.run
    FOR EACH STATEMENT EXECUTE FUNCTION extractor.run_notify();
