package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

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
// PostgreSQL only reads: two index-only range scans of the match tables
// (post_places, post_tags), narrowed by place and time, and the selected
// matches joined to their labels by post_labels' primary key, stream their
// rows, and Go folds them in one pass each: counting distinct posts and authors
// with hash maps measured 3x faster than PostgreSQL's DISTINCT and GROUP BY
// over the same rows (~52k matches for 50 places at 10M posts), and the two
// scans run concurrently. The winners among authors are then ranked by one
// query over authors that PostgreSQL plans for the actual set: it walks
// authors_followers from the most followed down when the set is large, and
// looks the authors up when it is small.
func (db *DB) Analytics(ctx context.Context, f geopulse.AnalyticsFilter) (*geopulse.Analytics, error) {
	if f.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	bucket := 24 * time.Hour
	switch f.Interval {
	case "", geopulse.IntervalDay:
	case geopulse.IntervalHour:
		bucket = time.Hour
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
	from, to := timeRange(f.From, f.To)
	if from.IsZero() {
		from = minStoredTime
	}
	if to.IsZero() {
		to = maxStoredTime
	}
	sel := selection{placeIDs: placeIDs, from: from, to: to, kinds: kindStrings(f.Kinds)}
	if len(sel.kinds) == 0 {
		sel.kinds = kindStrings(geopulse.Kinds)
	}

	var (
		wg      sync.WaitGroup
		errs    [3]error
		places  []geopulse.PlaceCount
		authors map[int64]int64
	)
	wg.Go(func() { errs[2] = db.labelCounts(ctx, out, sel, limit) })
	wg.Go(func() {
		places, authors, errs[0] = db.analyticsCounts(ctx, out, sel, bucket)
		if errs[0] == nil {
			out.TopAuthors, errs[0] = db.topAuthors(ctx, authors, limit)
		}
	})
	wg.Go(func() { out.TopHashtags, errs[1] = db.topHashtags(ctx, sel, limit) })
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

// selection is what analytics reads from a match table: these places, in
// [from, to), of these kinds. The statements are prepared once (a generic
// plan: an index range scan whatever the values).
type selection struct {
	placeIDs []int64
	from, to time.Time
	kinds    []string
}

const selectionSQL = `place_id = ANY($1::bigint[]) AND taken_at >= $2 AND taken_at < $3 AND kind = ANY($4::text[])`

func (s selection) args() []any { return []any{s.placeIDs, s.from, s.to, s.kinds} }

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

// matchPost is what a selected post contributes once.
type matchPost struct {
	at     int64 // unix microseconds
	kind   geopulse.Kind
	author int64
}

// analyticsCounts fills volume, hour of week and totals of out, and returns
// the per-place counts and each author's number of distinct posts, from one
// scan of post_places.
func (db *DB) analyticsCounts(ctx context.Context, out *geopulse.Analytics, sel selection, bucket time.Duration) ([]geopulse.PlaceCount, map[int64]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT place_id, post_id, taken_at, kind, author_id FROM post_places WHERE `+selectionSQL, sel.args()...)
	if err != nil {
		return nil, nil, fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	posts := make(map[int64]matchPost)
	type placeAuthor struct{ place, author int64 }
	seen := make(map[placeAuthor]bool)
	perPlace := make(map[int64]*geopulse.PlaceCount)
	scan := newMatchScanner(rows)
	for rows.Next() {
		place, post, at, kind, author, err := scan.row()
		if err != nil {
			return nil, nil, fmt.Errorf("counts: %w", err)
		}
		pc := perPlace[place]
		if pc == nil {
			pc = &geopulse.PlaceCount{PlaceID: place}
			perPlace[place] = pc
		}
		pc.Posts++ // (place, post) is the primary key: no post twice per place
		if k := (placeAuthor{place, author}); !seen[k] {
			seen[k] = true
			pc.Authors++
		}
		if _, ok := posts[post]; !ok {
			posts[post] = matchPost{at: at, kind: kind, author: author}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("counts: %w", err)
	}
	type volumeKey struct {
		start int64
		kind  geopulse.Kind
	}
	volume := make(map[volumeKey]int64)
	authors := make(map[int64]int64)
	step := bucket.Microseconds()
	for _, p := range posts {
		// Buckets are UTC days or hours: whole multiples of the unit since
		// the Unix epoch, which is a UTC midnight.
		volume[volumeKey{p.at - mod(p.at, step), p.kind}]++
		t := time.UnixMicro(p.at).UTC()
		out.HourOfWeek[(int(t.Weekday())+6)%7][t.Hour()]++
		authors[p.author]++
	}
	for k, n := range volume {
		out.Volume = append(out.Volume, geopulse.VolumeBucket{Start: time.UnixMicro(k.start).UTC(), Kind: k.kind, Posts: n})
	}
	slices.SortFunc(out.Volume, func(a, b geopulse.VolumeBucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	out.Posts, out.Authors = int64(len(posts)), int64(len(authors))
	places := make([]geopulse.PlaceCount, 0, len(perPlace))
	for _, pc := range perPlace {
		places = append(places, *pc)
	}
	return places, authors, nil
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// mod is the non-negative remainder, so that times before 1970 bucket down.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// topHashtags counts distinct posts per hashtag, most first, ties by term
// (byte-wise, as Go compares strings), from one scan of post_tags.
func (db *DB) topHashtags(ctx context.Context, sel selection, limit int) ([]geopulse.TermCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT tag, post_id FROM post_tags WHERE `+selectionSQL, sel.args()...)
	if err != nil {
		return nil, fmt.Errorf("hashtags: %w", err)
	}
	defer rows.Close()
	bin := binaryColumns(rows, 0, 1)
	// One set of (tag, post) pairs, tags numbered on first sight: a set per
	// tag measured twice as slow (thousands of small maps growing).
	type tagPost struct {
		tag  int32
		post int64
	}
	tagIDs := make(map[string]int32)
	var terms []string
	var counts []int64
	seen := make(map[tagPost]struct{}, 1<<12)
	for rows.Next() {
		var (
			tag  []byte
			post int64
		)
		if raw := rows.RawValues(); bin && len(raw) == 2 && len(raw[1]) == 8 {
			tag, post = raw[0], int64(binary.BigEndian.Uint64(raw[1]))
		} else if err := rows.Scan(&tag, &post); err != nil {
			return nil, fmt.Errorf("hashtags: %w", err)
		}
		id, ok := tagIDs[string(tag)] // no allocation for the lookup
		if !ok {
			id = int32(len(terms))
			terms = append(terms, string(tag))
			counts = append(counts, 0)
			tagIDs[terms[id]] = id
		}
		if k := (tagPost{id, post}); !hasKey(seen, k) {
			seen[k] = struct{}{}
			counts[id]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("hashtags: %w", err)
	}
	out := make([]geopulse.TermCount, len(terms))
	for i, term := range terms {
		out[i] = geopulse.TermCount{Term: term, Posts: counts[i]}
	}
	slices.SortFunc(out, func(a, b geopulse.TermCount) int {
		if c := cmp.Compare(b.Posts, a.Posts); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	return out[:min(limit, len(out))], nil
}

// topAuthors ranks the public authors of counts (author id → distinct
// posts) by followers. The ids are inlined (integers only), so PostgreSQL
// plans for the actual set: walking authors_followers from the top and
// stopping at the limit when the set is a large share of all authors, or
// looking each one up when it is small.
func (db *DB) topAuthors(ctx context.Context, counts map[int64]int64, limit int) ([]geopulse.AuthorCount, error) {
	if len(counts) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	args := sqlArgs{inline: true}
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM authors WHERE id = ANY(%s) AND NOT private
		ORDER BY followers DESC, id LIMIT %s`, authorColumns, args.add(ids), args.add(limit)), args.query()...)
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
		if err := rows.Scan(&a.ID, &a.Followers, &a.Following, &a.PostsCount, &a.Private, &a.UpdatedAt, &card); err != nil {
			return nil, fmt.Errorf("authors: %w", err)
		}
		if err := decodeCard(a, card); err != nil {
			return nil, err
		}
		a.UpdatedAt = a.UpdatedAt.UTC()
		c.Posts = counts[a.ID]
		out = append(out, c)
	}
	return out, rows.Err()
}

// binaryColumns reports whether the given columns of rows come in binary
// format, which the hot loops decode from the raw bytes themselves. (Text
// columns need no check: pgx asks for them as text, whose bytes are the
// same in both formats.)
func binaryColumns(rows pgx.Rows, cols ...int) bool {
	fds := rows.FieldDescriptions()
	for _, c := range cols {
		if c >= len(fds) || fds[c].Format != pgx.BinaryFormatCode {
			return false
		}
	}
	return true
}

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's timestamp epoch, in Unix
// microseconds.
const pgEpochMicros = 946_684_800_000_000

// matchScanner decodes rows of (place_id, post_id, taken_at, kind,
// author_id): from the raw binary values when it can (no allocation per
// row; this loop runs for every selected match), else through Scan.
type matchScanner struct {
	rows   pgx.Rows
	binary bool
}

func newMatchScanner(rows pgx.Rows) *matchScanner {
	return &matchScanner{rows: rows, binary: binaryColumns(rows, 0, 1, 2, 4)}
}

func (s *matchScanner) row() (place, post, at int64, kind geopulse.Kind, author int64, err error) {
	if raw := s.rows.RawValues(); s.binary && len(raw) == 5 && len(raw[0]) == 8 && len(raw[1]) == 8 && len(raw[2]) == 8 && len(raw[4]) == 8 {
		place, post = int64(binary.BigEndian.Uint64(raw[0])), int64(binary.BigEndian.Uint64(raw[1]))
		at = int64(binary.BigEndian.Uint64(raw[2])) + pgEpochMicros
		author = int64(binary.BigEndian.Uint64(raw[4]))
		return place, post, at, kindOf(raw[3]), author, nil
	}
	var (
		t time.Time
		k string
	)
	err = s.rows.Scan(&place, &post, &t, &k, &author)
	return place, post, t.UnixMicro(), geopulse.Kind(k), author, err
}

// kindOf returns the Kind spelled by b without allocating for known kinds.
func kindOf(b []byte) geopulse.Kind {
	for _, k := range geopulse.Kinds {
		if string(k) == string(b) {
			return k
		}
	}
	return geopulse.Kind(b)
}

// labelSelectionSQL is selectionSQL over post_places aliased m.
const labelSelectionSQL = `m.place_id = ANY($1::bigint[]) AND m.taken_at >= $2 AND m.taken_at < $3 AND m.kind = ANY($4::text[])`

// labelCounts fills the label lists, InterestsByPlace and InterestsByHour
// of out from one join of the selected matches with their labels, folded
// in Go as the other aggregates are. A post may come once per selected
// place and carry a label from both origins, so each list counts a
// (term, post) or (place, term, post) once.
func (db *DB) labelCounts(ctx context.Context, out *geopulse.Analytics, sel selection, limit int) error {
	rows, err := db.pool.Query(ctx, `SELECT m.place_id, m.post_id, m.taken_at, l.kind, l.name
		FROM post_places m JOIN post_labels l ON l.post_id = m.post_id AND l.taken_at = m.taken_at
		WHERE `+labelSelectionSQL+` AND l.kind IN ('object', 'brand', 'interest')`, sel.args()...)
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	defer rows.Close()
	type term struct {
		kind geopulse.LabelKind
		name string
	}
	type termPost struct {
		term int32
		post int64
	}
	type placeTerm struct {
		place int64
		term  int32
	}
	type placeTermPost struct {
		placeTerm
		post int64
	}
	type hourTerm struct {
		hour int
		term int32
	}
	termIDs := make(map[term]int32)
	var (
		terms   []term
		counts  []int64
		seen    = make(map[termPost]struct{})
		seenAt  = make(map[placeTermPost]struct{})
		byPlace = make(map[placeTerm]int64)
		byHour  = make(map[hourTerm]int64)
	)
	for rows.Next() {
		var (
			place, post int64
			at          time.Time
			kind, name  string
		)
		if err := rows.Scan(&place, &post, &at, &kind, &name); err != nil {
			return fmt.Errorf("labels: %w", err)
		}
		t := term{geopulse.LabelKind(kind), name}
		id, ok := termIDs[t]
		if !ok {
			id = int32(len(terms))
			terms, counts = append(terms, t), append(counts, 0)
			termIDs[t] = id
		}
		if k := (termPost{id, post}); !hasKey(seen, k) {
			seen[k] = struct{}{}
			counts[id]++
			if t.kind == geopulse.LabelInterest {
				byHour[hourTerm{at.UTC().Hour(), id}]++
			}
		}
		if t.kind == geopulse.LabelInterest {
			if k := (placeTermPost{placeTerm{place, id}, post}); !hasKey(seenAt, k) {
				seenAt[k] = struct{}{}
				byPlace[k.placeTerm]++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	lists := map[geopulse.LabelKind][]geopulse.TermCount{}
	for i, t := range terms {
		lists[t.kind] = append(lists[t.kind], geopulse.TermCount{Term: t.name, Posts: counts[i]})
	}
	out.TopLabels = topTerms(lists[geopulse.LabelObject], limit)
	out.TopBrands = topTerms(lists[geopulse.LabelBrand], limit)
	out.TopInterests = topTerms(lists[geopulse.LabelInterest], limit)
	for k, n := range byHour {
		out.InterestsByHour = append(out.InterestsByHour, geopulse.HourTermCount{Hour: k.hour, Term: terms[k.term].name, Posts: n})
	}
	slices.SortFunc(out.InterestsByHour, func(a, b geopulse.HourTermCount) int {
		return cmp.Or(cmp.Compare(a.Hour, b.Hour), cmp.Compare(b.Posts, a.Posts), cmp.Compare(a.Term, b.Term))
	})
	for k, n := range byPlace {
		out.InterestsByPlace = append(out.InterestsByPlace, geopulse.PlaceTermCount{PlaceID: k.place, Term: terms[k.term].name, Posts: n})
	}
	slices.SortFunc(out.InterestsByPlace, func(a, b geopulse.PlaceTermCount) int {
		return cmp.Or(cmp.Compare(a.PlaceID, b.PlaceID), cmp.Compare(b.Posts, a.Posts), cmp.Compare(a.Term, b.Term))
	})
	// Keep the first limit of each place.
	kept, n := out.InterestsByPlace[:0], 0
	for i, c := range out.InterestsByPlace {
		if i == 0 || c.PlaceID != kept[len(kept)-1].PlaceID {
			n = 0
		}
		if n++; n <= limit {
			kept = append(kept, c)
		}
	}
	out.InterestsByPlace = kept
	return nil
}

// topTerms sorts counts (most posts first, ties by term) and keeps limit.
func topTerms(counts []geopulse.TermCount, limit int) []geopulse.TermCount {
	slices.SortFunc(counts, func(a, b geopulse.TermCount) int {
		return cmp.Or(cmp.Compare(b.Posts, a.Posts), cmp.Compare(a.Term, b.Term))
	})
	return counts[:min(limit, len(counts))]
}
