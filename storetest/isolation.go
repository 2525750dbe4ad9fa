package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// testIsolation gives two workspaces overlapping places over the same posts
// and checks, method by method, that neither sees the other's places or the
// posts that only the other's places matched.
func testIsolation(t *testing.T, open opener) {
	e := newEnv(t, open)
	red, blue := e.workspace("red"), e.workspace("blue")
	r := e.venue(red.ID, "red venue", 1, 1, 100, "g")
	bl := e.venue(blue.ID, "blue venue", 1, 1.0005, 100, "g")
	au := author("insta", "ann", 10)
	both := newPost("insta", "both", t0, 1, 1.0002, au, r.ID, bl.ID)
	redOnly := newPost("insta", "red-only", t0.Add(-time.Hour), 1, 0.9995, au, r.ID)
	blueOnly := newPost("insta", "blue-only", t0.Add(-2*time.Hour), 1, 1.001, au, bl.ID)
	blueOnly.Hashtags = []string{"secret"}
	e.upsert(both, redOnly, blueOnly)

	type view struct {
		ws, own, foreign int64
		visible          []string
		hidden           *geopulse.Post
	}
	for _, v := range []view{
		{red.ID, r.ID, bl.ID, []string{"both", "red-only"}, blueOnly},
		{blue.ID, bl.ID, r.ID, []string{"both", "blue-only"}, redOnly},
	} {
		t.Run(map[int64]string{red.ID: "red", blue.ID: "blue"}[v.ws], func(t *testing.T) {
			feed := e.feedAll(geopulse.PostFilter{WorkspaceID: v.ws})
			if g := ids(feed); !slices.Equal(g, v.visible) {
				t.Fatalf("feed = %v, want %v", g, v.visible)
			}
			for _, p := range feed {
				if !slices.Equal(p.PlaceIDs, []int64{v.own}) {
					t.Fatalf("%s carries place ids %v", p.SourceID, p.PlaceIDs)
				}
			}
			if g, _ := e.feed(geopulse.PostFilter{WorkspaceID: v.ws, PlaceIDs: []int64{v.foreign}}); len(g) != 0 {
				t.Fatalf("feed of the other's place returned %v", ids(g))
			}
			if g, _ := e.feed(geopulse.PostFilter{WorkspaceID: v.ws, Hashtag: "secret"}); len(g) != 0 && v.ws == red.ID {
				t.Fatalf("hashtag search leaked %v", ids(g))
			}
			if _, err := e.s.FindPostByID(e.ctx, v.ws, v.hidden.ID); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
				t.Fatalf("find hidden post: %v", err)
			}
			got, err := e.s.FindPostByID(e.ctx, v.ws, both.ID)
			if err != nil || !slices.Equal(got.PlaceIDs, []int64{v.own}) {
				t.Fatalf("shared post = %+v, %v", got, err)
			}
			places, err := e.s.FindPlaces(e.ctx, geopulse.PlaceFilter{WorkspaceID: v.ws, Group: "g"})
			if err != nil || len(places) != 1 || places[0].ID != v.own {
				t.Fatalf("places = %v, %v", placeIDs(places), err)
			}
			if _, err := e.s.FindPlaceByID(e.ctx, v.ws, v.foreign); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
				t.Fatalf("find other's place: %v", err)
			}
			name := "hijacked"
			if _, err := e.s.UpdatePlace(e.ctx, v.ws, v.foreign, geopulse.PlaceUpdate{Name: &name}); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
				t.Fatalf("update other's place: %v", err)
			}
			if err := e.s.DeletePlace(e.ctx, v.ws, v.foreign); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
				t.Fatalf("delete other's place: %v", err)
			}
			stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: v.ws})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Posts != 2 || len(stats.Places) != 1 || stats.Places[0].PlaceID != v.own {
				t.Fatalf("analytics = %d posts, places %+v", stats.Posts, stats.Places)
			}
			for _, tc := range stats.TopHashtags {
				if tc.Term == "secret" && v.ws == red.ID {
					t.Fatalf("analytics leaked the other's hashtag")
				}
			}
			stats, err = e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: v.ws, PlaceIDs: []int64{v.foreign}})
			if err != nil || stats.Posts != 0 || len(stats.Volume) != 0 || len(stats.TopAuthors) != 0 {
				t.Fatalf("analytics of the other's place = %+v, %v", stats, err)
			}
		})
	}
	// Both places are intact after the attempts above.
	for _, p := range []*geopulse.Place{r, bl} {
		got, err := e.s.FindPlaceByID(e.ctx, p.WorkspaceID, p.ID)
		if err != nil || got.Name != p.Name {
			t.Fatalf("place %d = %+v, %v", p.ID, got, err)
		}
	}
}
