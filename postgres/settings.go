package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

var _ geopulse.SettingsStore = (*DB)(nil)

// PrivacySettings returns the workspace's privacy settings, defaults
// filled in, creating its noise key on first use. Of several processes
// creating it at once, the first insert wins and everyone reads it.
func (db *DB) PrivacySettings(ctx context.Context, workspaceID int64) (geopulse.PrivacySettings, error) {
	var s geopulse.PrivacySettings
	doc, err := db.privacyDoc(ctx, workspaceID)
	if errors.Is(err, pgx.ErrNoRows) {
		fresh := geopulse.PrivacySettings{NoiseKey: make([]byte, 32)}
		rand.Read(fresh.NoiseKey)
		b, _ := json.Marshal(fresh)
		if _, err = db.pool.Exec(ctx, `INSERT INTO workspace_settings (workspace_id, privacy) VALUES ($1, $2)
			ON CONFLICT (workspace_id) DO NOTHING`, workspaceID, string(b)); err == nil {
			doc, err = db.privacyDoc(ctx, workspaceID)
		}
	}
	if err != nil {
		return s, fmt.Errorf("privacy settings: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return s, fmt.Errorf("privacy settings: %w", err)
	}
	return s.WithDefaults(), nil
}

func (db *DB) privacyDoc(ctx context.Context, workspaceID int64) (string, error) {
	var doc string
	err := db.pool.QueryRow(ctx, `SELECT privacy FROM workspace_settings WHERE workspace_id = $1`, workspaceID).Scan(&doc)
	return doc, err
}

// SavePrivacySettings stores validated settings, keeping the noise key.
// EINVALID for floors below geopulse's minimums.
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
	if _, err := db.pool.Exec(ctx, `UPDATE workspace_settings SET privacy = $2 WHERE workspace_id = $1`, workspaceID, string(b)); err != nil {
		return fmt.Errorf("save privacy settings: %w", err)
	}
	return nil
}
