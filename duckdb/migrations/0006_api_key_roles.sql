-- 0006: members, roles and scopes. A key now has an id (to list, revoke
-- and rotate it without its secret), the member or machine it belongs to,
-- a role, optional narrower scopes (comma-separated), the first characters
-- of the key for display, and optional expiry and revocation times.
-- Existing keys become unnamed owner keys: they could do everything before.
-- The table is rebuilt because DuckDB cannot move a primary key.

CREATE SEQUENCE api_keys_id_seq START 1;
CREATE TABLE api_keys_v6 (
	id           BIGINT PRIMARY KEY DEFAULT nextval('api_keys_id_seq'),
	key_hash     VARCHAR NOT NULL UNIQUE,
	workspace_id BIGINT NOT NULL,
	name         VARCHAR NOT NULL DEFAULT '',
	role         VARCHAR NOT NULL DEFAULT 'owner',
	scopes       VARCHAR NOT NULL DEFAULT '',
	prefix       VARCHAR NOT NULL DEFAULT '',
	created_at   TIMESTAMP NOT NULL,
	expires_at   TIMESTAMP,
	revoked_at   TIMESTAMP
);
INSERT INTO api_keys_v6 (key_hash, workspace_id, created_at)
	SELECT key_hash, workspace_id, created_at FROM api_keys ORDER BY created_at, key_hash;
DROP TABLE api_keys;
ALTER TABLE api_keys_v6 RENAME TO api_keys;
