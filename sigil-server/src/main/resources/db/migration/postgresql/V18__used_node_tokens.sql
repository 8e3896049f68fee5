-- Node attestation evidence that may be accepted only once (the jwt node attestor's tokens): one row
-- per accepted token, keyed by the SHA-256 of its issuer and jti (or of the whole token when it has no
-- jti), never the token itself. A row is kept until the token can no longer be accepted (its exp plus
-- the issuer's clock skew, epoch milliseconds) and may be pruned after that. Shared by every server on
-- the datastore, so a token replayed to another server is refused too.
CREATE TABLE used_node_tokens (
    token_key  VARCHAR(64)  NOT NULL PRIMARY KEY,
    attestor   VARCHAR(64)  NOT NULL,
    used_at    BIGINT       NOT NULL,
    expires_at BIGINT       NOT NULL
);
CREATE INDEX used_node_tokens_expiry ON used_node_tokens (expires_at);
