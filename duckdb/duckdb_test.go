package duckdb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/storetest"
)

func TestStore(t *testing.T) {
	tests := []struct {
		name string
		opts duckdb.Options
	}{
		{"default", duckdb.Options{}},
		// Compacting after every write proves that the rewrite of the match
		// tables changes no answer.
		{"compact always", duckdb.Options{CompactMinRows: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, now func() time.Time) geopulse.Store {
				opts := tt.opts
				opts.Now, opts.Threads = now, 2
				db, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "geopulse.duckdb"), opts)
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("memory", func(t *testing.T) {
		db, err := duckdb.Open(ctx, ":memory:", duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateWorkspace(ctx, &geopulse.Workspace{Name: "w"}); err != nil {
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

	t.Run("reopen keeps data and migrates once", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "g.duckdb")
		db, err := duckdb.Open(ctx, path, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
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

		db, err = duckdb.Open(ctx, path, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if got, err := db.FindWorkspaceByName(ctx, "kept"); err != nil || got.ID != w.ID {
			t.Fatalf("after reopen: %+v, %v", got, err)
		}
		if got, err := db.FindPostByID(ctx, w.ID, post.ID); err != nil || got.SourceID != "1" {
			t.Fatalf("post after reopen: %+v, %v", got, err)
		}
		// Sequences continue rather than restart.
		p2 := &geopulse.Place{WorkspaceID: w.ID, Name: "p2", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
		if err := db.CreatePlace(ctx, p2); err != nil || p2.ID <= p.ID {
			t.Fatalf("new place id %d after %d: %v", p2.ID, p.ID, err)
		}
	})

	t.Run("newer schema is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "g.duckdb")
		db, err := duckdb.Open(ctx, path, duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		raw, err := sql.Open("duckdb", path)
		if err != nil {
			t.Fatal(err)
		}
		var versions int
		if err := raw.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions == 0 {
			t.Fatalf("schema_migrations has %d rows: %v", versions, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', now())`); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		_, err = duckdb.Open(ctx, path, duckdb.Options{})
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("open = %v, want a refusal", err)
		}
	})

	t.Run("times beyond TIMESTAMP", func(t *testing.T) {
		db, err := duckdb.Open(ctx, ":memory:", duckdb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		w := &geopulse.Workspace{Name: "w"}
		if err := db.CreateWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
		far := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
		errs, err := db.UpsertPosts(ctx, []*geopulse.Post{{Source: "s", SourceID: "1", Kind: geopulse.KindPhoto,
			TakenAt: far, Author: geopulse.Author{SourceID: "a"}}})
		if err != nil || geopulse.ErrorReason(errs[0]) != geopulse.ReasonInvalidField {
			t.Fatalf("upsert = %v, %v; want an invalid_field rejection", errs, err)
		}
		if _, _, err := db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: w.ID, To: far}); geopulse.ErrorCode(err) != geopulse.EINVALID {
			t.Fatalf("find posts = %v, want EINVALID", err)
		}
		if _, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: w.ID, From: far}); geopulse.ErrorCode(err) != geopulse.EINVALID {
			t.Fatalf("analytics = %v, want EINVALID", err)
		}
	})

	t.Run("bad path", func(t *testing.T) {
		for _, path := range []string{"", "a?b.duckdb", filepath.Join(t.TempDir(), "missing-dir", "x", "g.duckdb")} {
			if db, err := duckdb.Open(ctx, path, duckdb.Options{}); err == nil {
				db.Close()
				t.Fatalf("open %q succeeded", path)
			}
		}
	})
}
