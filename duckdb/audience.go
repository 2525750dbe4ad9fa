package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
)

// Audiences are compiled to SQL over the match table (who posted where
// and when) and author_terms (profiles). The audience's authors are
// materialised once per request in a temporary table on one connection,
// and every statistic reads it: compiling the criteria into each
// statement measured slower than the temporary table from the second
// statement on.

// SaveAudience stores a new version of a. ID 0 creates the audience.
func (db *DB) SaveAudience(ctx context.Context, a *geopulse.Audience) error {
	if err := a.Validate(); err != nil {
		return err
	}
	crit, err := json.Marshal(a.Criteria)
	if err != nil {
		return fmt.Errorf("save audience: %w", err)
	}
	now := db.nowUTC()
	return db.write(ctx, func(c *sql.Conn) error {
		if a.ID == 0 {
			if err := c.QueryRowContext(ctx, `SELECT nextval('audiences_id_seq')`).Scan(&a.ID); err != nil {
				return fmt.Errorf("save audience: %w", err)
			}
			a.Version = 1
		} else {
			var v sql.NullInt64
			err := c.QueryRowContext(ctx, `SELECT max(version) FROM audiences WHERE id = ? AND workspace_id = ?`, a.ID, a.WorkspaceID).Scan(&v)
			if err != nil {
				return fmt.Errorf("save audience: %w", err)
			}
			if !v.Valid {
				return geopulse.Errorf(geopulse.ENOTFOUND, "Audience %d not found.", a.ID)
			}
			a.Version = int(v.Int64) + 1
		}
		a.CreatedAt = now
		_, err := c.ExecContext(ctx, `INSERT INTO audiences VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Version, a.WorkspaceID, a.Name, string(crit), now, a.CreatedBy)
		if err != nil {
			return fmt.Errorf("save audience: %w", err)
		}
		return nil
	})
}

// Audience returns a version of an audience (0: the latest).
func (db *DB) Audience(ctx context.Context, workspaceID, id int64, version int) (*geopulse.Audience, error) {
	q := `SELECT id, version, name, criteria, created_at, created_by FROM audiences
		WHERE workspace_id = ? AND id = ? ORDER BY version DESC LIMIT 1`
	args := []any{workspaceID, id}
	if version > 0 {
		q = `SELECT id, version, name, criteria, created_at, created_by FROM audiences
			WHERE workspace_id = ? AND id = ? AND version = ?`
		args = append(args, version)
	}
	list, err := db.scanAudiences(ctx, workspaceID, q, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Audience %d not found.", id)
	}
	return list[0], nil
}

// Audiences lists the latest version of each audience of the workspace.
func (db *DB) Audiences(ctx context.Context, workspaceID int64) ([]*geopulse.Audience, error) {
	return db.scanAudiences(ctx, workspaceID, `SELECT id, version, name, criteria, created_at, created_by
		FROM audiences WHERE workspace_id = ? QUALIFY version = max(version) OVER (PARTITION BY id) ORDER BY id`, workspaceID)
}

func (db *DB) scanAudiences(ctx context.Context, workspaceID int64, q string, args ...any) ([]*geopulse.Audience, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audiences: %w", err)
	}
	defer rows.Close()
	var out []*geopulse.Audience
	for rows.Next() {
		a := &geopulse.Audience{WorkspaceID: workspaceID}
		var crit string
		if err := rows.Scan(&a.ID, &a.Version, &a.Name, &crit, &a.CreatedAt, &a.CreatedBy); err != nil {
			return nil, fmt.Errorf("audiences: %w", err)
		}
		if err := json.Unmarshal([]byte(crit), &a.Criteria); err != nil {
			return nil, fmt.Errorf("audience %d: %w", a.ID, err)
		}
		a.CreatedAt = a.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAudience removes every version of an audience.
func (db *DB) DeleteAudience(ctx context.Context, workspaceID, id int64) error {
	return db.write(ctx, func(c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `DELETE FROM audiences WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return fmt.Errorf("delete audience: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Audience %d not found.", id)
		}
		return nil
	})
}

// sensitiveCond is true for a place (aliased p) that is sensitive: marked
// so, or of a category on the deny list (equal, or an OSM key alone
// matching any of its values).
const sensitiveCond = `(p.sensitive OR ` + sensitiveCategory + `)`

// sensitiveCategory is true for a place (aliased p) whose category is on
// the deny list.
const sensitiveCategory = `EXISTS (SELECT 1 FROM sensitive_categories s
	WHERE lower(p.category) = s.category OR starts_with(lower(p.category), s.category || '='))`

// audiencePlaces returns the workspace's places and the ids of every
// sensitive place of any workspace: posts there are left out everywhere.
func (db *DB) audiencePlaces(ctx context.Context, workspaceID int64) (ws []geopulse.AudiencePlace, sensitive []int64, err error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT p.id, p.workspace_id, p.name, p.category, p.groups, `+sensitiveCond+`,
		coalesce(p.center_lat, (p.min_lat + p.max_lat) / 2), coalesce(p.center_lon, (p.min_lon + p.max_lon) / 2)
		FROM places p WHERE p.workspace_id = ? OR `+sensitiveCond+` ORDER BY p.id`, workspaceID)
	if err != nil {
		return nil, nil, fmt.Errorf("audience places: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p      geopulse.AudiencePlace
			wsID   int64
			groups any
		)
		if err := rows.Scan(&p.ID, &wsID, &p.Name, &p.Category, &groups, &p.Sensitive, &p.Lat, &p.Lon); err != nil {
			return nil, nil, fmt.Errorf("audience places: %w", err)
		}
		p.Groups = toStrings(groups)
		if p.Sensitive {
			sensitive = append(sensitive, p.ID)
		}
		if wsID == workspaceID {
			ws = append(ws, p)
		}
	}
	return ws, sensitive, rows.Err()
}

// compiled is an audience ready to run: the SQL selecting its authors,
// and the visit condition over post_places its statistics reuse.
type compiled struct {
	authors  string // SELECT author_id ...
	visits   string // condition over post_places: the selected places, window and hours
	all      string // the same over every non-sensitive place of the workspace, in the window
	before   string // the selected places, before the window
	from, to time.Time
	places   []geopulse.AudiencePlace // the selected places
	wsPlaces []geopulse.AudiencePlace // every non-sensitive place of the workspace
}

// compile turns criteria into SQL. depth bounds Exclude chains (and
// catches cycles).
func (db *DB) compile(ctx context.Context, q geopulse.AudienceQuery, depth int) (*compiled, error) {
	c := q.Criteria
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	if q.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	places, sensitive, err := db.audiencePlaces(ctx, q.WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := &compiled{}
	out.from, out.to = c.Window(q.Now)
	if err := validRange(out.from, out.to); err != nil {
		return nil, err
	}
	if out.places, out.wsPlaces, err = c.SelectPlaces(places); err != nil {
		return nil, err
	}
	ids := func(ps []geopulse.AudiencePlace) string {
		if len(ps) == 0 {
			return `place_id IS NULL` // selects nothing
		}
		s := make([]int64, len(ps))
		for i, p := range ps {
			s[i] = p.ID
		}
		return `place_id IN (` + sqlInts(s) + `)`
	}
	// Expired stories count in analytics, never towards a person: their
	// rows are left out, as are posts also at a sensitive place.
	notSensitive := ` AND NOT expired`
	if len(sensitive) > 0 {
		notSensitive += ` AND post_id NOT IN (SELECT post_id FROM post_places WHERE place_id IN (` + sqlInts(sensitive) + `))`
	}
	window := timeCond(out.from, out.to)
	slots := ``
	if len(c.Hours) > 0 {
		slots += ` AND hour(taken_at) IN (` + sqlInts(toInt64s(c.Hours)) + `)`
	}
	if len(c.Weekdays) > 0 {
		slots += ` AND isodow(taken_at) IN (` + sqlInts(toInt64s(c.Weekdays)) + `)`
	}
	out.visits = ids(out.places) + ` AND ` + window + slots + notSensitive
	out.all = ids(out.wsPlaces) + ` AND ` + window + notSensitive
	out.before = ids(out.places) + ` AND taken_at < ` + sqlTime(out.from) + notSensitive

	base := `SELECT DISTINCT author_id FROM post_places WHERE ` + out.visits
	if c.MinPosts > 1 {
		base = fmt.Sprintf(`SELECT author_id FROM post_places WHERE %s GROUP BY author_id HAVING count(DISTINCT post_id) >= %d`, out.visits, c.MinPosts)
	}
	var where []string
	has := func(kind string, terms []string) {
		if len(terms) > 0 {
			where = append(where, `author_id IN (SELECT author_id FROM author_terms WHERE kind = '`+kind+`' AND term IN (`+sqlStrings(terms)+`) AND `+hasTerm(q.Now)+`)`)
		}
	}
	has(geopulse.ProfileInterest, c.Interests)
	has(geopulse.ProfileBrand, c.Brands)
	has(geopulse.ProfileLanguage, c.Languages)
	if f := c.Followers; f != nil {
		cond := fmt.Sprintf(`followers >= %d`, f.Min)
		if f.Max > 0 {
			cond += fmt.Sprintf(` AND followers <= %d`, f.Max)
		}
		where = append(where, `author_id IN (SELECT id FROM authors WHERE `+cond+`)`)
	}
	for _, id := range c.Exclude {
		if depth >= geopulse.MaxExcludeDepth {
			return nil, geopulse.Errorf(geopulse.EINVALID, "Audiences exclude each other too deeply (or in a cycle).")
		}
		ex, err := db.Audience(ctx, q.WorkspaceID, id, 0)
		if err != nil {
			return nil, err
		}
		sub, err := db.compile(ctx, geopulse.AudienceQuery{WorkspaceID: q.WorkspaceID, Criteria: ex.Criteria, Now: q.Now}, depth+1)
		if err != nil {
			return nil, fmt.Errorf("excluded audience %d: %w", id, err)
		}
		where = append(where, `author_id NOT IN (`+sub.authors+`)`)
	}
	out.authors = base
	if len(where) > 0 {
		out.authors = `SELECT author_id FROM (` + base + `) WHERE ` + strings.Join(where, ` AND `)
	}
	return out, nil
}

// hasTerm is true for an author_terms row whose recency-weighted score,
// decayed from updated_at to now, reaches geopulse.ProfileMinScore.
func hasTerm(now time.Time) string {
	return fmt.Sprintf(`score * pow(0.5, date_diff('second', updated_at, %s) / %d) >= %g`,
		sqlTime(now), int64(geopulse.ProfileHalfLife/time.Second), geopulse.ProfileMinScore)
}

// withAudience materialises the audience's authors in a temporary table,
// aud, on one connection, and runs f there.
func (db *DB) withAudience(ctx context.Context, q geopulse.AudienceQuery, f func(c *sql.Conn, a *compiled) error) error {
	a, err := db.compile(ctx, q, 0)
	if err != nil {
		return err
	}
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("audience: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE aud AS `+a.authors); err != nil {
		return fmt.Errorf("audience: %w", err)
	}
	defer c.ExecContext(context.Background(), `DROP TABLE IF EXISTS aud`)
	return f(c, a)
}

const inAud = `author_id IN (SELECT author_id FROM aud)`

// AudienceSize counts the audience's distinct authors.
func (db *DB) AudienceSize(ctx context.Context, q geopulse.AudienceQuery) (int64, error) {
	a, err := db.compile(ctx, q, 0)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM (`+a.authors+`)`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audience size: %w", err)
	}
	return n, nil
}

// AudienceStats computes the audience's composition.
func (db *DB) AudienceStats(ctx context.Context, q geopulse.AudienceQuery, limit int) (*geopulse.AudienceStats, error) {
	if limit <= 0 || limit > maxTopLimit {
		limit = defaultTopLimit
	}
	out := &geopulse.AudienceStats{}
	err := db.withAudience(ctx, q, func(c *sql.Conn, a *compiled) error {
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM aud`).Scan(&out.Authors); err != nil {
			return err
		}
		if out.Authors == 0 {
			return nil
		}
		if err := c.QueryRowContext(ctx, `SELECT count(DISTINCT author_id) FROM post_places WHERE `+a.before+` AND `+inAud).Scan(&out.Returning); err != nil {
			return err
		}
		out.New = out.Authors - out.Returning
		// Profile terms: one scan of the audience's rows.
		rows, err := c.QueryContext(ctx, `SELECT kind, term, count(*) FROM author_terms
			WHERE `+inAud+` AND kind IN ('interest', 'brand', 'category', 'language', 'home') AND `+hasTermOrHome(q.Now)+`
			GROUP BY kind, term`)
		if err != nil {
			return err
		}
		terms := map[string][]geopulse.TermAuthors{}
		for rows.Next() {
			var (
				kind string
				t    geopulse.TermAuthors
			)
			if err := rows.Scan(&kind, &t.Term, &t.Authors); err != nil {
				rows.Close()
				return err
			}
			terms[kind] = append(terms[kind], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		out.Interests = topAuthors(terms[geopulse.ProfileInterest], limit)
		out.Brands = topAuthors(terms[geopulse.ProfileBrand], limit)
		out.Categories = topAuthors(terms[geopulse.ProfileCategory], limit)
		out.Languages = topAuthors(terms[geopulse.ProfileLanguage], limit)
		for _, t := range topAuthors(terms[geopulse.ProfileHome], limit) {
			lat, lon, ok := parseHome(t.Term)
			if ok {
				out.Homes = append(out.Homes, geopulse.AreaAuthors{Lat: lat, Lon: lon, Authors: t.Authors})
			}
		}

		names := map[int64]string{}
		for _, p := range a.wsPlaces {
			names[p.ID] = p.Name
		}
		rows, err = c.QueryContext(ctx, `SELECT place_id, count(DISTINCT author_id) FROM post_places WHERE `+a.all+` AND `+inAud+` GROUP BY place_id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p geopulse.PlaceAuthors
			if err := rows.Scan(&p.PlaceID, &p.Authors); err != nil {
				rows.Close()
				return err
			}
			p.Name = names[p.PlaceID]
			out.Places = append(out.Places, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortFunc(out.Places, func(x, y geopulse.PlaceAuthors) int {
			return cmp.Or(cmp.Compare(y.Authors, x.Authors), cmp.Compare(x.PlaceID, y.PlaceID))
		})
		out.Places = out.Places[:min(limit, len(out.Places))]

		if out.HourOfWeek, err = slotAuthors(ctx, c, `NULL`, a.visits); err != nil {
			return err
		}
		rows, err = c.QueryContext(ctx, `SELECT CASE `+followerCases()+` END AS b, count(*) FROM authors WHERE id IN (SELECT author_id FROM aud) GROUP BY b ORDER BY b`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				b int
				n int64
			)
			if err := rows.Scan(&b, &n); err != nil {
				rows.Close()
				return err
			}
			out.Followers = append(out.Followers, geopulse.FollowerBucket{Span: geopulse.FollowerBuckets[b], Authors: n})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = c.QueryContext(ctx, `SELECT date_trunc('week', taken_at) AS w, count(DISTINCT author_id) FROM post_places
			WHERE `+a.visits+` AND `+inAud+` GROUP BY w ORDER BY w`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w geopulse.WeekAuthors
			if err := rows.Scan(&w.Week, &w.Authors); err != nil {
				return err
			}
			w.Week = w.Week.UTC()
			out.Trend = append(out.Trend, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("audience stats: %w", err)
	}
	return out, nil
}

// hasTermOrHome keeps the terms an author has, and its home (one row).
func hasTermOrHome(now time.Time) string {
	return `(kind = 'home' OR ` + hasTerm(now) + `)`
}

// followerCases maps followers to the index of its geopulse.FollowerBuckets.
func followerCases() string {
	var b strings.Builder
	for i, s := range geopulse.FollowerBuckets {
		if s.Max == 0 {
			fmt.Fprintf(&b, ` ELSE %d`, i)
			break
		}
		fmt.Fprintf(&b, ` WHEN followers <= %d THEN %d`, s.Max, i)
	}
	return b.String()
}

func topAuthors(ts []geopulse.TermAuthors, limit int) []geopulse.TermAuthors {
	slices.SortFunc(ts, func(a, b geopulse.TermAuthors) int {
		return cmp.Or(cmp.Compare(b.Authors, a.Authors), strings.Compare(a.Term, b.Term))
	})
	return ts[:min(limit, len(ts))]
}

// slotAuthors counts the audience's authors per (place, weekday, hour).
// place is the place column, or NULL for every place together.
func slotAuthors(ctx context.Context, c *sql.Conn, place, cond string) ([]geopulse.SlotAuthors, error) {
	rows, err := c.QueryContext(ctx, `SELECT `+place+` AS p, isodow(taken_at) AS d, hour(taken_at) AS h, count(DISTINCT author_id)
		FROM post_places WHERE `+cond+` AND `+inAud+` GROUP BY p, d, h ORDER BY p, d, h`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []geopulse.SlotAuthors
	for rows.Next() {
		var (
			s geopulse.SlotAuthors
			p sql.NullInt64
		)
		if err := rows.Scan(&p, &s.Weekday, &s.Hour, &s.Authors); err != nil {
			return nil, err
		}
		s.PlaceID = p.Int64
		out = append(out, s)
	}
	return out, rows.Err()
}

// CrossVisits counts, for each pair of the given places, the audience's
// authors who posted at both in the window.
func (db *DB) CrossVisits(ctx context.Context, q geopulse.AudienceQuery, placeIDs []int64) ([][]int64, error) {
	if len(placeIDs) == 0 || len(placeIDs) > 100 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Cross-visitation needs 1 to 100 places.")
	}
	out := make([][]int64, len(placeIDs))
	for i := range out {
		out[i] = make([]int64, len(placeIDs))
	}
	err := db.withAudience(ctx, q, func(c *sql.Conn, a *compiled) error {
		at := map[int64]int{}
		for i, id := range placeIDs {
			if !slices.ContainsFunc(a.wsPlaces, func(p geopulse.AudiencePlace) bool { return p.ID == id }) {
				return geopulse.Errorf(geopulse.ENOTFOUND, "Place %d not found (or sensitive).", id)
			}
			at[id] = i
		}
		cond := strings.Replace(a.all, `place_id IN (`, `place_id IN (`+sqlInts(placeIDs)+`) AND place_id IN (`, 1)
		rows, err := c.QueryContext(ctx, `WITH v AS (SELECT DISTINCT place_id, author_id FROM post_places WHERE `+cond+` AND `+inAud+`)
			SELECT x.place_id, y.place_id, count(*) FROM v x JOIN v y ON x.author_id = y.author_id GROUP BY ALL`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				x, y int64
				n    int64
			)
			if err := rows.Scan(&x, &y, &n); err != nil {
				return err
			}
			out[at[x]][at[y]] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("cross visits: %w", err)
	}
	return out, nil
}

// AudienceSlots counts the audience's authors per (place, hour of week)
// at the selected places.
func (db *DB) AudienceSlots(ctx context.Context, q geopulse.AudienceQuery) ([]geopulse.SlotAuthors, error) {
	var out []geopulse.SlotAuthors
	err := db.withAudience(ctx, q, func(c *sql.Conn, a *compiled) (err error) {
		out, err = slotAuthors(ctx, c, `place_id`, a.visits)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audience slots: %w", err)
	}
	return out, nil
}

// AudienceInfluencers lists the audience's public authors with at least
// minFollowers, by followers, with their posts at the selected places.
func (db *DB) AudienceInfluencers(ctx context.Context, q geopulse.AudienceQuery, minFollowers int64, limit int) ([]geopulse.Influencer, error) {
	if limit <= 0 || limit > maxTopLimit {
		limit = defaultTopLimit
	}
	var out []geopulse.Influencer
	err := db.withAudience(ctx, q, func(c *sql.Conn, a *compiled) error {
		rows, err := c.QueryContext(ctx, fmt.Sprintf(`WITH
			top AS (SELECT id, followers, card FROM authors WHERE id IN (SELECT author_id FROM aud) AND NOT private AND followers >= %d
				ORDER BY followers DESC, id LIMIT %d),
			n AS (SELECT author_id, count(DISTINCT post_id) AS n FROM post_places WHERE %s AND author_id IN (SELECT id FROM top) GROUP BY author_id)
			SELECT top.id, top.card, coalesce(n.n, 0) FROM top LEFT JOIN n ON n.author_id = top.id ORDER BY top.followers DESC, top.id`,
			minFollowers, limit, a.visits))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				in   geopulse.Influencer
				card string
			)
			if err := rows.Scan(&in.Author.ID, &card, &in.Posts); err != nil {
				return err
			}
			if err := decodeCard(&in.Author, card); err != nil {
				return err
			}
			out = append(out, in)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("influencers: %w", err)
	}
	return out, nil
}

// FootTraffic computes visit metrics per place over [from, to).
func (db *DB) FootTraffic(ctx context.Context, workspaceID int64, placeIDs []int64, from, to time.Time) ([]geopulse.PlaceTraffic, error) {
	if err := validRange(from, to); err != nil {
		return nil, err
	}
	places, sensitive, err := db.audiencePlaces(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	sel, _, err := (&geopulse.AudienceCriteria{Places: placeIDs}).SelectPlaces(places)
	if err != nil {
		return nil, err
	}
	if len(sel) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(sel))
	var centres strings.Builder
	for i, p := range sel {
		ids[i] = p.ID
		if i > 0 {
			centres.WriteString(", ")
		}
		fmt.Fprintf(&centres, "(%d, %g, %g)", p.ID, p.Lat, p.Lon)
	}
	cond := `place_id IN (` + sqlInts(ids) + `) AND NOT expired`
	if t := timeCond(from, to); t != "" {
		cond += ` AND ` + t
	}
	if len(sensitive) > 0 {
		cond += ` AND post_id NOT IN (SELECT post_id FROM post_places WHERE place_id IN (` + sqlInts(sensitive) + `))`
	}
	rows, err := db.sql.QueryContext(ctx, fmt.Sprintf(`WITH
		m AS (SELECT DISTINCT place_id, author_id, taken_at FROM post_places WHERE %s),
		s AS (SELECT place_id, author_id, taken_at,
			CASE WHEN taken_at - lag(taken_at) OVER w <= INTERVAL %d SECOND THEN 0 ELSE 1 END AS start
			FROM m WINDOW w AS (PARTITION BY place_id, author_id ORDER BY taken_at)),
		n AS (SELECT place_id, author_id, taken_at, sum(start) OVER (PARTITION BY place_id, author_id ORDER BY taken_at ROWS UNBOUNDED PRECEDING) AS visit FROM s),
		v AS (SELECT place_id, author_id, count(*) AS posts, date_diff('second', min(taken_at), max(taken_at)) AS dwell FROM n GROUP BY place_id, author_id, visit),
		pa AS (SELECT place_id, author_id, count(*) AS visits FROM v GROUP BY place_id, author_id),
		c (place_id, lat, lon) AS (VALUES %s),
		home AS (SELECT author_id, CAST(split_part(term, ',', 1) AS DOUBLE) AS lat, CAST(split_part(term, ',', 2) AS DOUBLE) AS lon
			FROM author_terms WHERE kind = 'home' AND author_id IN (SELECT author_id FROM pa)),
		far AS (SELECT pa.place_id, count(*) AS n FROM pa JOIN home h ON h.author_id = pa.author_id JOIN c ON c.place_id = pa.place_id
			WHERE 2 * 6371 * asin(sqrt(pow(sin(radians(h.lat - c.lat) / 2), 2) + cos(radians(c.lat)) * cos(radians(h.lat)) * pow(sin(radians(h.lon - c.lon) / 2), 2))) > %d
			GROUP BY pa.place_id),
		pv AS (SELECT place_id, count(*) AS visits, count(*) FILTER (WHERE posts > 1) AS dwell_visits,
			coalesce(median(dwell) FILTER (WHERE posts > 1), 0) AS dwell FROM v GROUP BY place_id),
		pp AS (SELECT place_id, count(*) AS posters, count(*) FILTER (WHERE visits > 1) AS repeaters FROM pa GROUP BY place_id)
		SELECT pp.place_id, pp.posters, pp.repeaters, pv.visits, pv.dwell_visits, pv.dwell, coalesce(far.n, 0)
		FROM pp JOIN pv ON pv.place_id = pp.place_id LEFT JOIN far ON far.place_id = pp.place_id ORDER BY pp.place_id`,
		cond, int64(geopulse.VisitGap/time.Second), centres.String(), geopulse.OutOfTownKm))
	if err != nil {
		return nil, fmt.Errorf("foot traffic: %w", err)
	}
	defer rows.Close()
	names := map[int64]string{}
	for _, p := range sel {
		names[p.ID] = p.Name
	}
	var out []geopulse.PlaceTraffic
	for rows.Next() {
		var t geopulse.PlaceTraffic
		if err := rows.Scan(&t.PlaceID, &t.Posters, &t.Repeaters, &t.Visits, &t.DwellVisits, &t.DwellSeconds, &t.OutOfTown); err != nil {
			return nil, fmt.Errorf("foot traffic: %w", err)
		}
		t.Name = names[t.PlaceID]
		out = append(out, t)
	}
	return out, rows.Err()
}

// queueAuthorsOf queues for a profile refresh the authors of the rows a
// query selects (it must have an author_id column), on the writer
// connection, before the rows change.
func queueAuthorsOf(ctx context.Context, c *sql.Conn, query string, args ...any) error {
	_, err := c.ExecContext(ctx, `INSERT INTO profile_queue SELECT author_id, nextval('profile_queue_seq')
		FROM (SELECT DISTINCT author_id FROM (`+query+`))`, args...)
	return err
}

// queueProfiles appends authors to profile_queue on the writer
// connection, with one seq for the batch.
func queueProfiles(ctx context.Context, c *sql.Conn, authorIDs []int64) error {
	var seq int64
	if err := c.QueryRowContext(ctx, `SELECT nextval('profile_queue_seq')`).Scan(&seq); err != nil {
		return err
	}
	return withAppender(c, "", "profile_queue", func(a *duckdb.Appender) error {
		for _, id := range authorIDs {
			if err := a.AppendRow(id, seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// profileChunk bounds how many authors one refresh round recomputes.
const profileChunk = 50_000

// RefreshProfiles recomputes queued profiles (or every author's, in
// chunks, when all is set) from the authors' posts: every term of a
// refreshed author is replaced, so deletions and erasures leave nothing.
//
// A round has two phases. The costly one reads: on a connection of its
// own, in one transaction, it takes the queue up to its highest seq S,
// recomputes those authors' rows from that snapshot and stages them
// (profile_stage, which nothing else writes), while ingest goes on. The
// swap then runs on the writer, under its lock: the authors' rows are
// replaced by the staged ones, but only for authors still stored (an
// erasure committed meanwhile wins), and their queue rows up to S are
// removed (an author queued again meanwhile, e.g. for a post deleted
// after the snapshot, stays queued). refreshMu keeps rounds one at a time.
func (db *DB) RefreshProfiles(ctx context.Context, now time.Time, limit int, all bool) (int, error) {
	db.refreshMu.Lock()
	defer db.refreshMu.Unlock()
	if limit <= 0 {
		limit = math.MaxInt // everything queued, or every author
	}
	now = now.UTC()
	var (
		total  int
		cursor int64 // the last author refreshed, when all
	)
	for {
		n, seq, last, err := db.stageProfiles(ctx, now, min(limit-total, profileChunk), all, cursor)
		if err == nil && n > 0 {
			err = db.swapProfiles(ctx, seq)
		}
		if err != nil {
			return total, fmt.Errorf("refresh profiles: %w", err)
		}
		total, cursor = total+n, last
		if n == 0 || (!all && total >= limit) {
			return total, nil
		}
	}
}

// swapProfiles is the writing phase of a refresh round, under the
// writer's lock: the staged authors' rows are replaced (for authors still
// stored) and their queue rows up to seq removed. The next round's
// staging clears the stage, outside the lock.
func (db *DB) swapProfiles(ctx context.Context, seq int64) error {
	return db.write(ctx, func(c *sql.Conn) error {
		for _, stmt := range []string{
			`DELETE FROM author_terms WHERE author_id IN (SELECT author_id FROM profile_stage_ids)`,
			`INSERT INTO author_terms SELECT * FROM profile_stage WHERE author_id IN (SELECT id FROM authors)`,
			// An erasure clears the stage too, but a round that staged
			// before it may commit after it: its rows of erased authors go.
			`DELETE FROM profile_stage WHERE author_id NOT IN (SELECT id FROM authors)`,
			fmt.Sprintf(`DELETE FROM profile_queue WHERE seq <= %d AND author_id IN (SELECT author_id FROM profile_stage_ids)`, seq),
		} {
			if _, err := c.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// stageProfiles is the reading phase of a refresh round: it stages the
// recomputed rows of up to limit authors (queued ones, or when all is set
// the next ones after cursor) and returns how many authors, the queue's
// highest seq it saw, and the last author id.
func (db *DB) stageProfiles(ctx context.Context, now time.Time, limit int, all bool, cursor int64) (n int, seq, last int64, err error) {
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return 0, 0, 0, err
	}
	defer c.ExecContext(context.Background(), `ROLLBACK`) // after a COMMIT: a no-op error
	if err := c.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM profile_queue`).Scan(&seq); err != nil {
		return 0, 0, 0, err
	}
	src := fmt.Sprintf(`SELECT DISTINCT author_id FROM profile_queue WHERE seq <= %d ORDER BY author_id LIMIT %d`, seq, limit)
	if all {
		src = fmt.Sprintf(`SELECT id AS author_id FROM authors WHERE id > %d ORDER BY id LIMIT %d`, cursor, limit)
	}
	for _, stmt := range []string{
		`DELETE FROM profile_stage`, // what a crashed round left
		`DELETE FROM profile_stage_ids`,
		`INSERT INTO profile_stage_ids ` + src,
	} {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			return 0, 0, 0, err
		}
	}
	if err := c.QueryRowContext(ctx, `SELECT count(*), coalesce(max(author_id), 0) FROM profile_stage_ids`).Scan(&n, &last); err != nil || n == 0 {
		return 0, seq, cursor, err
	}
	if _, err := c.ExecContext(ctx, refreshSQL(now)); err != nil {
		return 0, 0, 0, err
	}
	if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
		return 0, 0, 0, err
	}
	return n, seq, last, nil
}

// refreshSQL stages the profiles of the authors in profile_stage_ids from
// their live posts (expired stories left out) at no sensitive place. A post weighs 0.5^(age/half-life)
// (posts from the future weigh 1); a term's score is the sum over the
// author's posts with it. The home is the HomeGridDegrees square with the
// most posts (ties: the most recent).
func refreshSQL(now time.Time) string {
	// An expired story's content is gone, and so is its part in a profile.
	// The sensitive places are read in the refresh's own snapshot, the one
	// its queue was read in: a deny-list change queues its authors, and
	// their refresh must see the new list.
	notSensitive := ` AND NOT expired AND id NOT IN (SELECT post_id FROM post_places WHERE place_id IN (SELECT p.id FROM places p WHERE ` + sensitiveCond + `))`
	hl := int64(geopulse.ProfileHalfLife / time.Second)
	t := sqlTime(now)
	return fmt.Sprintf(`INSERT INTO profile_stage
	WITH p AS MATERIALIZED (SELECT id, author_id, taken_at, lat, lon, doc,
			least(1, pow(0.5, date_diff('second', taken_at, %[1]s) / %[2]d)) AS wt
		FROM posts WHERE author_id IN (SELECT author_id FROM profile_stage_ids)%[3]s),
	l AS (SELECT DISTINCT post_id, kind, name FROM post_labels
		WHERE kind IN ('interest', 'brand') AND post_id IN (SELECT id FROM p)),
	c AS (SELECT DISTINCT m.post_id, lower(pl.category) AS category FROM post_places m JOIN places pl ON pl.id = m.place_id
		WHERE m.post_id IN (SELECT id FROM p) AND pl.category <> ''),
	terms AS (
		SELECT p.author_id, l.kind, l.name AS term, p.wt, p.taken_at FROM p JOIN l ON l.post_id = p.id
		UNION ALL SELECT p.author_id, 'category', c.category, p.wt, p.taken_at FROM p JOIN c ON c.post_id = p.id
		UNION ALL SELECT author_id, 'language', json_extract_string(doc, '$.language'), wt, taken_at FROM p
			WHERE json_extract_string(doc, '$.language') <> ''
		UNION ALL SELECT author_id, 'how', CAST((isodow(taken_at) - 1) * 24 + hour(taken_at) AS VARCHAR), wt, taken_at FROM p),
	homes AS (SELECT author_id, printf('%%.1f,%%.1f', round(lat * 10) / 10, round(lon * 10) / 10) AS term,
			sum(wt) AS score, count(*) AS posts, max(taken_at) AS last_at FROM p GROUP BY ALL)
	SELECT author_id, kind, term, sum(wt), count(*), max(taken_at), %[1]s FROM terms GROUP BY author_id, kind, term
	UNION ALL SELECT author_id, 'home', h.t, h.s, h.p, h.l, %[1]s FROM (
		SELECT author_id, arg_max({'t': term, 's': score, 'p': posts, 'l': last_at}, (posts, last_at, term)) AS h
		FROM homes GROUP BY author_id)`, t, hl, notSensitive)
}

// AuthorProfile returns an author's profile terms, by kind and score.
func (db *DB) AuthorProfile(ctx context.Context, authorID int64) ([]geopulse.ProfileTerm, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT kind, term, score, posts, last_at, updated_at FROM author_terms
		WHERE author_id = ? ORDER BY kind, score DESC, term`, authorID)
	if err != nil {
		return nil, fmt.Errorf("author profile: %w", err)
	}
	defer rows.Close()
	var out []geopulse.ProfileTerm
	for rows.Next() {
		var t geopulse.ProfileTerm
		if err := rows.Scan(&t.Kind, &t.Term, &t.Score, &t.Posts, &t.LastAt, &t.UpdatedAt); err != nil {
			return nil, fmt.Errorf("author profile: %w", err)
		}
		t.LastAt, t.UpdatedAt = t.LastAt.UTC(), t.UpdatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// parseHome reads a home term "lat,lon".
func parseHome(s string) (lat, lon float64, ok bool) {
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(a, 64)
	lon, err2 := strconv.ParseFloat(b, 64)
	return lat, lon, errors.Join(err1, err2) == nil && !math.IsNaN(lat) && !math.IsNaN(lon)
}

// sqlStrings renders validated strings as a quoted list for IN (...)
// (criteria are valid UTF-8 without NUL, AudienceCriteria.Normalize).
func sqlStrings(ss []string) string {
	quoted := make([]string, len(ss))
	for i, s := range ss {
		quoted[i] = sqlString(s)
	}
	return strings.Join(quoted, ",")
}

func toInt64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// SensitiveCategories returns the deny list, sorted.
func (db *DB) SensitiveCategories(ctx context.Context) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT category FROM sensitive_categories ORDER BY category`)
	if err != nil {
		return nil, fmt.Errorf("sensitive categories: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("sensitive categories: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetSensitiveCategories replaces the deny list and queues the authors of
// every place whose sensitivity it changes.
func (db *DB) SetSensitiveCategories(ctx context.Context, categories []string) error {
	list, err := geopulse.NormalizeCategories(categories)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(c *sql.Conn) error {
		marked := `SELECT p.id FROM places p WHERE ` + sensitiveCategory
		if _, err := c.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE was_sensitive AS `+marked); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `DELETE FROM sensitive_categories`); err != nil {
			return err
		}
		for _, cat := range list {
			if _, err := c.ExecContext(ctx, `INSERT INTO sensitive_categories VALUES (?)`, cat); err != nil {
				return err
			}
		}
		return queueAuthorsOf(ctx, c, `SELECT author_id FROM post_places WHERE place_id IN (
			(SELECT id FROM was_sensitive EXCEPT `+marked+`) UNION (`+marked+` EXCEPT SELECT id FROM was_sensitive))`)
	})
	if err != nil {
		return fmt.Errorf("set sensitive categories: %w", err)
	}
	return nil
}
