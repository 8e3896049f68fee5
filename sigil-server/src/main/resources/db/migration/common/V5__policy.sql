-- Policy documents, one row per applied version; the row with the highest version is in force.
-- Portable SQL (SQLite and PostgreSQL); times are epoch milliseconds. Rows are never updated, so the
-- table is also the history of who applied what. Only documents that validated are ever stored.
-- yaml: the document exactly as applied. applied_by: the admin actor.
CREATE TABLE policy_versions (
    version     BIGINT  NOT NULL PRIMARY KEY,
    yaml        TEXT    NOT NULL,
    rule_count  INTEGER NOT NULL,
    applied_by  TEXT    NOT NULL,
    applied_at  BIGINT  NOT NULL
);
