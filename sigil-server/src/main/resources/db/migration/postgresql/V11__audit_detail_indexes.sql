-- Indexes for the audit query's detail filters (sigil audit query --resource/--task, and the
-- leaked-token lookup by keyed hash). Expression indexes must match the query's expression exactly.
CREATE INDEX audit_records_resource ON audit_records ((CAST(details AS jsonb) ->> 'resource'));
CREATE INDEX audit_records_task ON audit_records ((CAST(details AS jsonb) ->> 'task'));
CREATE INDEX audit_records_token_hmac ON audit_records ((CAST(details AS jsonb) ->> 'token_hmac'));
