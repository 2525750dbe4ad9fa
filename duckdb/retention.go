package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

var _ geopulse.RetentionStore = (*DB)(nil)

// ApplyRetention removes what policy p says is past its window at now: for
// the system policy, posts with their matches and tags; for a workspace
// policy, the workspace's matches and tags (posts.place_ids kept in step).
// The posts concerned are staged once, counted from the stage, and (unless
// dryRun) deleted by the stage, so a dry run reports exactly what a real
// run at the same now removes. Everything runs in one transaction on the
// writer connection.
func (db *DB) ApplyRetention(ctx context.Context, p geopulse.RetentionPolicy, now time.Time, dryRun bool) (geopulse.RetentionReport, error) {
	if err := p.Validate(); err != nil {
		return geopulse.RetentionReport{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	var rep geopulse.RetentionReport
	err := db.write(ctx, func(c *sql.Conn) error {
		rep = geopulse.RetentionReport{WorkspaceID: p.WorkspaceID, DryRun: dryRun}
		if !dryRun {
			db.touchAll() // matches go by time and by place
		}
		if p.WorkspaceID == 0 {
			return retainSystem(ctx, c, p, now, dryRun, &rep)
		}
		return retainWorkspace(ctx, c, p, now, dryRun, &rep)
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return geopulse.RetentionReport{}, err
	} else if err != nil {
		return geopulse.RetentionReport{}, fmt.Errorf("apply retention: %w", err)
	}
	return rep, nil
}

// retentionSource is a post's source; it lives only in doc.
const retentionSource = `json_extract_string(p.doc, '$.source')`

// pastWindow renders the condition "post p is older than the window of its
// rule" over posts aliased p, with its arguments (sources go as
// parameters; times and validated kinds are inlined, so that zonemaps prune
// on taken_at). With unmatched, posts that no place matches are also past
// their window when older than now - unmatched. ok is false when the
// policy can remove nothing.
func pastWindow(p geopulse.RetentionPolicy, now time.Time, unmatched bool) (cond string, args []any, ok bool) {
	ranked := p.Ranked()
	var newest time.Time // the latest cutoff: nothing after it can go
	var b strings.Builder
	if len(ranked) > 0 {
		b.WriteString(`p.taken_at < CASE`)
		for _, r := range ranked {
			cut := now.Add(-r.Keep)
			if cut.After(newest) {
				newest = cut
			}
			b.WriteString(` WHEN true`)
			if r.Source != "" {
				b.WriteString(` AND ` + retentionSource + ` = ?`)
				args = append(args, r.Source)
			}
			if r.Kind != "" {
				b.WriteString(` AND p.kind = '` + string(r.Kind) + `'`)
			}
			b.WriteString(` THEN ` + sqlTime(cut))
		}
		b.WriteString(` END`) // NULL when no rule applies: kept
	}
	if unmatched && p.Unmatched > 0 {
		cut := now.Add(-p.Unmatched)
		if cut.After(newest) {
			newest = cut
		}
		if b.Len() > 0 {
			b.WriteString(` OR `)
		}
		b.WriteString(`(p.place_ids = '' AND p.taken_at < ` + sqlTime(cut) + `)`)
	}
	if b.Len() == 0 {
		return "", nil, false
	}
	return `p.taken_at < ` + sqlTime(newest) + ` AND (` + b.String() + `)`, args, true
}

// retainSystem deletes the posts past their window, with their matches,
// tags and labels, everywhere. Author cards and count histories stay: they
// are not tied to a post's age.
func retainSystem(ctx context.Context, c *sql.Conn, p geopulse.RetentionPolicy, now time.Time, dryRun bool, rep *geopulse.RetentionReport) error {
	cond, args, ok := pastWindow(p, now, true)
	if !ok {
		return nil
	}
	if err := stageQuery(ctx, c, `SELECT id FROM posts p WHERE `+cond, args...); err != nil {
		return fmt.Errorf("stage posts: %w", err)
	}
	// place_ids lists the post's matches of every workspace (one per
	// post_places row), so it counts them without a scan of post_places.
	err := addCounts(ctx, c, rep, `SELECT `+retentionSource+`, p.kind, count(*),
			coalesce(sum(CASE WHEN p.place_ids = '' THEN 0 ELSE length(p.place_ids) - length(replace(p.place_ids, ',', '')) + 1 END), 0),
			min(p.taken_at)
		FROM posts p WHERE p.id IN (SELECT id FROM stage_ids) GROUP BY ALL`)
	if err != nil || dryRun || rep.Posts == 0 {
		return err
	}
	if err := queueAuthorsOf(ctx, c, `SELECT author_id FROM posts WHERE id IN (SELECT id FROM stage_ids)`); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, `DELETE FROM post_places WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_tags WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM place_labels WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_labels WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM posts WHERE id IN (SELECT id FROM stage_ids);`)
	if err != nil {
		return fmt.Errorf("delete posts: %w", err)
	}
	return nil
}

// retainWorkspace deletes the workspace's matches (and their tags) of
// posts past their window; the posts stay for other workspaces.
func retainWorkspace(ctx context.Context, c *sql.Conn, p geopulse.RetentionPolicy, now time.Time, dryRun bool, rep *geopulse.RetentionReport) error {
	var n int
	if err := c.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = ?`, p.WorkspaceID).Scan(&n); err != nil {
		return err
	} else if n == 0 {
		return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	}
	cond, args, ok := pastWindow(p, now, false)
	if !ok {
		return nil
	}
	places := `(SELECT id FROM places WHERE workspace_id = ` + strconv.FormatInt(p.WorkspaceID, 10) + `)`
	// Every match of one post has the post's taken_at, kind and source, so
	// a post loses all of the workspace's matches or none.
	err := stageQuery(ctx, c, `SELECT DISTINCT m.post_id FROM post_places m JOIN posts p ON p.id = m.post_id
		WHERE m.place_id IN `+places+` AND `+cond, args...)
	if err != nil {
		return fmt.Errorf("stage matches: %w", err)
	}
	err = addCounts(ctx, c, rep, `SELECT `+retentionSource+`, p.kind, count(DISTINCT p.id), count(*), min(p.taken_at)
		FROM post_places m JOIN posts p ON p.id = m.post_id
		WHERE m.place_id IN `+places+` AND m.post_id IN (SELECT id FROM stage_ids) GROUP BY ALL`)
	if err != nil || dryRun || rep.Posts == 0 {
		return err
	}
	drop, err := workspacePlaceSet(ctx, c, p.WorkspaceID)
	if err != nil {
		return err
	}
	changes, err := stagedPlaceChanges(ctx, c, drop)
	if err != nil {
		return err
	}
	if err := writePlaceIDs(ctx, c, changes); err != nil {
		return err
	}
	// The authors' place categories change.
	if err := queueAuthorsOf(ctx, c, `SELECT author_id FROM post_places WHERE place_id IN `+places+` AND post_id IN (SELECT id FROM stage_ids)`); err != nil {
		return fmt.Errorf("queue profiles: %w", err)
	}
	_, err = c.ExecContext(ctx, `DELETE FROM post_places WHERE place_id IN `+places+` AND post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_tags WHERE place_id IN `+places+` AND post_id IN (SELECT id FROM stage_ids);
		DELETE FROM place_labels WHERE place_id IN `+places+` AND post_id IN (SELECT id FROM stage_ids);`)
	if err != nil {
		return fmt.Errorf("delete matches: %w", err)
	}
	return nil
}

// addCounts adds the rows of query, (source, kind, posts, matches,
// oldest), to rep.
func addCounts(ctx context.Context, c *sql.Conn, rep *geopulse.RetentionReport, query string) error {
	rows, err := c.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			source, kind   sql.NullString
			posts, matches int64
			oldest         time.Time
		)
		if err := rows.Scan(&source, &kind, &posts, &matches, &oldest); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		rep.Add(source.String, geopulse.Kind(kind.String), posts, matches, oldest)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	return nil
}

// workspacePlaceSet reads the ids of a workspace's places on c (the
// writer's view, not the place cache's).
func workspacePlaceSet(ctx context.Context, c *sql.Conn, workspaceID int64) (map[int64]bool, error) {
	rows, err := c.QueryContext(ctx, `SELECT id FROM places WHERE workspace_id = ?`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("workspace places: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]bool)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("workspace places: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// stagedPlaceChanges returns the new place_ids of the staged posts: the
// old ones without the places in drop.
func stagedPlaceChanges(ctx context.Context, c *sql.Conn, drop map[int64]bool) ([]placesChange, error) {
	rows, err := c.QueryContext(ctx, `SELECT id, place_ids FROM posts WHERE id IN (SELECT id FROM stage_ids)`)
	if err != nil {
		return nil, fmt.Errorf("staged place ids: %w", err)
	}
	defer rows.Close()
	var out []placesChange
	for rows.Next() {
		var (
			id  int64
			ids string
		)
		if err := rows.Scan(&id, &ids); err != nil {
			return nil, fmt.Errorf("staged place ids: %w", err)
		}
		all := parseIDs(ids)
		kept := make([]int64, 0, len(all))
		for _, pl := range all {
			if !drop[pl] {
				kept = append(kept, pl)
			}
		}
		out = append(out, placesChange{id: id, placeIDs: kept})
	}
	return out, rows.Err()
}
