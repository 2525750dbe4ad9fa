package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

// CreateWorkspace assigns w.ID and w.CreatedAt and stores w. EINVALID for an
// empty name (or one PostgreSQL text cannot hold: NUL or invalid UTF-8),
// ECONFLICT when the name is taken.
func (db *DB) CreateWorkspace(ctx context.Context, w *geopulse.Workspace) error {
	if strings.TrimSpace(w.Name) == "" {
		return geopulse.Errorf(geopulse.EINVALID, "Workspace name is required.")
	}
	if !storableText(w.Name) {
		return geopulse.Errorf(geopulse.EINVALID, "Workspace name must be valid UTF-8 without NUL characters.")
	}
	createdAt := db.nowUTC()
	var id int64
	err := db.pool.QueryRow(ctx, `INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id`,
		w.Name, createdAt).Scan(&id)
	if sqlState(err) == sqlUniqueViolation {
		return geopulse.Errorf(geopulse.ECONFLICT, "Workspace %q already exists.", w.Name)
	} else if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	w.ID, w.CreatedAt = id, createdAt
	return nil
}

// FindWorkspaceByID returns the workspace or ENOTFOUND.
func (db *DB) FindWorkspaceByID(ctx context.Context, id int64) (*geopulse.Workspace, error) {
	return db.findWorkspace(ctx, `SELECT id, name, created_at FROM workspaces WHERE id = $1`, id)
}

// FindWorkspaceByName returns the workspace or ENOTFOUND. Names compare
// exactly (case and all).
func (db *DB) FindWorkspaceByName(ctx context.Context, name string) (*geopulse.Workspace, error) {
	if !storableText(name) {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	}
	return db.findWorkspace(ctx, `SELECT id, name, created_at FROM workspaces WHERE name = $1`, name)
}

func (db *DB) findWorkspace(ctx context.Context, query string, arg any) (*geopulse.Workspace, error) {
	var w geopulse.Workspace
	err := db.pool.QueryRow(ctx, query, arg).Scan(&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find workspace: %w", err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

// CreateAPIKey stores the hash of a key for the workspace. ENOTFOUND for an
// unknown workspace, EINVALID for an empty hash, ECONFLICT for a hash that is
// already stored.
func (db *DB) CreateAPIKey(ctx context.Context, workspaceID int64, keyHash string) error {
	if keyHash == "" {
		return geopulse.Errorf(geopulse.EINVALID, "API key hash is required.")
	}
	if !storableText(keyHash) {
		return geopulse.Errorf(geopulse.EINVALID, "API key hash must be valid UTF-8 without NUL characters.")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (key_hash, workspace_id, created_at) VALUES ($1, $2, $3)`,
		keyHash, workspaceID, db.nowUTC())
	switch sqlState(err) {
	case "":
	case sqlUniqueViolation:
		return geopulse.Errorf(geopulse.ECONFLICT, "API key already exists.")
	case sqlForeignKey:
		return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	}
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// FindWorkspaceByAPIKey returns the workspace owning keyHash, or EUNAUTHORIZED.
func (db *DB) FindWorkspaceByAPIKey(ctx context.Context, keyHash string) (*geopulse.Workspace, error) {
	if !storableText(keyHash) {
		return nil, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid API key.")
	}
	var w geopulse.Workspace
	err := db.pool.QueryRow(ctx, `SELECT w.id, w.name, w.created_at
		FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1`, keyHash).
		Scan(&w.ID, &w.Name, &w.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid API key.")
	} else if err != nil {
		return nil, fmt.Errorf("find workspace by api key: %w", err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return &w, nil
}

// storableText reports whether PostgreSQL text can hold s: valid UTF-8 and
// no NUL. Fields that SQL compares (names, categories) are text columns and
// are refused otherwise; free text lives in JSON documents, whose escapes
// keep anything.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
