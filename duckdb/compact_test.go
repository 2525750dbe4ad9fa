package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
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
	if db.sortedRows != 120 || db.tailRows != 0 {
		t.Fatalf("sorted %d, tail %d; want a compaction of 120 rows", db.sortedRows, db.tailRows)
	}
	if _, err := db.UpsertPosts(ctx, batch(60, 20)); err != nil { // 40 more rows: below the minimum
		t.Fatal(err)
	}
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
