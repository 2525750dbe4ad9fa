package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

// authorColumns are the columns of authors read into an Author.
const authorColumns = `id, followers, following, posts_count, private, updated_at, card`

// batchAuthor is an author of a batch: its last card and every observation
// of its counts, in batch order, consecutive repeats dropped.
type batchAuthor struct {
	a    geopulse.Author
	obs  []authorObs
	hash int64
	card string
}

// authorObs is one observation of an author's counts.
type authorObs struct {
	at                          time.Time
	followers, following, posts int64
}

// collectAuthors returns the batch's authors ordered by id; the last card
// of each wins.
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
		b.card = encodeCard(&b.a)
	}
	slices.SortFunc(out, func(x, y *batchAuthor) int { return cmp.Compare(x.a.ID, y.a.ID) })
	return out
}

// storedCounts is what authors holds about an author's counts and card.
type storedCounts struct {
	followers, following, posts int64
	hash                        int64
}

// writeAuthors records count changes and stores the batch's author cards.
// Most authors of a batch are unchanged, so one unlocked read of the stored
// card hashes sorts them out first: new authors are inserted (ON CONFLICT
// catches a concurrent insert, which is then handled as a change), changed
// ones are locked in id order, compared again and updated, and unchanged
// ones cost nothing more. An observation is recorded when it differs from
// the stored counts (the previous observation) or follows another of the
// same batch.
func writeAuthors(ctx context.Context, tx pgx.Tx, authors []*batchAuthor) error {
	ids := make([]int64, len(authors))
	for i, b := range authors {
		ids[i] = b.a.ID
	}
	stored, err := readAuthorCounts(ctx, tx, ids, "")
	if err != nil {
		return err
	}
	var missing []*batchAuthor
	for _, b := range authors {
		if _, ok := stored[b.a.ID]; !ok {
			missing = append(missing, b)
		}
	}
	inserted, err := insertAuthors(ctx, tx, missing)
	if err != nil {
		return err
	}
	var lock []int64
	for _, b := range authors {
		s, ok := stored[b.a.ID]
		if (ok && (s.hash != b.hash || len(b.obs) > 1)) || (!ok && !inserted[b.a.ID]) {
			lock = append(lock, b.a.ID)
		}
	}
	locked, err := readAuthorCounts(ctx, tx, lock, "ORDER BY id FOR NO KEY UPDATE")
	if err != nil {
		return err
	}
	var (
		stats   [][]any
		changed []*batchAuthor
	)
	for _, b := range authors {
		if inserted[b.a.ID] {
			for _, o := range b.obs {
				stats = append(stats, []any{b.a.ID, o.at, o.followers, o.following, o.posts})
			}
			continue
		}
		s, ok := locked[b.a.ID]
		if !ok {
			continue // unchanged
		}
		for i, o := range b.obs {
			if i > 0 || o.followers != s.followers || o.following != s.following || o.posts != s.posts {
				stats = append(stats, []any{b.a.ID, o.at, o.followers, o.following, o.posts})
			}
		}
		if s.hash != b.hash {
			changed = append(changed, b)
		}
	}
	if err := updateAuthors(ctx, tx, changed); err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"author_stats"},
		[]string{"author_id", "observed_at", "followers", "following", "posts_count"}, pgx.CopyFromRows(stats))
	if err != nil {
		return fmt.Errorf("copy author stats: %w", err)
	}
	return nil
}

// readAuthorCounts reads the stored counts and card hash of ids; suffix may
// order and lock.
func readAuthorCounts(ctx context.Context, tx pgx.Tx, ids []int64, suffix string) (map[int64]storedCounts, error) {
	out := make(map[int64]storedCounts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, followers, following, posts_count, card_hash FROM authors WHERE id = ANY($1) `+suffix, ids)
	if err != nil {
		return nil, fmt.Errorf("read authors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			s  storedCounts
		)
		if err := rows.Scan(&id, &s.followers, &s.following, &s.posts, &s.hash); err != nil {
			return nil, fmt.Errorf("read authors: %w", err)
		}
		out[id] = s
	}
	return out, rows.Err()
}

// authorArrays returns the columns of authors (in 0001_init.sql order) as
// arrays, one element per author.
func authorArrays(authors []*batchAuthor) []any {
	n := len(authors)
	var (
		ids, followers, following, posts, hashes = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		private                                  = make([]bool, n)
		updated                                  = make([]time.Time, n)
		cards                                    = make([]string, n)
	)
	for i, b := range authors {
		a := &b.a
		ids[i], followers[i], following[i], posts[i] = a.ID, a.Followers, a.Following, a.PostsCount
		private[i], updated[i], hashes[i], cards[i] = a.Private, a.UpdatedAt, b.hash, b.card
	}
	return []any{ids, followers, following, posts, private, updated, hashes, cards}
}

// insertAuthors inserts authors that were not stored and returns those it
// inserted; the others were inserted concurrently by another batch.
func insertAuthors(ctx context.Context, tx pgx.Tx, authors []*batchAuthor) (map[int64]bool, error) {
	out := make(map[int64]bool, len(authors))
	if len(authors) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `INSERT INTO authors (id, followers, following, posts_count, private, updated_at, card_hash, card)
		SELECT id, followers, following, posts_count, private, updated_at, card_hash, card::json
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::timestamptz[], $7::bigint[], $8::text[])
			AS u(id, followers, following, posts_count, private, updated_at, card_hash, card)
		ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id`, authorArrays(authors)...)
	if err != nil {
		return nil, fmt.Errorf("insert authors: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("insert authors: %w", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// updateAuthors replaces the cards of changed authors (already locked).
func updateAuthors(ctx context.Context, tx pgx.Tx, authors []*batchAuthor) error {
	if len(authors) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE authors a SET followers = u.followers, following = u.following,
			posts_count = u.posts_count, private = u.private, updated_at = u.updated_at,
			card_hash = u.card_hash, card = u.card::json
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::timestamptz[], $7::bigint[], $8::text[])
			AS u(id, followers, following, posts_count, private, updated_at, card_hash, card)
		WHERE a.id = u.id`, authorArrays(authors)...)
	if err != nil {
		return fmt.Errorf("update authors: %w", err)
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
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM post_places WHERE author_id = $1 AND workspace_id = $2)`, authorID, workspaceID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("find author stats: %w", err)
	} else if !exists {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Author not found.")
	}
	rows, err := db.pool.Query(ctx, `SELECT observed_at, followers, following, posts_count
		FROM author_stats WHERE author_id = $1 ORDER BY observed_at, seq`, authorID)
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
		s.ObservedAt = s.ObservedAt.UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find author stats: %w", err)
	}
	return out, nil
}
