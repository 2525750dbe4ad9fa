package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestUpsertConcurrent has several callers store overlapping batches at
// once, so that calls are written in groups: every post must be stored
// once, with its matches, whichever group wrote it.
func TestUpsertConcurrent(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "g.duckdb"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws := &geopulse.Workspace{Name: "w"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	place := &geopulse.Place{WorkspaceID: ws.ID, Name: "p", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 10}
	if err := db.CreatePlace(ctx, place); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const callers, batches, size, distinct = 6, 5, 40, 150
	var wg sync.WaitGroup
	errc := make(chan error, callers*batches)
	for c := range callers {
		wg.Go(func() {
			for b := range batches {
				var posts []*geopulse.Post
				for i := range size {
					k := (c*7 + b*size + i) % distinct // overlapping between callers
					posts = append(posts, &geopulse.Post{Source: "s", SourceID: fmt.Sprint(k), Kind: geopulse.KindPhoto,
						Author:  geopulse.Author{SourceID: fmt.Sprint("a", k%9), Followers: int64(c)},
						TakenAt: t0.Add(time.Duration(k) * time.Minute), Lat: 1, Lon: 1, PlaceIDs: []int64{place.ID}})
				}
				if _, err := db.UpsertPosts(ctx, posts); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var stored, posts, matches int
	err = db.sql.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM posts), (SELECT count(DISTINCT post_id) FROM post_places),
		(SELECT count(*) FROM post_places)`).Scan(&posts, &stored, &matches)
	if err != nil {
		t.Fatal(err)
	}
	if posts != distinct || stored != distinct || matches != distinct {
		t.Errorf("posts %d, matched posts %d, match rows %d; want %d each", posts, stored, matches, distinct)
	}
}

// TestUpsertGroupTake checks how queued calls are grouped: oldest first,
// up to maxGroupPosts posts but always at least one call, and of two copies
// of a post the later wins.
func TestUpsertGroupTake(t *testing.T) {
	call := func(n int, ids ...int64) *upsertCall {
		c := &upsertCall{}
		for i := range n {
			id := int64(1000 + i)
			if i < len(ids) {
				id = ids[i]
			}
			c.staged = append(c.staged, stagedPost{p: &geopulse.Post{ID: id}, doc: fmt.Sprint(len(ids), "-", i)})
		}
		return c
	}
	tests := []struct {
		name  string
		sizes []int
		want  []int // calls per take, until the queue is empty
	}{
		{"one", []int{10}, []int{1}},
		{"all fit", []int{10, 20, 30}, []int{3}},
		{"split at the bound", []int{maxGroupPosts / 2, maxGroupPosts / 2, 1}, []int{2, 1}},
		{"oversized call alone", []int{maxGroupPosts + 1, 5}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g upsertGroup
			for _, n := range tt.sizes {
				g.enqueue(call(n))
			}
			var got []int
			for len(g.queue) > 0 {
				got = append(got, len(g.take()))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("takes %v, want %v", got, tt.want)
			}
		})
	}

	a, b := call(3, 1, 2, 3), call(2, 3, 4)
	merged := mergeStaged([]*upsertCall{a, b})
	var ids []int64
	for _, s := range merged {
		ids = append(ids, s.p.ID)
	}
	if fmt.Sprint(ids) != "[1 2 3 4]" || merged[2].doc != b.staged[0].doc {
		t.Errorf("merged %v (post 3 from %q), want [1 2 3 4] with post 3 from the later call", ids, merged[2].doc)
	}
}
