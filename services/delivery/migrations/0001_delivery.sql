-- What was published in which drop zone: an archive of a released
-- deliverable, or the notice of a withheld F2. The files may expire; the
-- records stay.
CREATE TABLE delivery.publication (
    deliverable_id text PRIMARY KEY,
    reference      text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('F1', 'F2')),
    pole           text NOT NULL DEFAULT '',
    nature         text NOT NULL CHECK (nature IN ('archive', 'notice')),
    drop_zone      text NOT NULL,
    account_id     text NOT NULL DEFAULT '',  -- the requester's account; '' for a tracking-token holder
    path           text NOT NULL,             -- in the zone: <reference>/<name>
    sha256         text NOT NULL,
    bytes          bigint NOT NULL,
    rows           bigint NOT NULL DEFAULT 0,
    encrypted      boolean NOT NULL DEFAULT false,
    rule           text NOT NULL DEFAULT '',
    released_at    timestamptz,
    justification  text NOT NULL DEFAULT '',
    published_at   timestamptz NOT NULL,
    expires_at     timestamptz,
    postponed      boolean NOT NULL DEFAULT false,
    expired_at     timestamptz,
    UNIQUE (drop_zone, path)
);
CREATE INDEX publication_zone ON delivery.publication (drop_zone, reference);

-- Every download of a file and every password shown: who, what, when,
-- from where, how much. Append-only: sensitive data must stay traceable.
CREATE TABLE delivery.audit (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL,
    action         text NOT NULL CHECK (action IN ('download', 'password')),
    principal      text NOT NULL,
    reference      text NOT NULL,
    deliverable_id text NOT NULL,
    pole           text NOT NULL DEFAULT '',
    path           text NOT NULL DEFAULT '',
    address        text NOT NULL DEFAULT '',
    bytes_sent     bigint NOT NULL DEFAULT 0,
    complete       boolean NOT NULL DEFAULT false,
    range          text NOT NULL DEFAULT ''
);
CREATE INDEX audit_reference ON delivery.audit (reference, id);

CREATE FUNCTION delivery.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'delivery.audit is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON delivery.audit
    FOR EACH ROW EXECUTE FUNCTION delivery.audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON delivery.audit
    FOR EACH STATEMENT EXECUTE FUNCTION delivery.audit_append_only();
