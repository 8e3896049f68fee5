-- Tasks (declared units of work) and the registry of access tokens issued by the token service.
-- Portable SQL (SQLite and PostgreSQL); times are epoch milliseconds.
-- tasks.allowed: the allowed 'action:resource' pairs, one per line.
-- tasks.ended_at: set when the task is ended; a task past expires_at is expired without a write.
CREATE TABLE tasks (
    id          TEXT    NOT NULL PRIMARY KEY,
    owner       TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    allowed     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX tasks_holder ON tasks (holder);

-- One row per issued access token; the token itself is never stored, only its jti.
CREATE TABLE issued_tokens (
    jti         TEXT    NOT NULL PRIMARY KEY,
    subject     TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    task        TEXT,
    cnf_x5t     TEXT,
    issued_at   BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX issued_tokens_task ON issued_tokens (task);
