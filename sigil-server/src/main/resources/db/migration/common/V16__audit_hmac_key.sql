-- Which audit hmac key the servers sharing this datastore hash secrets with (docs/audit.md, "Keyed
-- hashes"): the key's id, recorded by the first server that starts; a server with another key refuses
-- to start, since its hashes would not match the records and leases the others wrote. Never the key.
CREATE TABLE audit_hmac_key (
    name        VARCHAR(16) NOT NULL PRIMARY KEY,
    key_id      VARCHAR(64) NOT NULL,
    recorded_at BIGINT      NOT NULL
);
