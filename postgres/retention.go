package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

var _ geopulse.RetentionStore = (*DB)(nil)

// retentionChunk is how many posts one transaction of ApplyRetention
// handles: short transactions keep row locks brief for ingest, and the
// arrays sent per statement small.
const retentionChunk = 2000

// ApplyRetention removes what policy p says is past its window at now.
//
// A system policy that covers every post (a catch-all rule) first drops
// whole monthly partitions that end before every window (no vacuum debt),
// then deletes the remaining posts past their window row by row, with their
// keys, matches and tags, in chunks of retentionChunk posts walked in
// (taken_at, id) order. A workspace policy deletes the workspace's matches
// and tags of posts past their window, and keeps posts.place_ids in step,
// in chunks walked in the order of post_places_workspace. A dry run walks
// the same chunks with the same conditions and changes nothing; a real run
// re-checks the condition as it deletes and counts what it deleted.
func (db *DB) ApplyRetention(ctx context.Context, p geopulse.RetentionPolicy, now time.Time, dryRun bool) (geopulse.RetentionReport, error) {
	if err := p.Validate(); err != nil {
		return geopulse.RetentionReport{}, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	rep := geopulse.RetentionReport{WorkspaceID: p.WorkspaceID, DryRun: dryRun}
	var err error
	if p.WorkspaceID == 0 {
		err = db.retainSystem(ctx, p, now, dryRun, &rep)
	} else {
		err = db.retainWorkspace(ctx, p, now, dryRun, &rep)
	}
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return geopulse.RetentionReport{}, err
	} else if err != nil {
		return geopulse.RetentionReport{}, fmt.Errorf("apply retention: %w", err)
	}
	return rep, nil
}

// retentionSource is a post's source; it lives only in doc.
const retentionSource = `(p.doc->>'source')`

// pastWindow renders the condition "post p is older than the window of its
// rule" (and, with unmatched, "or matched by no place and older than
// p.Unmatched") into a, with the latest cutoff of all. Times are inlined
// (a.inline), so partitions are pruned at planning; sources are
// parameters. ok is false when the policy can remove nothing.
func pastWindow(a *sqlArgs, p geopulse.RetentionPolicy, now time.Time, unmatched bool) (cond string, newest time.Time, ok bool) {
	var b strings.Builder
	if ranked := p.Ranked(); len(ranked) > 0 {
		b.WriteString(`p.taken_at < CASE`)
		for _, r := range ranked {
			cut := now.Add(-r.Keep)
			if cut.After(newest) {
				newest = cut
			}
			b.WriteString(` WHEN true`)
			if r.Source != "" {
				b.WriteString(` AND ` + retentionSource + ` = ` + a.add(r.Source) + `::text`)
			}
			if r.Kind != "" {
				b.WriteString(` AND p.kind = '` + string(r.Kind) + `'`) // validated
			}
			b.WriteString(` THEN ` + a.add(cut))
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
		b.WriteString(`(cardinality(p.place_ids) = 0 AND p.taken_at < ` + a.add(cut) + `)`)
	}
	if b.Len() == 0 {
		return "", time.Time{}, false
	}
	return `p.taken_at < ` + a.add(newest) + ` AND (` + b.String() + `)`, newest, true
}

// retainSystem applies a system policy: whole months first, then rows.
func (db *DB) retainSystem(ctx context.Context, p geopulse.RetentionPolicy, now time.Time, dryRun bool, rep *geopulse.RetentionReport) error {
	// The first instant not covered by dropped months: rows before it are
	// gone (or, in a dry run, already counted).
	floor := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if p.CoversAll() {
		var oldest time.Time // the earliest cutoff: months ending by it hold only posts past every window
		for i, r := range p.Rules {
			if cut := now.Add(-r.Keep); i == 0 || cut.Before(oldest) {
				oldest = cut
			}
		}
		last, err := db.dropMonths(ctx, monthOf(oldest), dryRun, rep)
		if err != nil {
			return err
		}
		if last >= 0 {
			floor = monthStart(last + 1)
		}
	}
	after, afterID := floor, int64(-1)
	for {
		var (
			n             int
			chunk         geopulse.RetentionReport
			lastT, lastID = after, afterID
		)
		// A retried transaction starts over from the same key.
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			n, chunk, lastT, lastID = 0, geopulse.RetentionReport{}, after, afterID
			a := &sqlArgs{inline: true}
			cond, _, ok := pastWindow(a, p, now, true)
			if !ok {
				return nil
			}
			rows, err := tx.Query(ctx, `SELECT p.taken_at, p.id, p.kind, `+retentionSource+`, cardinality(p.place_ids)
				FROM posts p WHERE (p.taken_at, p.id) > (`+a.add(after)+`, `+a.add(afterID)+`) AND `+cond+`
				ORDER BY p.taken_at, p.id LIMIT `+a.add(retentionChunk), a.query()...)
			if err != nil {
				return fmt.Errorf("select posts: %w", err)
			}
			var ids []int64
			for rows.Next() {
				var (
					c      postCount
					places int32
				)
				if err := rows.Scan(&c.takenAt, &c.id, &c.kind, &c.source, &places); err != nil {
					rows.Close()
					return fmt.Errorf("select posts: %w", err)
				}
				lastT, lastID = c.takenAt, c.id
				ids = append(ids, c.id)
				if dryRun {
					chunk.Add(c.source, geopulse.Kind(c.kind), 1, int64(places), c.takenAt)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("select posts: %w", err)
			}
			n = len(ids)
			if dryRun || n == 0 {
				return nil
			}
			return deleteRetained(ctx, tx, p, now, ids, &chunk)
		})
		if err != nil {
			return err
		}
		after, afterID = lastT, lastID
		merge(rep, &chunk)
		if n < retentionChunk {
			return nil
		}
	}
}

// postCount is one post as retention selects it.
type postCount struct {
	id      int64
	takenAt time.Time
	kind    string
	source  string
}

// merge adds the counts of chunk to rep.
func merge(rep, chunk *geopulse.RetentionReport) {
	for _, c := range chunk.Counts {
		rep.Add(c.Source, c.Kind, c.Posts, c.Matches, c.Oldest)
	}
}

// deleteRetained deletes those of ids that are still past their window,
// with their keys, matches, tags and labels, and counts them into rep.
// Keys are locked in id order first, as ingest batches lock them, and the
// condition is re-checked by the DELETE: a re-delivery may have moved a
// post since it was selected.
func deleteRetained(ctx context.Context, tx pgx.Tx, p geopulse.RetentionPolicy, now time.Time, ids []int64, rep *geopulse.RetentionReport) error {
	if err := lockMatchesShared(ctx, tx); err != nil {
		return err
	}
	slices.Sort(ids)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM post_keys WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids); err != nil {
		return fmt.Errorf("lock keys: %w", err)
	}
	a := &sqlArgs{inline: true}
	cond, _, _ := pastWindow(a, p, now, true)
	rows, err := tx.Query(ctx, `DELETE FROM posts p USING post_keys k
		WHERE k.id = ANY(`+a.add(ids)+`) AND p.id = k.id AND p.taken_at = k.taken_at AND `+cond+`
		RETURNING p.id, p.taken_at, p.kind, `+retentionSource+`, p.place_ids, p.doc->'hashtags', p.author_id`, a.query()...)
	if err != nil {
		return fmt.Errorf("delete posts: %w", err)
	}
	var (
		authors       []int64
		deleted       []int64
		deletedTimes  []time.Time
		mPlace, mPost []int64
		mTime         []time.Time
		tags          tagKeys
	)
	for rows.Next() {
		var (
			c        postCount
			places   []int64
			hashtags []byte
		)
		var author int64
		if err := rows.Scan(&c.id, &c.takenAt, &c.kind, &c.source, &places, &hashtags, &author); err != nil {
			rows.Close()
			return fmt.Errorf("delete posts: %w", err)
		}
		authors = append(authors, author)
		rep.Add(c.source, geopulse.Kind(c.kind), 1, int64(len(places)), c.takenAt)
		deleted, deletedTimes = append(deleted, c.id), append(deletedTimes, c.takenAt)
		for _, pl := range places {
			mPlace, mPost, mTime = append(mPlace, pl), append(mPost, c.id), append(mTime, c.takenAt)
		}
		if err := tags.add(places, c.id, c.takenAt, hashtags); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("delete posts: %w", err)
	}
	if len(deleted) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	batch.Queue(`DELETE FROM post_places m USING unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS u(place_id, t, id)
		WHERE m.place_id = u.place_id AND m.taken_at = u.t AND m.post_id = u.id`, mPlace, mTime, mPost)
	tags.queueDelete(batch)
	batch.Queue(`DELETE FROM post_labels l USING unnest($1::bigint[], $2::timestamptz[]) AS u(id, t)
		WHERE l.post_id = u.id AND l.taken_at = u.t`, deleted, deletedTimes)
	batch.Queue(`DELETE FROM post_keys WHERE id = ANY($1)`, deleted)
	queueAuthors(batch, authors) // profiles are recomputed without the posts
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("delete matches: %w", err)
	}
	return nil
}

// tagKeys are the primary keys of post_tags rows to delete.
type tagKeys struct {
	place, post []int64
	tag         [][]byte
	t           []time.Time
}

// add adds the tag rows of a post's matches with places; hashtags is the
// post's doc->'hashtags' (empty once a story expired, as are its tags).
func (k *tagKeys) add(places []int64, post int64, t time.Time, hashtags []byte) error {
	if len(hashtags) == 0 || len(places) == 0 {
		return nil
	}
	var tags []string
	if err := json.Unmarshal(hashtags, &tags); err != nil {
		return fmt.Errorf("decode hashtags of post %d: %w", post, err)
	}
	for _, tag := range distinct(tags) {
		for _, pl := range places {
			k.place, k.post, k.tag, k.t = append(k.place, pl), append(k.post, post), append(k.tag, []byte(tag)), append(k.t, t)
		}
	}
	return nil
}

func (k *tagKeys) queueDelete(b *pgx.Batch) {
	if len(k.place) == 0 {
		return
	}
	b.Queue(`DELETE FROM post_tags m USING unnest($1::bigint[], $2::bytea[], $3::timestamptz[], $4::bigint[]) AS u(place_id, tag, t, id)
		WHERE m.place_id = u.place_id AND m.tag = u.tag AND m.taken_at = u.t AND m.post_id = u.id`, k.place, k.tag, k.t, k.post)
}

// dropMonths drops (or, in a dry run, counts) the monthly partitions
// before month end, counting their posts into rep, and returns the last
// month dropped (-1: none). The month's tables are locked SHARE while they
// are counted, so no write slips in between the count and the drop, while
// reads go on; DROP then locks the parents for an instant.
func (db *DB) dropMonths(ctx context.Context, end int, dryRun bool, rep *geopulse.RetentionReport) (int, error) {
	last := -1
	var months geopulse.RetentionReport
	count := func(q querier, m int) error {
		rows, err := q.Query(ctx, `SELECT p.doc->>'source', p.kind, count(*), coalesce(sum(cardinality(p.place_ids)), 0), min(p.taken_at)
			FROM `+partitionName("posts", m)+` p GROUP BY 1, 2`)
		if err != nil {
			return fmt.Errorf("count %s: %w", partitionName("posts", m), err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				source, kind   string
				posts, matches int64
				oldest         time.Time
			)
			if err := rows.Scan(&source, &kind, &posts, &matches, &oldest); err != nil {
				return fmt.Errorf("count %s: %w", partitionName("posts", m), err)
			}
			months.Add(source, geopulse.Kind(kind), posts, matches, oldest)
		}
		return rows.Err()
	}
	if dryRun {
		all, err := existingMonths(ctx, db.pool)
		if err != nil {
			return -1, err
		}
		for _, m := range all {
			if m >= end {
				break
			}
			if err := count(db.pool, m); err != nil {
				return -1, err
			}
			last = m
			months.Months++
		}
		merge(rep, &months)
		rep.Months += months.Months
		return last, nil
	}
	var dropped []int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		months, dropped, last = geopulse.RetentionReport{}, dropped[:0], -1
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
			return err
		}
		all, err := existingMonths(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range all {
			if m >= end {
				break
			}
			names := make([]string, len(partitionedTables))
			for i, table := range partitionedTables {
				names[i] = partitionName(table, m)
			}
			if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN SHARE MODE`); err != nil {
				return fmt.Errorf("lock %s: %w", names[0], err)
			}
			if err := count(tx, m); err != nil {
				return err
			}
			// post_keys is not partitioned: forget the month's keys by the
			// ids its partition holds.
			if _, err := tx.Exec(ctx, `DELETE FROM post_keys WHERE id IN (SELECT id FROM `+names[0]+`)`); err != nil {
				return fmt.Errorf("forget keys of %s: %w", names[0], err)
			}
			// The month's authors have their profiles recomputed without it.
			if _, err := tx.Exec(ctx, `INSERT INTO profile_queue SELECT DISTINCT author_id FROM `+names[0]); err != nil {
				return fmt.Errorf("queue authors of %s: %w", names[0], err)
			}
			for _, name := range names {
				if _, err := tx.Exec(ctx, `DROP TABLE `+name); err != nil {
					return fmt.Errorf("drop %s: %w", name, err)
				}
			}
			dropped = append(dropped, m)
			last = m
		}
		return nil
	})
	if err != nil {
		return -1, fmt.Errorf("drop months: %w", err)
	}
	db.parts.mu.Lock()
	for _, m := range dropped {
		delete(db.parts.months, m)
	}
	db.parts.mu.Unlock()
	for _, m := range dropped {
		db.logger.Info("postgres partition dropped", logKeyPartition, partitionName("posts", m))
	}
	merge(rep, &months)
	rep.Months += len(dropped)
	return last, nil
}

// retainWorkspace applies a workspace policy: the workspace's matches of
// posts past their window go; the posts stay for other workspaces.
func (db *DB) retainWorkspace(ctx context.Context, p geopulse.RetentionPolicy, now time.Time, dryRun bool, rep *geopulse.RetentionReport) error {
	var one int
	err := db.pool.QueryRow(ctx, `SELECT 1 FROM workspaces WHERE id = $1`, p.WorkspaceID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	} else if err != nil {
		return err
	}
	after, afterID := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), int64(-1)
	for {
		var (
			n             int
			chunk         geopulse.RetentionReport
			lastT, lastID = after, afterID
		)
		// A retried transaction starts over from the same key.
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			n, chunk, lastT, lastID = 0, geopulse.RetentionReport{}, after, afterID
			a := &sqlArgs{inline: true}
			cond, newest, ok := pastWindow(a, p, now, false)
			if !ok {
				return nil
			}
			// Every match of a post has the post's taken_at, kind and
			// source, so a post loses all of the workspace's matches or
			// none. A chunk is the workspace's next posts along
			// post_places_workspace (an index-only walk); the condition is
			// then evaluated for them alone, so no chunk re-reads rows.
			rows, err := tx.Query(ctx, `WITH c AS (
					SELECT m.taken_at, m.post_id, count(*) AS matches FROM post_places m
					WHERE m.workspace_id = `+a.add(p.WorkspaceID)+` AND m.taken_at < `+a.add(newest)+`
						AND (m.taken_at, m.post_id) > (`+a.add(after)+`, `+a.add(afterID)+`)
					GROUP BY m.taken_at, m.post_id ORDER BY m.taken_at, m.post_id LIMIT `+a.add(retentionChunk)+`)
				SELECT c.taken_at, c.post_id, coalesce(p.kind, ''), coalesce(`+retentionSource+`, ''), c.matches, coalesce(`+cond+`, false)
				FROM c LEFT JOIN posts p ON p.id = c.post_id AND p.taken_at = c.taken_at
				ORDER BY c.taken_at, c.post_id`, a.query()...)
			if err != nil {
				return fmt.Errorf("select matches: %w", err)
			}
			var (
				ids   []int64
				times []time.Time
			)
			for rows.Next() {
				var (
					c       postCount
					matches int64
					past    bool
				)
				if err := rows.Scan(&c.takenAt, &c.id, &c.kind, &c.source, &matches, &past); err != nil {
					rows.Close()
					return fmt.Errorf("select matches: %w", err)
				}
				lastT, lastID = c.takenAt, c.id
				n++
				if !past {
					continue
				}
				ids, times = append(ids, c.id), append(times, c.takenAt)
				if dryRun {
					chunk.Add(c.source, geopulse.Kind(c.kind), 1, matches, c.takenAt)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("select matches: %w", err)
			}
			if dryRun || len(ids) == 0 {
				return nil
			}
			return deleteWorkspaceMatches(ctx, tx, p, now, ids, times, &chunk)
		})
		if err != nil {
			return err
		}
		after, afterID = lastT, lastID
		merge(rep, &chunk)
		if n < retentionChunk {
			return nil
		}
	}
}

// deleteWorkspaceMatches deletes the workspace's matches and tags of the
// posts (ids, times) that are still past their window, removes the places
// from posts.place_ids, and counts them into rep.
func deleteWorkspaceMatches(ctx context.Context, tx pgx.Tx, p geopulse.RetentionPolicy, now time.Time, ids []int64, times []time.Time, rep *geopulse.RetentionReport) error {
	if err := lockMatchesShared(ctx, tx); err != nil {
		return err
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM post_keys WHERE id = ANY($1) ORDER BY id FOR UPDATE`, sorted); err != nil {
		return fmt.Errorf("lock keys: %w", err)
	}
	a := &sqlArgs{inline: true}
	cond, _, _ := pastWindow(a, p, now, false)
	rows, err := tx.Query(ctx, `DELETE FROM post_places m USING posts p, unnest(`+a.add(ids)+`::bigint[], `+a.add(times)+`::timestamptz[]) AS u(id, t)
		WHERE m.workspace_id = `+a.add(p.WorkspaceID)+` AND m.post_id = u.id AND m.taken_at = u.t
			AND p.id = m.post_id AND p.taken_at = m.taken_at AND `+cond+`
		RETURNING m.place_id, m.post_id, m.taken_at, p.kind, `+retentionSource+`, p.doc->'hashtags', m.author_id`, a.query()...)
	if err != nil {
		return fmt.Errorf("delete matches: %w", err)
	}
	type postKey struct {
		id int64
		t  time.Time
	}
	lost := make(map[postKey][]int64) // post → its places removed
	var (
		order   []postKey
		tags    tagKeys
		authors []int64 // their place categories change
	)
	for rows.Next() {
		var (
			c        postCount
			place    int64
			hashtags []byte
			author   int64
		)
		if err := rows.Scan(&place, &c.id, &c.takenAt, &c.kind, &c.source, &hashtags, &author); err != nil {
			rows.Close()
			return fmt.Errorf("delete matches: %w", err)
		}
		k := postKey{c.id, c.takenAt}
		posts := int64(0)
		if _, seen := lost[k]; !seen {
			order, posts = append(order, k), 1
		}
		lost[k] = append(lost[k], place)
		authors = append(authors, author)
		rep.Add(c.source, geopulse.Kind(c.kind), posts, 1, c.takenAt)
		if err := tags.add([]int64{place}, c.id, c.takenAt, hashtags); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("delete matches: %w", err)
	}
	if len(order) == 0 {
		return nil
	}
	var uID, uPlace []int64
	var uTime []time.Time
	for _, k := range order {
		for _, pl := range lost[k] {
			uID, uTime, uPlace = append(uID, k.id), append(uTime, k.t), append(uPlace, pl)
		}
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE posts p SET place_ids = ARRAY(SELECT x FROM unnest(p.place_ids) x WHERE x <> ALL (u.places) ORDER BY x)
		FROM (SELECT id, t, array_agg(place) AS places FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS v(id, t, place) GROUP BY id, t) u
		WHERE p.id = u.id AND p.taken_at = u.t`, uID, uTime, uPlace)
	tags.queueDelete(batch)
	queueAuthors(batch, authors)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("update place ids: %w", err)
	}
	return nil
}
