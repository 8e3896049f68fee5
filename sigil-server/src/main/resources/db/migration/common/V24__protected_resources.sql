-- Protected resources registered with the authorization server (RFC 8707 resource indicators, RFC 9728
-- protected resource metadata): the resource's canonical URI, a display name, the scopes it defines
-- (space-separated), who registered it and when (epoch milliseconds). Portable SQL (SQLite and PostgreSQL).
CREATE TABLE protected_resources (
    uri         TEXT    NOT NULL PRIMARY KEY,
    name        TEXT,
    scopes      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    created_by  TEXT    NOT NULL
);
