package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geopulse/geopulse"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Log keys.
const (
	logKeyVersion   = "version"
	logKeyMigration = "migration"
	logKeyPartition = "partition"
	logKeyAttempt   = "attempt"
	logKeyError     = "error"
)

// ErrStaleSchema is wrapped by Open when the database lacks migrations that
// this binary has: run `geopulse migrate` (Migrate) first, or set
// Options.AutoMigrate.
var ErrStaleSchema = errors.New("database schema is behind this binary")

// ErrNewerSchema is wrapped by Open and Migrate when the database has
// migrations that this binary does not know: upgrade geopulse.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// Options configure a DB. The zero value is usable.
type Options struct {
	// Now returns the current time; default time.Now().UTC. Tests inject a
	// fixed clock.
	Now func() time.Time
	// Logger receives migration, partition and retry events; nil discards.
	Logger *slog.Logger
	// AutoMigrate makes Open apply pending migrations instead of refusing
	// to start. Meant for development and tests; in production one
	// `geopulse migrate` runs before the new binary is rolled out, so that
	// nodes of two versions never race to change the schema.
	AutoMigrate bool
}

// DB is the PostgreSQL store. It implements geopulse.Store. It keeps no
// cache of the database's content, so any number of DBs (one per api or
// worker process) can share one database; only the set of monthly
// partitions known to exist is remembered, and partitions are never created
// twice or dropped behind a writer's back (see partition.go).
type DB struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	logger *slog.Logger
	parts  partitions
}

var _ geopulse.Store = (*DB)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; pool settings such as pool_max_conns and search_path go in it)
// and checks its schema. A database with pending migrations is refused with
// ErrStaleSchema unless opts.AutoMigrate is set; one with migrations this
// binary does not know is refused with ErrNewerSchema.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	pool, err := newPool(ctx, dsn)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, now: opts.Now, logger: opts.Logger}
	if db.now == nil {
		db.now = func() time.Time { return time.Now().UTC() }
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	if err := db.open(ctx, opts.AutoMigrate); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", redact(dsn), err)
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, autoMigrate bool) error {
	if autoMigrate {
		if _, err := migrate(ctx, db.pool, db.logger); err != nil {
			return err
		}
	} else {
		current, latest, err := schemaVersion(ctx, db.pool)
		if err != nil {
			return err
		}
		switch {
		case current > latest:
			return fmt.Errorf("%w: database at version %d, binary knows up to %d: upgrade geopulse", ErrNewerSchema, current, latest)
		case current < latest:
			return fmt.Errorf("%w: database at version %d, binary needs %d: run `geopulse migrate` first", ErrStaleSchema, current, latest)
		}
	}
	return db.loadPartitions(ctx)
}

// newPool parses dsn and connects. Every session runs in UTC so that
// date_trunc and extract bucket times in UTC, as the API promises, and
// plans prepared statements once (generic plans): with monthly partitions
// a custom plan re-plans every execution, which cost more than the feed
// query itself (2.4 ms planning for 2.3 ms executing, 4 months at 1M
// posts), while a generic plan prunes partitions when it starts and every
// statement here is an index walk whose plan does not depend on the values.
func newPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse postgres dsn %s: %w", redact(dsn), err)
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres %s: %w", redact(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres %s: %w", redact(dsn), err)
	}
	return pool, nil
}

// Close closes the pool. It is safe to call more than once; other methods
// fail after it.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Migrate applies the pending embedded migrations to the database at dsn,
// one transaction each, and returns the names of those it applied. Several
// processes may call it at once: an advisory lock lets one migrate while the
// others wait and then find nothing to do. ErrNewerSchema for a database
// that has migrations this binary does not know.
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	pool, err := newPool(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	applied, err := migrate(ctx, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return applied, fmt.Errorf("migrate postgres %s: %w", redact(dsn), err)
	}
	return applied, nil
}

// migration is one embedded, numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations ordered by version; a file name
// must start with its version number ("0001_init.sql").
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and '_'", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// schemaMigrationsDDL creates the table that records applied migrations. It
// lives in the first schema of the search_path, like every other table.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`

// migrateLockKey is the advisory lock that serialises migrators.
const migrateLockKey = 0x67656f70756c7365 // "geopulse"

// schemaVersion returns the database's and the binary's latest versions
// without changing anything.
func schemaVersion(ctx context.Context, pool *pgxpool.Pool) (current, latest int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, 0, fmt.Errorf("read migrations: %w", err)
	}
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	} else if !exists {
		return 0, latest, nil
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

// migrate applies the pending migrations on one connection that holds the
// migration lock (a session lock: it outlives each migration's transaction).
func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLockKey)); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLockKey))
	if _, err := conn.Exec(ctx, schemaMigrationsDDL); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return nil, fmt.Errorf("%w: database at version %d, binary knows up to %d: upgrade geopulse", ErrNewerSchema, current, latest)
	}
	var applied []string
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// The simple protocol runs a file of several statements at once.
			if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		applied = append(applied, m.name)
		logger.Info("postgres migration applied", logKeyMigration, m.name, logKeyVersion, m.version)
	}
	return applied, nil
}

// Retries of a transaction that lost a deadlock or serialisation race.
const maxAttempts = 5

// inTx runs f in a transaction and retries it when PostgreSQL aborted it to
// break a deadlock or a serialisation conflict: writers lock rows in id
// order, which rules out deadlocks between batches, but a retry keeps a
// rare interleaving with maintenance (expiry, retention) from failing a
// batch.
func (db *DB) inTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, db.pool, f)
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		db.logger.Warn("postgres transaction retried", logKeyAttempt, attempt, logKeyError, err)
	}
	return err
}

// SQLSTATE codes the store handles.
const (
	sqlDeadlock        = "40P01"
	sqlSerialization   = "40001"
	sqlUniqueViolation = "23505"
	sqlForeignKey      = "23503"
	sqlCheckViolation  = "23514" // also "no partition of relation found for row"
)

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	s := sqlState(err)
	return s == sqlDeadlock || s == sqlSerialization
}

// nowUTC is the injected clock, in UTC, at the microsecond precision that
// timestamptz keeps, so a value written and read back compares equal.
func (db *DB) nowUTC() time.Time {
	return db.now().UTC().Truncate(time.Microsecond)
}

// validKinds returns EINVALID for an unknown kind.
func validKinds(kinds []geopulse.Kind) error {
	for _, k := range kinds {
		if !k.Valid() {
			return geopulse.Errorf(geopulse.EINVALID, "Unknown kind %q.", k)
		}
	}
	return nil
}

// kindStrings converts kinds for a text[] parameter.
func kindStrings(kinds []geopulse.Kind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// redact hides the password of a DSN for error messages and logs.
func redact(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(unparsable dsn)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
