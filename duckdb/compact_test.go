package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestCompaction checks that automatic compaction runs when the tail is big
// enough, resets the tail, survives a reopen, and changes no answer.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.duckdb")
	db, err := Open(ctx, path, Options{CompactMinRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	w := &geopulse.Workspace{Name: "w"}
	if err := db.CreateWorkspace(ctx, w); err != nil {
		t.Fatal(err)
	}
	var places []int64
	for i := range 5 {
		p := &geopulse.Place{WorkspaceID: w.ID, Name: fmt.Sprint(i), Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
		if err := db.CreatePlace(ctx, p); err != nil {
			t.Fatal(err)
		}
		places = append(places, p.ID)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := func(from, n int) []*geopulse.Post {
		var out []*geopulse.Post
		for i := from; i < from+n; i++ {
			out = append(out, &geopulse.Post{Source: "s", SourceID: fmt.Sprint(i), Kind: geopulse.KindPhoto,
				TakenAt: t0.Add(time.Duration(i) * time.Minute), Author: geopulse.Author{SourceID: fmt.Sprint("a", i%7)},
				Lat: 1, Lon: 1, Hashtags: []string{fmt.Sprint("t", i%3)}, PlaceIDs: []int64{places[i%5], places[(i+1)%5]}})
		}
		return out
	}
	snapshot := func() ([]string, *geopulse.Analytics) {
		t.Helper()
		var ids []string
		f := geopulse.PostFilter{WorkspaceID: w.ID, PlaceIDs: places[1:3], Limit: 7}
		for {
			page, next, err := db.FindPosts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				ids = append(ids, p.SourceID)
			}
			if next == "" {
				break
			}
			f.Cursor = next
		}
		a, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: w.ID, PlaceIDs: places[:4], Interval: geopulse.IntervalHour})
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.TopAuthors {
			a.TopAuthors[i].Author.UpdatedAt = time.Time{}
		}
		return ids, a
	}

	if _, err := db.UpsertPosts(ctx, batch(0, 40)); err != nil { // 80 rows: below the minimum
		t.Fatal(err)
	}
	if db.sortedRows != 0 || db.tailRows != 80 {
		t.Fatalf("sorted %d, tail %d; want no compaction yet", db.sortedRows, db.tailRows)
	}
	ids0, a0 := snapshot()
	if _, err := db.UpsertPosts(ctx, batch(40, 20)); err != nil { // 120 rows: compacts
		t.Fatal(err)
	}
	db.waitCompaction()
	if db.sortedRows != 120 || db.tailRows != 0 {
		t.Fatalf("sorted %d, tail %d; want a compaction of 120 rows", db.sortedRows, db.tailRows)
	}
	if _, err := db.UpsertPosts(ctx, batch(60, 20)); err != nil { // 40 more rows: below the minimum
		t.Fatal(err)
	}
	db.waitCompaction()
	if db.sortedRows != 120 || db.tailRows != 40 {
		t.Fatalf("sorted %d, tail %d", db.sortedRows, db.tailRows)
	}
	ids1, a1 := snapshot()
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	ids2, a2 := snapshot()
	if !reflect.DeepEqual(ids1, ids2) || !reflect.DeepEqual(a1, a2) {
		t.Fatalf("compaction changed answers:\n%v\n%v\n%+v\n%+v", ids1, ids2, a1, a2)
	}
	if len(ids1) <= len(ids0) || a1.Posts <= a0.Posts {
		t.Fatalf("later batches not visible: %d then %d posts", len(ids0), len(ids1))
	}
	db.Close()

	db, err = Open(ctx, path, Options{CompactMinRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.sortedRows != 160 || db.tailRows != 0 {
		t.Fatalf("after reopen: sorted %d, tail %d; want 160, 0", db.sortedRows, db.tailRows)
	}
	ids3, _ := snapshot()
	if !reflect.DeepEqual(ids1, ids3) {
		t.Fatalf("answers changed after reopen")
	}
}

// TestCompactionWithReaders runs feeds and analytics while writes compact
// the match tables under them: readers must never fail.
func TestCompactionWithReaders(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "g.duckdb"), Options{CompactMinRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &geopulse.Workspace{Name: "w"}
	if err := db.CreateWorkspace(ctx, w); err != nil {
		t.Fatal(err)
	}
	p := &geopulse.Place{WorkspaceID: w.ID, Name: "p", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
	if err := db.CreatePlace(ctx, p); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	done := make(chan struct{})
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, _, err := db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: w.ID, Hashtag: "t"}); err != nil {
					errc <- err
					return
				}
				if _, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: w.ID}); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for b := range 20 {
		var batch []*geopulse.Post
		for i := range 30 {
			n := b*30 + i
			batch = append(batch, &geopulse.Post{Source: "s", SourceID: fmt.Sprint(n), Kind: geopulse.KindPhoto,
				TakenAt: t0.Add(time.Duration(n) * time.Minute), Author: geopulse.Author{SourceID: "a"},
				Lat: 1, Lon: 1, Hashtags: []string{"t"}, PlaceIDs: []int64{p.ID}})
		}
		if _, err := db.UpsertPosts(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("reader: %v", err)
	}
	a, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: w.ID})
	if err != nil || a.Posts != 600 {
		t.Fatalf("analytics = %+v, %v; want 600 posts", a, err)
	}
}

// waitCompaction returns once no automatic compaction runs.
func (db *DB) waitCompaction() {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.awaitCompaction()
}

// TestCompactionInBackground writes while an automatic compaction sorts
// its snapshot, then compares the match tables with those of a store that
// made the same writes and never compacted: the rows written meanwhile
// (new posts, a re-delivery that moves a post to other places and tags,
// image labels, an expired story, an erased post) must all be there as
// written. "by place" also edits a place meanwhile, which makes the
// compaction sort the tables again under the lock.
func TestCompactionInBackground(t *testing.T) {
	for _, byPlace := range []bool{false, true} {
		t.Run(fmt.Sprintf("by place=%v", byPlace), func(t *testing.T) {
			ctx := context.Background()
			clock := func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }
			open := func(minRows int) *DB {
				db, err := Open(ctx, filepath.Join(t.TempDir(), "g.duckdb"), Options{CompactMinRows: minRows, Now: clock})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			compacted, plain := open(50), open(-1)
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			post := func(i int, places []int64) *geopulse.Post {
				p := &geopulse.Post{Source: "s", SourceID: fmt.Sprint(i), Kind: geopulse.KindPhoto,
					TakenAt: t0.Add(time.Duration(i) * time.Minute), Author: geopulse.Author{SourceID: fmt.Sprint("a", i%7)},
					Lat: 1, Lon: 1, Hashtags: []string{fmt.Sprint("t", i%3)}, PlaceIDs: places,
					Labels: benchLabels[i%len(benchLabels)]}
				if i%10 == 0 {
					p.Kind = geopulse.KindStory
					exp := t0.Add(time.Duration(i)*time.Minute + time.Hour)
					p.ExpiresAt = &exp
				}
				return p
			}
			// Both stores go through the same steps, one after the other; ids
			// are the same in both.
			var places []int64
			steps := func(db *DB, during func()) {
				w := &geopulse.Workspace{Name: "w"}
				if err := db.CreateWorkspace(ctx, w); err != nil {
					t.Fatal(err)
				}
				places = places[:0]
				for i := range 4 {
					p := &geopulse.Place{WorkspaceID: w.ID, Name: fmt.Sprint(i), Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
					if err := db.CreatePlace(ctx, p); err != nil {
						t.Fatal(err)
					}
					places = append(places, p.ID)
				}
				var batch []*geopulse.Post
				for i := range 60 { // 60 rows: starts a compaction in compacted
					batch = append(batch, post(i, []int64{places[i%3]}))
				}
				if _, err := db.UpsertPosts(ctx, batch); err != nil {
					t.Fatal(err)
				}
				during()
			}
			meanwhile := func(db *DB) {
				var batch []*geopulse.Post
				for i := 60; i < 80; i++ {
					batch = append(batch, post(i, []int64{places[i%3], places[3]}))
				}
				moved := post(5, []int64{places[3]})
				moved.Hashtags = []string{"moved"}
				batch = append(batch, moved)
				if _, err := db.UpsertPosts(ctx, batch); err != nil {
					t.Fatal(err)
				}
				id := geopulse.PostID("s", "7")
				if err := db.ReplaceLabels(ctx, id, geopulse.OriginImage, []geopulse.Label{{Kind: geopulse.LabelObject, Name: "dog", Score: 0.9,
					Model: "nanodet", Version: "1"}}, clock()); err != nil {
					t.Fatal(err)
				}
				if n, err := db.ExpireStories(ctx, t0.Add(2*time.Hour)); err != nil || n == 0 {
					t.Fatalf("expire: %d, %v", n, err)
				}
				if _, err := db.ApplyCompliance(ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "s", SourceID: "8"}); err != nil {
					t.Fatal(err)
				}
				if byPlace {
					if err := db.DeletePlace(ctx, 1, places[0]); err != nil {
						t.Fatal(err)
					}
				}
			}
			var hooked bool
			compacted.compactHook = func() {
				if !hooked {
					hooked = true
					meanwhile(compacted)
				}
			}
			steps(compacted, func() {})
			compacted.waitCompaction()
			steps(plain, func() { meanwhile(plain) })
			if !hooked {
				t.Fatal("no compaction ran")
			}
			for _, table := range matchTables {
				got, want := dumpTable(t, compacted, table), dumpTable(t, plain, table)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s after compaction:\n%v\nwant\n%v", table, got, want)
				}
			}
			var n int64
			if err := compacted.sql.QueryRow(`SELECT count(*) FROM post_places`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if compacted.sortedRows != n || compacted.tailRows != 0 {
				t.Errorf("sorted %d, tail %d; want %d, 0", compacted.sortedRows, compacted.tailRows, n)
			}
		})
	}
}

// dumpTable returns a table's rows as strings, sorted.
func dumpTable(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.sql.Query(`SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
