-- Lease id prefixes are looked up as a range of the primary key on SQLite (SqlLeaseStore). The index on the
-- first four characters is random-keyed, so every lease insert (one per token exchange) wrote a leaf page
-- of it to the WAL at a random place. PostgreSQL keeps it.
DROP INDEX IF EXISTS leases_id_prefix;
