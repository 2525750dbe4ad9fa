package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/geopulse/geopulse"
)

var _ geopulse.AuditStore = (*DB)(nil)

// AppendAudit appends e to its workspace's chain. Appends go through the
// writer connection like every write, which serialises them (one chain
// never forks), but also queues them behind a running ingest batch.
func (db *DB) AppendAudit(ctx context.Context, e *geopulse.AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	next := *e
	err := db.write(ctx, func(c *sql.Conn) error {
		var seq int64
		var prev []byte
		err := c.QueryRowContext(ctx, `SELECT seq, hash FROM audit_heads WHERE workspace_id = ?`, e.WorkspaceID).Scan(&seq, &prev)
		first := errors.Is(err, sql.ErrNoRows)
		if first {
			seq, prev = 0, geopulse.AuditGenesisHash()
		} else if err != nil {
			return fmt.Errorf("read chain head: %w", err)
		}
		next.Seq, next.At, next.PrevHash = seq+1, db.nowUTC(), prev
		next.Hash = next.ComputeHash()
		if _, err := c.ExecContext(ctx, `INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			next.WorkspaceID, next.Seq, next.At, next.Actor, next.Action, next.Target, next.Detail, next.PrevHash, next.Hash); err != nil {
			return err
		}
		// A plain UPDATE measured ~10x faster than an upsert here.
		if first {
			_, err = c.ExecContext(ctx, `INSERT INTO audit_heads VALUES (?, ?, ?)`, next.WorkspaceID, next.Seq, next.Hash)
		} else {
			_, err = c.ExecContext(ctx, `UPDATE audit_heads SET seq = ?, hash = ? WHERE workspace_id = ?`, next.Seq, next.Hash, next.WorkspaceID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	*e = next
	return nil
}

// auditColumns are scanned by scanAudit, in this order.
const auditColumns = `workspace_id, seq, logged_at, actor, action, target, detail, prev_hash, hash`

func scanAudit(rows *sql.Rows) (*geopulse.AuditEntry, error) {
	var e geopulse.AuditEntry
	if err := rows.Scan(&e.WorkspaceID, &e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = utc(e.At)
	return &e, nil
}

// FindAudit returns a page of a workspace's entries, oldest first.
func (db *DB) FindAudit(ctx context.Context, f geopulse.AuditFilter) ([]*geopulse.AuditEntry, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + auditColumns + ` FROM audit_log WHERE workspace_id = ? AND seq > ?`)
	args := []any{f.WorkspaceID, f.After}
	if !f.From.IsZero() {
		q.WriteString(` AND logged_at >= ?`)
		args = append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		q.WriteString(` AND logged_at < ?`)
		args = append(args, f.To.UTC())
	}
	if family, ok := strings.CutSuffix(f.Action, "."); ok {
		q.WriteString(` AND starts_with(action, ?)`)
		args = append(args, family+".")
	} else if f.Action != "" {
		q.WriteString(` AND action = ?`)
		args = append(args, f.Action)
	}
	q.WriteString(` ORDER BY seq LIMIT ?`)
	args = append(args, f.PageSize())
	rows, err := db.sql.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	defer rows.Close()
	var out []*geopulse.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("find audit entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	return out, nil
}

// VerifyAudit checks a workspace's chain. The head and the entries are
// read in one transaction, so appends running meanwhile are not mistaken
// for tampering.
func (db *DB) VerifyAudit(ctx context.Context, workspaceID int64) (geopulse.AuditVerification, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
	}
	defer tx.Rollback()
	var headSeq int64
	var headHash []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_heads WHERE workspace_id = ?`, workspaceID).Scan(&headSeq, &headHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: read head: %w", err)
	}
	v := geopulse.NewAuditVerifier(headSeq, headHash)
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE workspace_id = ? ORDER BY seq`, workspaceID)
	if err != nil {
		return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
		}
		if !v.Check(e) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
	}
	return v.Result(), nil
}
