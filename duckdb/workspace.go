package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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

// CreateAPIKey stores the hash of a key for the workspace. ENOTFOUND for an
// unknown workspace, EINVALID for an empty hash, ECONFLICT for a hash that is
// already stored.
func (db *DB) CreateAPIKey(ctx context.Context, workspaceID int64, keyHash string) error {
	if keyHash == "" {
		return geopulse.Errorf(geopulse.EINVALID, "API key hash is required.")
	}
	err := db.write(ctx, func(c *sql.Conn) error {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = ?`, workspaceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
		}
		_, err := c.ExecContext(ctx, `INSERT INTO api_keys VALUES (?, ?, ?)`, keyHash, workspaceID, db.nowUTC())
		return err
	})
	if isConstraint(err) {
		return geopulse.Errorf(geopulse.ECONFLICT, "API key already exists.")
	} else if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// FindWorkspaceByAPIKey returns the workspace owning keyHash, or EUNAUTHORIZED.
func (db *DB) FindWorkspaceByAPIKey(ctx context.Context, keyHash string) (*geopulse.Workspace, error) {
	var w geopulse.Workspace
	err := db.sql.QueryRowContext(ctx, `SELECT w.id, w.name, w.created_at
		FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = ?`, keyHash).
		Scan(&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid API key.")
	} else if err != nil {
		return nil, fmt.Errorf("find workspace by api key: %w", err)
	}
	w.CreatedAt = utc(w.CreatedAt)
	return &w, nil
}
