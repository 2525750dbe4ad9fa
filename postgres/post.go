package postgres

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

// Columns written by COPY, in table order (0001_init.sql).
var (
	postColumns = []string{"id", "taken_at", "kind", "author_id", "lat", "lon", "accuracy_m",
		"expires_at", "expired", "place_ids", "doc"}
	postPlacesColumns = []string{"place_id", "taken_at", "post_id", "workspace_id", "kind", "author_id", "expired"}
	postTagsColumns   = []string{"place_id", "tag", "taken_at", "post_id", "kind"}
)

// stagedPost is a validated post of a batch with what is derived from it
// before the transaction starts.
type stagedPost struct {
	p        *geopulse.Post
	placeIDs []int64  // sorted, distinct; narrowed to existing places in the transaction
	tags     [][]byte // distinct hashtags, for post_tags
	doc      string
}

// UpsertPosts stores posts, their authors, the authors' count history and
// the posts' place matches in one transaction. It normalises each post in
// place: ID and Author.ID are set when zero (EINVALID when they disagree
// with the source ids), times become UTC with microsecond precision, a zero
// ObservedAt becomes now, and an Expired post loses its content. The
// returned slice has one entry per post: nil when stored, a *geopulse.Error
// with a Reason when the store rejects the item (the others still land). Of
// two copies of a post in one batch the last wins. Place ids that name no
// stored place are dropped. A non-nil error means nothing was stored.
//
// The batch is written with COPY; only posts that were stored before (found
// through post_keys, whose rows it locks in id order) are deleted and
// re-inserted, which also moves a post whose taken_at changed to its new
// month.
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
	times := make([]time.Time, 0, len(last))
	for i, p := range posts {
		if errs[i] == nil && last[p.ID] == i {
			staged = append(staged, stagedPost{p: p, placeIDs: normIDs(p.PlaceIDs), tags: tagBytes(distinct(p.Hashtags)), doc: encodeDoc(p)})
			times = append(times, p.TakenAt)
		}
	}
	if len(staged) == 0 {
		return errs, nil
	}
	authors := collectAuthors(staged, now) // in batch order: the last card wins
	for attempt := 0; ; attempt++ {
		if err := db.ensurePartitions(ctx, times); err != nil {
			return nil, fmt.Errorf("upsert posts: %w", err)
		}
		err := db.inTx(ctx, func(tx pgx.Tx) error { return db.writeBatch(ctx, tx, staged, authors, now) })
		if err != nil && attempt == 0 && isNoPartition(err) {
			// Another process dropped a month this one thought existed.
			if err := db.loadPartitions(ctx); err != nil {
				return nil, fmt.Errorf("upsert posts: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("upsert posts: %w", err)
		}
		return errs, nil
	}
}

// isNoPartition reports PostgreSQL's "no partition of relation found for row".
func isNoPartition(err error) bool {
	return sqlState(err) == sqlCheckViolation && strings.Contains(err.Error(), "no partition")
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
	case p.TakenAt.UTC().Year() < 1 || p.TakenAt.UTC().Year() > 9999:
		// Monthly partitions are named by a four-digit year.
		return geopulse.Reject(geopulse.ReasonInvalidField, "Post taken_at must be within the years 1 to 9999.")
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

// writeBatch writes one batch inside a transaction. Locks are taken in one
// order by every writer: the shared match lock, post_keys rows in id order,
// then author rows in id order; so two batches never deadlock, and two
// writers of the same post run one after the other.
func (db *DB) writeBatch(ctx context.Context, tx pgx.Tx, staged []stagedPost, authors []*batchAuthor, now time.Time) error {
	if err := lockMatchesShared(ctx, tx); err != nil {
		return err
	}
	workspaces, err := placeWorkspaces(ctx, tx, staged)
	if err != nil {
		return err
	}
	ids := make([]int64, len(staged))
	times := make([]time.Time, len(staged))
	for i, s := range staged {
		ids[i], times[i] = s.p.ID, s.p.TakenAt
	}
	fresh, err := claimKeys(ctx, tx, ids, times)
	if err != nil {
		return err
	}
	write := make([]stagedPost, len(staged))
	copy(write, staged)
	if len(fresh) < len(staged) {
		isFresh := make(map[int64]bool, len(fresh))
		for _, id := range fresh {
			isFresh[id] = true
		}
		var existing []int64
		for _, id := range ids {
			if !isFresh[id] {
				existing = append(existing, id)
			}
		}
		expired, err := replacePosts(ctx, tx, existing, staged)
		if err != nil {
			return err
		}
		for i, s := range write {
			if expired[s.p.ID] && !s.p.Expired {
				write[i] = expiredCopy(s)
			}
		}
	}
	for i := range write {
		write[i].placeIDs = slices.DeleteFunc(slices.Clone(write[i].placeIDs), func(id int64) bool {
			_, ok := workspaces[id]
			return !ok
		})
	}
	if err := copyPosts(ctx, tx, write, workspaces); err != nil {
		return err
	}
	var labels []labelRow
	for _, s := range write {
		if !s.p.Expired {
			for _, l := range s.p.Labels {
				labels = append(labels, labelRow{post: s.p.ID, takenAt: s.p.TakenAt, label: l})
			}
		}
	}
	if err := copyLabels(ctx, tx, labels, now); err != nil {
		return err
	}
	// The authors' profiles are recomputed by the profiler, queued in the
	// same transaction as the posts: a commit never leaves them stale.
	queued := make([]int64, len(write))
	for i, s := range write {
		queued[i] = s.p.Author.ID
	}
	if err := queueAuthorIDs(ctx, tx, queued); err != nil {
		return err
	}
	return writeAuthors(ctx, tx, authors)
}

// claimKeys inserts the keys of new posts and returns their ids; a key
// that exists (or that a concurrent batch is inserting, which the insert
// waits for) is a re-delivery. New posts are the common case, so the keys
// are first COPYed in id order inside a savepoint; only when that hits an
// existing key is the batch claimed again with INSERT .. ON CONFLICT DO
// NOTHING, whose per-row speculative insertion measured slower than COPY.
func claimKeys(ctx context.Context, tx pgx.Tx, ids []int64, times []time.Time) ([]int64, error) {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	_, err = sp.CopyFrom(ctx, pgx.Identifier{"post_keys"}, []string{"id", "taken_at"},
		pgx.CopyFromSlice(len(order), func(i int) ([]any, error) { return []any{ids[order[i]], times[order[i]]}, nil }))
	if err == nil {
		if err := sp.Commit(ctx); err != nil {
			return nil, err
		}
		return ids, nil
	}
	if rerr := sp.Rollback(ctx); rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	if sqlState(err) != sqlUniqueViolation {
		return nil, fmt.Errorf("claim post keys: %w", err)
	}
	rows, err := tx.Query(ctx, `INSERT INTO post_keys (id, taken_at)
		SELECT id, t FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, t) ORDER BY id
		ON CONFLICT (id) DO NOTHING RETURNING id`, ids, times)
	if err != nil {
		return nil, fmt.Errorf("claim post keys: %w", err)
	}
	fresh, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("claim post keys: %w", err)
	}
	return fresh, nil
}

// placeWorkspaces returns the workspace of every stored place the batch
// names. It runs under the shared match lock, so a place deleted before
// it is not found and one deleted after it waits for this batch.
func placeWorkspaces(ctx context.Context, tx pgx.Tx, staged []stagedPost) (map[int64]int64, error) {
	var ids []int64
	for _, s := range staged {
		ids = append(ids, s.placeIDs...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, workspace_id FROM places WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("resolve places: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ws int64
		if err := rows.Scan(&id, &ws); err != nil {
			return nil, fmt.Errorf("resolve places: %w", err)
		}
		out[id] = ws
	}
	return out, rows.Err()
}

// replacePosts locks the keys of posts that were stored before, deletes
// their rows (post, matches, tags, text labels) so that the batch inserts
// them afresh, keeps their image labels (but of posts that expire),
// moves keys whose taken_at changed, and returns which of them had expired:
// an expired story keeps its content deleted whatever a source re-sends.
func replacePosts(ctx context.Context, tx pgx.Tx, ids []int64, staged []stagedPost) (map[int64]bool, error) {
	rows, err := tx.Query(ctx, `SELECT id, taken_at FROM post_keys WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock post keys: %w", err)
	}
	var oldIDs []int64
	var oldTimes []time.Time
	for rows.Next() {
		var (
			id int64
			t  time.Time
		)
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lock post keys: %w", err)
		}
		oldIDs, oldTimes = append(oldIDs, id), append(oldTimes, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock post keys: %w", err)
	}
	// A new statement, so a new snapshot: it sees what the writer this
	// batch waited for committed.
	rows, err = tx.Query(ctx, `SELECT p.id, p.taken_at, p.expired, p.place_ids,
			CASE WHEN p.expired THEN NULL ELSE p.doc -> 'hashtags' END
		FROM posts p JOIN unnest($1::bigint[], $2::timestamptz[]) AS u(id, t) ON p.id = u.id AND p.taken_at = u.t`,
		oldIDs, oldTimes)
	if err != nil {
		return nil, fmt.Errorf("read stored posts: %w", err)
	}
	expired := make(map[int64]bool)
	var (
		mPlace, mPost []int64
		mTime         []time.Time
		tPlace, tPost []int64
		tTag          [][]byte
		tTime         []time.Time
	)
	for rows.Next() {
		var (
			id       int64
			t        time.Time
			exp      bool
			places   []int64
			hashtags []byte
		)
		if err := rows.Scan(&id, &t, &exp, &places, &hashtags); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read stored posts: %w", err)
		}
		if exp {
			expired[id] = true
		}
		var tags []string
		if len(hashtags) > 0 {
			if err := json.Unmarshal(hashtags, &tags); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode hashtags of post %d: %w", id, err)
			}
		}
		for _, pl := range places {
			mPlace, mPost, mTime = append(mPlace, pl), append(mPost, id), append(mTime, t)
			for _, tag := range distinct(tags) {
				tPlace, tPost, tTag, tTime = append(tPlace, pl), append(tPost, id), append(tTag, []byte(tag)), append(tTime, t)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stored posts: %w", err)
	}
	newTime := make(map[int64]time.Time, len(staged))
	for _, s := range staged {
		newTime[s.p.ID] = s.p.TakenAt
	}
	var movedIDs []int64
	var movedTimes, movedFrom []time.Time
	for i, id := range oldIDs {
		if t := newTime[id]; !t.Equal(oldTimes[i]) {
			movedIDs, movedTimes, movedFrom = append(movedIDs, id), append(movedTimes, t), append(movedFrom, oldTimes[i])
		}
	}
	// The batch brings each post's new text labels; a post it expires
	// loses its image labels too.
	expiring := make(map[int64]bool)
	for _, s := range staged {
		if s.p.Expired {
			expiring[s.p.ID] = true
		}
	}
	drop := make([]bool, len(oldIDs))
	for i, id := range oldIDs {
		drop[i] = expiring[id] || expired[id]
	}
	batch := &pgx.Batch{}
	batch.Queue(`DELETE FROM posts p USING unnest($1::bigint[], $2::timestamptz[]) AS u(id, t)
		WHERE p.id = u.id AND p.taken_at = u.t`, oldIDs, oldTimes)
	if len(mPlace) > 0 {
		batch.Queue(`DELETE FROM post_places m USING unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS u(place_id, t, id)
			WHERE m.place_id = u.place_id AND m.taken_at = u.t AND m.post_id = u.id`, mPlace, mTime, mPost)
	}
	if len(tPlace) > 0 {
		batch.Queue(`DELETE FROM post_tags m USING unnest($1::bigint[], $2::bytea[], $3::timestamptz[], $4::bigint[]) AS u(place_id, tag, t, id)
			WHERE m.place_id = u.place_id AND m.tag = u.tag AND m.taken_at = u.t AND m.post_id = u.id`, tPlace, tTag, tTime, tPost)
	}
	batch.Queue(`DELETE FROM post_labels l USING unnest($1::bigint[], $2::timestamptz[], $3::bool[]) AS u(id, t, all_origins)
		WHERE l.post_id = u.id AND l.taken_at = u.t AND (l.origin = 'text' OR u.all_origins)`, oldIDs, oldTimes, drop)
	if len(movedIDs) > 0 {
		batch.Queue(`UPDATE post_keys k SET taken_at = u.t FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, t)
			WHERE k.id = u.id`, movedIDs, movedTimes)
		// What is left are image labels: they follow the post to its month.
		batch.Queue(`UPDATE post_labels l SET taken_at = u.t FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, old, t)
			WHERE l.post_id = u.id AND l.taken_at = u.old`, movedIDs, movedFrom, movedTimes)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("replace stored posts: %w", err)
	}
	return expired, nil
}

// expiredCopy returns s as an expired story: content deleted, no tags. The
// caller's post is not changed.
func expiredCopy(s stagedPost) stagedPost {
	p := *s.p
	p.Expired = true
	p.Caption, p.Hashtags, p.Mentions, p.MediaURLs = "", nil, nil, nil
	p.Sentiment, p.Labels = 0, nil
	return stagedPost{p: &p, placeIDs: s.placeIDs, doc: encodeDoc(&p)}
}

// matchRow and tagRow are rows of post_places and post_tags.
type matchRow struct {
	place, post, workspace, author int64
	takenAt                        time.Time
	kind                           string
	expired                        bool
}

type tagRow struct {
	place, post int64
	tag         []byte
	takenAt     time.Time
	kind        string
}

// copyPosts writes the batch's posts, matches and tags with COPY. Each
// table's rows go in the order of its primary key: consecutive rows then
// land on the same index pages, which are found once and stay in the CPU's
// caches, instead of one random page per row.
func copyPosts(ctx context.Context, tx pgx.Tx, staged []stagedPost, workspaces map[int64]int64) error {
	order := make([]*stagedPost, len(staged))
	nm, nt := 0, 0
	for i := range staged {
		s := &staged[i]
		order[i] = s
		nm += len(s.placeIDs)
		if !s.p.Expired {
			nt += len(s.placeIDs) * len(s.tags)
		}
	}
	slices.SortFunc(order, func(a, b *stagedPost) int {
		if c := a.p.TakenAt.Compare(b.p.TakenAt); c != 0 {
			return c
		}
		return cmp.Compare(a.p.ID, b.p.ID)
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"posts"}, postColumns, pgx.CopyFromSlice(len(order), func(i int) ([]any, error) {
		s := order[i]
		p := s.p
		return []any{p.ID, p.TakenAt, string(p.Kind), p.Author.ID, p.Lat, p.Lon, p.AccuracyM,
			p.ExpiresAt, p.Expired, s.placeIDs, s.doc}, nil
	}))
	if err != nil {
		return fmt.Errorf("copy posts: %w", err)
	}
	places := make([]matchRow, 0, nm)
	tags := make([]tagRow, 0, nt)
	for _, s := range order {
		p := s.p
		kind := string(p.Kind)
		for _, pl := range s.placeIDs {
			places = append(places, matchRow{place: pl, post: p.ID, workspace: workspaces[pl], author: p.Author.ID,
				takenAt: p.TakenAt, kind: kind, expired: p.Expired})
			if p.Expired {
				continue
			}
			for _, tag := range s.tags {
				tags = append(tags, tagRow{place: pl, post: p.ID, tag: tag, takenAt: p.TakenAt, kind: kind})
			}
		}
	}
	slices.SortFunc(places, func(a, b matchRow) int {
		if c := cmp.Compare(a.place, b.place); c != 0 {
			return c
		}
		if c := a.takenAt.Compare(b.takenAt); c != 0 {
			return c
		}
		return cmp.Compare(a.post, b.post)
	})
	slices.SortFunc(tags, func(a, b tagRow) int {
		if c := cmp.Compare(a.place, b.place); c != 0 {
			return c
		}
		if c := bytes.Compare(a.tag, b.tag); c != 0 {
			return c
		}
		if c := a.takenAt.Compare(b.takenAt); c != 0 {
			return c
		}
		return cmp.Compare(a.post, b.post)
	})
	row := make([]any, len(postPlacesColumns))
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"post_places"}, postPlacesColumns, pgx.CopyFromSlice(len(places), func(i int) ([]any, error) {
		m := &places[i]
		row[0], row[1], row[2], row[3], row[4], row[5], row[6] = m.place, m.takenAt, m.post, m.workspace, m.kind, m.author, m.expired
		return row, nil
	}))
	if err != nil {
		return fmt.Errorf("copy matches: %w", err)
	}
	trow := make([]any, len(postTagsColumns))
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"post_tags"}, postTagsColumns, pgx.CopyFromSlice(len(tags), func(i int) ([]any, error) {
		t := &tags[i]
		trow[0], trow[1], trow[2], trow[3], trow[4] = t.place, t.tag, t.takenAt, t.post, t.kind
		return trow, nil
	}))
	if err != nil {
		return fmt.Errorf("copy tags: %w", err)
	}
	return nil
}

// ExpireStories deletes the content (caption, hashtags, mentions, media,
// sentiment and labels of both origins) of posts whose ExpiresAt is at or
// before now and marks them Expired; their matches stay, so counts
// survive, but their post_tags and post_labels rows go. It works in
// chunks of expireChunk posts, one transaction each, so a backlog never
// holds locks for long, and returns how many posts expired.
func (db *DB) ExpireStories(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		n, more, err := db.expireChunk(ctx, now.UTC())
		total += n
		if err != nil {
			return total, fmt.Errorf("expire stories: %w", err)
		}
		if !more {
			return total, nil
		}
	}
}

// expireChunk is how many stories one transaction of ExpireStories expires.
const expireChunk = 2000

// expireChunk expires up to expireChunk stories and reports whether there
// may be more.
func (db *DB) expireChunk(ctx context.Context, now time.Time) (n int, more bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		n, more = 0, false
		if err := lockMatchesShared(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM posts WHERE expires_at <= $1 AND NOT expired ORDER BY id LIMIT $2`, now, expireChunk)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		more = len(ids) == expireChunk
		// Keys first, in id order, as batches lock them; then re-read the
		// posts with a fresh snapshot.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM post_keys WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT p.id, p.taken_at, p.author_id, p.place_ids, p.doc
			FROM post_keys k JOIN posts p ON p.id = k.id AND p.taken_at = k.taken_at
			WHERE k.id = ANY($1) AND p.expires_at <= $2 AND NOT p.expired`, ids, now)
		if err != nil {
			return err
		}
		var (
			pIDs          []int64
			pTimes        []time.Time
			docs          []string
			mPlace, mPost []int64
			mTime         []time.Time
			tPlace, tPost []int64
			tTag          [][]byte
			tTime         []time.Time
			authors       []int64
		)
		for rows.Next() {
			var (
				p      geopulse.Post
				places []int64
				doc    string
			)
			if err := rows.Scan(&p.ID, &p.TakenAt, &p.Author.ID, &places, &doc); err != nil {
				rows.Close()
				return err
			}
			if err := decodeDoc(&p, doc); err != nil {
				rows.Close()
				return err
			}
			tags := distinct(p.Hashtags)
			p.Caption, p.Hashtags, p.Mentions, p.MediaURLs, p.Sentiment = "", nil, nil, nil, 0
			pIDs, pTimes, docs = append(pIDs, p.ID), append(pTimes, p.TakenAt), append(docs, encodeDoc(&p))
			authors = append(authors, p.Author.ID)
			for _, pl := range places {
				mPlace, mPost, mTime = append(mPlace, pl), append(mPost, p.ID), append(mTime, p.TakenAt)
				for _, tag := range tags {
					tPlace, tPost, tTag, tTime = append(tPlace, pl), append(tPost, p.ID), append(tTag, []byte(tag)), append(tTime, p.TakenAt)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(pIDs) == 0 {
			return nil
		}
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE posts p SET expired = true, doc = u.doc::json
			FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS u(id, t, doc)
			WHERE p.id = u.id AND p.taken_at = u.t`, pIDs, pTimes, docs)
		batch.Queue(`UPDATE post_places m SET expired = true
			FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS u(place_id, t, id)
			WHERE m.place_id = u.place_id AND m.taken_at = u.t AND m.post_id = u.id`, mPlace, mTime, mPost)
		batch.Queue(`DELETE FROM post_tags m
			USING unnest($1::bigint[], $2::bytea[], $3::timestamptz[], $4::bigint[]) AS u(place_id, tag, t, id)
			WHERE m.place_id = u.place_id AND m.tag = u.tag AND m.taken_at = u.t AND m.post_id = u.id`, tPlace, tTag, tTime, tPost)
		batch.Queue(`DELETE FROM post_labels l USING unnest($1::bigint[], $2::timestamptz[]) AS u(id, t)
			WHERE l.post_id = u.id AND l.taken_at = u.t`, pIDs, pTimes)
		queueAuthors(batch, authors) // an expired story leaves its author's profile
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		n = len(pIDs)
		return nil
	})
	return n, more, err
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

// tagBytes converts hashtags for bytea columns.
func tagBytes(tags []string) [][]byte {
	if len(tags) == 0 {
		return nil
	}
	out := make([][]byte, len(tags))
	for i, t := range tags {
		out[i] = []byte(t)
	}
	return out
}
