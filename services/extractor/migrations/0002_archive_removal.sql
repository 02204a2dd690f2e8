-- A staged archive is deleted once it can never be published again (its
-- publication expired, or its F2 was withheld for good); its row stays,
-- with when and why, so that every full-precision copy is accounted for.
ALTER TABLE extractor.archive
    ADD COLUMN removed_at      timestamptz,
    ADD COLUMN removed_because text CHECK (removed_because IN ('expired', 'withheld'));
CREATE INDEX archive_deliverable ON extractor.archive (deliverable_id) WHERE removed_at IS NULL;
