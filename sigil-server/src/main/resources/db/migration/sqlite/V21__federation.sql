-- SPIFFE federation relationships (docs/federation.md): one row per foreign trust domain whose bundle
-- this trust domain consumes. The row is the truth every server sharing the datastore reads: the
-- endpoint and its profile, and the last good bundle (the SPIFFE bundle JSON as Sigil writes it, so
-- two servers fetching the same document write the same text) with its sequence number. last_error
-- is set while refreshes fail (the last good bundle stays in use) and cleared by the next success.
-- Times are epoch milliseconds.
CREATE TABLE federation_relationships (
    trust_domain        VARCHAR(255)  NOT NULL PRIMARY KEY,
    bundle_endpoint_url VARCHAR(2048) NOT NULL,
    profile             VARCHAR(32)   NOT NULL,
    endpoint_spiffe_id  VARCHAR(2048),
    bundle              TEXT,
    bundle_sequence     BIGINT,
    last_refresh_at     BIGINT,
    last_attempt_at     BIGINT,
    last_error          VARCHAR(2048),
    revision            BIGINT        NOT NULL,
    created_at          BIGINT        NOT NULL,
    updated_at          BIGINT        NOT NULL
);
