-- WIT-SVID signing keys (docs/wimse.md): a third kind of authority in the rotation journal, published in the
-- bundle with use wit-svid. SQLite cannot alter a CHECK constraint: the table is rebuilt with the same columns.
CREATE TABLE authority_journal_v25 (
    authority_id       TEXT    NOT NULL PRIMARY KEY,
    trust_domain       TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    key_id             TEXT    NOT NULL,
    key_type           TEXT    NOT NULL,
    certificate_pem    TEXT,
    upstream_chain_pem TEXT,
    public_key_jwk     TEXT,
    not_before         BIGINT  NOT NULL,
    not_after          BIGINT  NOT NULL,
    created_at         BIGINT  NOT NULL,
    activated_at       BIGINT,
    retired_at         BIGINT,
    pruned_at          BIGINT,
    updated_at         BIGINT  NOT NULL,
    owner              VARCHAR(200) NOT NULL DEFAULT '',
    CONSTRAINT authority_journal_kind CHECK (kind IN ('x509', 'jwt', 'wit')),
    CONSTRAINT authority_journal_state CHECK (state IN ('prepared', 'active', 'retired', 'pruned')),
    CONSTRAINT authority_journal_validity CHECK (not_before < not_after),
    CONSTRAINT authority_journal_material CHECK (
        (kind = 'x509' AND certificate_pem IS NOT NULL) OR (kind IN ('jwt', 'wit') AND public_key_jwk IS NOT NULL))
);
INSERT INTO authority_journal_v25 (authority_id, trust_domain, kind, state, key_id, key_type, certificate_pem, upstream_chain_pem,
        public_key_jwk, not_before, not_after, created_at, activated_at, retired_at, pruned_at, updated_at, owner)
    SELECT authority_id, trust_domain, kind, state, key_id, key_type, certificate_pem, upstream_chain_pem,
        public_key_jwk, not_before, not_after, created_at, activated_at, retired_at, pruned_at, updated_at, owner
    FROM authority_journal;
DROP TABLE authority_journal;
ALTER TABLE authority_journal_v25 RENAME TO authority_journal;
CREATE INDEX authority_journal_by_state ON authority_journal (trust_domain, kind, state);
CREATE UNIQUE INDEX authority_journal_one_active ON authority_journal (trust_domain, kind, owner) WHERE state = 'active';
CREATE UNIQUE INDEX authority_journal_one_prepared ON authority_journal (trust_domain, kind, owner) WHERE state = 'prepared';
