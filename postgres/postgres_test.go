package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/postgres"
	"github.com/geopulse/geopulse/postgres/pgtest"
	"github.com/geopulse/geopulse/storetest"
)

// testDatabase is a fresh database for one test (pgtest.NewDatabase);
// each store in it gets a fresh schema.
type testDatabase struct {
	dsn string
}

func newTestDatabase(t testing.TB) *testDatabase {
	t.Helper()
	return &testDatabase{dsn: pgtest.NewDatabase(t)}
}

// schema returns the DSN of a fresh, empty schema.
func (d *testDatabase) schema(t testing.TB) string {
	t.Helper()
	return pgtest.NewSchema(t, d.dsn)
}

// openFresh opens a migrated store in a fresh schema.
func (d *testDatabase) openFresh(t testing.TB, now func() time.Time) (*postgres.DB, string) {
	t.Helper()
	dsn := d.schema(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: now, AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	return db, dsn
}

func TestStore(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	tests := []struct {
		name   string
		params string // added to the DSN
	}{
		{"default", ""},
		// Through a pooler in transaction mode, prepared statements are out:
		// every statement goes unprepared, and results come as text.
		{"simple protocol", "default_query_exec_mode=simple_protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, now func() time.Time) geopulse.Store {
				dsn := d.schema(t)
				if tt.params != "" {
					dsn += "&" + tt.params
				}
				db, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: now, AutoMigrate: true})
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	ctx := context.Background()

	t.Run("stale schema is refused until migrated", func(t *testing.T) {
		dsn := d.schema(t)
		_, err := postgres.Open(ctx, dsn, postgres.Options{})
		if !errors.Is(err, postgres.ErrStaleSchema) || !strings.Contains(err.Error(), "geopulse migrate") {
			t.Fatalf("open unmigrated = %v, want ErrStaleSchema telling to run geopulse migrate", err)
		}
		applied, err := postgres.Migrate(ctx, dsn)
		if err != nil || len(applied) == 0 || applied[0] != "0001_init.sql" {
			t.Fatalf("migrate = %v, %v", applied, err)
		}
		again, err := postgres.Migrate(ctx, dsn)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate = %v, %v; want nothing to do", again, err)
		}
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		if err := db.CreateWorkspace(ctx, &geopulse.Workspace{Name: "x"}); err == nil {
			t.Fatal("write after close succeeded")
		}
	})

	t.Run("concurrent migrations apply once", func(t *testing.T) {
		dsn := d.schema(t)
		errc := make(chan error, 3)
		counts := make(chan int, 3)
		for range 3 {
			go func() {
				applied, err := postgres.Migrate(ctx, dsn)
				errc <- err
				counts <- len(applied)
			}()
		}
		total := 0
		for range 3 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			total += <-counts
		}
		files, err := filepath.Glob("migrations/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("list migrations: %v", err)
		}
		if total != len(files) {
			t.Fatalf("migrations applied %d times in all, want each of the %d once", total, len(files))
		}
	})

	t.Run("newer schema is refused", func(t *testing.T) {
		db, dsn := d.openFresh(t, nil)
		db.Close()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
			t.Fatal(err)
		}
		for _, auto := range []bool{false, true} {
			_, err = postgres.Open(ctx, dsn, postgres.Options{AutoMigrate: auto})
			if !errors.Is(err, postgres.ErrNewerSchema) {
				t.Fatalf("open (auto migrate %v) = %v, want ErrNewerSchema", auto, err)
			}
		}
		if _, err := postgres.Migrate(ctx, dsn); !errors.Is(err, postgres.ErrNewerSchema) {
			t.Fatalf("migrate = %v, want ErrNewerSchema", err)
		}
	})

	t.Run("bad dsn", func(t *testing.T) {
		for _, dsn := range []string{"postgres://%zz", "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"} {
			if db, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
				db.Close()
				t.Fatalf("open %q succeeded", dsn)
			}
		}
	})

	t.Run("reopen keeps data", func(t *testing.T) {
		db, dsn := d.openFresh(t, nil)
		w := &geopulse.Workspace{Name: "kept"}
		if err := db.CreateWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
		p := &geopulse.Place{WorkspaceID: w.ID, Name: "p", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
		if err := db.CreatePlace(ctx, p); err != nil {
			t.Fatal(err)
		}
		post := &geopulse.Post{Source: "s", SourceID: "1", Kind: geopulse.KindPhoto, TakenAt: time.Now(),
			Author: geopulse.Author{SourceID: "a"}, Lat: 1, Lon: 1, PlaceIDs: []int64{p.ID}}
		if _, err := db.UpsertPosts(ctx, []*geopulse.Post{post}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if got, err := db.FindPostByID(ctx, w.ID, post.ID); err != nil || got.SourceID != "1" {
			t.Fatalf("post after reopen: %+v, %v", got, err)
		}
		p2 := &geopulse.Place{WorkspaceID: w.ID, Name: "p2", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
		if err := db.CreatePlace(ctx, p2); err != nil || p2.ID <= p.ID {
			t.Fatalf("new place id %d after %d: %v", p2.ID, p.ID, err)
		}
	})
}
