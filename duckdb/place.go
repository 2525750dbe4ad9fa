package duckdb

import (
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

const placeColumns = `id, workspace_id, name, category, brand, groups, center_lat, center_lon, radius_m,
	geometry, min_lat, min_lon, max_lat, max_lon, created_at, updated_at, sensitive, ` + sensitiveCategory

type rowScanner interface{ Scan(dest ...any) error }

func scanPlace(r rowScanner) (*geopulse.Place, error) {
	var (
		p          geopulse.Place
		groups     any
		clat, clon sql.NullFloat64
		geometry   sql.NullString
	)
	err := r.Scan(&p.ID, &p.WorkspaceID, &p.Name, &p.Category, &p.Brand, &groups, &clat, &clon, &p.RadiusM,
		&geometry, &p.BBox.MinLat, &p.BBox.MinLon, &p.BBox.MaxLat, &p.BBox.MaxLon, &p.CreatedAt, &p.UpdatedAt, &p.Sensitive, &p.SensitiveCategory)
	if err != nil {
		return nil, err
	}
	p.Groups = toStrings(groups)
	if clat.Valid && clon.Valid {
		p.Center = &geopulse.LatLon{Lat: clat.Float64, Lon: clon.Float64}
	}
	if geometry.Valid {
		p.Geometry = json.RawMessage(geometry.String)
	}
	p.CreatedAt, p.UpdatedAt = utc(p.CreatedAt), utc(p.UpdatedAt)
	return &p, nil
}

// validatePlace checks what the store relies on: a name and exactly one
// shape that is at least well formed. Geometric validity (rings, winding,
// antimeridian) is the geo package's job before the place reaches a store.
func validatePlace(p *geopulse.Place) error {
	if strings.TrimSpace(p.Name) == "" {
		return geopulse.Errorf(geopulse.EINVALID, "Place name is required.")
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
		if !json.Valid(p.Geometry) {
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

// CreatePlace stores p, assigning p.ID, p.CreatedAt and p.UpdatedAt. p.BBox
// is stored as given (the caller derives it from the shape). ENOTFOUND for
// an unknown workspace, EINVALID for a missing name or a malformed shape.
func (db *DB) CreatePlace(ctx context.Context, p *geopulse.Place) error {
	if err := validatePlace(p); err != nil {
		return err
	}
	now := db.nowUTC()
	var id int64
	err := db.write(ctx, func(c *sql.Conn) error {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM workspaces WHERE id = ?`, p.WorkspaceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Workspace not found.")
		}
		var clat, clon, geometry any
		if p.Center != nil {
			clat, clon = p.Center.Lat, p.Center.Lon
		}
		if len(p.Geometry) > 0 {
			geometry = string(p.Geometry)
		}
		err := c.QueryRowContext(ctx, `INSERT INTO places (workspace_id, name, category, brand, groups,
			center_lat, center_lon, radius_m, geometry, min_lat, min_lon, max_lat, max_lon, created_at, updated_at, sensitive)
			VALUES (?, ?, ?, ?, ?::VARCHAR[], ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.WorkspaceID, p.Name, p.Category, p.Brand, emptyIfNil(p.Groups), clat, clon, p.RadiusM, geometry,
			p.BBox.MinLat, p.BBox.MinLon, p.BBox.MaxLat, p.BBox.MaxLon, now, now, p.Sensitive).Scan(&id)
		if err != nil {
			return err
		}
		p.SensitiveCategory, err = sensitiveByCategory(ctx, c, id)
		return err
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("create place: %w", err)
	}
	db.places.invalidate()
	p.ID, p.CreatedAt, p.UpdatedAt = id, now, now
	return nil
}

// FindPlaceByID returns a place of the workspace, or ENOTFOUND (also for a
// place of another workspace).
func (db *DB) FindPlaceByID(ctx context.Context, workspaceID, id int64) (*geopulse.Place, error) {
	return db.findPlace(ctx, db.sql, workspaceID, id)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) findPlace(ctx context.Context, q queryRower, workspaceID, id int64) (*geopulse.Place, error) {
	p, err := scanPlace(q.QueryRowContext(ctx, `SELECT `+placeColumns+` FROM places p WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if errors.Is(err, sql.ErrNoRows) {
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
	where := []string{`workspace_id = ?`}
	args := []any{filter.WorkspaceID}
	if filter.IDs != nil {
		if len(filter.IDs) == 0 {
			return nil, nil
		}
		where = append(where, `id IN (`+sqlInts(filter.IDs)+`)`)
	}
	if filter.Group != "" {
		where = append(where, `list_contains(groups, ?)`)
		args = append(args, filter.Group)
	}
	if filter.Category != "" {
		where = append(where, `category = ?`)
		args = append(args, filter.Category)
	}
	return db.queryPlaces(ctx, `SELECT `+placeColumns+` FROM places p WHERE `+strings.Join(where, ` AND `)+` ORDER BY id`, args...)
}

// AllPlaces returns every place of every workspace, ordered by ID.
func (db *DB) AllPlaces(ctx context.Context) ([]*geopulse.Place, error) {
	return db.queryPlaces(ctx, `SELECT `+placeColumns+` FROM places p ORDER BY id`)
}

func (db *DB) queryPlaces(ctx context.Context, query string, args ...any) ([]*geopulse.Place, error) {
	rows, err := db.sql.QueryContext(ctx, query, args...)
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
	err := db.write(ctx, func(c *sql.Conn) error {
		p, err := db.findPlace(ctx, c, workspaceID, id)
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
			p.Groups = *upd.Groups
		}
		if upd.Sensitive != nil {
			p.Sensitive = *upd.Sensitive
		}
		if p.Sensitive != before.Sensitive || p.Category != before.Category {
			if err := queuePlaceAuthors(ctx, c, strconv.FormatInt(p.ID, 10)); err != nil {
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
		var clat, clon, geometry any
		if p.Center != nil {
			clat, clon = p.Center.Lat, p.Center.Lon
		}
		if len(p.Geometry) > 0 {
			geometry = string(p.Geometry)
		}
		_, err = c.ExecContext(ctx, `UPDATE places SET name = ?, category = ?, brand = ?, groups = ?::VARCHAR[],
			center_lat = ?, center_lon = ?, radius_m = ?, geometry = ?, updated_at = ?, sensitive = ? WHERE id = ?`,
			p.Name, p.Category, p.Brand, emptyIfNil(p.Groups), clat, clon, p.RadiusM, geometry, p.UpdatedAt, p.Sensitive, p.ID)
		if err != nil {
			return err
		}
		if p.SensitiveCategory, err = sensitiveByCategory(ctx, c, p.ID); err != nil {
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
	db.places.invalidate()
	return out, nil
}

// DeletePlace removes the place and its matches. ENOTFOUND for a missing
// place or one of another workspace.
func (db *DB) DeletePlace(ctx context.Context, workspaceID, id int64) error {
	err := db.write(ctx, func(c *sql.Conn) error {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT count(*) FROM places p WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Place not found.")
		}
		old, err := placePosts(ctx, c, id)
		if err != nil {
			return err
		}
		var changes []placesChange
		for post, ids := range old {
			changes = append(changes, placesChange{id: post, placeIDs: without(ids, id)})
		}
		if err := writePlaceIDs(ctx, c, changes); err != nil {
			return err
		}
		pid := strconv.FormatInt(id, 10)
		if err := queuePlaceAuthors(ctx, c, pid); err != nil {
			return err
		}
		db.touchAll()
		_, err = c.ExecContext(ctx, `DELETE FROM post_places WHERE place_id = `+pid+`;
			DELETE FROM post_tags WHERE place_id = `+pid+`;
			DELETE FROM place_labels WHERE place_id = `+pid+`;
			DELETE FROM places WHERE id = `+pid)
		return err
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("delete place: %w", err)
	}
	db.places.invalidate()
	return nil
}

// placesChange is a post's new place_ids; multi marks a post that had one
// match and now has more, whose existing match rows must become multi.
type placesChange struct {
	id       int64
	placeIDs []int64
	multi    bool
}

// placePosts returns the posts matched to place id with their place_ids.
func placePosts(ctx context.Context, c *sql.Conn, id int64) (map[int64][]int64, error) {
	rows, err := c.QueryContext(ctx, `SELECT id, place_ids FROM posts
		WHERE id IN (SELECT post_id FROM post_places WHERE place_id = ?)`, id)
	if err != nil {
		return nil, fmt.Errorf("place posts: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]int64)
	for rows.Next() {
		var (
			post int64
			ids  string
		)
		if err := rows.Scan(&post, &ids); err != nil {
			return nil, fmt.Errorf("place posts: %w", err)
		}
		out[post] = parseIDs(ids)
	}
	return out, rows.Err()
}

// writePlaceIDs stores new place_ids through stage_places and marks the
// match rows of posts that became multi. A string column is updated in
// place; a LIST column would be re-written row by row (~20x slower).
func writePlaceIDs(ctx context.Context, c *sql.Conn, changes []placesChange) error {
	if len(changes) == 0 {
		return nil
	}
	if _, err := c.ExecContext(ctx, `DELETE FROM stage_places`); err != nil {
		return err
	}
	err := withAppender(c, "temp", "stage_places", func(a *duckdb.Appender) error {
		for _, ch := range changes {
			if err := a.AppendRow(ch.id, formatIDs(ch.placeIDs), ch.multi); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, `UPDATE posts SET place_ids = s.place_ids FROM stage_places s WHERE posts.id = s.id;
		UPDATE post_places SET multi = true WHERE NOT multi AND post_id IN (SELECT id FROM stage_places WHERE multi);
		UPDATE post_tags SET multi = true WHERE NOT multi AND post_id IN (SELECT id FROM stage_places WHERE multi);
		UPDATE place_labels SET multi = true WHERE NOT multi AND post_id IN (SELECT id FROM stage_places WHERE multi);`)
	if err != nil {
		return fmt.Errorf("place ids: %w", err)
	}
	return nil
}

// without returns ids minus id.
func without(ids []int64, id int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// MatchPlace replaces the matches of place id (of any workspace) with every
// stored post whose position lies in bbox and for which contains(lat, lon,
// accuracyM) is true (nil contains: the box alone decides), and returns how
// many matched. It also stores bbox as the place's BBox: after UpdatePlace
// reshapes a place, the caller computes the new box from the new shape and
// passes it here, so the box and the matches always change together.
//
// Candidates are streamed from one scan of posts and only the matches are
// kept; place_ids of the posts that gain or lose the place are computed in
// Go and written through a staging table, and the new match rows are
// appended. ENOTFOUND for an unknown place.
func (db *DB) MatchPlace(ctx context.Context, id int64, bbox geopulse.BBox, contains func(lat, lon, accuracyM float64) bool) (int, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.w == nil {
		return 0, errClosed
	}
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM places WHERE id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("match place: %w", err)
	} else if n == 0 {
		return 0, geopulse.Errorf(geopulse.ENOTFOUND, "Place not found.")
	}
	matches, err := db.matchCandidates(ctx, bbox, contains)
	if err != nil {
		return 0, fmt.Errorf("match place: %w", err)
	}
	err = db.inTx(ctx, func(c *sql.Conn) error {
		old, err := placePosts(ctx, c, id)
		if err != nil {
			return err
		}
		var changes []placesChange
		kept := make(map[int64]bool, len(matches))
		for i := range matches {
			m := &matches[i]
			kept[m.id] = true
			if !slices.Contains(m.placeIDs, id) {
				m.placeIDs = normIDs(append(m.placeIDs, id))
				changes = append(changes, placesChange{id: m.id, placeIDs: m.placeIDs, multi: len(m.placeIDs) == 2})
			}
		}
		for post, ids := range old {
			if !kept[post] {
				changes = append(changes, placesChange{id: post, placeIDs: without(ids, id)})
			}
		}
		if err := writePlaceIDs(ctx, c, changes); err != nil {
			return err
		}
		pid := strconv.FormatInt(id, 10)
		if err := queuePlaceAuthors(ctx, c, pid); err != nil { // who leaves the place
			return err
		}
		db.touchAll()
		if _, err := c.ExecContext(ctx, `DELETE FROM post_places WHERE place_id = `+pid+`;
			DELETE FROM post_tags WHERE place_id = `+pid); err != nil {
			return err
		}
		err = withAppender(c, "", "post_places", func(a *duckdb.Appender) error {
			for _, m := range matches {
				if err := a.AppendRow(id, m.id, m.takenAt, m.kind, m.authorID, m.expired, len(m.placeIDs) > 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = withAppender(c, "", "post_tags", func(a *duckdb.Appender) error {
			for _, m := range matches {
				for _, tag := range m.tags {
					if err := a.AppendRow(id, m.id, m.takenAt, m.kind, tag, len(m.placeIDs) > 1); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		inPlace := func(a string) string { return a + `place_id = ` + pid }
		err = rederivePlaceLabels(ctx, c, inPlace, `l.post_id IN (SELECT post_id FROM post_places WHERE place_id = `+pid+`)`)
		if err != nil {
			return err
		}
		if err := queuePlaceAuthors(ctx, c, pid); err != nil { // and who comes in
			return err
		}
		_, err = c.ExecContext(ctx, `UPDATE places SET min_lat = ?, min_lon = ?, max_lat = ?, max_lon = ? WHERE id = ?`,
			bbox.MinLat, bbox.MinLon, bbox.MaxLat, bbox.MaxLon, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("match place: %w", err)
	}
	db.tailRows += int64(len(matches))
	if err := db.maybeCompact(ctx); err != nil {
		db.logger.Error("duckdb compaction failed", logKeyError, err)
	}
	return len(matches), nil
}

// candidate is a stored post that matches a place, with what its match
// rows need.
type candidate struct {
	id, authorID int64
	takenAt      time.Time
	kind         string
	expired      bool
	placeIDs     []int64
	tags         []string // distinct hashtags of a live post
}

// matchCandidates streams the posts inside bbox and keeps those contains
// accepts. The caller holds wmu, so no write interleaves.
func (db *DB) matchCandidates(ctx context.Context, bbox geopulse.BBox, contains func(lat, lon, accuracyM float64) bool) ([]candidate, error) {
	rows, err := db.w.QueryContext(ctx, `SELECT id, lat, lon, accuracy_m, taken_at, kind, author_id, expired, place_ids, doc
		FROM posts WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?`, bbox.MinLat, bbox.MaxLat, bbox.MinLon, bbox.MaxLon)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var (
			c             candidate
			lat, lon, acc float64
			ids, doc      string
		)
		if err := rows.Scan(&c.id, &lat, &lon, &acc, &c.takenAt, &c.kind, &c.authorID, &c.expired, &ids, &doc); err != nil {
			return nil, err
		}
		if contains != nil && !contains(lat, lon, acc) {
			continue
		}
		c.takenAt, c.placeIDs = utc(c.takenAt), parseIDs(ids)
		if !c.expired {
			var d struct {
				Hashtags []string `json:"hashtags"`
			}
			if err := json.Unmarshal([]byte(doc), &d); err != nil {
				return nil, fmt.Errorf("decode post %d: %w", c.id, err)
			}
			c.tags = distinct(d.Hashtags)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// queuePlaceAuthors queues the authors of a place's matches for a profile
// refresh: their place categories, or whether their posts there count at
// all (a sensitive place), change with the place.
func queuePlaceAuthors(ctx context.Context, c *sql.Conn, pid string) error {
	return queueAuthorsOf(ctx, c, `SELECT author_id FROM post_places WHERE place_id = `+pid)
}

// sensitiveByCategory reads whether a place's category is on the deny
// list, as it is now (within the caller's transaction).
func sensitiveByCategory(ctx context.Context, c *sql.Conn, id int64) (bool, error) {
	var yes bool
	err := c.QueryRowContext(ctx, `SELECT `+sensitiveCategory+` FROM places p WHERE p.id = ?`, id).Scan(&yes)
	return yes, err
}
