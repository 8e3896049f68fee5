-- An access token's registry row holds its status-list position, and revoking the token marks that
-- position by its primary key. The index on token_status.ref (the token's jti: random) goes: every token
-- exchange inserted a leaf entry of it at a random place, which on SQLite is a page written to the WAL
-- and copied back by a checkpoint, per exchange. The ref column stays, for people reading the table.
ALTER TABLE issued_tokens ADD COLUMN status_list BIGINT;
ALTER TABLE issued_tokens ADD COLUMN status_idx BIGINT;
UPDATE issued_tokens
   SET status_list = (SELECT s.list_id FROM token_status s WHERE s.kind = 'access_token' AND s.ref = issued_tokens.jti),
       status_idx = (SELECT s.idx FROM token_status s WHERE s.kind = 'access_token' AND s.ref = issued_tokens.jti);
DROP INDEX token_status_ref;
