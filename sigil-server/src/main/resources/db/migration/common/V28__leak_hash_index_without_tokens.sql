-- The leak hashes of access and transaction tokens (one lease per token exchange) leave the index: the
-- hashes are random, so every exchange inserted a leaf entry at a random place, on SQLite a page written
-- to the WAL and checkpointed back. A token names its lease (its jti), and a leak report looks such a
-- lease up by id and compares the stored hash (LeaseStore.SELF_NAMING_BROKERS, Broker.namedLease).
-- Queries repeat the condition word for word so both planners use the partial index.
DROP INDEX leases_leak_hash;
CREATE INDEX leases_leak_hash ON leases (leak_hash) WHERE broker NOT IN ('token', 'txn_token');
