-- Signed checkpoints of the audit chain (see dev.sigil.server.audit.AuditCheckpoints). Each row
-- commits to the chain's (seq, hash) at one moment with an ECDSA P-256 signature by the server's
-- audit-checkpoint key; the public key is stored with each row (base64 DER SubjectPublicKeyInfo) so
-- verification can be done offline. Ids are consecutive from 1; a gap means deleted checkpoints.
CREATE TABLE audit_checkpoints (
    id         BIGINT NOT NULL PRIMARY KEY,
    seq        BIGINT NOT NULL,
    head_hash  TEXT   NOT NULL,
    signed_at  BIGINT NOT NULL,
    key_id     TEXT   NOT NULL,
    public_key TEXT   NOT NULL,
    signature  TEXT   NOT NULL
);
