package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// matchTables are the tables compaction sorts.
var matchTables = []string{"post_places", "post_tags", "place_labels"}

// Compact rewrites the match tables (post_places, post_tags, place_labels)
// sorted by (place_id, taken_at, post_id). DuckDB keeps rows in insertion
// order and prunes row groups by min/max zonemaps, so after compaction a
// query for a few places reads a few row groups instead of every one;
// matches appended since then (the tail, in arrival order, which is
// roughly time order) are still pruned by taken_at. Writers wait while it
// runs; readers do not. Writes compact automatically, in the background,
// once the tail is large enough (see Options.CompactMinRows); call Compact
// directly after a bulk import.
func (db *DB) Compact(ctx context.Context) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.awaitCompaction()
	if db.w == nil {
		return errClosed
	}
	return db.compact(ctx)
}

// compaction is an automatic compaction in progress; wmu guards it.
//
// It has two phases. The first sorts a snapshot of the match tables into
// <table>_sorted copies, on a connection of its own, while writes go on
// (at 10M posts this takes over 10 s, which writers used to wait for).
// The second, under wmu, replaces in the copies the rows of the posts that
// writes touched since the snapshot, and swaps them in. Writes that change
// matches by post record those posts (touch, touchStaged); those that
// change them by place or by time (a place edited or deleted, retention)
// mark the compaction dirty (touchAll), and the second phase then sorts
// the tables again, as Compact does: such writes are rare.
type compaction struct {
	running bool
	dirty   bool
	touched []int64
	cancel  context.CancelFunc
	done    chan struct{}
}

// touch records posts whose match rows the caller (holding wmu) changes.
// Recording a post whose write then fails costs a few rows of copying.
func (db *DB) touch(ids ...int64) {
	if db.bg.running {
		db.bg.touched = append(db.bg.touched, ids...)
	}
}

// touchStaged records the posts in stage_ids (see touch).
func (db *DB) touchStaged(ctx context.Context, c *sql.Conn) error {
	if !db.bg.running {
		return nil
	}
	rows, err := c.QueryContext(ctx, `SELECT id FROM stage_ids`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		db.bg.touched = append(db.bg.touched, id)
	}
	return rows.Err()
}

// touchAll records a change of matches by place (see compaction).
func (db *DB) touchAll() {
	db.bg.dirty = true
}

// maybeCompact starts a compaction when the unsorted tail is both large in
// absolute terms and a sizeable fraction of the sorted part, and none runs.
// The caller holds wmu.
func (db *DB) maybeCompact(ctx context.Context) error {
	if db.bg.running || db.compactMinRows < 0 || db.tailRows < int64(db.compactMinRows) ||
		float64(db.tailRows) < compactTailRatio*float64(db.sortedRows) {
		return nil
	}
	return db.startCompaction(ctx)
}

// startCompaction takes the snapshot and starts the first phase; the
// caller holds wmu, so no write is half done.
func (db *DB) startCompaction(ctx context.Context) error {
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	// DuckDB fixes a transaction's snapshot when it first reads.
	var n int64
	if _, err = c.ExecContext(ctx, `BEGIN TRANSACTION`); err == nil {
		err = c.QueryRowContext(ctx, `SELECT count(*) FROM post_places`).Scan(&n)
	}
	if err != nil {
		c.ExecContext(context.Background(), `ROLLBACK`)
		c.Close()
		return fmt.Errorf("compact: snapshot: %w", err)
	}
	bctx, cancel := context.WithCancel(context.Background())
	db.bg = compaction{running: true, cancel: cancel, done: make(chan struct{})}
	go db.compactInBackground(bctx, c, db.bg.done)
	return nil
}

// compactInBackground runs both phases of the compaction started on c.
func (db *DB) compactInBackground(ctx context.Context, c *sql.Conn, done chan struct{}) {
	defer close(done)
	start := time.Now()
	err := sortCopies(ctx, c)
	if err != nil {
		c.ExecContext(context.Background(), `ROLLBACK`)
	}
	c.Close()
	if db.compactHook != nil {
		db.compactHook()
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	bg := db.bg
	db.bg = compaction{}
	defer bg.cancel()
	if ctx.Err() != nil || db.w == nil {
		return // closing; Open drops the copies
	}
	if err == nil {
		if bg.dirty {
			err = db.compact(ctx)
		} else {
			err = db.swapCopies(ctx, bg.touched, start)
		}
	}
	if err != nil {
		// Nothing changed: the tail stays unsorted and a later write
		// tries again.
		db.logger.Error("duckdb compaction failed", logKeyError, err)
		if err := dropCopies(context.Background(), db.w); err != nil {
			db.logger.Error("duckdb compaction failed", logKeyError, err)
		}
	}
}

// Statements on one match table, %[1]s. A compaction writes the table
// sorted into a copy, <table>_sorted, and swaps the copy in; CREATE TABLE
// AS keeps the column types, which is all these tables declare.
const (
	dropCopySQL = `DROP TABLE IF EXISTS %[1]s_sorted;`
	sortCopySQL = dropCopySQL + `
		CREATE TABLE %[1]s_sorted AS SELECT * FROM %[1]s ORDER BY place_id, taken_at, post_id;`
	// recopyStagedSQL replaces in the copy the rows of the posts in stage_ids.
	recopyStagedSQL = `DELETE FROM %[1]s_sorted WHERE post_id IN (SELECT id FROM stage_ids);
		INSERT INTO %[1]s_sorted SELECT * FROM %[1]s WHERE post_id IN (SELECT id FROM stage_ids)
			ORDER BY place_id, taken_at, post_id;`
	swapCopySQL = `DROP TABLE %[1]s;
		ALTER TABLE %[1]s_sorted RENAME TO %[1]s;`
)

// onMatchTables runs query (a statement above) on every match table.
func onMatchTables(ctx context.Context, c *sql.Conn, query string) error {
	for _, t := range matchTables {
		if _, err := c.ExecContext(ctx, fmt.Sprintf(query, t)); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

// sortCopies writes the sorted copies of the snapshot that c's transaction
// holds and commits them.
func sortCopies(ctx context.Context, c *sql.Conn) error {
	if err := onMatchTables(ctx, c, sortCopySQL); err != nil {
		return fmt.Errorf("sort %w", err)
	}
	_, err := c.ExecContext(ctx, `COMMIT`)
	return err
}

// swapCopies is the second phase: the touched posts' rows are copied
// again from the live tables, and the copies replace them. The caller
// holds wmu.
func (db *DB) swapCopies(ctx context.Context, touched []int64, start time.Time) error {
	slices.Sort(touched)
	touched = slices.Compact(touched)
	locked := time.Now()
	if err := db.stageIDs(ctx, db.w, touched); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	rows, err := db.replaceMatches(ctx, recopyStagedSQL+swapCopySQL)
	if err != nil {
		return err
	}
	// "locked" is how long writers waited.
	db.logger.Info("duckdb matches compacted", logKeyRows, rows, "touched_posts", len(touched),
		logKeyDuration, time.Since(start), "locked", time.Since(locked))
	return nil
}

// awaitCompaction waits until no automatic compaction runs. The caller
// holds wmu, which it gives up while it waits.
func (db *DB) awaitCompaction() {
	for db.bg.running {
		done := db.bg.done
		db.wmu.Unlock()
		<-done
		db.wmu.Lock()
	}
}

// compact sorts the match tables under the lock; the caller holds wmu.
func (db *DB) compact(ctx context.Context) error {
	start := time.Now()
	rows, err := db.replaceMatches(ctx, sortCopySQL+swapCopySQL)
	if err != nil {
		return err
	}
	db.logger.Info("duckdb matches compacted", logKeyRows, rows, logKeyDuration, time.Since(start))
	return nil
}

// replaceMatches runs query, which leaves every match table sorted, on
// them in one transaction and records the sorted row count. The caller
// holds wmu.
func (db *DB) replaceMatches(ctx context.Context, query string) (int64, error) {
	var rows int64
	err := db.inTx(ctx, func(c *sql.Conn) error {
		if err := onMatchTables(ctx, c, query); err != nil {
			return err
		}
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM post_places`).Scan(&rows); err != nil {
			return err
		}
		return setStateValue(ctx, c, stateSortedRows, rows)
	})
	if err != nil {
		return 0, fmt.Errorf("compact: %w", err)
	}
	db.sortedRows, db.tailRows = rows, 0
	return rows, nil
}

// dropCopies removes copies that an unfinished compaction (a crash, Close,
// or a failed second phase) left behind.
func dropCopies(ctx context.Context, c *sql.Conn) error {
	if err := onMatchTables(ctx, c, dropCopySQL); err != nil {
		return fmt.Errorf("drop compaction copies: %w", err)
	}
	return nil
}
