package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/geopulse/geopulse"
)

var _ geopulse.ComplianceStore = (*DB)(nil)

// ApplyCompliance removes what the event concerns, updates tombstones and
// suppressions and records the event, in one transaction. Applying the same
// event twice changes nothing more (the second record counts zero).
func (db *DB) ApplyCompliance(ctx context.Context, ev geopulse.ComplianceEvent) (geopulse.ComplianceResult, error) {
	if err := ev.Validate(); err != nil {
		return geopulse.ComplianceResult{}, err
	}
	var postID, authorID int64
	if ev.SourceID != "" {
		postID = geopulse.PostID(ev.Source, ev.SourceID)
	}
	if ev.AuthorSourceID != "" {
		authorID = geopulse.AuthorID(ev.Source, ev.AuthorSourceID)
	}
	now := db.nowUTC()
	var res geopulse.ComplianceResult
	err := db.write(ctx, func(c *sql.Conn) error {
		var err error
		switch ev.Kind {
		case geopulse.ComplianceDeletePost:
			if err = stageQuery(ctx, c, `SELECT ?::BIGINT`, postID); err == nil {
				res.PostsRemoved, err = db.removeStaged(ctx, c, now, true)
			}
		case geopulse.ComplianceDeleteAuthor, geopulse.ComplianceProtectAuthor:
			if err = stageQuery(ctx, c, `SELECT id FROM posts WHERE author_id = ?`, authorID); err != nil {
				return err
			}
			// Their posts are gone with the account; tombstones are not
			// needed while the account is suppressed.
			if res.PostsRemoved, err = db.removeStaged(ctx, c, now, false); err != nil {
				return err
			}
			if res.AuthorRemoved, err = removeAuthor(ctx, c, authorID); err != nil {
				return err
			}
			reason := geopulse.SuppressDeleted
			if ev.Kind == geopulse.ComplianceProtectAuthor {
				reason = geopulse.SuppressProtected
			}
			err = suppress(ctx, c, authorID, reason, now)
		case geopulse.ComplianceUnprotectAuthor:
			_, err = c.ExecContext(ctx, `DELETE FROM suppressions WHERE key = ? AND reason = ?`, authorID, geopulse.SuppressProtected)
		case geopulse.ComplianceScrubGeo:
			q, args := `SELECT id FROM posts WHERE author_id = ?`, []any{authorID}
			if !ev.UpTo.IsZero() {
				q += ` AND taken_at <= ?`
				args = append(args, ev.UpTo.UTC())
			}
			if err = stageQuery(ctx, c, q, args...); err == nil {
				res.PostsRemoved, err = db.removeStaged(ctx, c, now, true)
			}
		}
		if err != nil {
			return err
		}
		at := ev.At
		if at.IsZero() {
			at = now
		}
		_, err = c.ExecContext(ctx, `INSERT INTO compliance_log (kind, source, post_id, author_id, event_at, applied_at, posts_removed, author_removed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, string(ev.Kind), ev.Source, postID, authorID, at.UTC(), now, res.PostsRemoved, res.AuthorRemoved)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("apply %s event: %w", ev.Kind, err)
	}
	return res, nil
}

// stageQuery replaces stage_ids with the ids a query selects.
func stageQuery(ctx context.Context, c *sql.Conn, query string, args ...any) error {
	if _, err := c.ExecContext(ctx, `DELETE FROM stage_ids`); err != nil {
		return err
	}
	_, err := c.ExecContext(ctx, `INSERT INTO stage_ids `+query, args...)
	return err
}

// removeStaged deletes the posts in stage_ids with their matches, tags and labels,
// optionally tombstoning their ids, and returns how many posts existed.
func (db *DB) removeStaged(ctx context.Context, c *sql.Conn, now time.Time, tombstone bool) (int64, error) {
	var n int64
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM posts WHERE id IN (SELECT id FROM stage_ids)`).Scan(&n); err != nil {
		return 0, err
	}
	if tombstone {
		if _, err := c.ExecContext(ctx, `INSERT INTO tombstones SELECT DISTINCT id, ? FROM stage_ids ON CONFLICT DO NOTHING`, now); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := db.touchStaged(ctx, c); err != nil {
		return 0, err
	}
	// Their authors' profiles are recomputed without them.
	if err := queueAuthorsOf(ctx, c, `SELECT author_id FROM posts WHERE id IN (SELECT id FROM stage_ids)`); err != nil {
		return 0, err
	}
	_, err := c.ExecContext(ctx, `DELETE FROM posts WHERE id IN (SELECT id FROM stage_ids);
		DELETE FROM post_places WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_tags WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM place_labels WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_labels WHERE post_id IN (SELECT id FROM stage_ids);`)
	return n, err
}

// removeAuthor deletes an author's card, count history and profile.
func removeAuthor(ctx context.Context, c *sql.Conn, authorID int64) (bool, error) {
	r, err := c.ExecContext(ctx, `DELETE FROM authors WHERE id = ?`, authorID)
	if err != nil {
		return false, err
	}
	for _, table := range []string{"author_terms", "profile_queue", "profile_stage", "profile_stage_ids"} {
		if _, err := c.ExecContext(ctx, `DELETE FROM `+table+` WHERE author_id = ?`, authorID); err != nil {
			return false, err
		}
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM author_stats WHERE author_id = ?`, authorID); err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n > 0, err
}

func suppress(ctx context.Context, c *sql.Conn, key int64, reason string, now time.Time) error {
	_, err := c.ExecContext(ctx, `INSERT INTO suppressions VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, key, reason, now)
	return err
}

// Suppress adds key to the suppression list for reason.
func (db *DB) Suppress(ctx context.Context, key int64, reason string) error {
	if reason == "" {
		return geopulse.Errorf(geopulse.EINVALID, "A suppression needs a reason.")
	}
	now := db.nowUTC()
	if err := db.write(ctx, func(c *sql.Conn) error { return suppress(ctx, c, key, reason, now) }); err != nil {
		return fmt.Errorf("suppress: %w", err)
	}
	return nil
}

// Unsuppress lifts the suppression of key for reason (other reasons stay).
func (db *DB) Unsuppress(ctx context.Context, key int64, reason string) error {
	err := db.write(ctx, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `DELETE FROM suppressions WHERE key = ? AND reason = ?`, key, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("unsuppress: %w", err)
	}
	return nil
}

// LoadBlocklist reads the suppression list and the tombstones.
func (db *DB) LoadBlocklist(ctx context.Context) (*geopulse.Blocklist, error) {
	bl := &geopulse.Blocklist{Suppressed: map[int64]string{}, Tombstones: map[int64]struct{}{}}
	rows, err := db.sql.QueryContext(ctx, `SELECT key, reason FROM suppressions ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("load suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key int64
		var reason string
		if err := rows.Scan(&key, &reason); err != nil {
			return nil, fmt.Errorf("load suppressions: %w", err)
		}
		bl.Suppressed[key] = reason
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load suppressions: %w", err)
	}
	ids, err := db.sql.QueryContext(ctx, `SELECT post_id FROM tombstones`)
	if err != nil {
		return nil, fmt.Errorf("load tombstones: %w", err)
	}
	defer ids.Close()
	for ids.Next() {
		var id int64
		if err := ids.Scan(&id); err != nil {
			return nil, fmt.Errorf("load tombstones: %w", err)
		}
		bl.Tombstones[id] = struct{}{}
	}
	if err := ids.Err(); err != nil {
		return nil, fmt.Errorf("load tombstones: %w", err)
	}
	return bl, nil
}

// ComplianceLog lists applied events with seq > after, oldest first.
func (db *DB) ComplianceLog(ctx context.Context, after int64, limit int) ([]geopulse.ComplianceRecord, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT seq, kind, source, post_id, author_id, event_at, applied_at, posts_removed, author_removed
		FROM compliance_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("compliance log: %w", err)
	}
	defer rows.Close()
	var out []geopulse.ComplianceRecord
	for rows.Next() {
		var r geopulse.ComplianceRecord
		var kind string
		if err := rows.Scan(&r.Seq, &kind, &r.Source, &r.PostID, &r.AuthorID, &r.At, &r.AppliedAt, &r.Result.PostsRemoved, &r.Result.AuthorRemoved); err != nil {
			return nil, fmt.Errorf("compliance log: %w", err)
		}
		r.Kind = geopulse.ComplianceKind(kind)
		r.At, r.AppliedAt = utc(r.At), utc(r.AppliedAt)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("compliance log: %w", err)
	}
	return out, nil
}
