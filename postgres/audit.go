package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

var _ geopulse.AuditStore = (*DB)(nil)

// AppendAudit appends e to its workspace's chain. The transaction locks the
// workspace's chain head (audit_heads) first, so appenders of one workspace
// queue up, in this process or any other, while other workspaces' appends
// run in parallel.
func (db *DB) AppendAudit(ctx context.Context, e *geopulse.AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	var next geopulse.AuditEntry
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		next = *e
		seq, prev, err := lockAuditHead(ctx, tx, e.WorkspaceID)
		if err != nil {
			return err
		}
		next.Seq, next.At, next.PrevHash = seq+1, db.nowUTC(), prev
		next.Hash = next.ComputeHash()
		// One round trip for the entry and the head.
		_, err = tx.Exec(ctx, `WITH entry AS (
				INSERT INTO audit_log (workspace_id, seq, logged_at, actor, action, target, detail, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))
			UPDATE audit_heads SET seq = $2, hash = $9 WHERE workspace_id = $1`,
			next.WorkspaceID, next.Seq, next.At, next.Actor, next.Action, next.Target, next.Detail, next.PrevHash, next.Hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	*e = next
	return nil
}

// lockAuditHead locks a workspace's chain head and returns it, creating it
// (seq 0, the genesis hash) for the workspace's first entry. Two first
// appenders cannot both create it: the second one's insert waits for the
// first to commit and then does nothing, and its second SELECT sees and
// locks the committed row.
func lockAuditHead(ctx context.Context, tx pgx.Tx, workspaceID int64) (int64, []byte, error) {
	const lock = `SELECT seq, hash FROM audit_heads WHERE workspace_id = $1 FOR UPDATE`
	var seq int64
	var hash []byte
	err := tx.QueryRow(ctx, lock, workspaceID).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_heads VALUES ($1, 0, $2) ON CONFLICT DO NOTHING`, workspaceID, geopulse.AuditGenesisHash()); err != nil {
			return 0, nil, fmt.Errorf("create chain head: %w", err)
		}
		err = tx.QueryRow(ctx, lock, workspaceID).Scan(&seq, &hash)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("lock chain head: %w", err)
	}
	return seq, hash, nil
}

// auditColumns are scanned by scanAudit, in this order.
const auditColumns = `workspace_id, seq, logged_at, actor, action, target, detail, prev_hash, hash`

func scanAudit(rows pgx.Rows) (*geopulse.AuditEntry, error) {
	var e geopulse.AuditEntry
	if err := rows.Scan(&e.WorkspaceID, &e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = e.At.UTC()
	return &e, nil
}

// FindAudit returns a page of a workspace's entries, oldest first.
func (db *DB) FindAudit(ctx context.Context, f geopulse.AuditFilter) ([]*geopulse.AuditEntry, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + auditColumns + ` FROM audit_log WHERE workspace_id = $1 AND seq > $2`)
	args := []any{f.WorkspaceID, f.After}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !f.From.IsZero() {
		q.WriteString(` AND logged_at >= ` + arg(f.From.UTC()))
	}
	if !f.To.IsZero() {
		q.WriteString(` AND logged_at < ` + arg(f.To.UTC()))
	}
	if family, ok := strings.CutSuffix(f.Action, "."); ok {
		q.WriteString(` AND starts_with(action, ` + arg(family+".") + `)`)
	} else if f.Action != "" {
		q.WriteString(` AND action = ` + arg(f.Action))
	}
	q.WriteString(` ORDER BY seq LIMIT ` + arg(f.PageSize()))
	rows, err := db.pool.Query(ctx, q.String(), args...)
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
// read in one repeatable-read snapshot, so appends committed meanwhile are
// not mistaken for tampering.
func (db *DB) VerifyAudit(ctx context.Context, workspaceID int64) (geopulse.AuditVerification, error) {
	var res geopulse.AuditVerification
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, db.pool, opts, func(tx pgx.Tx) error {
		var headSeq int64
		var headHash []byte
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_heads WHERE workspace_id = $1`, workspaceID).Scan(&headSeq, &headHash)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read head: %w", err)
		}
		v := geopulse.NewAuditVerifier(headSeq, headHash)
		rows, err := tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE workspace_id = $1 ORDER BY seq`, workspaceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if !v.Check(e) {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res = v.Result()
		return nil
	})
	if err != nil {
		return geopulse.AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
	}
	return res, nil
}
