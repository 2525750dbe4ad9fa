package duckdb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// Feed limits.
const (
	defaultFeedLimit = 50
	maxFeedLimit     = 500
	// maxCandidates bounds one round of candidates. It must not exceed the
	// dynamic_or_filter_threshold set in Open: up to that many join keys
	// DuckDB pushes an IN filter into the posts and authors scans, which the
	// primary-key indexes answer; above it, the whole table is scanned.
	maxCandidates = 1024
)

// postPageSQL fetches the posts listed by a CTE c(post_id, taken_at) with
// their authors, in feed order. Joining from the small CTE makes DuckDB
// look both tables up by primary key (an IN list of ids would be planned as
// a scan when joined).
const postPageSQL = `SELECT p.id, p.expired, p.place_ids, p.doc, p.image_labels, a.id, a.card
FROM c JOIN posts p ON p.id = c.post_id JOIN authors a ON a.id = p.author_id
ORDER BY c.taken_at DESC, c.post_id DESC`

// FindPosts returns a page of the workspace's posts, newest first (taken_at,
// then id, descending), and the cursor of the next page ("" at the end).
//
// One query does the work: candidates (post id, taken_at) come from a match
// table, already narrowed by place, time, kind, expiry, hashtag and labels
// (object, brand, interest: exact lower-cased names, of either origin) and
// cut by ORDER BY .. LIMIT, which DuckDB answers from a few row groups thanks to
// their zonemaps; the candidates' posts and authors are then joined by
// primary key; posts carry their sentiment and their labels of both
// origins. The filters that need the post or its author (text, follower
// floor, area) run in Go; when they reject candidates, the next round
// starts after the last one, until the page is full or nothing is left.
// EINVALID for a bad filter or cursor.
func (db *DB) FindPosts(ctx context.Context, f geopulse.PostFilter) ([]*geopulse.Post, string, error) {
	if f.WorkspaceID <= 0 {
		return nil, "", geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = defaultFeedLimit
	case limit < 0 || limit > maxFeedLimit:
		return nil, "", geopulse.Errorf(geopulse.EINVALID, "Limit must be between 1 and %d.", maxFeedLimit)
	}
	if err := validKinds(f.Kinds); err != nil {
		return nil, "", err
	}
	if err := validRange(f.From, f.To); err != nil {
		return nil, "", err
	}
	if f.MinFollowers < 0 {
		return nil, "", geopulse.Errorf(geopulse.EINVALID, "Minimum followers must not be negative.")
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = c
	}
	placeIDs, all, err := db.selectPlaces(ctx, f.WorkspaceID, f.PlaceIDs)
	if err != nil {
		return nil, "", err
	}
	if len(placeIDs) == 0 {
		return nil, "", nil
	}

	hashtag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(f.Hashtag), "#"))
	text := strings.ToLower(f.Text)
	want := limit + 1
	n := want
	if text != "" || f.MinFollowers > 0 || f.Area != nil {
		n = min(max(4*want, 256), maxCandidates)
	}
	var out []*geopulse.Post
	seen := make(map[int64]bool)
	for len(out) < want {
		query, args := candidatesSQL(placeIDs, f, hashtag, after, n)
		page, err := db.queryPosts(ctx, query, args...)
		if err != nil {
			return nil, "", err
		}
		for _, p := range page {
			if seen[p.ID] {
				continue // a post in two selected places comes twice, adjacently
			}
			seen[p.ID] = true
			if !keepPost(p, f, text) {
				continue
			}
			p.PlaceIDs = restrict(p.PlaceIDs, all)
			if out = append(out, p); len(out) == want {
				break
			}
		}
		if len(page) < n {
			break
		}
		last := page[len(page)-1]
		after = &cursor{takenAt: last.TakenAt, id: last.ID}
		n = min(n*2, maxCandidates)
	}
	next := ""
	if len(out) == want {
		out = out[:limit]
		next = cursor{takenAt: out[limit-1].TakenAt, id: out[limit-1].ID}.encode()
	}
	return out, next, nil
}

// candidatesSQL returns the CTE c of up to n (post_id, taken_at) rows of the
// selected places after the cursor, in feed order, followed by postPageSQL,
// and its arguments. Times, ids and kinds are inlined (they are typed
// values, never user text) because DuckDB prunes row groups only against
// constants; the hashtag and label names are parameters.
//
// A label filter is a semi-join with the selection's place_labels rows
// of that label, narrowed by the same places and time bounds, so that its
// scan prunes row groups as the candidates' does.
func candidatesSQL(placeIDs []int64, f geopulse.PostFilter, hashtag string, after *cursor, n int) (string, []any) {
	table := "post_places"
	inPlaces := `place_id IN (` + sqlInts(placeIDs) + `)`
	where := []string{inPlaces}
	var args []any
	if hashtag != "" {
		// post_tags only holds live posts, so no expiry test is needed.
		table = "post_tags"
		where = append(where, `tag = ?`)
		args = append(args, hashtag)
	} else {
		where = append(where, `NOT expired`)
	}
	var times []string
	if !f.From.IsZero() {
		times = append(times, `taken_at >= `+sqlTime(f.From))
	}
	if !f.To.IsZero() {
		times = append(times, `taken_at < `+sqlTime(f.To))
	}
	if after != nil {
		// Implied by the cursor's condition below but prunable by zonemaps.
		times = append(times, `taken_at <= `+sqlTime(after.takenAt))
	}
	where = append(where, times...)
	if len(f.Kinds) > 0 {
		where = append(where, `kind IN (`+sqlKinds(f.Kinds)+`)`)
	}
	if after != nil {
		t := sqlTime(after.takenAt)
		where = append(where, fmt.Sprintf(`(taken_at < %s OR post_id < %d)`, t, after.id))
	}
	for _, l := range f.RequiredLabels() {
		cond := append([]string{inPlaces, `label_kind = '` + string(l.Kind) + `'`, `label = ?`}, times...)
		where = append(where, `post_id IN (SELECT post_id FROM place_labels WHERE `+strings.Join(cond, ` AND `)+`)`)
		args = append(args, l.Name)
	}
	// A literal LIMIT makes this a top-n whose running threshold skips row
	// groups by their taken_at zonemaps.
	return fmt.Sprintf(`WITH c AS (SELECT post_id, taken_at FROM %s WHERE %s ORDER BY taken_at DESC, post_id DESC LIMIT %d) `,
		table, strings.Join(where, ` AND `), n) + postPageSQL, args
}

// queryPosts runs a postPageSQL query and returns its posts in order.
func (db *DB) queryPosts(ctx context.Context, query string, args ...any) ([]*geopulse.Post, error) {
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find posts: %w", err)
	}
	defer rows.Close()
	var out []*geopulse.Post
	for rows.Next() {
		var (
			p                   geopulse.Post
			placeIDs, doc, card string
			images              sql.NullString
		)
		a := &p.Author
		if err := rows.Scan(&p.ID, &p.Expired, &placeIDs, &doc, &images, &a.ID, &card); err != nil {
			return nil, fmt.Errorf("scan post: %w", err)
		}
		if err := decodeDoc(&p, doc); err != nil {
			return nil, err
		}
		if images.Valid && images.String != "[]" {
			var ls []docLabel
			if err := json.Unmarshal([]byte(images.String), &ls); err != nil {
				return nil, fmt.Errorf("decode image labels of post %d: %w", p.ID, err)
			}
			p.Labels = fromDocLabels(p.Labels, ls, geopulse.OriginImage)
		}
		if err := decodeCard(a, card); err != nil {
			return nil, err
		}
		p.PlaceIDs = parseIDs(placeIDs)
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find posts: %w", err)
	}
	return out, nil
}

// keepPost applies the filters that need the post row or its author.
func keepPost(p *geopulse.Post, f geopulse.PostFilter, lowerText string) bool {
	if p.Expired {
		return false
	}
	if f.MinFollowers > 0 && p.Author.Followers < f.MinFollowers {
		return false
	}
	if lowerText != "" && !strings.Contains(strings.ToLower(p.Caption), lowerText) {
		return false
	}
	if a := f.Area; a != nil {
		// The box test is exactly what SQL would do; here it saves the
		// primary-key lookups from turning into a scan.
		if p.Lat < a.MinLat || p.Lat > a.MaxLat || p.Lon < a.MinLon || p.Lon > a.MaxLon {
			return false
		}
		if a.Contains != nil && !a.Contains(p.Lat, p.Lon) {
			return false
		}
	}
	return true
}

// FindPostByID returns the post if it matched one of the workspace's places,
// else ENOTFOUND. Its PlaceIDs are restricted to the workspace's places.
// Expired stories are found (with their content deleted).
func (db *DB) FindPostByID(ctx context.Context, workspaceID, id int64) (*geopulse.Post, error) {
	places, err := db.workspacePlaces(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	posts, err := db.queryPosts(ctx, fmt.Sprintf(`WITH c AS (SELECT %d::BIGINT AS post_id, NULL::TIMESTAMP AS taken_at) `, id)+postPageSQL)
	if err != nil {
		return nil, err
	}
	if len(posts) == 0 {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Post not found.")
	}
	p := posts[0]
	if p.PlaceIDs = restrict(p.PlaceIDs, places); len(p.PlaceIDs) == 0 {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Post not found.")
	}
	return p, nil
}

// selectPlaces returns the sorted place ids a filter covers: the
// workspace's places, narrowed by want when it is not empty (ids of other
// workspaces drop out), and all the workspace's places.
func (db *DB) selectPlaces(ctx context.Context, workspaceID int64, want []int64) ([]int64, map[int64]string, error) {
	all, err := db.workspacePlaces(ctx, workspaceID)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	if len(want) == 0 {
		for id := range all {
			ids = append(ids, id)
		}
	} else {
		for _, id := range want {
			if _, ok := all[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), all, nil
}

// restrict returns the ids that are in set, in order.
func restrict(ids []int64, set map[int64]string) []int64 {
	var out []int64
	for _, id := range ids {
		if _, ok := set[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// cursor is a position in the feed order (taken_at desc, id desc).
type cursor struct {
	takenAt time.Time
	id      int64
}

// encode returns the opaque form: base64url of 16 bytes, taken_at in unix
// microseconds then the post id, both big-endian.
func (c cursor) encode() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.takenAt.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.id))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Invalid cursor.")
	}
	c := &cursor{
		takenAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC(),
		id:      int64(binary.BigEndian.Uint64(b[8:])),
	}
	if c.id <= 0 || !inTimestampRange(c.takenAt) {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Invalid cursor.")
	}
	return c, nil
}
