package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestAuthorCacheOutsideWrites checks that the writer's author cache
// notices writes to authors made by anything but UpsertPosts (a compliance
// erasure, say): the next batch must store the card again when it is gone
// and replace it when it differs, even though the batch's card is one the
// cache has seen.
func TestAuthorCacheOutsideWrites(t *testing.T) {
	tests := []struct {
		name    string
		outside string // run between the two batches
		stats   int    // author_stats rows after the second batch
	}{
		{"nothing", ``, 1},
		{"author deleted", `DELETE FROM authors WHERE id = %d; DELETE FROM author_stats WHERE author_id = %[1]d`, 1},
		// The stored counts (0) differ from the batch's: a new observation.
		{"card replaced", `DELETE FROM authors WHERE id = %d;
			INSERT INTO authors VALUES (%[1]d, 0, 0, 0, false, TIMESTAMP '2025-01-01', 1, '{"handle":"old"}')`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
			author := geopulse.Author{SourceID: "a1", Handle: "ann", Followers: 10, Following: 5, PostsCount: 3}
			post := func(id string) *geopulse.Post {
				return &geopulse.Post{Source: "s", SourceID: id, Kind: geopulse.KindPhoto, Author: author,
					TakenAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Lat: 1, Lon: 1, PlaceIDs: []int64{place.ID}}
			}
			first := post("1")
			if _, err := db.UpsertPosts(ctx, []*geopulse.Post{first}); err != nil {
				t.Fatal(err)
			}
			if tt.outside != "" {
				err := db.write(ctx, func(c *sql.Conn) error {
					_, err := c.ExecContext(ctx, fmt.Sprintf(tt.outside, first.Author.ID))
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			second := post("2")
			if _, err := db.UpsertPosts(ctx, []*geopulse.Post{second}); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindPostByID(ctx, ws.ID, second.ID)
			if err != nil {
				t.Fatalf("find the second post: %v", err)
			}
			if got.Author.Handle != "ann" || got.Author.Followers != 10 {
				t.Errorf("author %+v, want ann's card", got.Author)
			}
			stats, err := db.FindAuthorStats(ctx, ws.ID, second.Author.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(stats); n != tt.stats || stats[n-1].Followers != 10 {
				t.Errorf("stats %+v, want %d rows, the last of 10 followers", stats, tt.stats)
			}
		})
	}
}
