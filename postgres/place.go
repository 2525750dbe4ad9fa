package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

const placeColumns = `id, workspace_id, name, category, brand, groups, center_lat, center_lon, radius_m,
	geometry, min_lat, min_lon, max_lat, max_lon, created_at, updated_at, sensitive, ` + sensitiveCategory

// sensitiveCategory is true when the category of a place (of the table
// places, unaliased) is on the deny list: equal to an entry, or of an OSM
// key that is an entry alone.
const sensitiveCategory = `EXISTS (SELECT 1 FROM sensitive_categories s
	WHERE lower(places.category) = s.category OR starts_with(lower(places.category), s.category || '='))`

// matchLockKey is the advisory lock between writers of matches. Batches of
// posts and story expiry take it shared (they run concurrently); MatchPlace
// and DeletePlace take it exclusively, because they rewrite a place's
// matches wholesale and a batch committing in between would leave a match
// of a deleted place or a half-rebuilt one.
const matchLockKey = 0x67656f6d61746368 // "geomatch"

func lockMatchesShared(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(matchLockKey))
	return err
}

func lockMatchesExclusive(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(matchLockKey))
	return err
}

func scanPlace(r pgx.Row) (*geopulse.Place, error) {
	var (
		p          geopulse.Place
		clat, clon *float64
		geometry   *string
	)
	err := r.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.Category, &p.Brand, &p.Groups, &clat, &clon, &p.RadiusM,
		&geometry, &p.BBox.MinLat, &p.BBox.MinLon, &p.BBox.MaxLat, &p.BBox.MaxLon, &p.CreatedAt, &p.UpdatedAt, &p.Sensitive, &p.SensitiveCategory)
	if err != nil {
		return nil, err
	}
	if len(p.Groups) == 0 {
		p.Groups = nil
	}
	if clat != nil && clon != nil {
		p.Center = &geopulse.LatLon{Lat: *clat, Lon: *clon}
	}
	if geometry != nil {
		p.Geometry = json.RawMessage(*geometry)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return &p, nil
}

// validatePlace checks what the store relies on: a name, text that
// PostgreSQL can hold, and exactly one shape that is at least well formed.
// Geometric validity (rings, winding, antimeridian) is the geo package's
// job before the place reaches a store.
func validatePlace(p *geopulse.Place) error {
	if strings.TrimSpace(p.Name) == "" {
		return geopulse.Errorf(geopulse.EINVALID, "Place name is required.")
	}
	for _, s := range append([]string{p.Name, p.Category, p.Brand}, p.Groups...) {
		if !storableText(s) {
			return geopulse.Reject(geopulse.ReasonInvalidField, "Place names, categories, brands and groups must be valid UTF-8 without NUL characters.")
		}
	}
	switch {
	case p.Center != nil && len(p.Geometry) > 0:
		return geopulse.Reject(geopulse.ReasonInvalidGeometry, "A place is either a venue (center and radius) or a geofence (geometry), not both.")
	case p.Center != nil:
		c := p.Center
		if !(c.Lat >= -90 && c.Lat <= 90 && c.Lon >= -180 && c.Lon <= 180) {
			return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "Center is outside WGS84 bounds.")
		}
		if !(p.RadiusM > 0) || math.IsInf(p.RadiusM, 0) {
			return geopulse.Reject(geopulse.ReasonInvalidGeometry, "A venue needs a positive radius.")
		}
	case len(p.Geometry) > 0:
		// JSON never holds a raw NUL; invalid UTF-8 in a string would be
		// refused by PostgreSQL, so it is refused here first.
		if !json.Valid(p.Geometry) || !utf8.Valid(p.Geometry) {
			return geopulse.Reject(geopulse.ReasonInvalidGeometry, "Geometry is not valid JSON.")
		}
		if p.RadiusM != 0 {
			return geopulse.Reject(geopulse.ReasonInvalidGeometry, "A geofence has no radius.")
		}
	default:
		return geopulse.Reject(geopulse.ReasonInvalidGeometry, "A place needs a center and radius or a geometry.")
	}
	return nil
}

// shapeArgs returns the center and geometry columns of p (NULL for the
// shape it does not have).
func shapeArgs(p *geopulse.Place) (clat, clon *float64, geometry *string) {
	if p.Center != nil {
		lat, lon := p.Center.Lat, p.Center.Lon
		clat, clon = &lat, &lon
	}
	if len(p.Geometry) > 0 {
		g := string(p.Geometry)
		geometry = &g
	}
	return clat, clon, geometry
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreatePlace stores p, assigning p.ID, p.CreatedAt and p.UpdatedAt. p.BBox
// is stored as given (the caller derives it from the shape). ENOTFOUND for
// an unknown workspace, EINVALID for a missing name or a malformed shape.
func (db *DB) CreatePlace(ctx context.Context, p *geopulse.Place) error {
	if err := validatePlace(p); err != nil {
		return err
	}
	now := db.nowUTC()
	clat, clon, geometry := shapeArgs(p)
	var (
		id         int64
		byCategory bool
	)
	err := db.pool.QueryRow(ctx, `INSERT INTO places (workspace_id, name, category, brand, groups,
		center_lat, center_lon, radius_m, geometry, min_lat, min_lon, max_lat, max_lon, created_at, updated_at, sensitive)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) RETURNING id, `+sensitiveCategory,
		p.WorkspaceID, p.Name, p.Category, p.Brand, emptyIfNil(p.Groups), clat, clon, p.RadiusM, geometry,
		p.BBox.MinLat, p.BBox.MinLon, p.BBox.MaxLat, p.BBox.MaxLon, now, p.Sensitive).Scan(&id, &byCategory)
	if sqlState(err) == sqlForeignKey {
		return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
	} else if err != nil {
		return fmt.Errorf("create place: %w", err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt, p.SensitiveCategory = id, now, now, byCategory
	return nil
}

// FindPlaceByID returns a place of the workspace, or ENOTFOUND (also for a
// place of another workspace).
func (db *DB) FindPlaceByID(ctx context.Context, workspaceID, id int64) (*geopulse.Place, error) {
	return findPlace(ctx, db.pool, workspaceID, id, "")
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// findPlace reads one place of the workspace; suffix may add a locking
// clause.
func findPlace(ctx context.Context, q queryRower, workspaceID, id int64, suffix string) (*geopulse.Place, error) {
	p, err := scanPlace(q.QueryRow(ctx, `SELECT `+placeColumns+` FROM places WHERE id = $1 AND workspace_id = $2 `+suffix, id, workspaceID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, geopulse.Errorf(geopulse.ENOTFOUND, "Place not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find place: %w", err)
	}
	return p, nil
}

// FindPlaces returns the workspace's places matching filter, ordered by ID.
// EINVALID without a workspace.
func (db *DB) FindPlaces(ctx context.Context, filter geopulse.PlaceFilter) ([]*geopulse.Place, error) {
	if filter.WorkspaceID <= 0 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Workspace is required.")
	}
	where := []string{`workspace_id = $1`}
	args := []any{filter.WorkspaceID}
	if filter.IDs != nil {
		if len(filter.IDs) == 0 {
			return nil, nil
		}
		args = append(args, filter.IDs)
		where = append(where, fmt.Sprintf(`id = ANY($%d)`, len(args)))
	}
	if filter.Group != "" {
		if !storableText(filter.Group) {
			return nil, nil
		}
		args = append(args, filter.Group)
		where = append(where, fmt.Sprintf(`$%d = ANY(groups)`, len(args)))
	}
	if filter.Category != "" {
		if !storableText(filter.Category) {
			return nil, nil
		}
		args = append(args, filter.Category)
		where = append(where, fmt.Sprintf(`category = $%d`, len(args)))
	}
	return db.queryPlaces(ctx, `SELECT `+placeColumns+` FROM places WHERE `+strings.Join(where, ` AND `)+` ORDER BY id`, args...)
}

// AllPlaces returns every place of every workspace, ordered by ID.
func (db *DB) AllPlaces(ctx context.Context) ([]*geopulse.Place, error) {
	return db.queryPlaces(ctx, `SELECT `+placeColumns+` FROM places ORDER BY id`)
}

func (db *DB) queryPlaces(ctx context.Context, query string, args ...any) ([]*geopulse.Place, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find places: %w", err)
	}
	defer rows.Close()
	var out []*geopulse.Place
	for rows.Next() {
		p, err := scanPlace(rows)
		if err != nil {
			return nil, fmt.Errorf("scan place: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find places: %w", err)
	}
	return out, nil
}

// UpdatePlace applies the non-nil fields of upd and returns the place.
// Setting Center makes the place a venue (its geometry is dropped); setting
// Geometry makes it a geofence (center and radius are dropped). The BBox is
// left as it was: the caller derives the new one from the new shape and
// passes it to MatchPlace, which stores it together with the new matches.
// ENOTFOUND, EINVALID.
func (db *DB) UpdatePlace(ctx context.Context, workspaceID, id int64, upd geopulse.PlaceUpdate) (*geopulse.Place, error) {
	if upd.Center != nil && upd.Geometry != nil {
		return nil, geopulse.Reject(geopulse.ReasonInvalidGeometry, "A place is either a venue (center and radius) or a geofence (geometry), not both.")
	}
	var out *geopulse.Place
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		p, err := findPlace(ctx, tx, workspaceID, id, `FOR NO KEY UPDATE`)
		if err != nil {
			return err
		}
		before := *p
		if upd.Name != nil {
			p.Name = *upd.Name
		}
		if upd.Category != nil {
			p.Category = *upd.Category
		}
		if upd.Brand != nil {
			p.Brand = *upd.Brand
		}
		if upd.Groups != nil {
			p.Groups = slices.Clone(*upd.Groups)
		}
		if upd.Sensitive != nil {
			p.Sensitive = *upd.Sensitive
		}
		if p.Sensitive != before.Sensitive || p.Category != before.Category {
			if err := queuePlaceAuthors(ctx, tx, p.ID); err != nil {
				return err
			}
		}
		if upd.Center != nil {
			center := *upd.Center
			p.Center, p.Geometry = &center, nil
		}
		if upd.Geometry != nil {
			p.Geometry, p.Center, p.RadiusM = append(json.RawMessage(nil), *upd.Geometry...), nil, 0
		}
		if upd.RadiusM != nil {
			p.RadiusM = *upd.RadiusM
		}
		if err := validatePlace(p); err != nil {
			return err
		}
		p.UpdatedAt = db.nowUTC()
		clat, clon, geometry := shapeArgs(p)
		err = tx.QueryRow(ctx, `UPDATE places SET name = $1, category = $2, brand = $3, groups = $4,
			center_lat = $5, center_lon = $6, radius_m = $7, geometry = $8, updated_at = $9, sensitive = $10 WHERE id = $11
			RETURNING `+sensitiveCategory,
			p.Name, p.Category, p.Brand, emptyIfNil(p.Groups), clat, clon, p.RadiusM, geometry, p.UpdatedAt, p.Sensitive, p.ID).Scan(&p.SensitiveCategory)
		if err != nil {
			return err
		}
		if len(p.Groups) == 0 {
			p.Groups = nil
		}
		out = p
		return nil
	})
	if code := geopulse.ErrorCode(err); code == geopulse.ENOTFOUND || code == geopulse.EINVALID {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("update place: %w", err)
	}
	return out, nil
}

// DeletePlace removes the place and its matches. ENOTFOUND for a missing
// place or one of another workspace.
func (db *DB) DeletePlace(ctx context.Context, workspaceID, id int64) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockMatchesExclusive(ctx, tx); err != nil {
			return err
		}
		if _, err := findPlace(ctx, tx, workspaceID, id, `FOR UPDATE`); err != nil {
			return err
		}
		if err := queuePlaceAuthors(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{
			`UPDATE posts p SET place_ids = array_remove(p.place_ids, $1)
				FROM post_places m WHERE m.place_id = $1 AND p.id = m.post_id AND p.taken_at = m.taken_at`,
			`DELETE FROM post_places WHERE place_id = $1`,
			`DELETE FROM post_tags WHERE place_id = $1`,
			`DELETE FROM places WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("delete place: %w", err)
	}
	return nil
}

// MatchPlace replaces the matches of place id (of any workspace) with every
// stored post whose position lies in bbox and for which contains(lat, lon,
// accuracyM) is true (nil contains: the box alone decides), and returns how
// many matched. It also stores bbox as the place's BBox: after UpdatePlace
// reshapes a place, the caller computes the new box from the new shape and
// passes it here, so the box and the matches always change together.
//
// Candidates come from the GiST index on posts.geom (a float4 box, so a
// superset) and are cut to the exact box in SQL; the exact shape test is
// contains, in Go, so both stores decide identically. The new matches are
// written with COPY. ENOTFOUND for an unknown place.
func (db *DB) MatchPlace(ctx context.Context, id int64, bbox geopulse.BBox, contains func(lat, lon, accuracyM float64) bool) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockMatchesExclusive(ctx, tx); err != nil {
			return err
		}
		var workspaceID int64
		err := tx.QueryRow(ctx, `SELECT workspace_id FROM places WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&workspaceID)
		if errors.Is(err, pgx.ErrNoRows) {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Place not found.")
		} else if err != nil {
			return err
		}
		matches, err := matchCandidates(ctx, tx, bbox, contains)
		if err != nil {
			return err
		}
		n = len(matches)
		if err := queuePlaceAuthors(ctx, tx, id); err != nil { // who leaves the place
			return err
		}
		if err := rewriteMatches(ctx, tx, id, workspaceID, bbox, matches); err != nil {
			return err
		}
		return queuePlaceAuthors(ctx, tx, id) // and who comes in
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return 0, err
	} else if err != nil {
		return 0, fmt.Errorf("match place: %w", err)
	}
	return n, nil
}

// candidate is a post that MatchPlace matched, with what its match rows need.
type candidate struct {
	id       int64
	takenAt  time.Time
	kind     string
	authorID int64
	expired  bool
	tags     [][]byte
}

// matchCandidates streams the posts inside bbox and keeps those contains
// accepts.
func matchCandidates(ctx context.Context, tx pgx.Tx, bbox geopulse.BBox, contains func(lat, lon, accuracyM float64) bool) ([]candidate, error) {
	rows, err := tx.Query(ctx, `SELECT id, taken_at, lat, lon, accuracy_m, kind, author_id, expired,
			CASE WHEN expired THEN NULL ELSE doc -> 'hashtags' END
		FROM posts
		WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)
			AND lat BETWEEN $2 AND $4 AND lon BETWEEN $1 AND $3`,
		bbox.MinLon, bbox.MinLat, bbox.MaxLon, bbox.MaxLat)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var (
			c             candidate
			lat, lon, acc float64
			hashtags      []byte
		)
		if err := rows.Scan(&c.id, &c.takenAt, &lat, &lon, &acc, &c.kind, &c.authorID, &c.expired, &hashtags); err != nil {
			return nil, err
		}
		if contains != nil && !contains(lat, lon, acc) {
			continue
		}
		if len(hashtags) > 0 {
			var tags []string
			if err := json.Unmarshal(hashtags, &tags); err != nil {
				return nil, fmt.Errorf("decode hashtags of post %d: %w", c.id, err)
			}
			c.tags = tagBytes(distinct(tags))
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// rewriteMatches replaces place id's match rows with matches and keeps
// posts.place_ids in step.
func rewriteMatches(ctx context.Context, tx pgx.Tx, id, workspaceID int64, bbox geopulse.BBox, matches []candidate) error {
	rows, err := tx.Query(ctx, `DELETE FROM post_places WHERE place_id = $1 RETURNING post_id, taken_at`, id)
	if err != nil {
		return err
	}
	type key struct {
		id int64
		t  time.Time
	}
	old := make(map[int64]time.Time)
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.t); err != nil {
			rows.Close()
			return err
		}
		old[k.id] = k.t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM post_tags WHERE place_id = $1`, id); err != nil {
		return err
	}
	var addIDs, dropIDs []int64
	var addTimes, dropTimes []time.Time
	for _, c := range matches {
		if _, ok := old[c.id]; ok {
			delete(old, c.id)
			continue
		}
		addIDs, addTimes = append(addIDs, c.id), append(addTimes, c.takenAt)
	}
	for pid, t := range old {
		dropIDs, dropTimes = append(dropIDs, pid), append(dropTimes, t)
	}
	if len(dropIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE posts p SET place_ids = array_remove(p.place_ids, $1)
			FROM unnest($2::bigint[], $3::timestamptz[]) u(id, t) WHERE p.id = u.id AND p.taken_at = u.t`,
			id, dropIDs, dropTimes); err != nil {
			return err
		}
	}
	if len(addIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE posts p
			SET place_ids = ARRAY(SELECT x FROM unnest(array_append(p.place_ids, $1)) x ORDER BY x)
			FROM unnest($2::bigint[], $3::timestamptz[]) u(id, t)
			WHERE p.id = u.id AND p.taken_at = u.t AND NOT ($1 = ANY(p.place_ids))`,
			id, addIDs, addTimes); err != nil {
			return err
		}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"post_places"}, postPlacesColumns,
		pgx.CopyFromSlice(len(matches), func(i int) ([]any, error) {
			c := &matches[i]
			return []any{id, c.takenAt, c.id, workspaceID, c.kind, c.authorID, c.expired}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy matches: %w", err)
	}
	var tags [][]any
	for _, c := range matches {
		for _, tag := range c.tags {
			tags = append(tags, []any{id, tag, c.takenAt, c.id, c.kind})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"post_tags"}, postTagsColumns, pgx.CopyFromRows(tags)); err != nil {
		return fmt.Errorf("copy tags: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE places SET min_lat = $1, min_lon = $2, max_lat = $3, max_lon = $4 WHERE id = $5`,
		bbox.MinLat, bbox.MinLon, bbox.MaxLat, bbox.MaxLon, id)
	return err
}
