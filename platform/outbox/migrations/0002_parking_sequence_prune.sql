-- The relay is woken in-process after a commit (or by an explicit NOTIFY
-- from a process without a relay), not by a trigger: PostgreSQL serialises
-- the commits of notifying transactions, which capped emitting.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();

-- A row the bus keeps refusing is parked after a few tries, with its
-- error, so that it does not block the rows behind it.
ALTER TABLE outbox
    ADD COLUMN attempts   integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text,
    ADD COLUMN parked_at  timestamptz;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL;

-- Pruning old processed-event records by age.
CREATE INDEX processed_event_age ON processed_event (processed_at);

-- Meta.sequence of an event: the relay writes it into the payload it
-- publishes (one statement per Emit, not two).
ALTER TABLE outbox ADD COLUMN sequence bigint;

-- The last sequence number given to each aggregate's events.
CREATE TABLE aggregate_sequence (
    aggregate text PRIMARY KEY,
    seq       bigint NOT NULL
);
