package postgres

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// What `geopulse bench -postgres` needs beyond the store: a database of its
// own, created and dropped per run, and the hand-written PostGIS query that
// the store's radius feed is compared with. They live here because SQL
// stays inside the store package.

var databaseNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateDatabase creates the empty database name (lower-case letters,
// digits and '_') with PostGIS on the server that adminDSN reaches, as a
// role that may create databases, and returns a DSN for it: adminDSN with
// the database replaced. DropDatabase removes it.
func CreateDatabase(ctx context.Context, adminDSN, name string) (string, error) {
	if !databaseNameRE.MatchString(name) {
		return "", fmt.Errorf("create database: invalid name %q", name)
	}
	dsn, err := withDatabase(adminDSN, name)
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", fmt.Errorf("connect postgres %s: %w", redact(adminDSN), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err == nil {
		_, err = c.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`)
		c.Close(context.WithoutCancel(ctx))
	}
	if err != nil {
		conn.Exec(context.WithoutCancel(ctx), `DROP DATABASE `+name+` WITH (FORCE)`)
		return "", fmt.Errorf("create database %s: postgis: %w", name, err)
	}
	return dsn, nil
}

// DropDatabase drops the database name on adminDSN's server, closing the
// connections left to it.
func DropDatabase(ctx context.Context, adminDSN, name string) error {
	if !databaseNameRE.MatchString(name) {
		return fmt.Errorf("drop database: invalid name %q", name)
	}
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("connect postgres %s: %w", redact(adminDSN), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns dsn naming database name instead of its own.
func withDatabase(dsn, name string) (string, error) {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse postgres dsn %s: %w", redact(dsn), err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// key=value form: a later key wins.
	return dsn + " dbname=" + name, nil
}

// CreateGeographyIndex builds the GiST index on geom::geography that a
// PostGIS user adds for geodesic ST_DWithin queries; PostGISRadius needs it
// to be fast. The store itself never uses it.
func (db *DB) CreateGeographyIndex(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS posts_geog ON posts USING gist ((geom::geography))`); err != nil {
		return fmt.Errorf("create geography index: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE posts`); err != nil {
		return fmt.Errorf("analyze posts: %w", err)
	}
	return nil
}

// postgisRadiusSQL is the radius feed as a PostGIS user writes it by hand:
// the newest live posts within $4 metres of a point (on the sphere, as the
// geo package measures, so both answers hold the same posts) that match a
// place of workspace $1, with their authors.
const postgisRadiusSQL = `SELECT p.id, p.kind, p.author_id, p.taken_at, p.lat, p.lon, p.accuracy_m, p.expires_at, p.expired,
	p.place_ids, p.doc, a.followers, a.following, a.posts_count, a.private, a.updated_at, a.card
FROM posts p JOIN authors a ON a.id = p.author_id
WHERE ST_DWithin(p.geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, $4, false)
	AND NOT p.expired
	AND EXISTS (SELECT 1 FROM places pl WHERE pl.id = ANY(p.place_ids) AND pl.workspace_id = $1)
ORDER BY p.taken_at DESC, p.id DESC LIMIT $5`

// PostGISRadius runs the hand-written PostGIS radius query for the newest
// limit posts of the workspace within radiusM metres of (lat, lon) and
// returns their ids in feed order. It is the baseline that `geopulse bench`
// compares FindPosts with a circle Area against; its rows are decoded like
// the feed's, so the two differ only in how SQL finds them. It runs
// unprepared so that PostgreSQL plans it for its values, as psql would.
func (db *DB) PostGISRadius(ctx context.Context, workspaceID int64, lat, lon, radiusM float64, limit int) ([]int64, error) {
	posts, err := db.queryPosts(ctx, postgisRadiusSQL, pgx.QueryExecModeExec, workspaceID, lon, lat, radiusM, limit)
	if err != nil {
		return nil, fmt.Errorf("postgis radius: %w", err)
	}
	ids := make([]int64, len(posts))
	for i, p := range posts {
		ids[i] = p.ID
	}
	return ids, nil
}

// VacuumAnalyze vacuums and analyzes the whole database, as autovacuum
// would in time: after a bulk load it sets the visibility map that
// index-only scans rely on and gives the planner statistics, so that
// queries are measured in the steady state rather than right after COPY.
func (db *DB) VacuumAnalyze(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	return nil
}

// DatabaseSize returns the size on disk of the store's database in bytes.
func (db *DB) DatabaseSize(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return n, nil
}
