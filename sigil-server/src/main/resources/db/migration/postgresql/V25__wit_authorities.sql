-- WIT-SVID signing keys (docs/wimse.md): a third kind of authority in the rotation journal, published in the
-- bundle with use wit-svid. Public material is a JWK, as for jwt.
ALTER TABLE authority_journal DROP CONSTRAINT authority_journal_kind;
ALTER TABLE authority_journal ADD CONSTRAINT authority_journal_kind CHECK (kind IN ('x509', 'jwt', 'wit'));
ALTER TABLE authority_journal DROP CONSTRAINT authority_journal_material;
ALTER TABLE authority_journal ADD CONSTRAINT authority_journal_material CHECK (
    (kind = 'x509' AND certificate_pem IS NOT NULL) OR (kind IN ('jwt', 'wit') AND public_key_jwk IS NOT NULL));
