-- The audit trail: append-only, hash-chained records. hash = SHA-256 over a canonical encoding of
-- every other column including prev_hash (see dev.sigil.server.audit.AuditChain); the first record's
-- prev_hash is 64 zeros. audit_head holds the chain's end; every append locks and advances it in the
-- same transaction, so appenders on several servers produce one linear chain.
CREATE TABLE audit_records (
    seq         BIGINT NOT NULL PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    details     TEXT   NOT NULL,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL
);
CREATE INDEX audit_records_actor ON audit_records (actor, seq);
CREATE INDEX audit_records_subject ON audit_records (subject, seq);
CREATE INDEX audit_records_recorded_at ON audit_records (recorded_at);

CREATE TABLE audit_head (
    id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT  NOT NULL,
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
