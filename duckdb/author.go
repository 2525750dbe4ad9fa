package duckdb

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
)

// lookupAuthorsSQL reads the stored state of the authors listed in
// stage_ids: joined from the small staging table, authors is probed by
// primary key.
const lookupAuthorsSQL = `SELECT a.id, a.card_hash, a.followers, a.following, a.posts_count
FROM stage_ids s JOIN authors a ON a.id = s.id`

// deleteAuthorsSQL drops the stored cards listed in stage_ids.
const deleteAuthorsSQL = `DELETE FROM authors WHERE id IN (SELECT id FROM stage_ids)`

// batchAuthor is an author of a batch: its last card and every observation
// of its counts, in batch order, consecutive repeats dropped.
type batchAuthor struct {
	a    geopulse.Author
	obs  []authorObs
	hash int64
}

// authorObs is one observation of an author's counts.
type authorObs struct {
	at                          time.Time
	followers, following, posts int64
}

// collectAuthors returns the batch's authors in first-seen order; the last
// card of each wins.
func collectAuthors(staged []stagedPost, now time.Time) []*batchAuthor {
	byID := make(map[int64]*batchAuthor)
	var out []*batchAuthor
	for _, s := range staged {
		a := s.p.Author
		b := byID[a.ID]
		if b == nil {
			b = &batchAuthor{}
			byID[a.ID] = b
			out = append(out, b)
		}
		b.a = a
		b.a.UpdatedAt = now
		o := authorObs{at: s.p.ObservedAt, followers: a.Followers, following: a.Following, posts: a.PostsCount}
		if n := len(b.obs); n > 0 && b.obs[n-1].followers == o.followers && b.obs[n-1].following == o.following && b.obs[n-1].posts == o.posts {
			continue
		}
		b.obs = append(b.obs, o)
	}
	for _, b := range out {
		b.hash = cardHash(&b.a)
	}
	return out
}

// writeAuthors records count changes and stores the batch's author cards.
// Only new and changed cards are written, and changed ones are deleted and
// appended again: most authors of a batch are unchanged, and an upsert of
// every card measured ~10x slower. What is stored is known from the
// writer's cache (authorCache) or, for authors it has not seen, from one
// primary-key lookup; the decisions are then made in Go, and the stats
// rows are appended directly. The returned writes are for the cache, once
// the transaction has committed.
func (db *DB) writeAuthors(ctx context.Context, c *sql.Conn, authors []*batchAuthor) (*authorWrites, error) {
	ws := &db.ws
	ac := &ws.authors
	digest, err := ws.stmt(ctx, c, authorDigestSQL)
	if err != nil {
		return nil, err
	}
	if err := ac.check(ctx, digest); err != nil {
		return nil, err
	}
	stored := make(map[int64]authorState, len(authors))
	var miss []int64
	for _, b := range authors {
		if s, ok := ac.lookup(b.a.ID); ok {
			stored[b.a.ID] = s
		} else {
			miss = append(miss, b.a.ID)
		}
	}
	if len(miss) > 0 {
		if err := db.stageIDs(ctx, c, miss); err != nil {
			return nil, err
		}
		if err := db.lookupAuthors(ctx, c, stored); err != nil {
			return nil, err
		}
	}

	w := &authorWrites{states: make(map[int64]authorState, len(authors))}
	var replaced []int64
	changed := make([]*batchAuthor, 0, len(authors))
	err = withAppender(c, "", "author_stats", func(ap *duckdb.Appender) error {
		for _, b := range authors {
			a := &b.a
			prev, present := stored[a.ID]
			// An observation is a row when it differs from the stored
			// counts or follows another of the batch (consecutive repeats
			// were dropped by collectAuthors).
			for i, o := range b.obs {
				if i > 0 || !present || o.followers != prev.followers || o.following != prev.following || o.posts != prev.posts {
					if err := ap.AppendRow(a.ID, o.at, o.followers, o.following, o.posts); err != nil {
						return err
					}
				}
			}
			w.states[a.ID] = authorState{hash: b.hash, followers: a.Followers, following: a.Following, posts: a.PostsCount}
			if present && prev.hash == b.hash {
				continue
			}
			changed = append(changed, b)
			w.xorDiff ^= b.hash
			if present {
				replaced = append(replaced, a.ID)
				w.xorDiff ^= prev.hash
			} else {
				w.added++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(replaced) > 0 {
		if err := db.stageIDs(ctx, c, replaced); err != nil {
			return nil, err
		}
		if err := ws.exec(ctx, c, deleteAuthorsSQL); err != nil {
			return nil, fmt.Errorf("replace authors: %w", err)
		}
	}
	if len(changed) == 0 {
		return w, nil
	}
	err = withAppender(c, "", "authors", func(ap *duckdb.Appender) error {
		for _, b := range changed {
			a := &b.a
			// Column order of authors in 0001_init.sql.
			if err := ap.AppendRow(a.ID, a.Followers, a.Following, a.PostsCount, a.Private, a.UpdatedAt,
				b.hash, encodeCard(a)); err != nil {
				return err
			}
		}
		return nil
	})
	return w, err
}

// lookupAuthors adds the stored state of the authors in stage_ids to out.
func (db *DB) lookupAuthors(ctx context.Context, c *sql.Conn, out map[int64]authorState) error {
	st, err := db.ws.stmt(ctx, c, lookupAuthorsSQL)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return fmt.Errorf("look up authors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			s  authorState
		)
		if err := rows.Scan(&id, &s.hash, &s.followers, &s.following, &s.posts); err != nil {
			return fmt.Errorf("look up authors: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("look up authors: %w", err)
	}
	return nil
}

// cardHash digests every field of the card except ID and UpdatedAt.
func cardHash(a *geopulse.Author) int64 {
	h := fnv.New64a()
	for _, s := range []string{a.Source, a.SourceID, a.Handle, a.DisplayName, a.AvatarURL, a.Bio} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var b [8*3 + 3]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(a.Followers))
	binary.LittleEndian.PutUint64(b[8:], uint64(a.Following))
	binary.LittleEndian.PutUint64(b[16:], uint64(a.PostsCount))
	for i, f := range []bool{a.Verified, a.Business, a.Private} {
		if f {
			b[24+i] = 1
		}
	}
	h.Write(b[:])
	return int64(h.Sum64())
}

// FindAuthorStats returns an author's count history, oldest first, or
// ENOTFOUND for an unknown author.
func (db *DB) FindAuthorStats(ctx context.Context, workspaceID, authorID int64) ([]geopulse.AuthorStat, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM (
		SELECT 1 FROM post_places pp JOIN places pl ON pl.id = pp.place_id
		WHERE pp.author_id = ? AND pl.workspace_id = ? LIMIT 1)`, authorID, workspaceID).Scan(&n); err != nil {
		return nil, fmt.Errorf("find author stats: %w", err)
	} else if n == 0 {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Author not found.")
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT observed_at, followers, following, posts_count
		FROM author_stats WHERE author_id = ? ORDER BY observed_at, rowid`, authorID)
	if err != nil {
		return nil, fmt.Errorf("find author stats: %w", err)
	}
	defer rows.Close()
	var out []geopulse.AuthorStat
	for rows.Next() {
		var s geopulse.AuthorStat
		if err := rows.Scan(&s.ObservedAt, &s.Followers, &s.Following, &s.PostsCount); err != nil {
			return nil, fmt.Errorf("find author stats: %w", err)
		}
		s.ObservedAt = utc(s.ObservedAt)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find author stats: %w", err)
	}
	return out, nil
}
