-- Token status lists (IETF OAuth Token Status List): one row per issued token that carries a
-- "status" claim, at position idx of status list list_id. status: 0 valid, 1 invalid (revoked).
-- A row is kept until its token expires; expired rows read as valid in the list and may be pruned.
-- Portable SQL (SQLite and PostgreSQL); times are epoch milliseconds.
CREATE TABLE token_status (
    list_id     BIGINT  NOT NULL,
    idx         BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    ref         TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    status      INTEGER NOT NULL,
    changed_at  BIGINT,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX token_status_ref ON token_status (ref);
CREATE INDEX token_status_holder ON token_status (holder);
CREATE INDEX token_status_invalid ON token_status (list_id, status, expires_at);

-- The next unallocated status position across all lists; servers reserve blocks from it.
CREATE TABLE token_status_counter (
    id        INTEGER NOT NULL PRIMARY KEY,
    next_idx  BIGINT  NOT NULL
);
INSERT INTO token_status_counter (id, next_idx) VALUES (1, 0);

-- Revoking everything a holder was issued (drift, ban, leaked credential) looks tokens up by subject.
CREATE INDEX issued_tokens_subject ON issued_tokens (subject, expires_at);
