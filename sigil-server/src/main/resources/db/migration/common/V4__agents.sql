-- Attested agents (one per node). Portable SQL (SQLite and PostgreSQL); times are epoch milliseconds.
-- A row exists while the agent is registered; deleting it evicts the agent (it must attest again).
-- selectors: the attested selector set, sorted, distinct, one 'type:value' per line.
-- svid_serial: lower-case hex serial of the agent's current X.509-SVID; only that SVID authenticates it.
-- revision: incremented on every change of the row (attest, renew, ban).
CREATE TABLE agents (
    spiffe_id          TEXT    NOT NULL PRIMARY KEY,
    attestor_type      TEXT    NOT NULL,
    selectors          TEXT    NOT NULL,
    trust_level        INTEGER NOT NULL,
    svid_serial        TEXT    NOT NULL,
    svid_expires_at    BIGINT  NOT NULL,
    first_attested_at  BIGINT  NOT NULL,
    last_attested_at   BIGINT  NOT NULL,
    banned             BOOLEAN NOT NULL,
    revision           BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
