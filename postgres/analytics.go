package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
)

// Analytics limits.
const (
	defaultTopLimit = 10
	maxTopLimit     = 1000
)

// Analytics computes the dashboard aggregates over the posts matched to the
// selected places of the workspace (every place when filter.PlaceIDs is
// empty; ids of other workspaces drop out). A post in two selected places
// counts once in the totals, volume, hashtags, authors and hour of week, and
// once per place in the place leaderboard. Expired stories still count;
// their hashtags are gone. Limit caps TopHashtags, TopAuthors and Places.
// Private authors never appear in TopAuthors. EINVALID for a bad filter.
//
// Three statements run concurrently on separate connections, each an
// index-only scan of a match table narrowed by place and time: counts
// (volume, hour of week, places, totals), hashtags, and authors, whose
// cards are joined only for the ranked winners.
func (db *DB) Analytics(ctx context.Context, f geopulse.AnalyticsFilter) (*geopulse.Analytics, error) {
	if f.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	unit := "day"
	switch f.Interval {
	case "", geopulse.IntervalDay:
	case geopulse.IntervalHour:
		unit = "hour"
	default:
		return nil, geopulse.Errorf(geopulse.EINVALID, "Interval must be %q or %q.", geopulse.IntervalHour, geopulse.IntervalDay)
	}
	limit := f.Limit
	switch {
	case limit == 0:
		limit = defaultTopLimit
	case limit < 0 || limit > maxTopLimit:
		return nil, geopulse.Errorf(geopulse.EINVALID, "Limit must be between 1 and %d.", maxTopLimit)
	}
	if err := validKinds(f.Kinds); err != nil {
		return nil, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return nil, geopulse.Errorf(geopulse.EINVALID, "The end of the time range is before its start.")
	}
	names, err := db.workspacePlaces(ctx, f.WorkspaceID, f.PlaceIDs)
	if err != nil {
		return nil, err
	}
	out := &geopulse.Analytics{}
	if len(names) == 0 {
		return out, nil
	}
	placeIDs := make([]int64, 0, len(names))
	for id := range names {
		placeIDs = append(placeIDs, id)
	}
	slices.Sort(placeIDs)
	args := sqlArgs{placeIDs}
	conds := []string{`place_id = ANY($1::bigint[])`}
	if from, to := timeRange(f.From, f.To); !from.IsZero() || !to.IsZero() {
		if !from.IsZero() {
			conds = append(conds, `taken_at >= `+args.add(from))
		}
		if !to.IsZero() {
			conds = append(conds, `taken_at < `+args.add(to))
		}
	}
	if len(f.Kinds) > 0 {
		conds = append(conds, `kind = ANY(`+args.add(kindStrings(f.Kinds))+`::text[])`)
	}
	sel := selection{cond: strings.Join(conds, ` AND `), args: args}

	var (
		wg     sync.WaitGroup
		errs   [3]error
		places []geopulse.PlaceCount
	)
	wg.Go(func() { places, errs[0] = db.analyticsCounts(ctx, out, sel, unit) })
	wg.Go(func() { out.TopHashtags, errs[1] = db.topHashtags(ctx, sel, limit) })
	wg.Go(func() { out.TopAuthors, errs[2] = db.topAuthors(ctx, sel, limit) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	slices.SortFunc(places, func(a, b geopulse.PlaceCount) int {
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return cmp.Compare(a.PlaceID, b.PlaceID)
	})
	for i := range places {
		places[i].Name = names[places[i].PlaceID]
	}
	out.Places = places[:min(limit, len(places))]
	return out, nil
}

// selection is the WHERE clause over a match table and its arguments ($1
// is the place ids).
type selection struct {
	cond string
	args sqlArgs
}

// with returns the selection's arguments followed by more.
func (s selection) with(more ...any) (sqlArgs, []string) {
	args := append(sqlArgs(nil), s.args...)
	refs := make([]string, len(more))
	for i, v := range more {
		refs[i] = args.add(v)
	}
	return args, refs
}

// workspacePlaces returns the names by id of the workspace's places, or of
// those of want that are the workspace's when want is not empty.
func (db *DB) workspacePlaces(ctx context.Context, workspaceID int64, want []int64) (map[int64]string, error) {
	query := `SELECT id, name FROM places WHERE workspace_id = $1`
	args := []any{workspaceID}
	if len(want) > 0 {
		query += ` AND id = ANY($2)`
		args = append(args, want)
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("workspace places: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]string)
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("workspace places: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}

// Row tags of countsSQL.
const (
	rowVolume = iota
	rowHourOfWeek
	rowPlace
	rowTotal
)

// analyticsCounts fills volume, hour of week and totals of out and returns
// the per-place counts, from one scan of post_places: the selected matches
// are materialised once, folded to one row per post (a post in two selected
// places counts once), and each aggregate is a hash aggregate over that.
func (db *DB) analyticsCounts(ctx context.Context, out *geopulse.Analytics, sel selection, unit string) ([]geopulse.PlaceCount, error) {
	args, refs := sel.with(unit)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`WITH
		sel AS MATERIALIZED (SELECT place_id, post_id, taken_at, kind, author_id FROM post_places WHERE %[1]s),
		one AS MATERIALIZED (SELECT post_id, min(taken_at) AS taken_at, min(kind) AS kind, min(author_id) AS author_id
			FROM sel GROUP BY post_id)
		SELECT %[3]d, date_trunc(%[2]s, taken_at), kind, 0, 0, 0::bigint, count(*), 0::bigint FROM one GROUP BY 2, 3
		UNION ALL
		SELECT %[4]d, NULL, NULL, extract(isodow FROM taken_at)::int - 1, extract(hour FROM taken_at)::int, 0, count(*), 0
			FROM one GROUP BY 4, 5
		UNION ALL
		SELECT %[5]d, NULL, NULL, 0, 0, place_id, count(*), count(DISTINCT author_id) FROM sel GROUP BY place_id
		UNION ALL
		SELECT %[6]d, NULL, NULL, 0, 0, 0, count(*), count(DISTINCT author_id) FROM one`,
		sel.cond, refs[0], rowVolume, rowHourOfWeek, rowPlace, rowTotal), args...)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	var places []geopulse.PlaceCount
	for rows.Next() {
		var (
			tag            int
			bucket         *time.Time
			kind           *string
			d, h           int
			place          int64
			posts, authors int64
		)
		if err := rows.Scan(&tag, &bucket, &kind, &d, &h, &place, &posts, &authors); err != nil {
			return nil, fmt.Errorf("counts: %w", err)
		}
		switch tag {
		case rowVolume:
			out.Volume = append(out.Volume, geopulse.VolumeBucket{Start: bucket.UTC(), Kind: geopulse.Kind(*kind), Posts: posts})
		case rowHourOfWeek:
			if d >= 0 && d < 7 && h >= 0 && h < 24 {
				out.HourOfWeek[d][h] = posts
			}
		case rowPlace:
			places = append(places, geopulse.PlaceCount{PlaceID: place, Posts: posts, Authors: authors})
		case rowTotal:
			out.Posts, out.Authors = posts, authors
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	slices.SortFunc(out.Volume, func(a, b geopulse.VolumeBucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return places, nil
}

// topHashtags counts distinct posts per hashtag, most first, ties by term
// (byte-wise, as tag is bytea).
func (db *DB) topHashtags(ctx context.Context, sel selection, limit int) ([]geopulse.TermCount, error) {
	args, refs := sel.with(limit)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT tag, count(*) AS n
		FROM (SELECT DISTINCT tag, post_id FROM post_tags WHERE %s) t
		GROUP BY tag ORDER BY n DESC, tag LIMIT %s`, sel.cond, refs[0]), args...)
	if err != nil {
		return nil, fmt.Errorf("hashtags: %w", err)
	}
	defer rows.Close()
	var out []geopulse.TermCount
	for rows.Next() {
		var (
			tag []byte
			t   geopulse.TermCount
		)
		if err := rows.Scan(&tag, &t.Posts); err != nil {
			return nil, fmt.Errorf("hashtags: %w", err)
		}
		t.Term = string(tag)
		out = append(out, t)
	}
	return out, rows.Err()
}

// topAuthors ranks the selection's public authors by followers.
func (db *DB) topAuthors(ctx context.Context, sel selection, limit int) ([]geopulse.AuthorCount, error) {
	args, refs := sel.with(limit)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`WITH
		s AS (SELECT author_id, count(DISTINCT post_id) AS n FROM post_places WHERE %s GROUP BY author_id),
		top AS (SELECT s.author_id, s.n, a.followers FROM s JOIN authors a ON a.id = s.author_id
			WHERE NOT a.private ORDER BY a.followers DESC, s.author_id LIMIT %s)
		SELECT %s, top.n FROM top JOIN authors a ON a.id = top.author_id
		ORDER BY top.followers DESC, top.author_id`, sel.cond, refs[0], prefixed("a.", authorColumns)), args...)
	if err != nil {
		return nil, fmt.Errorf("authors: %w", err)
	}
	defer rows.Close()
	var out []geopulse.AuthorCount
	for rows.Next() {
		var (
			c    geopulse.AuthorCount
			card string
		)
		a := &c.Author
		if err := rows.Scan(&a.ID, &a.Followers, &a.Following, &a.PostsCount, &a.Private, &a.UpdatedAt, &card, &c.Posts); err != nil {
			return nil, fmt.Errorf("authors: %w", err)
		}
		if err := decodeCard(a, card); err != nil {
			return nil, err
		}
		a.UpdatedAt = a.UpdatedAt.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
