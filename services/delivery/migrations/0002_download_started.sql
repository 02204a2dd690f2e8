-- A download is audited twice: when it starts, before its first byte (so
-- that one the process does not live to finish is still traced), and when
-- it ends, with the bytes sent.
ALTER TABLE delivery.audit DROP CONSTRAINT audit_action_check;
ALTER TABLE delivery.audit ADD CONSTRAINT audit_action_check
    CHECK (action IN ('download-started', 'download', 'password'));
