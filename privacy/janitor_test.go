package privacy_test

import (
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/privacy"
)

// TestJanitorExpiresStories runs the janitor on a fake clock against a real
// store: a story keeps its content until expires_at, and loses it within one
// interval after.
func TestJanitorExpiresStories(t *testing.T) {
	db, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "j.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now().UTC() // the bubble's fake clock
		exp := start.Add(24 * time.Hour)
		story := &geopulse.Post{
			ID: geopulse.PostID("t", "s1"), Source: "t", SourceID: "s1", Kind: geopulse.KindStory,
			Author:  geopulse.Author{ID: geopulse.AuthorID("t", "a"), Source: "t", SourceID: "a", Handle: "a"},
			TakenAt: start, ObservedAt: start, Lat: 1, Lon: 1, Caption: "gone tomorrow #sunset",
			Hashtags: []string{"sunset"}, MediaURLs: []string{"https://cdn.example/1.jpg"}, ExpiresAt: &exp,
		}
		if _, err := db.UpsertPosts(t.Context(), []*geopulse.Post{story}); err != nil {
			t.Fatal(err)
		}
		ws := &geopulse.Workspace{Name: "w"}
		if err := db.CreateWorkspace(t.Context(), ws); err != nil {
			t.Fatal(err)
		}
		place := &geopulse.Place{WorkspaceID: ws.ID, Name: "p", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 100,
			BBox: geopulse.BBox{MinLat: 0.9, MinLon: 0.9, MaxLat: 1.1, MaxLon: 1.1}}
		if err := db.CreatePlace(t.Context(), place); err != nil {
			t.Fatal(err)
		}
		if _, err := db.MatchPlace(t.Context(), place.ID, place.BBox, func(_, _, _ float64) bool { return true }); err != nil {
			t.Fatal(err)
		}
		get := func(id int64) *geopulse.Post {
			p, err := db.FindPostByID(t.Context(), ws.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		j := &privacy.Janitor{Posts: db, Interval: time.Minute}
		go j.Run(t.Context())

		time.Sleep(23 * time.Hour)
		synctest.Wait()
		if p := get(story.ID); p.Expired || p.Caption == "" {
			t.Fatalf("story expired early: %+v", p)
		}
		time.Sleep(time.Hour + time.Minute)
		synctest.Wait()
		p := get(story.ID)
		if !p.Expired || p.Caption != "" || len(p.Hashtags) != 0 || len(p.MediaURLs) != 0 {
			t.Fatalf("story kept content after expiry: %+v", p)
		}
		if p.Kind != geopulse.KindStory || !p.TakenAt.Equal(start) {
			t.Fatalf("the counts' facts must survive: %+v", p)
		}
	})
}
