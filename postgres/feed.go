package postgres

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

// Feed limits.
const (
	defaultFeedLimit = 50
	maxFeedLimit     = 500
	// maxCandidates bounds one round of candidates when filters that only
	// Go can apply (caption text, an area's exact shape) reject some.
	maxCandidates = 1024
)

// postPageSQL fetches the posts listed by a CTE c(post_id, taken_at) with
// their authors, in feed order; it follows the WITH clause that defines
// c. $1 is the workspace: a post's place ids are narrowed to its places
// here (a primary-key probe of places per id, so the cost follows the
// page, not the workspace: collecting a 10,000-place workspace's ids into
// an array per query cost ~20 ms), so no other workspace's ids leave the
// database. The join on (id, taken_at) lets PostgreSQL prune the posts
// partitions per row at run time.
const postPageSQL = `
SELECT p.id, p.kind, p.author_id, p.taken_at, p.lat, p.lon, p.accuracy_m, p.expires_at, p.expired,
	ARRAY(SELECT x FROM unnest(p.place_ids) x WHERE EXISTS (SELECT 1 FROM places w WHERE w.id = x AND w.workspace_id = $1) ORDER BY x),
	p.doc, a.followers, a.following, a.posts_count, a.private, a.updated_at, a.card, ` + postLabelsSQL + `
FROM c JOIN posts p ON p.id = c.post_id AND p.taken_at = c.taken_at JOIN authors a ON a.id = p.author_id
ORDER BY c.taken_at DESC, c.post_id DESC`

// FindPosts returns a page of the workspace's posts, newest first (taken_at,
// then id, descending), and the cursor of the next page ("" at the end).
//
// One statement does the work: candidates (post id, taken_at) come from an
// index of a match table, already in feed order, with the filters SQL can
// apply (place, time, kind, expiry, hashtag, labels, follower floor, the
// area's box); the candidates' posts and authors are then joined by
// primary key, with their labels of both origins.
// A whole workspace's feed reads one range of post_places_workspace; a set
// of places reads each place's range (LATERAL) and merges them. The filters
// that only Go applies (caption text, an area's exact shape) may reject
// candidates; then the next round starts after the last one, until the
// page is full or nothing is left. EINVALID for a bad filter or cursor.
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
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, "", geopulse.Errorf(geopulse.EINVALID, "The end of the time range is before its start.")
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
	hashtag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(f.Hashtag), "#"))
	text := strings.ToLower(f.Text)
	want := limit + 1
	n := want
	if text != "" || (f.Area != nil && f.Area.Contains != nil) {
		n = min(max(4*want, 256), maxCandidates)
	}
	var out []*geopulse.Post
	seen := make(map[int64]bool)
	for len(out) < want {
		query, args := feedSQL(f, hashtag, after, n)
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

// sqlArgs collects the arguments of a statement. In inline mode, values of
// the types that can only come from validated, typed input (integers,
// times, coordinates, validated kinds; never user text) are rendered as
// literals instead, so that PostgreSQL plans the statement for those
// values: such statements run unprepared (pgx.QueryExecModeExec), with a
// custom plan each, where the estimates matter (how many places, how big
// an area, how long a range).
type sqlArgs struct {
	args   []any
	inline bool
}

// kindList is a validated list of kinds, safe to inline.
type kindList []string

func (a *sqlArgs) add(v any) string {
	if a.inline {
		if lit, ok := sqlLiteral(v); ok {
			return lit
		}
	}
	if k, ok := v.(kindList); ok {
		v = []string(k) // pgx encodes the plain type
	}
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// query returns the arguments to pass to pgx for the statement: inline
// statements go unprepared, so their literal-laden text does not fill the
// statement cache.
func (a *sqlArgs) query() []any {
	if a.inline {
		return append([]any{pgx.QueryExecModeExec}, a.args...)
	}
	return a.args
}

// sqlLiteral renders v as a typed SQL literal when its type is safe to
// inline.
func sqlLiteral(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return "'" + strconv.FormatFloat(x, 'g', -1, 64) + "'::float8", true
	case time.Time:
		return "'" + x.UTC().Format("2006-01-02 15:04:05.999999") + "+00'::timestamptz", true
	case []int64:
		var b strings.Builder
		b.WriteString("'{")
		for i, id := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteString("}'::bigint[]")
		return b.String(), true
	case kindList:
		return "'{" + strings.Join(x, ",") + "}'::text[]", true
	}
	return "", false
}

// feedSQL returns the feed statement for up to n candidates after the
// cursor, and its arguments ($1 is always the workspace).
//
// A feed with an area is planned for its values (inline): whether to start
// from the area (the GiST index on posts.geom) or from the places' time
// order depends on how big the area is. Other feeds are prepared once and
// always walk the places' time order.
func feedSQL(f geopulse.PostFilter, hashtag string, after *cursor, n int) (string, []any) {
	args := sqlArgs{args: []any{f.WorkspaceID}, inline: f.Area != nil}
	table, author := "post_places", "m.author_id"
	var conds, joins []string
	if hashtag != "" {
		// post_tags only holds live posts, so no expiry test is needed.
		table = "post_tags"
		conds = append(conds, `m.tag = `+args.add([]byte(hashtag)))
	} else {
		conds = append(conds, `NOT m.expired`)
	}
	if from, to := timeRange(f.From, f.To); !from.IsZero() || !to.IsZero() {
		if !from.IsZero() {
			conds = append(conds, `m.taken_at >= `+args.add(from))
		}
		if !to.IsZero() {
			conds = append(conds, `m.taken_at < `+args.add(to))
		}
	}
	if len(f.Kinds) > 0 {
		conds = append(conds, `m.kind = ANY(`+args.add(kindList(kindStrings(f.Kinds)))+`::text[])`)
	}
	for _, l := range f.RequiredLabels() {
		// PostgreSQL merges post_labels_name, walked in feed order, with
		// the match index (a merge semi-join), rare label or common.
		conds = append(conds, fmt.Sprintf(`EXISTS (SELECT 1 FROM post_labels l
			WHERE l.post_id = m.post_id AND l.taken_at = m.taken_at AND l.kind = '%s' AND l.name = %s)`, l.Kind, args.add(l.Name)))
	}
	if after != nil {
		conds = append(conds, fmt.Sprintf(`(m.taken_at, m.post_id) < (%s, %s)`, args.add(after.takenAt), args.add(after.id)))
	}
	if a := f.Area; a != nil || (hashtag != "" && f.MinFollowers > 0) {
		// The last conjunct is implied (place_ids mirrors the matches) but
		// lets a plan that starts from the area reach the match rows
		// through their primary key.
		joins = append(joins, `JOIN posts p ON p.id = m.post_id AND p.taken_at = m.taken_at AND m.place_id = ANY(p.place_ids)`)
		author = "p.author_id"
		if a != nil {
			// && is the GiST index's (float4) box test, a superset; the
			// BETWEENs are the exact box.
			minLat, minLon, maxLat, maxLon := args.add(a.MinLat), args.add(a.MinLon), args.add(a.MaxLat), args.add(a.MaxLon)
			conds = append(conds, fmt.Sprintf(`p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)`, minLon, minLat, maxLon, maxLat),
				fmt.Sprintf(`p.lat BETWEEN %s AND %s AND p.lon BETWEEN %s AND %s`, minLat, maxLat, minLon, maxLon))
		}
	}
	if f.MinFollowers > 0 {
		joins = append(joins, `JOIN authors a ON a.id = `+author)
		conds = append(conds, `a.followers >= `+args.add(f.MinFollowers))
	}
	limit := args.add(n)
	var cand string
	if hashtag == "" && len(f.PlaceIDs) == 0 {
		cand = fmt.Sprintf(`SELECT m.post_id, m.taken_at FROM post_places m %s
			WHERE m.workspace_id = $1 AND %s ORDER BY m.taken_at DESC, m.post_id DESC LIMIT %s`,
			strings.Join(joins, " "), strings.Join(conds, " AND "), limit)
	} else {
		sel := `sel.workspace_id = $1`
		if len(f.PlaceIDs) > 0 {
			sel += ` AND sel.id = ANY(` + args.add(f.PlaceIDs) + `::bigint[])`
		}
		cand = fmt.Sprintf(`SELECT c.post_id, c.taken_at FROM places sel CROSS JOIN LATERAL (
				SELECT m.post_id, m.taken_at FROM %s m %s
				WHERE m.place_id = sel.id AND %s ORDER BY m.taken_at DESC, m.post_id DESC LIMIT %s) c
			WHERE %s ORDER BY c.taken_at DESC, c.post_id DESC LIMIT %s`,
			table, strings.Join(joins, " "), strings.Join(conds, " AND "), limit, sel, limit)
	}
	return `WITH c AS MATERIALIZED (` + cand + `)` + postPageSQL, args.query()
}

// queryPosts runs a postPageSQL query and returns its posts in order.
func (db *DB) queryPosts(ctx context.Context, query string, args ...any) ([]*geopulse.Post, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find posts: %w", err)
	}
	defer rows.Close()
	var out []*geopulse.Post
	for rows.Next() {
		var (
			p       geopulse.Post
			kind    string
			expires *time.Time
			doc     string
			card    string
			labels  []byte
		)
		a := &p.Author
		err := rows.Scan(&p.ID, &kind, &a.ID, &p.TakenAt, &p.Lat, &p.Lon, &p.AccuracyM, &expires, &p.Expired,
			&p.PlaceIDs, &doc, &a.Followers, &a.Following, &a.PostsCount, &a.Private, &a.UpdatedAt, &card, &labels)
		if err != nil {
			return nil, fmt.Errorf("scan post: %w", err)
		}
		if err := decodeDoc(&p, doc); err != nil {
			return nil, err
		}
		if p.Labels, err = decodeLabels(p.ID, labels); err != nil {
			return nil, err
		}
		if err := decodeCard(a, card); err != nil {
			return nil, err
		}
		p.Kind = geopulse.Kind(kind)
		p.TakenAt, a.UpdatedAt = p.TakenAt.UTC(), a.UpdatedAt.UTC()
		if len(p.PlaceIDs) == 0 {
			p.PlaceIDs = nil
		}
		if expires != nil {
			t := expires.UTC()
			p.ExpiresAt = &t
		}
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find posts: %w", err)
	}
	return out, nil
}

// keepPost applies the filters that need the post row or its author. SQL
// has applied all but the caption text and the area's exact shape; the
// others are repeated because they are free here.
func keepPost(p *geopulse.Post, f geopulse.PostFilter, lowerText string) bool {
	if p.Expired || len(p.PlaceIDs) == 0 {
		return false
	}
	if f.MinFollowers > 0 && p.Author.Followers < f.MinFollowers {
		return false
	}
	if lowerText != "" && !strings.Contains(strings.ToLower(p.Caption), lowerText) {
		return false
	}
	if a := f.Area; a != nil {
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
	posts, err := db.queryPosts(ctx, `WITH c AS (SELECT id AS post_id, taken_at FROM post_keys WHERE id = $2)`+postPageSQL,
		workspaceID, id)
	if err != nil {
		return nil, err
	}
	if len(posts) == 0 || len(posts[0].PlaceIDs) == 0 {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Post not found.")
	}
	return posts[0], nil
}

// cursor is a position in the feed order (taken_at desc, id desc). Its
// encoding is the embedded store's, so a cursor means the same in both.
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
	if y := c.takenAt.Year(); c.id <= 0 || y < 1 || y > 9999 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Invalid cursor.")
	}
	return c, nil
}

// Stored times lie within the years 1 to 9999 (UpsertPosts refuses
// others), so a bound outside them constrains nothing; clamping it keeps
// PostgreSQL from refusing a timestamp out of its range.
var (
	minStoredTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxStoredTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timeRange returns from and to for SQL: zero means unbounded.
func timeRange(from, to time.Time) (time.Time, time.Time) {
	if from.Before(minStoredTime) {
		from = time.Time{}
	} else if from.After(maxStoredTime) {
		from = maxStoredTime
	}
	if to.After(maxStoredTime) {
		to = time.Time{}
	} else if !to.IsZero() && to.Before(minStoredTime) {
		to = minStoredTime
	}
	return from, to
}
