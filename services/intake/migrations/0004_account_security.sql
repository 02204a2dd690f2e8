-- Account security (services/intake/account): refresh tokens a rotation
-- replaced, so that one presented again (a stolen copy used after its
-- owner refreshed, or the owner's after a thief refreshed first) ends the
-- whole session; and an index to prune the sign-in failures that have
-- left the rate-limit window.

-- A replaced refresh token, kept only as its SHA-256 until its session
-- would have expired anyway.
CREATE TABLE session_rotated (
    refresh_hash bytea PRIMARY KEY,
    session_id   text NOT NULL REFERENCES session,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX session_rotated_expires ON session_rotated (expires_at);

CREATE INDEX sign_in_failure_at ON sign_in_failure (at);
