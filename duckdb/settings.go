package duckdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/geopulse/geopulse"
)

// PrivacySettings returns the workspace's privacy settings, creating its
// noise key on first use.
func (db *DB) PrivacySettings(ctx context.Context, workspaceID int64) (geopulse.PrivacySettings, error) {
	var s geopulse.PrivacySettings
	var doc string
	err := db.sql.QueryRowContext(ctx, `SELECT privacy FROM workspace_settings WHERE workspace_id = ?`, workspaceID).Scan(&doc)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		s.NoiseKey = make([]byte, 32)
		rand.Read(s.NoiseKey)
		b, _ := json.Marshal(s)
		err = db.write(ctx, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `INSERT INTO workspace_settings VALUES (?, ?) ON CONFLICT DO NOTHING`, workspaceID, string(b))
			return err
		})
		if err != nil {
			return s, fmt.Errorf("privacy settings: %w", err)
		}
		return db.PrivacySettings(ctx, workspaceID) // whoever inserted first wins
	case err != nil:
		return s, fmt.Errorf("privacy settings: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return s, fmt.Errorf("privacy settings: %w", err)
	}
	return s.WithDefaults(), nil
}

// SavePrivacySettings stores validated settings, keeping the noise key.
func (db *DB) SavePrivacySettings(ctx context.Context, workspaceID int64, s geopulse.PrivacySettings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	old, err := db.PrivacySettings(ctx, workspaceID)
	if err != nil {
		return err
	}
	s.NoiseKey = old.NoiseKey
	b, _ := json.Marshal(s)
	return db.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `UPDATE workspace_settings SET privacy = ? WHERE workspace_id = ?`, string(b), workspaceID)
		return err
	})
}
