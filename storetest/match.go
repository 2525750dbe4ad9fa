package storetest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// inCircle returns an exact test for a circle in degrees that also rejects
// positions less accurate than maxAcc metres.
func inCircle(lat, lon, r, maxAcc float64) func(lat, lon, acc float64) bool {
	return func(plat, plon, acc float64) bool {
		return math.Hypot(plat-lat, plon-lon) <= r && acc <= maxAcc
	}
}

func testMatchPlace(t *testing.T, open opener) {
	t.Run("ReplacesMatchesAndStoresBBox", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 10, 10, 50)
		au := author("insta", "ann", 10)
		center := newPost("insta", "center", t0, 10, 10, au)
		near := newPost("insta", "near", t0.Add(time.Minute), 10.05, 10, au)
		corner := newPost("insta", "corner", t0.Add(2*time.Minute), 10.09, 10.09, au) // in the box, not the circle
		blurry := newPost("insta", "blurry", t0.Add(3*time.Minute), 10, 10.01, au)
		blurry.AccuracyM = 500
		far := newPost("insta", "far", t0.Add(4*time.Minute), 20, 20, au)
		e.upsert(center, near, corner, blurry, far)

		box := geopulse.BBox{MinLat: 9.9, MinLon: 9.9, MaxLat: 10.1, MaxLon: 10.1}
		n, err := e.s.MatchPlace(e.ctx, p.ID, box, inCircle(10, 10, 0.1, 100))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("matched %d, want 2", n)
		}
		feed := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})
		if g := ids(feed); !slices.Equal(g, []string{"near", "center"}) {
			t.Fatalf("feed = %v, want [near center]", g)
		}
		for _, post := range feed {
			if !slices.Equal(post.PlaceIDs, []int64{p.ID}) {
				t.Fatalf("%s place ids = %v", post.SourceID, post.PlaceIDs)
			}
		}
		got, err := e.s.FindPlaceByID(e.ctx, ws.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.BBox != box {
			t.Fatalf("bbox = %+v, want %+v", got.BBox, box)
		}

		// Reshape: a box alone (nil contains) around the corner only.
		box2 := geopulse.BBox{MinLat: 10.08, MinLon: 10.08, MaxLat: 10.1, MaxLon: 10.1}
		if n, err = e.s.MatchPlace(e.ctx, p.ID, box2, nil); err != nil || n != 1 {
			t.Fatalf("rematch = %d, %v; want 1", n, err)
		}
		feed = e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})
		if g := ids(feed); !slices.Equal(g, []string{"corner"}) {
			t.Fatalf("feed after rematch = %v, want [corner]", g)
		}
		_, err = e.s.FindPostByID(e.ctx, ws.ID, center.ID)
		wantCode(t, err, geopulse.ENOTFOUND)
		if got, _ = e.s.FindPlaceByID(e.ctx, ws.ID, p.ID); got.BBox != box2 {
			t.Fatalf("bbox = %+v, want %+v", got.BBox, box2)
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != 1 || len(stats.TopHashtags) != 1 || stats.TopHashtags[0].Posts != 1 {
			t.Fatalf("analytics after rematch: posts %d, hashtags %+v", stats.Posts, stats.TopHashtags)
		}
	})

	t.Run("KeepsOtherPlacesMatches", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		a := e.venue(ws.ID, "a", 10, 10, 50)
		x := e.venue(other.ID, "x", 10, 10, 50)
		post := newPost("insta", "p", t0, 10, 10, author("insta", "ann", 1), a.ID)
		e.upsert(post)
		if n, err := e.s.MatchPlace(e.ctx, x.ID, geopulse.BBox{MinLat: 9, MinLon: 9, MaxLat: 11, MaxLon: 11}, nil); err != nil || n != 1 {
			t.Fatalf("match = %d, %v; want 1", n, err)
		}
		for _, w := range []struct {
			ws    int64
			place int64
		}{{ws.ID, a.ID}, {other.ID, x.ID}} {
			got, err := e.s.FindPostByID(e.ctx, w.ws, post.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.PlaceIDs, []int64{w.place}) {
				t.Fatalf("workspace %d sees place ids %v, want [%d]", w.ws, got.PlaceIDs, w.place)
			}
		}
		// Matching the place again is idempotent.
		if n, err := e.s.MatchPlace(e.ctx, x.ID, geopulse.BBox{MinLat: 9, MinLon: 9, MaxLat: 11, MaxLon: 11}, nil); err != nil || n != 1 {
			t.Fatalf("rematch = %d, %v; want 1", n, err)
		}
		if got := e.feedAll(geopulse.PostFilter{WorkspaceID: other.ID}); len(got) != 1 {
			t.Fatalf("feed has %d posts, want 1", len(got))
		}
	})

	t.Run("SecondMatchCountsOnce", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		a := e.venue(ws.ID, "a", 10, 10, 50)
		b := e.venue(ws.ID, "b", 10, 10, 80)
		post := newPost("insta", "p", t0, 10, 10, author("insta", "ann", 1), a.ID)
		e.upsert(post)
		if n, err := e.s.MatchPlace(e.ctx, b.ID, geopulse.BBox{MinLat: 9, MinLon: 9, MaxLat: 11, MaxLon: 11}, nil); err != nil || n != 1 {
			t.Fatalf("match = %d, %v; want 1", n, err)
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != 1 || stats.Authors != 1 || len(stats.Volume) != 1 || stats.Volume[0].Posts != 1 ||
			stats.TopHashtags[0].Posts != 1 || stats.TopAuthors[0].Posts != 1 || len(stats.Places) != 2 {
			t.Fatalf("a post in two places counted twice: %+v", stats)
		}
		feed := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})
		if len(feed) != 1 || !slices.Equal(feed[0].PlaceIDs, []int64{a.ID, b.ID}) {
			t.Fatalf("feed = %v with places %v", ids(feed), feed[0].PlaceIDs)
		}
	})

	t.Run("UnknownPlace", func(t *testing.T) {
		e := newEnv(t, open)
		_, err := e.s.MatchPlace(e.ctx, 9999, geopulse.BBox{MaxLat: 1, MaxLon: 1}, nil)
		wantCode(t, err, geopulse.ENOTFOUND)
	})

	t.Run("ManyCandidates", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 0.5, 0.5, 50)
		au := author("insta", "ann", 10)
		const side = 150 // side² posts on a grid over [0,1)²
		var posts []*geopulse.Post
		want := 0
		contains := inCircle(0.5, 0.5, 0.3, 100)
		for i := range side * side {
			lat, lon := float64(i/side)/side, float64(i%side)/side
			posts = append(posts, newPost("insta", fmt.Sprint("g", i), t0.Add(time.Duration(i)*time.Second), lat, lon, au))
			if lat >= 0.2 && lat <= 0.8 && lon >= 0.2 && lon <= 0.8 && contains(lat, lon, 5) {
				want++
			}
		}
		e.upsert(posts...)
		n, err := e.s.MatchPlace(e.ctx, p.ID, geopulse.BBox{MinLat: 0.2, MinLon: 0.2, MaxLat: 0.8, MaxLon: 0.8}, contains)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("matched %d, want %d", n, want)
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != int64(want) {
			t.Fatalf("analytics posts = %d, want %d", stats.Posts, want)
		}
	})
}
