-- 0004: the audit log. One hash chain per workspace (workspace 0 holds
-- system-wide entries): each entry carries its predecessor's hash, so an
-- edited, deleted or reordered row breaks the chain (geopulse.AuditVerifier).
-- DuckDB has no triggers; the store offers no way to change a row, and the
-- chain shows any change made behind its back.
--
-- No foreign key to workspaces: the log outlives what it talks about.

CREATE TABLE audit_log (
	workspace_id BIGINT NOT NULL,
	seq          BIGINT NOT NULL,
	logged_at    TIMESTAMP NOT NULL,
	actor        VARCHAR NOT NULL,
	action       VARCHAR NOT NULL,
	target       VARCHAR NOT NULL,
	detail       VARCHAR NOT NULL,
	prev_hash    BLOB NOT NULL,
	hash         BLOB NOT NULL,
	PRIMARY KEY (workspace_id, seq)
);

-- The last entry appended to each chain. Appends read and advance it; the
-- verifier compares it with the last row, which no later entry links to,
-- so that removing the newest rows shows too.
CREATE TABLE audit_heads (
	workspace_id BIGINT PRIMARY KEY,
	seq          BIGINT NOT NULL,
	hash         BLOB NOT NULL
);
