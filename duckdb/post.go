package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
)

// stagingDDL creates the writer connection's TEMP tables. Data is appended
// into them and merged into the real tables with set-based SQL, because the
// Appender cannot upsert and DuckDB's per-row INSERT is slow.
const stagingDDL = `
CREATE TEMP TABLE stage_posts (
	id BIGINT, kind VARCHAR, author_id BIGINT, taken_at TIMESTAMP, lat DOUBLE, lon DOUBLE,
	accuracy_m DOUBLE, expires_at TIMESTAMP, expired BOOLEAN, place_ids VARCHAR, doc VARCHAR);
CREATE TEMP TABLE stage_ids (id BIGINT);
CREATE TEMP TABLE stage_places (id BIGINT, place_ids VARCHAR, multi BOOLEAN);
`

// postColumns are the columns of posts in table order, without rev.
const postColumns = `id, kind, author_id, taken_at, lat, lon, accuracy_m, expires_at, expired, place_ids, doc`

// upsertPostsSQL merges the staged batch into posts. A post that expired
// keeps its content deleted even if a source re-sends it; rev counts
// deliveries, so RETURNING tells which posts existed before.
const upsertPostsSQL = `INSERT INTO posts (` + postColumns + `)
SELECT ` + postColumns + ` FROM stage_posts
ON CONFLICT (id) DO UPDATE SET
	kind = excluded.kind, author_id = excluded.author_id, taken_at = excluded.taken_at,
	lat = excluded.lat, lon = excluded.lon, accuracy_m = excluded.accuracy_m,
	expires_at = excluded.expires_at, expired = posts.expired OR excluded.expired,
	place_ids = excluded.place_ids,
	image_labels = CASE WHEN excluded.expired THEN NULL ELSE posts.image_labels END,
	doc = CASE WHEN posts.expired THEN json_merge_patch(excluded.doc, ` + expiredDocPatch + `)::VARCHAR
		ELSE excluded.doc END,
	rev = posts.rev + 1
RETURNING id, rev, expired`

// stagedPost is a validated post of a batch with what is derived from it
// before the write lock is taken.
type stagedPost struct {
	p        *geopulse.Post
	placeIDs []int64  // sorted, distinct
	tags     []string // distinct hashtags, for post_tags
	doc      string
}

// UpsertPosts stores posts, their authors, the authors' count history and
// the posts' place matches in one transaction. It normalises each post in
// place: ID and Author.ID are set when zero (EINVALID when they disagree
// with the source ids), times become UTC with microsecond precision, a zero
// ObservedAt becomes now, and an Expired post loses its content. The
// returned slice has one entry per post: nil when stored, an *geopulse.Error
// with a Reason when the store rejects the item (the others still land). Of
// two copies of a post in one batch the last wins, and of two concurrent
// calls the later one, as calls waiting for the writer are committed
// together (group commit). A non-nil error means nothing was stored.
func (db *DB) UpsertPosts(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	errs := make([]error, len(posts))
	now := db.nowUTC()
	last := make(map[int64]int, len(posts))
	for i, p := range posts {
		if err := preparePost(p, now); err != nil {
			errs[i] = err
			continue
		}
		last[p.ID] = i
	}
	staged := make([]stagedPost, 0, len(last))
	for i, p := range posts {
		if errs[i] == nil && last[p.ID] == i {
			staged = append(staged, stagedPost{p: p, placeIDs: normIDs(p.PlaceIDs), tags: distinct(p.Hashtags), doc: encodeDoc(p)})
		}
	}
	if len(staged) == 0 {
		return errs, nil
	}
	call := &upsertCall{staged: staged}
	db.ws.group.enqueue(call)

	db.wmu.Lock()
	defer db.wmu.Unlock()
	// Unless another call's group wrote it meanwhile, write the queue,
	// oldest first, until this call's posts are in.
	for !call.done {
		calls := db.ws.group.take()
		err := db.writeGroup(groupContext(ctx, call, calls), mergeStaged(calls), now)
		if err != nil {
			err = fmt.Errorf("upsert posts: %w", err)
		}
		for _, c := range calls {
			c.done, c.err = true, err
		}
	}
	if call.err != nil {
		return nil, call.err
	}
	return errs, nil
}

// writeGroup writes staged posts in one transaction; the caller holds wmu.
func (db *DB) writeGroup(ctx context.Context, staged []stagedPost, now time.Time) error {
	if db.w == nil {
		return errClosed
	}
	authors := collectAuthors(staged, now)
	// Fast path: assume every post is new and append it straight into posts.
	// The primary key fails the transaction if one already exists; then the
	// batch is merged instead, which costs a scan of the match tables.
	var (
		appended int64
		aw       *authorWrites
	)
	err := db.inTx(ctx, func(c *sql.Conn) error {
		var err error
		appended, aw, err = db.writeBatch(ctx, c, staged, authors, true, now)
		return err
	})
	if isConstraint(err) {
		err = db.inTx(ctx, func(c *sql.Conn) error {
			var err error
			appended, aw, err = db.writeBatch(ctx, c, staged, authors, false, now)
			return err
		})
	}
	if err != nil {
		db.ws.authors.forget()
		return err
	}
	db.ws.authors.apply(aw)
	for _, s := range staged {
		db.touch(s.p.ID)
	}
	db.tailRows += appended
	if err := db.maybeCompact(ctx); err != nil {
		// The batch is committed; a failed compaction only leaves the tail
		// unsorted, and the next write tries again.
		db.logger.Error("duckdb compaction failed", logKeyError, err)
	}
	return nil
}

// preparePost validates what the store depends on and normalises p.
func preparePost(p *geopulse.Post, now time.Time) error {
	switch {
	case p == nil:
		return geopulse.Reject(geopulse.ReasonMissingField, "Post is empty.")
	case p.Source == "" || p.SourceID == "":
		return geopulse.Reject(geopulse.ReasonMissingField, "Post source and source_id are required.")
	case !p.Kind.Valid():
		return geopulse.Reject(geopulse.ReasonInvalidField, "Unknown kind %q.", p.Kind)
	case p.TakenAt.IsZero():
		return geopulse.Reject(geopulse.ReasonMissingField, "Post taken_at is required.")
	case !inTimestampRange(p.TakenAt) || !inTimestampRange(p.ObservedAt) && !p.ObservedAt.IsZero() ||
		p.ExpiresAt != nil && !inTimestampRange(*p.ExpiresAt):
		return geopulse.Reject(geopulse.ReasonInvalidField, "Post time is out of range.")
	case !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) || !(p.AccuracyM >= 0) || math.IsInf(p.AccuracyM, 0):
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "Post coordinates are out of range.")
	case p.Author.SourceID == "":
		return geopulse.Reject(geopulse.ReasonMissingField, "Post author source_id is required.")
	}
	if id := geopulse.PostID(p.Source, p.SourceID); p.ID == 0 {
		p.ID = id
	} else if p.ID != id {
		return geopulse.Reject(geopulse.ReasonInvalidField, "Post id does not match its source and source_id.")
	}
	if p.Author.Source == "" {
		p.Author.Source = p.Source
	}
	if id := geopulse.AuthorID(p.Author.Source, p.Author.SourceID); p.Author.ID == 0 {
		p.Author.ID = id
	} else if p.Author.ID != id {
		return geopulse.Reject(geopulse.ReasonInvalidField, "Author id does not match its source and source_id.")
	}
	if p.ObservedAt.IsZero() {
		p.ObservedAt = now
	}
	p.TakenAt = p.TakenAt.UTC().Truncate(time.Microsecond)
	p.ObservedAt = p.ObservedAt.UTC().Truncate(time.Microsecond)
	if p.ExpiresAt != nil {
		t := p.ExpiresAt.UTC().Truncate(time.Microsecond)
		p.ExpiresAt = &t
	}
	if s := float64(p.Sentiment); !(s >= -1 && s <= 1) {
		return geopulse.Reject(geopulse.ReasonInvalidField, "Post sentiment must be between -1 and 1.")
	}
	labels, err := geopulse.TextLabels(p.Labels)
	if err != nil {
		return err
	}
	p.Labels = labels
	if p.Expired {
		p.Caption, p.Hashtags, p.Mentions, p.MediaURLs = "", nil, nil, nil
		p.Sentiment, p.Labels = 0, nil
	}
	return nil
}

// writeBatch writes one batch inside a transaction and returns how many
// match rows it appended and what it wrote to authors. With fresh, posts
// are appended directly (a post that exists fails the transaction with a
// constraint error); otherwise they are merged through stage_posts and the
// matches of re-delivered posts are replaced.
func (db *DB) writeBatch(ctx context.Context, c *sql.Conn, staged []stagedPost, authors []*batchAuthor, fresh bool, now time.Time) (int64, *authorWrites, error) {
	expired := make(map[int64]bool)
	var existing []int64 // re-delivered posts
	if fresh {
		err := withAppender(c, "", "posts", func(a *duckdb.Appender) error {
			for _, s := range staged {
				if err := a.AppendRow(postRow(s, int32(0), nil)...); err != nil {
					return err
				}
				if s.p.Expired {
					expired[s.p.ID] = true
				}
			}
			return nil
		})
		if err != nil {
			return 0, nil, err
		}
	} else {
		var err error
		existing, err = mergePosts(ctx, c, staged, expired)
		if err != nil {
			return 0, nil, err
		}
		if err := db.deleteMatches(ctx, c, existing); err != nil {
			return 0, nil, err
		}
		if err := replacedLabels(ctx, c, existing); err != nil {
			return 0, nil, err
		}
	}
	var appended int64
	err := withAppender(c, "", "post_places", func(a *duckdb.Appender) error {
		for _, s := range staged {
			p, multi := s.p, len(s.placeIDs) > 1
			for _, pid := range s.placeIDs {
				if err := a.AppendRow(pid, p.ID, p.TakenAt, string(p.Kind), p.Author.ID, expired[p.ID], multi); err != nil {
					return err
				}
				appended++
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	err = withAppender(c, "", "post_tags", func(a *duckdb.Appender) error {
		for _, s := range staged {
			p, multi := s.p, len(s.placeIDs) > 1
			if expired[p.ID] {
				continue
			}
			for _, pid := range s.placeIDs {
				for _, tag := range s.tags {
					if err := a.AppendRow(pid, p.ID, p.TakenAt, string(p.Kind), tag, multi); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if err := appendTextLabels(c, staged, expired, now); err != nil {
		return 0, nil, err
	}
	if err := writePlaceLabels(ctx, c, staged, expired, existing); err != nil {
		return 0, nil, err
	}
	// After writePlaceLabels, which reads stage_ids as deleteMatches left
	// it: the authors' lookup stages ids of its own.
	aw, err := db.writeAuthors(ctx, c, authors)
	if err != nil {
		return 0, nil, err
	}
	// The authors' profiles are recomputed by the profiler, queued in the
	// same transaction as the posts: a commit never leaves them stale.
	queued := make([]int64, len(staged))
	for i, s := range staged {
		queued[i] = s.p.Author.ID
	}
	slices.Sort(queued)
	if err := queueProfiles(ctx, c, slices.Compact(queued)); err != nil {
		return 0, nil, err
	}
	return appended, aw, nil
}

// appendTextLabels appends the post_labels rows of the batch's text
// labels. Most posts carry none, and then nothing is appended.
func appendTextLabels(c *sql.Conn, staged []stagedPost, expired map[int64]bool, now time.Time) error {
	if !slices.ContainsFunc(staged, func(s stagedPost) bool { return len(s.p.Labels) > 0 }) {
		return nil
	}
	return withAppender(c, "", "post_labels", func(a *duckdb.Appender) error {
		for _, s := range staged {
			if expired[s.p.ID] {
				continue
			}
			for _, l := range s.p.Labels {
				if err := appendLabelRow(a, s.p.ID, s.p.TakenAt, l, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// writePlaceLabels writes the batch's place_labels rows: appended from
// the text labels of new posts (one per kind and name already, see
// preparePost), and derived again from post_labels for the re-delivered
// ones, whose image labels stay; stage_ids holds their ids.
func writePlaceLabels(ctx context.Context, c *sql.Conn, staged []stagedPost, expired map[int64]bool, existing []int64) error {
	again := make(map[int64]bool, len(existing))
	for _, id := range existing {
		again[id] = true
	}
	fresh := func(s stagedPost) bool {
		return len(s.p.Labels) > 0 && len(s.placeIDs) > 0 && !expired[s.p.ID] && !again[s.p.ID]
	}
	if slices.ContainsFunc(staged, fresh) {
		err := withAppender(c, "", "place_labels", func(a *duckdb.Appender) error {
			for _, s := range staged {
				if !fresh(s) {
					continue
				}
				p, multi := s.p, len(s.placeIDs) > 1
				for _, l := range p.Labels {
					if !rankedLabel(l.Kind) {
						continue
					}
					for _, pid := range s.placeIDs {
						if err := a.AppendRow(pid, p.ID, p.TakenAt, string(p.Kind), string(l.Kind), l.Name, multi); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(existing) == 0 {
		return nil
	}
	const inStage = `post_id IN (SELECT id FROM stage_ids)`
	return rederivePlaceLabels(ctx, c, func(a string) string { return a + inStage }, `l.`+inStage)
}

// replacedLabels deletes the text labels of re-delivered posts (the batch
// brings their new ones), and the image labels of those it expires, and
// moves the other image labels to the post's new taken_at; stage_ids holds their ids and stage_posts the batch. Like
// deleteMatches, it scans post_labels, which only re-deliveries pay for.
func replacedLabels(ctx context.Context, c *sql.Conn, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.ExecContext(ctx, `DELETE FROM post_labels WHERE post_id IN (SELECT id FROM stage_ids)
			AND (origin = 'text' OR post_id IN (SELECT id FROM stage_posts WHERE expired));
		UPDATE post_labels SET taken_at = s.taken_at FROM stage_posts s
			WHERE post_labels.post_id = s.id AND post_labels.taken_at <> s.taken_at;`)
	if err != nil {
		return fmt.Errorf("replace labels: %w", err)
	}
	return nil
}

// postRow is a post's values in the column order of posts (postColumns,
// 0001_init.sql) and stage_posts; extra values (rev) follow.
func postRow(s stagedPost, extra ...driver.Value) []driver.Value {
	p := s.p
	var expires any
	if p.ExpiresAt != nil {
		expires = *p.ExpiresAt
	}
	return append([]driver.Value{p.ID, string(p.Kind), p.Author.ID, p.TakenAt, p.Lat, p.Lon, p.AccuracyM,
		expires, p.Expired, formatIDs(s.placeIDs), s.doc}, extra...)
}

// mergePosts upserts the batch through stage_posts. It returns the ids that
// existed before and adds the posts that are expired after the merge to
// expired.
func mergePosts(ctx context.Context, c *sql.Conn, staged []stagedPost, expired map[int64]bool) ([]int64, error) {
	if _, err := c.ExecContext(ctx, `DELETE FROM stage_posts`); err != nil {
		return nil, err
	}
	err := withAppender(c, "temp", "stage_posts", func(a *duckdb.Appender) error {
		for _, s := range staged {
			if err := a.AppendRow(postRow(s)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryContext(ctx, upsertPostsSQL)
	if err != nil {
		return nil, fmt.Errorf("merge posts: %w", err)
	}
	defer rows.Close()
	var existing []int64
	for rows.Next() {
		var (
			id  int64
			rev int32
			exp bool
		)
		if err := rows.Scan(&id, &rev, &exp); err != nil {
			return nil, fmt.Errorf("merge posts: %w", err)
		}
		if rev > 0 {
			existing = append(existing, id)
		}
		if exp {
			expired[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("merge posts: %w", err)
	}
	return existing, nil
}

// deleteMatches removes the match rows of posts that are being re-written.
// It scans both match tables, which is why only re-deliveries pay for it.
func (db *DB) deleteMatches(ctx context.Context, c *sql.Conn, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := db.stageIDs(ctx, c, ids); err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM post_places WHERE post_id IN (SELECT id FROM stage_ids);
		DELETE FROM post_tags WHERE post_id IN (SELECT id FROM stage_ids);`); err != nil {
		return fmt.Errorf("replace matches: %w", err)
	}
	return nil
}

// stageIDs replaces the content of stage_ids with ids.
func (db *DB) stageIDs(ctx context.Context, c *sql.Conn, ids []int64) error {
	if err := db.ws.exec(ctx, c, `DELETE FROM stage_ids`); err != nil {
		return err
	}
	return withAppender(c, "temp", "stage_ids", func(a *duckdb.Appender) error {
		for _, id := range ids {
			if err := a.AppendRow(id); err != nil {
				return err
			}
		}
		return nil
	})
}

// formatIDs renders sorted ids as posts.place_ids stores them.
func formatIDs(ids []int64) string {
	b := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// parseIDs reads posts.place_ids; anything unparsable is skipped (the
// column is only ever written by formatIDs).
func parseIDs(s string) []int64 {
	if s == "" {
		return nil
	}
	out := make([]int64, 0, strings.Count(s, ",")+1)
	for f := range strings.SplitSeq(s, ",") {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// normIDs returns ids sorted and without duplicates or non-positive ids.
func normIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// distinct returns the distinct non-empty strings of s in first-seen order.
func distinct(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, 0, len(s))
	for _, x := range s {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// ExpireStories deletes the content (caption, hashtags, mentions, media,
// sentiment and labels of both origins) of posts whose ExpiresAt is at or
// before now and marks them Expired; their matches stay, so counts
// survive, but their post_tags and post_labels rows go. It returns
// how many posts expired.
func (db *DB) ExpireStories(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(c *sql.Conn) error {
		if _, err := c.ExecContext(ctx, `DELETE FROM stage_ids;
			INSERT INTO stage_ids SELECT id FROM posts WHERE expires_at <= `+sqlTime(now)+` AND NOT expired`); err != nil {
			return err
		}
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM stage_ids`).Scan(&n); err != nil || n == 0 {
			return err
		}
		if err := db.touchStaged(ctx, c); err != nil {
			return err
		}
		_, err := c.ExecContext(ctx, `
			UPDATE posts SET doc = json_merge_patch(doc, `+expiredDocPatch+`)::VARCHAR, expired = true, image_labels = NULL
				WHERE id IN (SELECT id FROM stage_ids);
			UPDATE post_places SET expired = true WHERE post_id IN (SELECT id FROM stage_ids);
			DELETE FROM post_tags WHERE post_id IN (SELECT id FROM stage_ids);
			DELETE FROM post_labels WHERE post_id IN (SELECT id FROM stage_ids);
			DELETE FROM place_labels WHERE post_id IN (SELECT id FROM stage_ids);`)
		if err != nil {
			return err
		}
		return queueAuthorsOf(ctx, c, `SELECT author_id FROM posts WHERE id IN (SELECT id FROM stage_ids)`)
	})
	if err != nil {
		return 0, fmt.Errorf("expire stories: %w", err)
	}
	return n, nil
}
