-- Accounts: requesters (a person of a structure), pôle reviewers,
-- administrators (DREAL) and operators. Passwords are argon2id hashes.
CREATE TABLE account (
    id                  text PRIMARY KEY,
    email               text NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('requester', 'reviewer', 'administrator', 'operator')),
    pole                text NOT NULL DEFAULT '',
    structure_id        text NOT NULL DEFAULT '',
    password_hash       text NOT NULL,
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'reviewer') = (pole <> ''))
);
CREATE UNIQUE INDEX account_email ON account (lower(email));

-- A sign-in: its refresh token is kept only as a SHA-256 hash; signing
-- out, a refresh (rotation), a password change or a disabled account
-- revoke it.
CREATE TABLE session (
    id           text PRIMARY KEY,
    account_id   text NOT NULL REFERENCES account,
    refresh_hash bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    address      text NOT NULL DEFAULT ''
);
CREATE INDEX session_account ON session (account_id) WHERE revoked_at IS NULL;

-- Failed sign-ins, for the rate limits per account and per address.
CREATE TABLE sign_in_failure (
    id      bigserial PRIMARY KEY,
    email   text NOT NULL,
    address text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failure_email ON sign_in_failure (lower(email), at);
CREATE INDEX sign_in_failure_address ON sign_in_failure (address, at);
