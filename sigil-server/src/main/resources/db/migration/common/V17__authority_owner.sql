-- Per-server authorities (docs/authority.md, "Several servers"): each server signs only with authorities
-- it created, whose keys only its key manager holds; the bundle is the union of every server's. owner is
-- the server's stable id ('' for authorities from before, adopted by the server whose key manager has
-- their keys). At most one active and one prepared authority of each kind per server.
ALTER TABLE authority_journal ADD COLUMN owner VARCHAR(200) NOT NULL DEFAULT '';
DROP INDEX authority_journal_one_active;
DROP INDEX authority_journal_one_prepared;
CREATE UNIQUE INDEX authority_journal_one_active ON authority_journal (trust_domain, kind, owner) WHERE state = 'active';
CREATE UNIQUE INDEX authority_journal_one_prepared ON authority_journal (trust_domain, kind, owner) WHERE state = 'prepared';
