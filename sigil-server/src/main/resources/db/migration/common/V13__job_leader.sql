-- Which server runs the jobs that must run on exactly one server (docs/architecture.md, "Periodic jobs").
-- One row per leadership; holder keeps it by renewing expires_at (epoch millis) before it passes; term
-- increases each time another server takes it over.
CREATE TABLE job_leader (
    name       VARCHAR(64)  NOT NULL PRIMARY KEY,
    holder     VARCHAR(200) NOT NULL,
    term       BIGINT       NOT NULL,
    expires_at BIGINT       NOT NULL
);
