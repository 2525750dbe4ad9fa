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

// compareAuthorsSQL looks up the stored card hash and counts of the batch's
// authors in one join that reads a few BIGINT columns of authors.
const compareAuthorsSQL = `INSERT INTO stage_cmp
SELECT s.id, a.rowid, a.id IS NOT NULL, a.card_hash IS DISTINCT FROM s.card_hash,
	a.followers, a.following, a.posts_count
FROM stage_authors s LEFT JOIN authors a ON a.id = s.id`

// insertStatsSQL records an observation when it differs from the author's
// stored counts (the previous observation) or follows another observation of
// the same batch (ord > 0, already de-duplicated in Go).
const insertStatsSQL = `INSERT INTO author_stats
SELECT st.author_id, st.observed_at, st.followers, st.following, st.posts_count
FROM stage_stats st JOIN stage_cmp c ON c.id = st.author_id
WHERE st.ord > 0 OR NOT c.present OR c.followers <> st.followers
	OR c.following <> st.following OR c.posts_count <> st.posts_count
ORDER BY st.author_id, st.ord`

// deleteChangedAuthorsSQL drops the stored cards that the batch replaces and
// lists every author whose card must be (re-)appended.
const deleteChangedAuthorsSQL = `DELETE FROM authors WHERE rowid IN (SELECT rid FROM stage_cmp WHERE present AND changed);
SELECT id FROM stage_cmp WHERE changed`

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
// Only new and changed cards are written: the batch stages (id, card hash),
// one join against authors finds what differs, and changed cards are
// deleted and appended again. Most authors of a batch are unchanged, and an
// unconditional upsert of every card measured ~10x slower.
func writeAuthors(ctx context.Context, c *sql.Conn, authors []*batchAuthor) error {
	if _, err := c.ExecContext(ctx, `DELETE FROM stage_authors; DELETE FROM stage_stats; DELETE FROM stage_cmp;`); err != nil {
		return err
	}
	err := withAppender(c, "temp", "stage_authors", func(ap *duckdb.Appender) error {
		for _, b := range authors {
			if err := ap.AppendRow(b.a.ID, b.hash); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = withAppender(c, "temp", "stage_stats", func(ap *duckdb.Appender) error {
		for _, b := range authors {
			for i, o := range b.obs {
				if err := ap.AppendRow(b.a.ID, int32(i), o.at, o.followers, o.following, o.posts); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := c.ExecContext(ctx, compareAuthorsSQL+`;`+insertStatsSQL); err != nil {
		return fmt.Errorf("author stats: %w", err)
	}
	changed, err := queryIDs(ctx, c, deleteChangedAuthorsSQL)
	if err != nil {
		return fmt.Errorf("authors: %w", err)
	} else if len(changed) == 0 {
		return nil
	}
	set := make(map[int64]bool, len(changed))
	for _, id := range changed {
		set[id] = true
	}
	return withAppender(c, "", "authors", func(ap *duckdb.Appender) error {
		for _, b := range authors {
			a := &b.a
			if !set[a.ID] {
				continue
			}
			// Column order of authors in 0001_init.sql.
			if err := ap.AppendRow(a.ID, a.Followers, a.Following, a.PostsCount, a.Private, a.UpdatedAt,
				b.hash, encodeCard(a)); err != nil {
				return err
			}
		}
		return nil
	})
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

// queryIDs runs query, whose last statement returns one BIGINT column.
func queryIDs(ctx context.Context, c *sql.Conn, query string) ([]int64, error) {
	rows, err := c.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
