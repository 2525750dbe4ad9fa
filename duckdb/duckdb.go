package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Defaults for Options.
const (
	// DefaultCompactMinRows is the smallest unsorted tail of post_places that
	// triggers a compaction (see Options.CompactMinRows).
	DefaultCompactMinRows = 250_000
	// compactTailRatio: the tail must also be at least this fraction of the
	// sorted part, so that the cost of compaction stays proportional to the
	// growth it absorbs (each row is rewritten a bounded number of times).
	compactTailRatio = 0.25
)

// Log keys.
const (
	logKeyPath     = "path"
	logKeyVersion  = "version"
	logKeyRows     = "rows"
	logKeyDuration = "duration"
	logKeyError    = "error"
)

// Options configure a DB. The zero value is usable.
type Options struct {
	// Now returns the current time; default time.Now().UTC. Tests inject a
	// fixed clock.
	Now func() time.Time
	// Logger receives migration and compaction events; nil discards.
	Logger *slog.Logger
	// Threads is DuckDB's worker thread count; 0 keeps DuckDB's default
	// (one per core).
	Threads int
	// MemoryLimit caps DuckDB's buffer memory, e.g. "1GB"; "" keeps DuckDB's
	// default (80% of RAM). Larger work spills to disk.
	MemoryLimit string
	// CompactMinRows is how many match rows must have been appended since the
	// last compaction (and at least a quarter of the compacted rows) before a
	// write compacts automatically. 0 means DefaultCompactMinRows; a negative
	// value disables automatic compaction (Compact still works).
	CompactMinRows int
}

// DB is the embedded DuckDB store. It implements geopulse.Store. All writes
// go through one dedicated connection under a mutex: DuckDB allows one
// writer at a time anyway, and serialising in Go turns write-write conflicts
// into waiting instead of errors. Reads use the pool and run concurrently.
type DB struct {
	sql    *sql.DB
	now    func() time.Time
	logger *slog.Logger

	compactMinRows int
	places         placeCache

	refreshMu sync.Mutex // one profile refresh round at a time (audience.go)

	wmu sync.Mutex // guards w, the staging tables and the fields below
	w   *sql.Conn
	// tailRows estimates the rows appended to post_places since the last
	// compaction; sortedRows is how many rows that compaction wrote.
	tailRows   int64
	sortedRows int64
	// bg is the automatic compaction in progress (compact.go);
	// compactHook, when set by a test, runs between its two phases.
	bg          compaction
	compactHook func()
	closed      bool
	// ws is the writer connection's caches and prepared statements
	// (fastwrite.go).
	ws writerState
}

var _ geopulse.Store = (*DB)(nil)

// Open opens (creating if needed) the DuckDB file at path (":memory:" for a
// throw-away database) and applies the embedded migrations. A database whose
// schema is newer than this binary is refused.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open duckdb: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open duckdb %q: path must not contain '?' or '#'", path)
	}
	q := url.Values{}
	// Late materialisation turns "ORDER BY .. LIMIT n<=50" into a second
	// scan by row id, which measured 5x slower for the feed than a plain
	// top-n over zonemap-pruned row groups.
	q.Set("late_materialization_max_rows", "0")
	// Checkpoints rewrite the tables' tail row groups; at the default 16MB of
	// WAL they ran every few batches and cost more than the batches (1GB:
	// 1.7x ingest throughput measured). 256MB bounds WAL replay at startup.
	q.Set("checkpoint_threshold", "256MB")
	// Indexes are checkpointed in this DuckDB's own storage format. In the
	// default, v1.0.0-compatible one, every checkpoint first converts each
	// whole ART, a cost that grows with the store: a checkpoint after one
	// batch at 710k posts took 13.6 s against 3.7 s (2.9 s against 1.3 s
	// of CPU). Older DuckDB versions cannot read such a file; geopulse
	// ships one version.
	q.Set("storage_compatibility_version", "v1.5.0")
	// Joins whose build side has up to this many keys push an IN filter
	// into the probe side's scan, which a primary-key index answers: a page
	// of posts is fetched by joining its candidate ids (see maxCandidates).
	q.Set("dynamic_or_filter_threshold", strconv.Itoa(maxCandidates))
	if opts.Threads > 0 {
		q.Set("threads", strconv.Itoa(opts.Threads))
	}
	if opts.MemoryLimit != "" {
		q.Set("memory_limit", opts.MemoryLimit)
	}
	connector, err := duckdb.NewConnector(path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb %q: %w", path, err)
	}
	db := &DB{
		sql:            sql.OpenDB(connector),
		now:            opts.Now,
		logger:         opts.Logger,
		compactMinRows: opts.CompactMinRows,
	}
	if db.now == nil {
		db.now = func() time.Time { return time.Now().UTC() }
	}
	if db.logger == nil {
		db.logger = slog.New(slog.DiscardHandler)
	}
	if db.compactMinRows == 0 {
		db.compactMinRows = DefaultCompactMinRows
	}
	if err := db.open(ctx, path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb %q: %w", path, err)
	}
	return db, nil
}

func (db *DB) open(ctx context.Context, path string) error {
	w, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	db.w = w
	if err := db.migrate(ctx, path); err != nil {
		return err
	}
	if err := dropCopies(ctx, w); err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, stagingDDL); err != nil {
		return fmt.Errorf("create staging tables: %w", err)
	}
	var total int64
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM post_places`).Scan(&total); err != nil {
		return fmt.Errorf("count matches: %w", err)
	}
	sorted, err := db.stateValue(ctx, w, stateSortedRows)
	if err != nil {
		return err
	}
	db.sortedRows = min(sorted, total)
	db.tailRows = total - db.sortedRows
	return nil
}

// Close closes the database. It is safe to call more than once; other
// methods fail after it.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil
	}
	if db.bg.running {
		db.bg.cancel()
		db.awaitCompaction()
	}
	db.closed = true
	var errs []error
	if db.w != nil {
		errs = append(errs, db.ws.close(), db.w.Close())
		db.w = nil
	}
	errs = append(errs, db.sql.Close())
	return errors.Join(errs...)
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

// migrate applies the pending migrations, one transaction each, and refuses
// a database that has versions this binary does not know.
func (db *DB) migrate(ctx context.Context, path string) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	w := db.w
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade geopulse", current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		err := db.inTx(ctx, func(c *sql.Conn) error {
			if _, err := c.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := c.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, m.version, m.name, db.nowUTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		db.logger.Info("duckdb migration applied", logKeyPath, path, logKeyVersion, m.version)
	}
	return nil
}

// inTx runs f inside a transaction on the writer connection. The caller
// holds wmu (or is Open). Rollback uses a fresh context so that a cancelled
// request still leaves the connection clean.
func (db *DB) inTx(ctx context.Context, f func(c *sql.Conn) error) error {
	if _, err := db.w.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(db.w); err != nil {
		if _, rerr := db.w.ExecContext(context.Background(), `ROLLBACK`); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	if _, err := db.w.ExecContext(ctx, `COMMIT`); err != nil {
		db.w.ExecContext(context.Background(), `ROLLBACK`)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// write runs f in a transaction on the writer connection, holding the write lock.
func (db *DB) write(ctx context.Context, f func(c *sql.Conn) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.w == nil {
		return errClosed
	}
	return db.inTx(ctx, f)
}

var errClosed = errors.New("duckdb store is closed")

// nowUTC is the injected clock, in UTC, at the microsecond precision that
// TIMESTAMP columns keep, so a value written and read back compares equal.
func (db *DB) nowUTC() time.Time {
	return db.now().UTC().Truncate(time.Microsecond)
}

// Keys of store_state.
const stateSortedRows = "post_places_sorted_rows"

func (db *DB) stateValue(ctx context.Context, c *sql.Conn, key string) (int64, error) {
	var v int64
	err := c.QueryRowContext(ctx, `SELECT value FROM store_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read state %s: %w", key, err)
	}
	return v, nil
}

func setStateValue(ctx context.Context, c *sql.Conn, key string, v int64) error {
	_, err := c.ExecContext(ctx, `INSERT INTO store_state VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("write state %s: %w", key, err)
	}
	return nil
}

// isConstraint reports whether err is a DuckDB constraint violation (a
// duplicate key). Appender errors carry no type, only the message.
func isConstraint(err error) bool {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	return de.Type == duckdb.ErrorTypeConstraint ||
		strings.Contains(de.Msg, "violates primary key constraint") ||
		strings.Contains(de.Msg, "violates unique constraint")
}

// withAppender runs f with a DuckDB appender on table of the writer
// connection and flushes it. Appending is the fast path into staging tables:
// row-by-row INSERTs measured ~50x slower.
func withAppender(c *sql.Conn, catalog, table string, f func(a *duckdb.Appender) error) error {
	return c.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), catalog, "main", table)
		if err != nil {
			return fmt.Errorf("appender %s: %w", table, err)
		}
		if err := f(a); err != nil {
			a.Close()
			return fmt.Errorf("append %s: %w", table, err)
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush %s: %w", table, err)
		}
		return nil
	})
}

// sqlTime renders t as a TIMESTAMP literal. Times and ids are inlined into
// analytical queries (never user strings) because DuckDB prunes row groups
// by zonemap only against constants known at planning time.
func sqlTime(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
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

// sqlKinds renders validated kinds as a quoted list for an IN (...) clause.
func sqlKinds(kinds []geopulse.Kind) string {
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + string(k) + "'")
	}
	return b.String()
}

// validRange returns EINVALID for a time range that is reversed or outside
// what TIMESTAMP holds (years 1 to 9999; zero times mean "unbounded").
func validRange(from, to time.Time) error {
	for _, t := range []time.Time{from, to} {
		if !t.IsZero() && !inTimestampRange(t) {
			return geopulse.Errorf(geopulse.EINVALID, "Time %s is out of range.", t.UTC().Format(time.RFC3339))
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return geopulse.Errorf(geopulse.EINVALID, "The end of the time range is before its start.")
	}
	return nil
}

func inTimestampRange(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
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

// utc converts a scanned time to UTC (DuckDB returns TIMESTAMP as UTC
// already; this keeps the invariant explicit).
func utc(t time.Time) time.Time { return t.UTC() }

// toStrings scans a VARCHAR[] value.
func toStrings(v any) []string {
	l, _ := v.([]any)
	if len(l) == 0 {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// emptyIfNil makes nil slices empty lists for the appender (NOT NULL columns).
func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
