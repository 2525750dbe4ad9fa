package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Compact rewrites the match tables (post_places, post_tags) sorted by
// (place_id, taken_at, post_id). DuckDB keeps rows in insertion order and
// prunes row groups by min/max zonemaps, so after compaction a query for a
// few places reads a few row groups instead of every one; matches appended
// since then (the tail, in arrival order, which is roughly time order) are
// still pruned by taken_at. Writers wait while it runs; readers do not.
// Writes call it automatically once the tail is large enough (see
// Options.CompactMinRows); call it directly after a bulk import.
func (db *DB) Compact(ctx context.Context) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.w == nil {
		return errClosed
	}
	return db.compact(ctx)
}

// maybeCompact compacts when the unsorted tail is both large in absolute
// terms and a sizeable fraction of the sorted part. The caller holds wmu.
func (db *DB) maybeCompact(ctx context.Context) error {
	if db.compactMinRows < 0 || db.tailRows < int64(db.compactMinRows) ||
		float64(db.tailRows) < compactTailRatio*float64(db.sortedRows) {
		return nil
	}
	return db.compact(ctx)
}

// compact does the rewrite; the caller holds wmu. CREATE TABLE AS keeps the
// column types, which is all these two tables declare.
func (db *DB) compact(ctx context.Context) error {
	start := time.Now()
	var rows int64
	err := db.inTx(ctx, func(c *sql.Conn) error {
		for _, t := range []string{"post_places", "post_tags", "place_labels"} {
			_, err := c.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE %[1]s_sorted AS
					SELECT * FROM %[1]s ORDER BY place_id, taken_at, post_id;
				DROP TABLE %[1]s;
				ALTER TABLE %[1]s_sorted RENAME TO %[1]s;`, t))
			if err != nil {
				return fmt.Errorf("sort %s: %w", t, err)
			}
		}
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM post_places`).Scan(&rows); err != nil {
			return err
		}
		return setStateValue(ctx, c, stateSortedRows, rows)
	})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	db.sortedRows, db.tailRows = rows, 0
	db.logger.Info("duckdb matches compacted", logKeyRows, rows, logKeyDuration, time.Since(start))
	return nil
}
