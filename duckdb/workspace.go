package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// CreateWorkspace assigns w.ID and w.CreatedAt and stores w. EINVALID for an
// empty name, ECONFLICT when the name is taken.
func (db *DB) CreateWorkspace(ctx context.Context, w *geopulse.Workspace) error {
	if strings.TrimSpace(w.Name) == "" {
		return geopulse.Errorf(geopulse.EINVALID, "Workspace name is required.")
	}
	createdAt := db.nowUTC()
	var id int64
	err := db.write(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `INSERT INTO workspaces (name, created_at) VALUES (?, ?) RETURNING id`,
			w.Name, createdAt).Scan(&id)
	})
	if isConstraint(err) {
		return geopulse.Errorf(geopulse.ECONFLICT, "Workspace %q already exists.", w.Name)
	} else if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	w.ID, w.CreatedAt = id, createdAt
	return nil
}

// FindWorkspaceByID returns the workspace or ENOTFOUND.
func (db *DB) FindWorkspaceByID(ctx context.Context, id int64) (*geopulse.Workspace, error) {
	return db.findWorkspace(ctx, `SELECT id, name, created_at FROM workspaces WHERE id = ?`, id)
}

// FindWorkspaceByName returns the workspace or ENOTFOUND.
func (db *DB) FindWorkspaceByName(ctx context.Context, name string) (*geopulse.Workspace, error) {
	return db.findWorkspace(ctx, `SELECT id, name, created_at FROM workspaces WHERE name = ?`, name)
}

func (db *DB) findWorkspace(ctx context.Context, query string, arg any) (*geopulse.Workspace, error) {
	var w geopulse.Workspace
	err := db.sql.QueryRowContext(ctx, query, arg).Scan(&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find workspace: %w", err)
	}
	w.CreatedAt = utc(w.CreatedAt)
	return &w, nil
}

// CreateAPIKey stores an unnamed owner key: the first key of a workspace.
func (db *DB) CreateAPIKey(ctx context.Context, workspaceID int64, keyHash string) error {
	return db.AddAPIKey(ctx, &geopulse.APIKey{WorkspaceID: workspaceID, Role: geopulse.RoleOwner}, keyHash)
}

// AddAPIKey stores the hash of a key with k's metadata and assigns k.ID and
// k.CreatedAt. ENOTFOUND for an unknown workspace, EINVALID for an empty
// hash or bad metadata, ECONFLICT for a hash that is already stored.
func (db *DB) AddAPIKey(ctx context.Context, k *geopulse.APIKey, keyHash string) error {
	if keyHash == "" {
		return geopulse.Errorf(geopulse.EINVALID, "API key hash is required.")
	}
	if err := k.Validate(); err != nil {
		return err
	}
	createdAt := db.nowUTC()
	var id int64
	err := db.write(ctx, func(c *sql.Conn) error {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = ?`, k.WorkspaceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
		}
		var err error
		id, err = insertKey(ctx, c, k, keyHash, createdAt)
		return err
	})
	if isConstraint(err) {
		return geopulse.Errorf(geopulse.ECONFLICT, "API key already exists.")
	} else if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	k.ID, k.CreatedAt = id, createdAt
	return nil
}

func insertKey(ctx context.Context, c *sql.Conn, k *geopulse.APIKey, keyHash string, createdAt time.Time) (int64, error) {
	var id int64
	err := c.QueryRowContext(ctx, `INSERT INTO api_keys
		(key_hash, workspace_id, name, role, scopes, prefix, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		keyHash, k.WorkspaceID, k.Name, string(k.Role), geopulse.JoinScopes(k.Scopes), k.Prefix, createdAt, utcPtr(k.ExpiresAt)).Scan(&id)
	return id, err
}

const keyColumns = `k.id, k.workspace_id, k.name, k.role, k.scopes, k.prefix, k.created_at, k.expires_at, k.revoked_at`

func scanKey(row interface{ Scan(...any) error }, extra ...any) (*geopulse.APIKey, error) {
	var k geopulse.APIKey
	var role, scopes string
	var expires, revoked sql.NullTime
	dst := append([]any{&k.ID, &k.WorkspaceID, &k.Name, &role, &scopes, &k.Prefix, &k.CreatedAt, &expires, &revoked}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	k.Role, k.Scopes, k.CreatedAt = geopulse.Role(role), geopulse.SplitScopes(scopes), utc(k.CreatedAt)
	if expires.Valid {
		t := utc(expires.Time)
		k.ExpiresAt = &t
	}
	if revoked.Valid {
		t := utc(revoked.Time)
		k.RevokedAt = &t
	}
	return &k, nil
}

// FindAPIKey returns the active key with keyHash and its workspace, or
// EUNAUTHORIZED.
func (db *DB) FindAPIKey(ctx context.Context, keyHash string) (*geopulse.APIKey, *geopulse.Workspace, error) {
	var w geopulse.Workspace
	k, err := scanKey(db.sql.QueryRowContext(ctx, `SELECT `+keyColumns+`, w.id, w.name, w.created_at
		FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = ?`, keyHash),
		&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid API key.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find api key: %w", err)
	}
	if err := keyUsable(k, db.nowUTC()); err != nil {
		return nil, nil, err
	}
	w.CreatedAt = utc(w.CreatedAt)
	return k, &w, nil
}

// keyUsable says why a stored key no longer opens its workspace.
func keyUsable(k *geopulse.APIKey, now time.Time) error {
	switch {
	case k.RevokedAt != nil:
		return geopulse.Errorf(geopulse.EUNAUTHORIZED, "This API key was revoked.")
	case !k.Active(now):
		return geopulse.Errorf(geopulse.EUNAUTHORIZED, "This API key expired at %s.", k.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// ListAPIKeys returns the workspace's keys, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context, workspaceID int64) ([]*geopulse.APIKey, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys k WHERE k.workspace_id = ? ORDER BY k.id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	keys := []*geopulse.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes key id of the workspace; ENOTFOUND when there is no
// such key or it is already revoked.
func (db *DB) RevokeAPIKey(ctx context.Context, workspaceID, id int64) error {
	err := db.write(ctx, func(c *sql.Conn) error {
		var n int64
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE id = ? AND workspace_id = ? AND revoked_at IS NULL`,
			id, workspaceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "API key not found.")
		}
		_, err := c.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, db.nowUTC(), id)
		return err
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// RotateAPIKey stores newHash as a copy of key id and makes key id expire
// grace from now, in one transaction. ENOTFOUND for an unknown, revoked or
// expired key.
func (db *DB) RotateAPIKey(ctx context.Context, workspaceID, id int64, newHash, newPrefix string, grace time.Duration) (*geopulse.APIKey, error) {
	if newHash == "" {
		return nil, geopulse.Errorf(geopulse.EINVALID, "API key hash is required.")
	}
	if grace < 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "The grace period must not be negative.")
	}
	now := db.nowUTC()
	var fresh *geopulse.APIKey
	err := db.write(ctx, func(c *sql.Conn) error {
		old, err := scanKey(c.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys k WHERE k.id = ? AND k.workspace_id = ?`, id, workspaceID))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !old.Active(now)) {
			return geopulse.Errorf(geopulse.ENOTFOUND, "API key not found, or no longer active.")
		} else if err != nil {
			return err
		}
		until := now.Add(grace)
		if old.ExpiresAt != nil && old.ExpiresAt.Before(until) {
			until = *old.ExpiresAt
		}
		if _, err := c.ExecContext(ctx, `UPDATE api_keys SET expires_at = ? WHERE id = ?`, until, id); err != nil {
			return err
		}
		fresh = &geopulse.APIKey{WorkspaceID: workspaceID, Name: old.Name, Role: old.Role, Scopes: old.Scopes, Prefix: newPrefix, CreatedAt: now}
		fresh.ID, err = insertKey(ctx, c, fresh, newHash, now)
		return err
	})
	if isConstraint(err) {
		return nil, geopulse.Errorf(geopulse.ECONFLICT, "API key already exists.")
	} else if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("rotate api key: %w", err)
	}
	return fresh, nil
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}
