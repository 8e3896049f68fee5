-- Rotation journal of the server's signing authorities (X.509 CAs and JWT signing keys).
-- Owned by dev.sigil.server.authority. Portable across SQLite and PostgreSQL:
-- times are epoch milliseconds, certificates PEM text, public keys JWK JSON text.
-- Private keys are never stored here; key_id names the key inside the KeyManager.

CREATE TABLE authority_journal (
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
    CONSTRAINT authority_journal_kind CHECK (kind IN ('x509', 'jwt')),
    CONSTRAINT authority_journal_state CHECK (state IN ('prepared', 'active', 'retired', 'pruned')),
    CONSTRAINT authority_journal_validity CHECK (not_before < not_after),
    CONSTRAINT authority_journal_material CHECK (
        (kind = 'x509' AND certificate_pem IS NOT NULL) OR (kind = 'jwt' AND public_key_jwk IS NOT NULL))
);

CREATE INDEX authority_journal_by_state ON authority_journal (trust_domain, kind, state);

-- At most one active and one prepared authority of each kind per trust domain.
CREATE UNIQUE INDEX authority_journal_one_active ON authority_journal (trust_domain, kind) WHERE state = 'active';
CREATE UNIQUE INDEX authority_journal_one_prepared ON authority_journal (trust_domain, kind) WHERE state = 'prepared';

-- The bundle's spiffe_sequence: incremented in the same transaction as every change to the set of
-- authorities in the bundle (an authority prepared or pruned).
CREATE TABLE authority_bundle (
    trust_domain    TEXT   NOT NULL PRIMARY KEY,
    spiffe_sequence BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
