package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/jackc/pgx/v5"
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		res = geopulse.ComplianceResult{}
		if err := lockMatchesShared(ctx, tx); err != nil {
			return err
		}
		var err error
		switch ev.Kind {
		case geopulse.ComplianceDeletePost:
			// A delete may arrive before its post: the tombstone keeps it out.
			if err = tombstoneIDs(ctx, tx, []int64{postID}, now); err == nil {
				res.PostsRemoved, err = removePosts(ctx, tx, now, false, `SELECT id FROM post_keys WHERE id = $1`, postID)
			}
		case geopulse.ComplianceDeleteAuthor, geopulse.ComplianceProtectAuthor:
			if res.PostsRemoved, err = removePosts(ctx, tx, now, false, `SELECT id FROM posts WHERE author_id = $1`, authorID); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM authors WHERE id = $1`, authorID)
			if err != nil {
				return err
			}
			res.AuthorRemoved = tag.RowsAffected() > 0
			if _, err := tx.Exec(ctx, `DELETE FROM author_stats WHERE author_id = $1`, authorID); err != nil {
				return err
			}
			if err := eraseProfile(ctx, tx, authorID); err != nil {
				return err
			}
			reason := geopulse.SuppressDeleted
			if ev.Kind == geopulse.ComplianceProtectAuthor {
				reason = geopulse.SuppressProtected
			}
			err = suppress(ctx, tx, authorID, reason, now)
		case geopulse.ComplianceUnprotectAuthor:
			_, err = tx.Exec(ctx, `DELETE FROM suppressions WHERE key = $1 AND reason = $2`, authorID, geopulse.SuppressProtected)
		case geopulse.ComplianceScrubGeo:
			upTo := ev.UpTo
			if upTo.IsZero() {
				upTo = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			res.PostsRemoved, err = removePosts(ctx, tx, now, true,
				`SELECT id FROM posts WHERE author_id = $1 AND taken_at <= $2`, authorID, upTo.UTC())
		}
		if err != nil {
			return err
		}
		at := ev.At
		if at.IsZero() {
			at = now
		}
		_, err = tx.Exec(ctx, `INSERT INTO compliance_log (kind, source, post_id, author_id, event_at, applied_at, posts_removed, author_removed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, string(ev.Kind), ev.Source, postID, authorID, at.UTC(), now, res.PostsRemoved, res.AuthorRemoved)
		return err
	})
	if err != nil {
		return geopulse.ComplianceResult{}, fmt.Errorf("apply %s event: %w", ev.Kind, err)
	}
	return res, nil
}

// removePosts deletes the posts whose ids query selects, with their keys,
// matches, tags and labels, optionally tombstoning the ids, and returns
// how many posts existed. Keys are locked in id order, as ingest batches
// lock them. The posts' authors are queued for RefreshProfiles, so that
// their profiles are recomputed without them.
func removePosts(ctx context.Context, tx pgx.Tx, now time.Time, tombstone bool, query string, args ...any) (int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	if tombstone {
		if err := tombstoneIDs(ctx, tx, ids, now); err != nil {
			return 0, err
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM post_keys WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids); err != nil {
		return 0, err
	}
	rows, err = tx.Query(ctx, `DELETE FROM posts p USING post_keys k
		WHERE k.id = ANY($1) AND p.id = k.id AND p.taken_at = k.taken_at
		RETURNING p.id, p.taken_at, p.author_id, p.place_ids, p.doc`, ids)
	if err != nil {
		return 0, err
	}
	var (
		n             int64
		lPost         []int64
		lTime         []time.Time
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
			return 0, err
		}
		if err := decodeDoc(&p, doc); err != nil {
			rows.Close()
			return 0, err
		}
		n++
		authors = append(authors, p.Author.ID)
		lPost, lTime = append(lPost, p.ID), append(lTime, p.TakenAt)
		tags := distinct(p.Hashtags)
		for _, pl := range places {
			mPlace, mPost, mTime = append(mPlace, pl), append(mPost, p.ID), append(mTime, p.TakenAt)
			for _, tag := range tags {
				tPlace, tPost, tTag, tTime = append(tPlace, pl), append(tPost, p.ID), append(tTag, []byte(tag)), append(tTime, p.TakenAt)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	batch := &pgx.Batch{}
	batch.Queue(`DELETE FROM post_places m USING unnest($1::bigint[], $2::timestamptz[], $3::bigint[]) AS u(place_id, t, id)
		WHERE m.place_id = u.place_id AND m.taken_at = u.t AND m.post_id = u.id`, mPlace, mTime, mPost)
	batch.Queue(`DELETE FROM post_tags m USING unnest($1::bigint[], $2::bytea[], $3::timestamptz[], $4::bigint[]) AS u(place_id, tag, t, id)
		WHERE m.place_id = u.place_id AND m.tag = u.tag AND m.taken_at = u.t AND m.post_id = u.id`, tPlace, tTag, tTime, tPost)
	batch.Queue(`DELETE FROM post_labels l USING unnest($1::bigint[], $2::timestamptz[]) AS u(id, t)
		WHERE l.post_id = u.id AND l.taken_at = u.t`, lPost, lTime)
	batch.Queue(`DELETE FROM post_keys WHERE id = ANY($1)`, ids)
	queueAuthors(batch, authors)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, err
	}
	return n, nil
}

// eraseProfile deletes an erased author's profile and queue entries. It
// waits for a running refresh (profileLockKey): one that read the
// author's posts before they were deleted would otherwise write the
// profile back after this.
func eraseProfile(ctx context.Context, tx pgx.Tx, authorID int64) error {
	if err := lockProfiles(ctx, tx); err != nil {
		return err
	}
	for _, table := range []string{"author_terms", "profile_queue"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE author_id = $1`, authorID); err != nil {
			return err
		}
	}
	return nil
}

func tombstoneIDs(ctx context.Context, tx pgx.Tx, ids []int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO tombstones SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING`, ids, now)
	return err
}

func suppress(ctx context.Context, tx pgx.Tx, key int64, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO suppressions VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, key, reason, now)
	return err
}

// Suppress adds key to the suppression list for reason.
func (db *DB) Suppress(ctx context.Context, key int64, reason string) error {
	if reason == "" {
		return geopulse.Errorf(geopulse.EINVALID, "A suppression needs a reason.")
	}
	now := db.nowUTC()
	if err := db.inTx(ctx, func(tx pgx.Tx) error { return suppress(ctx, tx, key, reason, now) }); err != nil {
		return fmt.Errorf("suppress: %w", err)
	}
	return nil
}

// Unsuppress lifts the suppression of key for reason (other reasons stay).
func (db *DB) Unsuppress(ctx context.Context, key int64, reason string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM suppressions WHERE key = $1 AND reason = $2`, key, reason); err != nil {
		return fmt.Errorf("unsuppress: %w", err)
	}
	return nil
}

// LoadBlocklist reads the suppression list and the tombstones.
func (db *DB) LoadBlocklist(ctx context.Context) (*geopulse.Blocklist, error) {
	bl := &geopulse.Blocklist{Suppressed: map[int64]string{}, Tombstones: map[int64]struct{}{}}
	rows, err := db.pool.Query(ctx, `SELECT key, reason FROM suppressions ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("load suppressions: %w", err)
	}
	for rows.Next() {
		var key int64
		var reason string
		if err := rows.Scan(&key, &reason); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load suppressions: %w", err)
		}
		bl.Suppressed[key] = reason
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load suppressions: %w", err)
	}
	rows, err = db.pool.Query(ctx, `SELECT post_id FROM tombstones`)
	if err != nil {
		return nil, fmt.Errorf("load tombstones: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("load tombstones: %w", err)
	}
	for _, id := range ids {
		bl.Tombstones[id] = struct{}{}
	}
	return bl, nil
}

// ComplianceLog lists applied events with seq > after, oldest first.
func (db *DB) ComplianceLog(ctx context.Context, after int64, limit int) ([]geopulse.ComplianceRecord, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, kind, source, post_id, author_id, event_at, applied_at, posts_removed, author_removed
		FROM compliance_log WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("compliance log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geopulse.ComplianceRecord, error) {
		var c geopulse.ComplianceRecord
		var kind string
		err := r.Scan(&c.Seq, &kind, &c.Source, &c.PostID, &c.AuthorID, &c.At, &c.AppliedAt, &c.Result.PostsRemoved, &c.Result.AuthorRemoved)
		c.Kind, c.At, c.AppliedAt = geopulse.ComplianceKind(kind), c.At.UTC(), c.AppliedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("compliance log: %w", err)
	}
	return out, nil
}
