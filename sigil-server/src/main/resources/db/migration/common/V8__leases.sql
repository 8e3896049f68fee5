-- Leases over brokered credentials (see docs/credentials.md). Portable SQL (SQLite and PostgreSQL);
-- times are epoch milliseconds. No secret is stored: leak_hash is the keyed hash (HMAC) of the
-- credential's leak key, details hold only non-secret facts (role name, certificate serial, jti).
-- state: pending (recorded, grant in progress) -> active -> revoking (intent durable, backend call
-- pending or retrying) -> revoked; a failed or interrupted grant goes pending -> revoking.
-- delegation: SPIFFE IDs of the delegation chain, outermost actor first, one per line.
-- details: a JSON object of strings.
CREATE TABLE leases (
    id               TEXT     NOT NULL PRIMARY KEY,
    broker           TEXT     NOT NULL,
    holder           TEXT     NOT NULL,
    task             TEXT,
    resource         TEXT     NOT NULL,
    agent            TEXT,
    delegation       TEXT     NOT NULL,
    issued_at        BIGINT   NOT NULL,
    expires_at       BIGINT   NOT NULL,
    max_expires_at   BIGINT   NOT NULL,
    state            TEXT     NOT NULL,
    details          TEXT     NOT NULL,
    leak_hash        TEXT,
    revoke_reason    TEXT,
    revoke_requested_at BIGINT,
    revoked_at       BIGINT,
    attempts         INTEGER  NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  BIGINT
);
CREATE INDEX leases_holder ON leases (holder);
-- Partial indexes where most rows (access-token leases) have nothing to index: cheaper inserts.
CREATE INDEX leases_task ON leases (task) WHERE task IS NOT NULL;
CREATE INDEX leases_agent ON leases (agent) WHERE agent IS NOT NULL;
CREATE INDEX leases_state_expiry ON leases (state, expires_at);
CREATE INDEX leases_revoking_next_attempt ON leases (next_attempt_at) WHERE state = 'revoking';
CREATE INDEX leases_leak_hash ON leases (leak_hash);
-- Prefix look-ups ask for at least four characters and use this index (portable, unlike LIKE indexes).
CREATE INDEX leases_id_prefix ON leases ((substr(id, 1, 4)));
