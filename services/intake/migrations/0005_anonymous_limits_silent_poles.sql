-- Account-less submissions by client address (an IPv6 address by its
-- /64), for their rate limit: request.Limits.AnonymousPerAddress within
-- AnonymousWindow. Only what the limit needs is kept, and rows older than
-- the window are deleted as new ones from the same address come.
CREATE TABLE anonymous_submission (
    id      bigserial PRIMARY KEY,
    address text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX anonymous_submission_address ON anonymous_submission (address, at);

-- The pôles that had given no position when a promotion was decided: the
-- decision's remarks had to answer for their silence.
ALTER TABLE promotion ADD COLUMN silent_poles text[] NOT NULL DEFAULT '{}';
