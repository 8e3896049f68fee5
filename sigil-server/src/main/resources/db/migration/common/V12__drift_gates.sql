-- Drift gates: after a workload drifted, credentials presented for its SPIFFE ID that were issued
-- before not_before are refused until the workload re-attests and presents a fresh SVID.
-- mode: 'revoke', 'narrow' or 'reattest' (see docs/drift.md). Times are epoch milliseconds.
CREATE TABLE drift_gates (
    holder      TEXT    NOT NULL PRIMARY KEY,
    mode        TEXT    NOT NULL,
    not_before  BIGINT  NOT NULL,
    drift_id    TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL
);
