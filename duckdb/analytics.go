package duckdb

import (
	"cmp"
	"context"
	"database/sql"
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
// Labels of either origin count: TopLabels, TopBrands and TopInterests
// count distinct posts per object, brand and interest name (Limit each),
// InterestsByPlace the top Limit interests of each place, InterestsByHour
// the posts per interest and UTC hour of day.
//
// Five statements run concurrently on separate connections: volume, hour
// of week and the post total (one aggregation), the place leaderboard,
// the hashtags (post_tags), the authors, and the labels (place_labels:
// the label lists, interests by hour and by place).
func (db *DB) Analytics(ctx context.Context, f geopulse.AnalyticsFilter) (*geopulse.Analytics, error) {
	if f.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	switch f.Interval {
	case "", geopulse.IntervalDay, geopulse.IntervalHour:
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
	if err := validRange(f.From, f.To); err != nil {
		return nil, err
	}
	names, err := db.workspacePlaces(ctx, f.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var placeIDs []int64
	for id := range names {
		if len(f.PlaceIDs) == 0 || slices.Contains(f.PlaceIDs, id) {
			placeIDs = append(placeIDs, id)
		}
	}
	out := &geopulse.Analytics{}
	if len(placeIDs) == 0 {
		return out, nil
	}
	slices.Sort(placeIDs)
	// The selection, over the columns every match table has.
	where := []string{`place_id IN (` + sqlInts(placeIDs) + `)`}
	if t := timeCond(f.From, f.To); t != "" {
		where = append(where, t)
	}
	if len(f.Kinds) > 0 {
		where = append(where, `kind IN (`+sqlKinds(f.Kinds)+`)`)
	}
	cond := strings.Join(where, ` AND `)

	var (
		wg     sync.WaitGroup
		errs   [5]error
		places []geopulse.PlaceCount
	)
	wg.Go(func() { errs[0] = db.analyticsCounts(ctx, out, cond, f.Interval) })
	wg.Go(func() { places, errs[1] = db.placeCounts(ctx, cond) })
	wg.Go(func() { out.TopHashtags, errs[2] = db.topHashtags(ctx, cond, limit) })
	wg.Go(func() { out.TopAuthors, out.Authors, errs[3] = db.topAuthors(ctx, cond, limit) })
	wg.Go(func() { errs[4] = db.labelCounts(ctx, out, cond, limit) })
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

// distinctPosts counts the distinct posts of a group of match rows: rows
// of single-match posts are distinct already, so only multi rows pay for
// count(DISTINCT), which measured ~2x slower than count(*) over all rows.
const distinctPosts = `count(*) FILTER (WHERE NOT multi) + count(DISTINCT post_id) FILTER (WHERE multi)`

// analyticsCounts fills volume, hour of week and the post total of out from
// one aggregation by (hour, kind): a post has one time and one kind, so its
// distinct count in an (hour, kind) bucket adds up exactly into days, hours
// of the week and the total. That measured cheaper than GROUPING SETS,
// which repeat the distinct count per set.
func (db *DB) analyticsCounts(ctx context.Context, out *geopulse.Analytics, cond string, interval geopulse.Interval) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT date_trunc('hour', taken_at) AS h, kind, `+distinctPosts+`
		FROM post_places WHERE `+cond+` GROUP BY h, kind`)
	if err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	type bucket struct {
		start time.Time
		kind  geopulse.Kind
	}
	at := make(map[bucket]int) // index in out.Volume
	for rows.Next() {
		var (
			h     time.Time
			kind  string
			posts int64
		)
		if err := rows.Scan(&h, &kind, &posts); err != nil {
			return fmt.Errorf("counts: %w", err)
		}
		h = utc(h)
		start := h
		if interval != geopulse.IntervalHour {
			start = time.Date(h.Year(), h.Month(), h.Day(), 0, 0, 0, 0, time.UTC)
		}
		k := bucket{start, geopulse.Kind(kind)}
		if i, ok := at[k]; ok {
			out.Volume[i].Posts += posts
		} else {
			at[k] = len(out.Volume)
			out.Volume = append(out.Volume, geopulse.VolumeBucket{Start: start, Kind: k.kind, Posts: posts})
		}
		day := (int(h.Weekday()) + 6) % 7 // Monday first
		out.HourOfWeek[day][h.Hour()] += posts
		out.Posts += posts
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	slices.SortFunc(out.Volume, func(a, b geopulse.VolumeBucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return nil
}

// placeCounts returns posts and distinct authors per place (a post has one
// match row per place, so count(*) counts posts).
func (db *DB) placeCounts(ctx context.Context, cond string) ([]geopulse.PlaceCount, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT place_id, count(*), count(DISTINCT author_id)
		FROM post_places WHERE `+cond+` GROUP BY place_id`)
	if err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	defer rows.Close()
	var out []geopulse.PlaceCount
	for rows.Next() {
		var c geopulse.PlaceCount
		if err := rows.Scan(&c.PlaceID, &c.Posts, &c.Authors); err != nil {
			return nil, fmt.Errorf("places: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// topHashtags counts distinct posts per hashtag, most first, ties by term.
func (db *DB) topHashtags(ctx context.Context, cond string, limit int) ([]geopulse.TermCount, error) {
	rows, err := db.sql.QueryContext(ctx, fmt.Sprintf(`SELECT tag, %s AS n FROM post_tags
		WHERE %s GROUP BY tag ORDER BY n DESC, tag LIMIT %d`, distinctPosts, cond, limit))
	if err != nil {
		return nil, fmt.Errorf("hashtags: %w", err)
	}
	defer rows.Close()
	var out []geopulse.TermCount
	for rows.Next() {
		var t geopulse.TermCount
		if err := rows.Scan(&t.Term, &t.Posts); err != nil {
			return nil, fmt.Errorf("hashtags: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// topAuthors ranks the selection's public authors by followers and returns
// them with the number of distinct authors in the selection. The ranking
// reads only (id, followers, private) of authors through a semi-join, so
// that authors is the probe side (as a join's build side it cost 60 ms at
// 1M authors); the winners' cards are then fetched by primary key.
func (db *DB) topAuthors(ctx context.Context, cond string, limit int) ([]geopulse.AuthorCount, int64, error) {
	rows, err := db.sql.QueryContext(ctx, fmt.Sprintf(`WITH
		s AS MATERIALIZED (SELECT author_id, %s AS n FROM post_places WHERE %s GROUP BY author_id),
		top AS (SELECT id, followers FROM authors WHERE id IN (SELECT author_id FROM s) AND NOT private
			ORDER BY followers DESC, id LIMIT %d)
		SELECT a.id, a.card, s.n, (SELECT count(*) FROM s) FROM top JOIN authors a ON a.id = top.id JOIN s ON s.author_id = top.id
		ORDER BY top.followers DESC, top.id`, distinctPosts, cond, limit))
	if err != nil {
		return nil, 0, fmt.Errorf("authors: %w", err)
	}
	defer rows.Close()
	var (
		out   []geopulse.AuthorCount
		total int64
	)
	for rows.Next() {
		var (
			c    geopulse.AuthorCount
			card string
		)
		a := &c.Author
		if err := rows.Scan(&a.ID, &card, &c.Posts, &total); err != nil {
			return nil, 0, fmt.Errorf("authors: %w", err)
		}
		if err := decodeCard(a, card); err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("authors: %w", err)
	}
	if len(out) == 0 {
		// Every author of the selection is private: the count still stands.
		err := db.sql.QueryRowContext(ctx, `SELECT count(DISTINCT author_id) FROM post_places WHERE `+cond).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("authors: %w", err)
		}
	}
	return out, total, nil
}

// timeCond renders [from, to) over taken_at; "" when unbounded.
func timeCond(from, to time.Time) string {
	var where []string
	if !from.IsZero() {
		where = append(where, `taken_at >= `+sqlTime(from))
	}
	if !to.IsZero() {
		where = append(where, `taken_at < `+sqlTime(to))
	}
	return strings.Join(where, ` AND `)
}

// labelCounts fills the label lists, InterestsByHour and InterestsByPlace
// of out from one scan of the selection's place_labels rows: counts by
// (kind, name, hour of day), and by (place, interest) cut to each place's
// top limit. A post has one taken_at, so its distinct count per hour adds
// up exactly into the term's total; a post has one row per place and
// label, so a place's count(*) counts posts.
func (db *DB) labelCounts(ctx context.Context, out *geopulse.Analytics, cond string, limit int) error {
	rows, err := db.sql.QueryContext(ctx, fmt.Sprintf(`WITH l AS MATERIALIZED (
			SELECT place_id, post_id, label_kind, label, hour(taken_at) AS h, multi FROM place_labels WHERE %s)
		SELECT label_kind, label, h, NULL::BIGINT, %s FROM l GROUP BY label_kind, label, h
		UNION ALL
		SELECT * FROM (SELECT label_kind, label, NULL, place_id, count(*) AS n FROM l
			WHERE label_kind = 'interest' GROUP BY label_kind, place_id, label
			QUALIFY row_number() OVER (PARTITION BY place_id ORDER BY n DESC, label) <= %d)`, cond, distinctPosts, limit))
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	defer rows.Close()
	totals := map[geopulse.LabelKind]map[string]int64{}
	for rows.Next() {
		var (
			kind, name string
			hour       sql.NullInt64
			place      sql.NullInt64
			posts      int64
		)
		if err := rows.Scan(&kind, &name, &hour, &place, &posts); err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		k := geopulse.LabelKind(kind)
		if place.Valid {
			out.InterestsByPlace = append(out.InterestsByPlace, geopulse.PlaceTermCount{PlaceID: place.Int64, Term: name, Posts: posts})
			continue
		}
		if totals[k] == nil {
			totals[k] = map[string]int64{}
		}
		totals[k][name] += posts
		if k == geopulse.LabelInterest {
			out.InterestsByHour = append(out.InterestsByHour, geopulse.HourTermCount{Hour: int(hour.Int64), Term: name, Posts: posts})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	out.TopLabels = topTerms(totals[geopulse.LabelObject], limit)
	out.TopBrands = topTerms(totals[geopulse.LabelBrand], limit)
	out.TopInterests = topTerms(totals[geopulse.LabelInterest], limit)
	slices.SortFunc(out.InterestsByHour, func(a, b geopulse.HourTermCount) int {
		if c := cmp.Compare(a.Hour, b.Hour); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	slices.SortFunc(out.InterestsByPlace, func(a, b geopulse.PlaceTermCount) int {
		if c := cmp.Compare(a.PlaceID, b.PlaceID); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	return nil
}

// topTerms returns the limit terms with the most posts, ties by term.
func topTerms(counts map[string]int64, limit int) []geopulse.TermCount {
	out := make([]geopulse.TermCount, 0, len(counts))
	for term, n := range counts {
		out = append(out, geopulse.TermCount{Term: term, Posts: n})
	}
	slices.SortFunc(out, func(a, b geopulse.TermCount) int {
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	if len(out) == 0 {
		return nil
	}
	return out[:min(limit, len(out))]
}
