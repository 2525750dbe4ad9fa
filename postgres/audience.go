package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

var _ geopulse.AudienceStore = (*DB)(nil)

// Audiences are compiled to SQL over the match table (who posted where
// and when) and author_terms (profiles), as in the embedded store. The
// audience's authors are materialised once per request in a temporary
// table, aud, dropped at commit: a temporary table lives on one
// connection, so every statement that reads it runs in that one
// transaction (repeatable read, so that the statistics of one request
// agree with each other).
//
// Ids, times and counts are validated and typed, so they are inlined and
// the statements run unprepared (pgx.QueryExecModeExec): PostgreSQL plans
// each for its values (how many places, how long a window, how big the
// audience), which the generic plans the pool prefers cannot do. Text
// from users (interests, brands, languages) always goes as a parameter.

// exec runs a statement unprepared (see above).
const exec = pgx.QueryExecModeExec

// SaveAudience stores a new version of a. ID 0 creates the audience.
// ENOTFOUND when the id is not one of the workspace's audiences.
func (db *DB) SaveAudience(ctx context.Context, a *geopulse.Audience) error {
	if err := a.Validate(); err != nil {
		return err
	}
	crit, err := json.Marshal(a.Criteria)
	if err != nil {
		return fmt.Errorf("save audience: %w", err)
	}
	now := db.nowUTC()
	if a.ID == 0 {
		var id int64
		err := db.pool.QueryRow(ctx, `INSERT INTO audiences (id, version, workspace_id, name, criteria, created_at, created_by)
			VALUES (nextval('audiences_id_seq'), 1, $1, $2, $3, $4, $5) RETURNING id`,
			a.WorkspaceID, a.Name, string(crit), now, a.CreatedBy).Scan(&id)
		if err != nil {
			return fmt.Errorf("save audience: %w", err)
		}
		a.ID, a.Version, a.CreatedAt = id, 1, now
		return nil
	}
	// Savers of one audience queue on its first version's row (never
	// deleted alone), so that each computes its version after the
	// previous one committed.
	var v int
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM audiences WHERE id = $1 AND workspace_id = $2 AND version = 1 FOR UPDATE`,
			a.ID, a.WorkspaceID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Audience %d not found.", a.ID)
		} else if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO audiences (id, version, workspace_id, name, criteria, created_at, created_by)
			SELECT $1, max(version) + 1, $2, $3, $4, $5, $6 FROM audiences WHERE id = $1 RETURNING version`,
			a.ID, a.WorkspaceID, a.Name, string(crit), now, a.CreatedBy).Scan(&v)
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("save audience: %w", err)
	}
	a.Version, a.CreatedAt = v, now
	return nil
}

// Audience returns a version of an audience (0: the latest).
func (db *DB) Audience(ctx context.Context, workspaceID, id int64, version int) (*geopulse.Audience, error) {
	q := `SELECT id, version, name, criteria, created_at, created_by FROM audiences
		WHERE workspace_id = $1 AND id = $2 ORDER BY version DESC LIMIT 1`
	args := []any{workspaceID, id}
	if version > 0 {
		q = `SELECT id, version, name, criteria, created_at, created_by FROM audiences
			WHERE workspace_id = $1 AND id = $2 AND version = $3`
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
	return db.scanAudiences(ctx, workspaceID, `SELECT DISTINCT ON (id) id, version, name, criteria, created_at, created_by
		FROM audiences WHERE workspace_id = $1 ORDER BY id, version DESC`, workspaceID)
}

func (db *DB) scanAudiences(ctx context.Context, workspaceID int64, q string, args ...any) ([]*geopulse.Audience, error) {
	rows, err := db.pool.Query(ctx, q, args...)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audiences: %w", err)
	}
	return out, nil
}

// DeleteAudience removes every version of an audience.
func (db *DB) DeleteAudience(ctx context.Context, workspaceID, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM audiences WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("delete audience: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return geopulse.Errorf(geopulse.ENOTFOUND, "Audience %d not found.", id)
	}
	return nil
}

// sensitivePlace is true for a place (of the table places, unaliased)
// that is sensitive: marked so, or of a category on the deny list.
const sensitivePlace = `(places.sensitive OR ` + sensitiveCategory + `)`

// sensitiveIDs selects every sensitive place of any workspace without
// reading every place: the marked ones from places_sensitive, those of a
// denied category (sensitiveByCategory) from places_category.
const sensitiveIDs = `SELECT id FROM places WHERE sensitive UNION ` + sensitiveByCategory

// sensitiveByCategory selects the places of a denied category, one range
// of places_category per entry of the deny list: a category equal to an
// entry e, or starting with e || '=', lies in [e, e || '>') in byte order
// ('>' follows '='); the range is then checked exactly.
const sensitiveByCategory = `SELECT p.id FROM sensitive_categories s JOIN places p
	ON lower(p.category) COLLATE "C" >= s.category AND lower(p.category) COLLATE "C" < s.category || '>'
	AND (lower(p.category) = s.category OR starts_with(lower(p.category), s.category || '='))`

// audiencePlaces returns the workspace's places and the ids of every
// sensitive place of any workspace: posts there are left out everywhere.
func audiencePlaces(ctx context.Context, q querier, workspaceID int64) (ws []geopulse.AudiencePlace, sensitive []int64, err error) {
	rows, err := q.Query(ctx, `SELECT id, workspace_id, name, category, groups, `+sensitivePlace+`,
			coalesce(center_lat, (min_lat + max_lat) / 2), coalesce(center_lon, (min_lon + max_lon) / 2)
		FROM places WHERE workspace_id = $1
		UNION ALL SELECT id, workspace_id, '', '', '{}', true, 0, 0 FROM places
		WHERE workspace_id <> $1 AND id IN (`+sensitiveIDs+`)
		ORDER BY id`, workspaceID)
	if err != nil {
		return nil, nil, fmt.Errorf("audience places: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p    geopulse.AudiencePlace
			wsID int64
		)
		if err := rows.Scan(&p.ID, &wsID, &p.Name, &p.Category, &p.Groups, &p.Sensitive, &p.Lat, &p.Lon); err != nil {
			return nil, nil, fmt.Errorf("audience places: %w", err)
		}
		if p.Sensitive {
			sensitive = append(sensitive, p.ID)
		}
		if wsID == workspaceID {
			ws = append(ws, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("audience places: %w", err)
	}
	return ws, sensitive, nil
}

// compiled is an audience ready to run: the SQL selecting its authors,
// and the conditions over post_places (aliased m) its statistics reuse.
// Only authors takes parameters (args); the conditions are literals.
type compiled struct {
	authors  string // SELECT author_id ...
	args     *sqlArgs
	visits   string // the selected places, window and hours
	all      string // every non-sensitive place of the workspace, in the window
	before   string // the selected places, before the window
	from, to time.Time
	places   []geopulse.AudiencePlace // the selected places
	wsPlaces []geopulse.AudiencePlace // every non-sensitive place of the workspace
}

// compile turns criteria into SQL, adding its parameters to args. depth
// bounds Exclude chains (and catches cycles).
func (db *DB) compile(ctx context.Context, q geopulse.AudienceQuery, depth int, args *sqlArgs) (*compiled, error) {
	c := q.Criteria
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	if q.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	places, sensitive, err := audiencePlaces(ctx, db.pool, q.WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := &compiled{args: args}
	out.from, out.to = c.Window(q.Now)
	if err := validRange(out.from, out.to); err != nil {
		return nil, err
	}
	if out.places, out.wsPlaces, err = c.SelectPlaces(places); err != nil {
		return nil, err
	}
	ids := func(ps []geopulse.AudiencePlace) string {
		if len(ps) == 0 {
			return `false`
		}
		s := make([]int64, len(ps))
		for i, p := range ps {
			s[i] = p.ID
		}
		return `m.place_id IN (` + sqlInts(s) + `)`
	}
	// Expired stories count in analytics, never towards a person; a post
	// also at a sensitive place counts nowhere: an anti-join on
	// post_places' primary key.
	notSensitive := ` AND NOT m.expired`
	if len(sensitive) > 0 {
		notSensitive += ` AND NOT EXISTS (SELECT 1 FROM post_places s WHERE s.place_id IN (` + sqlInts(sensitive) + `)
			AND s.taken_at = m.taken_at AND s.post_id = m.post_id)`
	}
	window := `m.taken_at >= ` + sqlTime(out.from) + ` AND m.taken_at < ` + sqlTime(out.to)
	slots := ``
	if len(c.Hours) > 0 {
		slots += ` AND extract(hour FROM m.taken_at)::int IN (` + sqlInts(toInt64s(c.Hours)) + `)`
	}
	if len(c.Weekdays) > 0 {
		slots += ` AND extract(isodow FROM m.taken_at)::int IN (` + sqlInts(toInt64s(c.Weekdays)) + `)`
	}
	out.visits = ids(out.places) + ` AND ` + window + slots + notSensitive
	out.all = ids(out.wsPlaces) + ` AND ` + window + notSensitive
	out.before = ids(out.places) + ` AND m.taken_at < ` + sqlTime(out.from) + notSensitive

	base := `SELECT DISTINCT m.author_id FROM post_places m WHERE ` + out.visits
	if c.MinPosts > 1 {
		base = fmt.Sprintf(`SELECT m.author_id FROM post_places m WHERE %s GROUP BY m.author_id HAVING count(DISTINCT m.post_id) >= %d`, out.visits, c.MinPosts)
	}
	var where []string
	has := func(kind string, terms []string) {
		if len(terms) > 0 {
			where = append(where, `b.author_id IN (SELECT t.author_id FROM author_terms t WHERE t.kind = '`+kind+`' AND t.term = ANY(`+
				args.add(terms)+`::text[]) AND `+hasTerm("t.", q.Now)+`)`)
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
		where = append(where, `b.author_id IN (SELECT id FROM authors WHERE `+cond+`)`)
	}
	for _, id := range c.Exclude {
		if depth >= geopulse.MaxExcludeDepth {
			return nil, geopulse.Errorf(geopulse.EINVALID, "Audiences exclude each other too deeply (or in a cycle).")
		}
		ex, err := db.Audience(ctx, q.WorkspaceID, id, 0)
		if err != nil {
			return nil, err
		}
		sub, err := db.compile(ctx, geopulse.AudienceQuery{WorkspaceID: q.WorkspaceID, Criteria: ex.Criteria, Now: q.Now}, depth+1, args)
		if err != nil {
			return nil, fmt.Errorf("excluded audience %d: %w", id, err)
		}
		where = append(where, `b.author_id NOT IN (`+sub.authors+`)`)
	}
	out.authors = base
	if len(where) > 0 {
		out.authors = `SELECT b.author_id FROM (` + base + `) b WHERE ` + strings.Join(where, ` AND `)
	}
	return out, nil
}

// hasTerm is true for an author_terms row (columns prefixed t) whose
// recency-weighted score, decayed from updated_at to now, reaches
// geopulse.ProfileMinScore. PostgreSQL raises an error where a float
// underflows or overflows, so the decay's exponent is kept to ±64
// half-lives and scores below 1e-300 are out: neither changes an answer
// for any score a sum of post weights reaches (at most the number of
// posts).
func hasTerm(t string, now time.Time) string {
	e := fmt.Sprintf(`(date_part('epoch', %s - %supdated_at) / %d)`,
		sqlTime(now), t, int64(geopulse.ProfileHalfLife/time.Second))
	return fmt.Sprintf(`CASE WHEN %[1]sscore < 1e-300::float8 OR %[2]s > 64 THEN false
		ELSE %[1]sscore * pow(0.5::float8, greatest(%[2]s, -64)) >= %[3]s END`,
		t, e, strconv.FormatFloat(geopulse.ProfileMinScore, 'g', -1, 64))
}

// withAudience materialises the audience's authors in a temporary table,
// aud, and runs f in the transaction that sees it.
func (db *DB) withAudience(ctx context.Context, q geopulse.AudienceQuery, f func(tx pgx.Tx, a *compiled) error) error {
	a, err := db.compile(ctx, q, 0, &sqlArgs{inline: true})
	if err != nil {
		return err
	}
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		// Temporary tables are never analysed automatically; without
		// statistics the planner guesses the audience's size.
		for _, stmt := range []string{
			// Nothing durable is written: no need to wait for the WAL
			// (of the temporary table's catalog rows) at commit.
			`SET LOCAL synchronous_commit = off`,
			`CREATE TEMP TABLE aud (author_id bigint NOT NULL) ON COMMIT DROP`,
			`INSERT INTO aud ` + a.authors,
			`ANALYZE aud`,
		} {
			args := []any{exec}
			if strings.HasPrefix(stmt, "INSERT") {
				args = a.args.query()
			}
			if _, err := tx.Exec(ctx, stmt, args...); err != nil {
				return fmt.Errorf("audience: %w", err)
			}
		}
		return f(tx, a)
	})
}

const inAud = `m.author_id IN (SELECT author_id FROM aud)`

// AudienceSize counts the audience's distinct authors.
func (db *DB) AudienceSize(ctx context.Context, q geopulse.AudienceQuery) (int64, error) {
	a, err := db.compile(ctx, q, 0, &sqlArgs{inline: true})
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (`+a.authors+`) a`, a.args.query()...).Scan(&n); err != nil {
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
	err := db.withAudience(ctx, q, func(tx pgx.Tx, a *compiled) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM aud`, exec).Scan(&out.Authors); err != nil {
			return err
		}
		if out.Authors == 0 {
			return nil
		}
		if err := tx.QueryRow(ctx, `SELECT count(DISTINCT m.author_id) FROM post_places m WHERE `+a.before+` AND `+inAud, exec).Scan(&out.Returning); err != nil {
			return err
		}
		out.New = out.Authors - out.Returning
		// Profile terms: one scan of the audience's rows.
		rows, err := tx.Query(ctx, `SELECT t.kind, t.term, count(*) FROM author_terms t
			WHERE t.author_id IN (SELECT author_id FROM aud) AND t.kind IN ('interest', 'brand', 'category', 'language', 'home')
			AND (t.kind = 'home' OR `+hasTerm("t.", q.Now)+`) GROUP BY t.kind, t.term`, exec)
		if err != nil {
			return err
		}
		terms := map[string][]geopulse.TermAuthors{}
		var (
			kind string
			t    geopulse.TermAuthors
		)
		_, err = pgx.ForEachRow(rows, []any{&kind, &t.Term, &t.Authors}, func() error {
			terms[kind] = append(terms[kind], t)
			return nil
		})
		if err != nil {
			return err
		}
		out.Interests = topTermAuthors(terms[geopulse.ProfileInterest], limit)
		out.Brands = topTermAuthors(terms[geopulse.ProfileBrand], limit)
		out.Categories = topTermAuthors(terms[geopulse.ProfileCategory], limit)
		out.Languages = topTermAuthors(terms[geopulse.ProfileLanguage], limit)
		for _, t := range topTermAuthors(terms[geopulse.ProfileHome], limit) {
			if lat, lon, ok := parseHome(t.Term); ok {
				out.Homes = append(out.Homes, geopulse.AreaAuthors{Lat: lat, Lon: lon, Authors: t.Authors})
			}
		}

		names := map[int64]string{}
		for _, p := range a.wsPlaces {
			names[p.ID] = p.Name
		}
		rows, err = tx.Query(ctx, `SELECT m.place_id, count(DISTINCT m.author_id) FROM post_places m
			WHERE `+a.all+` AND `+inAud+` GROUP BY m.place_id`, exec)
		if err != nil {
			return err
		}
		var p geopulse.PlaceAuthors
		_, err = pgx.ForEachRow(rows, []any{&p.PlaceID, &p.Authors}, func() error {
			p.Name = names[p.PlaceID]
			out.Places = append(out.Places, p)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(out.Places, func(x, y geopulse.PlaceAuthors) int {
			return cmp.Or(cmp.Compare(y.Authors, x.Authors), cmp.Compare(x.PlaceID, y.PlaceID))
		})
		out.Places = out.Places[:min(limit, len(out.Places))]

		if out.HourOfWeek, err = slotAuthors(ctx, tx, `NULL::bigint`, a.visits); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT CASE `+followerCases()+` END AS b, count(*) FROM authors
			WHERE id IN (SELECT author_id FROM aud) GROUP BY b ORDER BY b`, exec)
		if err != nil {
			return err
		}
		var (
			b int
			n int64
		)
		_, err = pgx.ForEachRow(rows, []any{&b, &n}, func() error {
			out.Followers = append(out.Followers, geopulse.FollowerBucket{Span: geopulse.FollowerBuckets[b], Authors: n})
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT date_trunc('week', m.taken_at) AS w, count(DISTINCT m.author_id) FROM post_places m
			WHERE `+a.visits+` AND `+inAud+` GROUP BY w ORDER BY w`, exec)
		if err != nil {
			return err
		}
		var w geopulse.WeekAuthors
		_, err = pgx.ForEachRow(rows, []any{&w.Week, &w.Authors}, func() error {
			w.Week = w.Week.UTC()
			out.Trend = append(out.Trend, w)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audience stats: %w", err)
	}
	return out, nil
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

// topTermAuthors sorts terms by authors (then term) and keeps limit.
func topTermAuthors(ts []geopulse.TermAuthors, limit int) []geopulse.TermAuthors {
	slices.SortFunc(ts, func(a, b geopulse.TermAuthors) int {
		return cmp.Or(cmp.Compare(b.Authors, a.Authors), strings.Compare(a.Term, b.Term))
	})
	return ts[:min(limit, len(ts))]
}

// slotAuthors counts the audience's authors per (place, weekday, hour).
// place is the place column, or NULL for every place together.
func slotAuthors(ctx context.Context, tx pgx.Tx, place, cond string) ([]geopulse.SlotAuthors, error) {
	rows, err := tx.Query(ctx, `SELECT `+place+` AS p, extract(isodow FROM m.taken_at)::int AS d, extract(hour FROM m.taken_at)::int AS h,
		count(DISTINCT m.author_id) FROM post_places m WHERE `+cond+` AND `+inAud+` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, exec)
	if err != nil {
		return nil, err
	}
	var (
		out []geopulse.SlotAuthors
		s   geopulse.SlotAuthors
		p   *int64
	)
	_, err = pgx.ForEachRow(rows, []any{&p, &s.Weekday, &s.Hour, &s.Authors}, func() error {
		s.PlaceID = 0
		if p != nil {
			s.PlaceID = *p
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// CrossVisits counts, for each pair of the given places, the audience's
// authors who posted at both in the window. ENOTFOUND for a place that
// is not the workspace's or is sensitive.
func (db *DB) CrossVisits(ctx context.Context, q geopulse.AudienceQuery, placeIDs []int64) ([][]int64, error) {
	if len(placeIDs) == 0 || len(placeIDs) > 100 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Cross-visitation needs 1 to 100 places.")
	}
	out := make([][]int64, len(placeIDs))
	for i := range out {
		out[i] = make([]int64, len(placeIDs))
	}
	err := db.withAudience(ctx, q, func(tx pgx.Tx, a *compiled) error {
		at := map[int64]int{}
		for i, id := range placeIDs {
			if !slices.ContainsFunc(a.wsPlaces, func(p geopulse.AudiencePlace) bool { return p.ID == id }) {
				return geopulse.Errorf(geopulse.ENOTFOUND, "Place %d not found (or sensitive).", id)
			}
			at[id] = i
		}
		rows, err := tx.Query(ctx, `WITH v AS (SELECT DISTINCT m.place_id, m.author_id FROM post_places m
				WHERE m.place_id IN (`+sqlInts(placeIDs)+`) AND `+a.all+` AND `+inAud+`)
			SELECT x.place_id, y.place_id, count(*) FROM v x JOIN v y ON x.author_id = y.author_id GROUP BY 1, 2`, exec)
		if err != nil {
			return err
		}
		var x, y, n int64
		_, err = pgx.ForEachRow(rows, []any{&x, &y, &n}, func() error {
			out[at[x]][at[y]] = n
			return nil
		})
		return err
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
	err := db.withAudience(ctx, q, func(tx pgx.Tx, a *compiled) (err error) {
		out, err = slotAuthors(ctx, tx, `m.place_id`, a.visits)
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
	err := db.withAudience(ctx, q, func(tx pgx.Tx, a *compiled) error {
		rows, err := tx.Query(ctx, fmt.Sprintf(`WITH
			top AS (SELECT %s FROM authors WHERE id IN (SELECT author_id FROM aud) AND NOT private AND followers >= %d
				ORDER BY followers DESC, id LIMIT %d),
			n AS (SELECT m.author_id, count(DISTINCT m.post_id) AS n FROM post_places m
				WHERE %s AND m.author_id IN (SELECT id FROM top) GROUP BY m.author_id)
			SELECT top.id, top.followers, top.following, top.posts_count, top.private, top.updated_at, top.card, coalesce(n.n, 0)
			FROM top LEFT JOIN n ON n.author_id = top.id ORDER BY top.followers DESC, top.id`,
			authorColumns, minFollowers, limit, a.visits), exec)
		if err != nil {
			return err
		}
		var (
			in   geopulse.Influencer
			card string
		)
		_, err = pgx.ForEachRow(rows, []any{&in.Author.ID, &in.Author.Followers, &in.Author.Following, &in.Author.PostsCount,
			&in.Author.Private, &in.Author.UpdatedAt, &card, &in.Posts}, func() error {
			if err := decodeCard(&in.Author, card); err != nil {
				return err
			}
			in.Author.UpdatedAt = in.Author.UpdatedAt.UTC()
			out = append(out, in)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("influencers: %w", err)
	}
	return out, nil
}

// FootTraffic computes visit metrics per place over [from, to): a zero
// bound is open. ENOTFOUND for a place that is not the workspace's or is
// sensitive.
func (db *DB) FootTraffic(ctx context.Context, workspaceID int64, placeIDs []int64, from, to time.Time) ([]geopulse.PlaceTraffic, error) {
	if err := validRange(from, to); err != nil {
		return nil, err
	}
	places, sensitive, err := audiencePlaces(ctx, db.pool, workspaceID)
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
		lat, _ := sqlLiteral(p.Lat)
		lon, _ := sqlLiteral(p.Lon)
		fmt.Fprintf(&centres, "(%d, %s, %s)", p.ID, lat, lon)
	}
	cond := `m.place_id IN (` + sqlInts(ids) + `) AND NOT m.expired`
	if !from.IsZero() {
		cond += ` AND m.taken_at >= ` + sqlTime(from)
	}
	if !to.IsZero() {
		cond += ` AND m.taken_at < ` + sqlTime(to)
	}
	if len(sensitive) > 0 {
		cond += ` AND NOT EXISTS (SELECT 1 FROM post_places s WHERE s.place_id IN (` + sqlInts(sensitive) + `)
			AND s.taken_at = m.taken_at AND s.post_id = m.post_id)`
	}
	// Visits: a post starts one when the author's previous post at the
	// place is more than VisitGap older; the running sum of starts numbers
	// them.
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`WITH
		d AS (SELECT DISTINCT m.place_id, m.author_id, m.taken_at FROM post_places m WHERE %s),
		s AS (SELECT place_id, author_id, taken_at,
			CASE WHEN taken_at - lag(taken_at) OVER w <= interval '%d seconds' THEN 0 ELSE 1 END AS start
			FROM d WINDOW w AS (PARTITION BY place_id, author_id ORDER BY taken_at)),
		n AS (SELECT place_id, author_id, taken_at,
			sum(start) OVER (PARTITION BY place_id, author_id ORDER BY taken_at ROWS UNBOUNDED PRECEDING) AS visit FROM s),
		v AS (SELECT place_id, author_id, count(*) AS posts, date_part('epoch', max(taken_at) - min(taken_at)) AS dwell
			FROM n GROUP BY place_id, author_id, visit),
		pa AS (SELECT place_id, author_id, count(*) AS visits FROM v GROUP BY place_id, author_id),
		c (place_id, lat, lon) AS (VALUES %s),
		home AS (SELECT author_id, split_part(term, ',', 1)::float8 AS lat, split_part(term, ',', 2)::float8 AS lon
			FROM author_terms WHERE kind = 'home' AND author_id IN (SELECT author_id FROM pa)),
		far AS (SELECT pa.place_id, count(*) AS n FROM pa JOIN home h ON h.author_id = pa.author_id JOIN c ON c.place_id = pa.place_id
			WHERE 2 * 6371 * asin(sqrt(power(sin(radians(h.lat - c.lat) / 2), 2)
				+ cos(radians(c.lat)) * cos(radians(h.lat)) * power(sin(radians(h.lon - c.lon) / 2), 2))) > %d
			GROUP BY pa.place_id),
		pv AS (SELECT place_id, count(*) AS visits, count(*) FILTER (WHERE posts > 1) AS dwell_visits,
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY dwell) FILTER (WHERE posts > 1), 0) AS dwell
			FROM v GROUP BY place_id),
		pp AS (SELECT place_id, count(*) AS posters, count(*) FILTER (WHERE visits > 1) AS repeaters FROM pa GROUP BY place_id)
		SELECT pp.place_id, pp.posters, pp.repeaters, pv.visits, pv.dwell_visits, pv.dwell, coalesce(far.n, 0)
		FROM pp JOIN pv ON pv.place_id = pp.place_id LEFT JOIN far ON far.place_id = pp.place_id ORDER BY pp.place_id`,
		cond, int64(geopulse.VisitGap/time.Second), centres.String(), geopulse.OutOfTownKm), exec)
	if err != nil {
		return nil, fmt.Errorf("foot traffic: %w", err)
	}
	names := map[int64]string{}
	for _, p := range sel {
		names[p.ID] = p.Name
	}
	var (
		out []geopulse.PlaceTraffic
		t   geopulse.PlaceTraffic
	)
	_, err = pgx.ForEachRow(rows, []any{&t.PlaceID, &t.Posters, &t.Repeaters, &t.Visits, &t.DwellVisits, &t.DwellSeconds, &t.OutOfTown}, func() error {
		t.Name = names[t.PlaceID]
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("foot traffic: %w", err)
	}
	return out, nil
}

// queuePlaceAuthors queues the authors of a place's matches for a profile
// refresh: their place categories, or whether their posts there count at
// all (a sensitive place), change with the place.
func queuePlaceAuthors(ctx context.Context, tx pgx.Tx, placeID int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO profile_queue SELECT DISTINCT author_id FROM post_places WHERE place_id = $1`, placeID)
	return err
}

// queueAuthors adds to batch the queueing of authors (sorted, distinct)
// for a profile refresh.
func queueAuthors(batch *pgx.Batch, authors []int64) {
	slices.Sort(authors)
	batch.Queue(`INSERT INTO profile_queue SELECT unnest($1::bigint[])`, slices.Compact(authors))
}

// queueAuthorIDs queues authors (any order, repeats allowed) for a
// profile refresh within tx.
func queueAuthorIDs(ctx context.Context, tx pgx.Tx, authors []int64) error {
	slices.Sort(authors)
	if _, err := tx.Exec(ctx, `INSERT INTO profile_queue SELECT unnest($1::bigint[])`, slices.Compact(authors)); err != nil {
		return fmt.Errorf("queue profiles: %w", err)
	}
	return nil
}

// profileChunk bounds how many authors one refresh statement recomputes.
const profileChunk = 50_000

// profileLockKey is the advisory lock that serialises profile writers
// across processes: every chunk of RefreshProfiles, and the erasure of an
// author's profile (ApplyCompliance), hold it for their transaction.
//
// Two refreshes of one author must not overlap: each deletes the rows it
// sees and inserts its own, so the second would add to the first's rows
// (the primary key would refuse it) or, for an erasure, a refresh that
// read the posts before they were deleted would bring the profile back.
// Taking queue rows with FOR UPDATE SKIP LOCKED would keep refreshers
// apart on the queue, but not a full refresh (all) nor an erasure, and it
// needs a unique queue, whose inserts would then wait for every refresh
// holding the author: ingest would stall behind profiles. One lock per
// chunk is simpler and only costs parallelism between refreshers, which
// is one large statement each that PostgreSQL parallelises itself. A
// worker that finds the lock taken waits, then takes the next authors.
const profileLockKey = 0x67656f70726f66 // "geoprof"

func lockProfiles(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(profileLockKey))
	return err
}

// RefreshProfiles recomputes queued profiles (or every author's, in
// chunks, when all is set) from the authors' posts: every term of a
// refreshed author is replaced, so deletions and erasures leave nothing.
// Each chunk is one transaction under profileLockKey: taking authors off
// the queue, deleting their terms and inserting the new ones commit
// together, and an author queued meanwhile stays queued (the delete does
// not see rows committed after it started).
func (db *DB) RefreshProfiles(ctx context.Context, now time.Time, limit int, all bool) (int, error) {
	if limit <= 0 {
		limit = math.MaxInt // everything queued, or every author
	}
	now = now.UTC().Truncate(time.Microsecond)
	var (
		total  int
		cursor int64 = -1 // the last author refreshed, when all
	)
	for {
		var n int
		var last int64
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			n = 0
			if err := lockProfiles(ctx, tx); err != nil {
				return err
			}
			src, args := `SELECT DISTINCT author_id FROM profile_queue ORDER BY author_id LIMIT $1`, []any{exec, min(limit-total, profileChunk)}
			if all {
				src, args = `SELECT id FROM authors WHERE id > $1 ORDER BY id LIMIT $2`, []any{exec, cursor, profileChunk}
			}
			// The aggregations of a chunk spill to disk with the default
			// work_mem (4 MB).
			if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '128MB'`, exec); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE refresh (author_id bigint PRIMARY KEY) ON COMMIT DROP`, exec); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO refresh `+src, args...)
			if err != nil {
				return err
			}
			if n = int(tag.RowsAffected()); n == 0 {
				return nil
			}
			if err := tx.QueryRow(ctx, `SELECT max(author_id) FROM refresh`, exec).Scan(&last); err != nil {
				return err
			}
			for _, stmt := range []struct {
				sql  string
				args []any
			}{
				{`ANALYZE refresh`, nil},
				{`DELETE FROM author_terms WHERE author_id IN (SELECT author_id FROM refresh)`, nil},
				{`DELETE FROM profile_queue WHERE author_id IN (SELECT author_id FROM refresh)`, nil},
				{refreshSQL(), []any{now}},
			} {
				if _, err := tx.Exec(ctx, stmt.sql, append([]any{exec}, stmt.args...)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("refresh profiles: %w", err)
		}
		total += n
		cursor = last
		if all && n == 0 && total > 0 {
			// Every row was rewritten: plan the next audiences with
			// statistics of the new rows rather than wait for autovacuum.
			if _, err := db.pool.Exec(ctx, `ANALYZE author_terms`); err != nil {
				return total, fmt.Errorf("refresh profiles: %w", err)
			}
		}
		if n == 0 || (!all && total >= limit) {
			return total, nil
		}
	}
}

// refreshSQL recomputes the profiles of the authors in refresh, of those
// still stored, from their live posts (an expired story's content is gone,
// and so is its part in a profile) at no sensitive place (posts.place_ids
// mirrors the matches). The sensitive places are read by this statement,
// after the queue rows were taken: a change of sensitivity committed
// before counts here, one committed after queued its authors again. A post weighs 0.5^(age/half-life) (posts from the future
// weigh 1, and posts over 1074 half-lives old 0, where the power would
// underflow, which PostgreSQL refuses); a term's score is the sum over
// the author's posts with it. The home is the HomeGridDegrees square with
// the most posts (ties: the most recent). Rows are written in primary key
// order, so that an author's rows share a page or two: the statistics
// read an audience's rows by author (65 ms for 1,000 authors with rows in
// aggregation order, 18 ms in key order, 1M posts).
func refreshSQL() string {
	return fmt.Sprintf(`INSERT INTO author_terms (author_id, kind, term, score, posts, last_at, updated_at)
	WITH p AS MATERIALIZED (SELECT q.*, CASE WHEN q.age <= 0 THEN 1 WHEN q.age >= 1074 THEN 0 ELSE pow(0.5::float8, q.age) END AS wt
		FROM (SELECT id, author_id, taken_at, place_ids, lat * 10 AS x, lon * 10 AS y, doc->>'language' AS language,
				date_part('epoch', $1::timestamptz - taken_at) / %[1]d AS age
			FROM posts WHERE author_id IN (SELECT author_id FROM refresh) AND author_id IN (SELECT id FROM authors)
				AND NOT expired AND NOT (place_ids && ARRAY(`+sensitiveIDs+`))) q),
	l AS (SELECT DISTINCT l.post_id, l.kind, l.name FROM post_labels l JOIN p ON l.post_id = p.id AND l.taken_at = p.taken_at
		WHERE l.kind IN ('interest', 'brand')),
	c AS (SELECT DISTINCT p.id AS post_id, lower(pl.category) AS category
		FROM p CROSS JOIN LATERAL unnest(p.place_ids) AS u(place_id) JOIN places pl ON pl.id = u.place_id
		WHERE pl.category <> ''),
	terms AS (
		SELECT p.author_id, l.kind, l.name AS term, p.wt, p.taken_at FROM p JOIN l ON l.post_id = p.id
		UNION ALL SELECT p.author_id, 'category', c.category, p.wt, p.taken_at FROM p JOIN c ON c.post_id = p.id
		UNION ALL SELECT author_id, 'language', language, wt, taken_at FROM p WHERE language <> ''
		UNION ALL SELECT author_id, 'how', ((extract(isodow FROM taken_at)::int - 1) * 24 + extract(hour FROM taken_at)::int)::text,
			wt, taken_at FROM p),
	homes AS (SELECT author_id, %[2]s || ',' || %[3]s AS term, sum(wt) AS score, count(*) AS posts, max(taken_at) AS last_at
		FROM p GROUP BY 1, 2)
	SELECT author_id, kind, term, sum(wt), count(*), max(taken_at), $1::timestamptz FROM terms GROUP BY author_id, kind, term
	UNION ALL SELECT author_id, 'home', (array_agg(term ORDER BY posts DESC, last_at DESC, term DESC))[1],
		(array_agg(score ORDER BY posts DESC, last_at DESC, term DESC))[1], max(posts),
		(array_agg(last_at ORDER BY posts DESC, last_at DESC, term DESC))[1], $1::timestamptz
		FROM homes GROUP BY author_id
	ORDER BY 1, 2, 3`,
		int64(geopulse.ProfileHalfLife/time.Second), homeCoord("x"), homeCoord("y"))
}

// homeCoord renders x, a coordinate times ten, as the text of its
// HomeGridDegrees square, as Go's fmt.Sprintf("%.1f", math.Round(x)/10)
// does, negative zero included ("-0.0"). PostgreSQL's round(float8) breaks
// ties to even and its float-to-numeric cast keeps 15 digits, so the
// rounding half away from zero is done exactly: x - trunc(x) is exact in
// floating point.
func homeCoord(x string) string {
	k := fmt.Sprintf(`abs(CASE WHEN abs(%[1]s - trunc(%[1]s)) >= 0.5 THEN trunc(%[1]s) + sign(%[1]s) ELSE trunc(%[1]s) END)::bigint`, x)
	return fmt.Sprintf(`(CASE WHEN %[1]s < 0 OR (%[1]s = 0 AND %[1]s::text LIKE '-%%') THEN '-' ELSE '' END || (%[2]s / 10)::text || '.' || (%[2]s %% 10)::text)`, x, k)
}

// AuthorProfile returns an author's profile terms, by kind and score.
func (db *DB) AuthorProfile(ctx context.Context, authorID int64) ([]geopulse.ProfileTerm, error) {
	rows, err := db.pool.Query(ctx, `SELECT kind, term, score, posts, last_at, updated_at FROM author_terms
		WHERE author_id = $1 ORDER BY kind COLLATE "C", score DESC, term COLLATE "C"`, authorID)
	if err != nil {
		return nil, fmt.Errorf("author profile: %w", err)
	}
	var (
		out []geopulse.ProfileTerm
		t   geopulse.ProfileTerm
	)
	_, err = pgx.ForEachRow(rows, []any{&t.Kind, &t.Term, &t.Score, &t.Posts, &t.LastAt, &t.UpdatedAt}, func() error {
		t.LastAt, t.UpdatedAt = t.LastAt.UTC(), t.UpdatedAt.UTC()
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("author profile: %w", err)
	}
	return out, nil
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

// validRange refuses times outside the years a post may have (1 to 9999)
// and an end before the start; zero times are open bounds.
func validRange(from, to time.Time) error {
	for _, t := range []time.Time{from, to} {
		if y := t.UTC().Year(); !t.IsZero() && (y < 1 || y > 9999) {
			return geopulse.Errorf(geopulse.EINVALID, "Time %s is out of range.", t.UTC().Format(time.RFC3339))
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return geopulse.Errorf(geopulse.EINVALID, "The end of the time range is before its start.")
	}
	return nil
}

// sqlTime renders a validated time as a timestamptz literal.
func sqlTime(t time.Time) string {
	s, _ := sqlLiteral(t.UTC())
	return s
}

// sqlInts renders ids as a comma-separated list for an IN (...) clause.
func sqlInts(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
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
	rows, err := db.pool.Query(ctx, `SELECT category FROM sensitive_categories ORDER BY category COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("sensitive categories: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("sensitive categories: %w", err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// SetSensitiveCategories replaces the deny list and queues the authors of
// every place whose sensitivity it changes. Two replacements run one after
// the other (the table lock lets readers through).
func (db *DB) SetSensitiveCategories(ctx context.Context, categories []string) error {
	list, err := geopulse.NormalizeCategories(categories)
	if err != nil {
		return err
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE sensitive_categories IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sensitiveByCategory)
		if err != nil {
			return err
		}
		before, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sensitive_categories`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sensitive_categories SELECT unnest($1::text[])`, list); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO profile_queue SELECT DISTINCT author_id FROM post_places WHERE place_id IN (
			(SELECT unnest($1::bigint[]) EXCEPT `+sensitiveByCategory+`) UNION (`+sensitiveByCategory+` EXCEPT SELECT unnest($1::bigint[])))`,
			append([]int64{}, before...))
		return err
	})
	if err != nil {
		return fmt.Errorf("set sensitive categories: %w", err)
	}
	return nil
}
