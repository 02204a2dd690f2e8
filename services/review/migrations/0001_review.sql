-- One row per completed extraction: E, the entitlement and the policy in
-- force at E (a later change of configuration does not move a running
-- review), and the ExtractionCompleted event (deliverables, partitions,
-- requester) the release events repeat.
CREATE TABLE review.extraction (
    reference          text PRIMARY KEY,
    run_id             text NOT NULL,
    completed_at       timestamptz NOT NULL,   -- E
    entitled           boolean NOT NULL,
    mode               text NOT NULL CHECK (mode IN ('progressive', 'batched')),
    f1_latency         interval NOT NULL,
    favorable_latency  interval NOT NULL,
    deadline           interval NOT NULL,
    requester_account  text NOT NULL DEFAULT '',
    completed          bytea NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX extraction_requester ON review.extraction (requester_account) WHERE requester_account <> '';

-- F1 and each F2 of an extraction, and how each was settled: the rule's
-- instant (settled_at) and when the release timer fired (fired_at, never
-- earlier).
CREATE TABLE review.deliverable (
    deliverable_id text PRIMARY KEY,
    reference      text NOT NULL REFERENCES review.extraction,
    kind           text NOT NULL CHECK (kind IN ('F1', 'F2')),
    pole           text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'released', 'withheld')),
    rule           text,
    settled_at     timestamptz,
    fired_at       timestamptz,
    justification  text NOT NULL DEFAULT '',
    CHECK ((state = 'pending') = (settled_at IS NULL)),
    CHECK (fired_at IS NULL OR fired_at >= settled_at)
);
CREATE INDEX deliverable_queue ON review.deliverable (pole, state) WHERE kind = 'F2';
CREATE INDEX deliverable_reference ON review.deliverable (reference);

-- Every opinion a pôle gave, in order; the rule reads them all.
CREATE TABLE review.opinion (
    id              bigserial PRIMARY KEY,
    reference       text NOT NULL REFERENCES review.extraction,
    pole            text NOT NULL,
    verdict         text NOT NULL CHECK (verdict IN ('favorable', 'unfavorable')),
    justification   text NOT NULL DEFAULT '',
    reviewer        text NOT NULL,
    at              timestamptz NOT NULL,
    idempotency_key text,
    CHECK (verdict = 'favorable' OR justification <> '')
);
CREATE INDEX opinion_reference ON review.opinion (reference, at, id);
CREATE UNIQUE INDEX opinion_idempotency ON review.opinion (reviewer, idempotency_key) WHERE idempotency_key IS NOT NULL;
