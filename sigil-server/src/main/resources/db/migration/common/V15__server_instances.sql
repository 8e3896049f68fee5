-- The servers sharing this datastore (docs/datastore.md, "Several servers"): each running server renews
-- its row's heartbeat_at (epoch millis) every second with the job leadership; a server whose heartbeat is
-- older than the leadership lease is dead, and what it had under way is taken over by the job leader.
CREATE TABLE server_instances (
    name         VARCHAR(200) NOT NULL PRIMARY KEY,
    started_at   BIGINT       NOT NULL,
    heartbeat_at BIGINT       NOT NULL
);
-- The server working on a lease now: the one granting it (pending) or attempting its revocation
-- (revoking, until next_attempt_at). NULL: nobody, or written before several servers shared a datastore.
ALTER TABLE leases ADD COLUMN server VARCHAR(200);
