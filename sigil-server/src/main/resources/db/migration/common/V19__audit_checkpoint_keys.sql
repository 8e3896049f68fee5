-- Checkpoint keys of every server sharing this datastore (docs/audit.md, "Checkpoints with several
-- servers"): each server's audit-checkpoint public key (base64 DER), endorsed with the keyed hash that
-- only holders of the shared audit hmac key can compute, so a checkpoint signed by any server verifies
-- at every other, and a key written into the database by someone without the hmac key is not trusted.
CREATE TABLE audit_checkpoint_keys (
    public_key  VARCHAR(400) NOT NULL PRIMARY KEY,
    endorsement VARCHAR(100) NOT NULL,
    added_at    BIGINT       NOT NULL
);
