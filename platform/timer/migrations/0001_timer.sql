-- Durable timers of one service, created in the service's own schema. A
-- timer is scheduled in the transaction of the change that needs it and
-- removed in the transaction of its firing, which also holds the handler's
-- changes and events: it fires once, never before due_at by the
-- deployment's clock.
CREATE TABLE timer (
    key        text PRIMARY KEY,
    kind       text NOT NULL,
    due_at     timestamptz NOT NULL,
    payload    bytea NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0,
    last_error text
);
-- The scanner reads only the due end of this index: its cost grows with
-- the due timers, not with all of them.
CREATE INDEX timer_due ON timer (due_at);
