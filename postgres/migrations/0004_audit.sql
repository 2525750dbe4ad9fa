-- 0004: the audit log. One hash chain per workspace (workspace 0 holds
-- system-wide entries): each entry carries its predecessor's hash, so an
-- edited, deleted or reordered row breaks the chain (geopulse.AuditVerifier).
--
-- No foreign key to workspaces: the log outlives what it talks about.

CREATE TABLE audit_log (
	workspace_id bigint NOT NULL,
	seq          bigint NOT NULL,
	logged_at    timestamptz NOT NULL,
	actor        text NOT NULL,
	action       text NOT NULL,
	target       text NOT NULL,
	detail       text NOT NULL,  -- text, not jsonb: the hash covers the exact bytes
	prev_hash    bytea NOT NULL,
	hash         bytea NOT NULL,
	PRIMARY KEY (workspace_id, seq)
);
-- FindAudit by time range.
CREATE INDEX audit_log_at ON audit_log (workspace_id, logged_at);

-- The last entry appended to each chain. An append locks its workspace's
-- row (SELECT … FOR UPDATE), which serialises appenders of one workspace
-- across every process, and advances it; the verifier compares it with the
-- last entry, which no later entry links to, so that removing the newest
-- entries shows too.
CREATE TABLE audit_heads (
	workspace_id bigint PRIMARY KEY,
	seq          bigint NOT NULL,
	hash         bytea NOT NULL
);

-- Defence in depth: the store never updates or deletes an entry, and these
-- triggers refuse anyone who tries through SQL. The table's owner or a
-- superuser can still disable or drop them (or set
-- session_replication_role); what they change then, the hash chain shows.
CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- A head only ever advances by one entry, and is never removed.
CREATE FUNCTION audit_heads_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR NEW.workspace_id <> OLD.workspace_id OR NEW.seq <> OLD.seq + 1 THEN
		RAISE EXCEPTION 'audit_heads only advance: % refused', TG_OP
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER audit_heads_advance BEFORE UPDATE OR DELETE ON audit_heads
	FOR EACH ROW EXECUTE FUNCTION audit_heads_advance();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();
