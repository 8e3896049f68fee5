-- Lease id prefixes are looked up as a range of ids in the C collation (SqlLeaseStore), as on SQLite. The
-- index on the first four characters no longer tells leases apart: a token's lease id begins with its
-- issue time, so every token lease issued within the same nine hours has the same four first characters.
CREATE INDEX leases_id_c ON leases (id COLLATE "C");
DROP INDEX IF EXISTS leases_id_prefix;
