package storetest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// world is a fixture of two workspaces with overlapping places and posts
// whose fields vary systematically, plus a reference model of the feed.
type world struct {
	ws, other *geopulse.Workspace
	a, b, c   *geopulse.Place // acme's places; c has no posts
	x         *geopulse.Place // other's place, overlapping a and b
	posts     []*geopulse.Post
}

func newWorld(e *env) *world {
	w := &world{ws: e.workspace("acme"), other: e.workspace("other")}
	w.a = e.venue(w.ws.ID, "a", 1, 1, 100, "own")
	w.b = e.venue(w.ws.ID, "b", 1, 1.002, 100, "competitors")
	w.c = e.venue(w.ws.ID, "c", 5, 5, 100)
	w.x = e.venue(w.other.ID, "x", 1, 1.001, 200)
	followers := []int64{10, 100, 1000, 10000}
	kinds := []geopulse.Kind{geopulse.KindPhoto, geopulse.KindVideo, geopulse.KindReel}
	for i := range 36 {
		au := author("insta", fmt.Sprint("author", i%4), followers[i%4])
		if i%4 == 3 {
			au.Private = true
		}
		p := newPost("insta", fmt.Sprintf("p%02d", i), t0.Add(-time.Duration(i)*time.Hour), 1+float64(i)*0.0001, 1+float64(i)*0.0001, au)
		p.Kind = kinds[i%3]
		switch i % 3 {
		case 0:
			p.PlaceIDs = []int64{w.a.ID}
		case 1:
			p.PlaceIDs = []int64{w.b.ID, w.x.ID}
		case 2:
			p.PlaceIDs = []int64{w.a.ID, w.b.ID, w.x.ID}
		}
		p.Caption = fmt.Sprintf("Post number %d", i)
		if i%5 == 0 {
			p.Caption += " at SUNSET 🌅"
		}
		p.Hashtags = []string{"all", []string{"even", "odd"}[i%2]}
		w.posts = append(w.posts, p)
	}
	// Two posts at the same instant: the larger id comes first.
	tie1 := newPost("insta", "tie1", t0.Add(-90*time.Minute), 1, 1, author("insta", "author0", 10), w.a.ID)
	tie2 := newPost("insta", "tie2", t0.Add(-90*time.Minute), 1, 1, author("insta", "author0", 10), w.a.ID)
	// An expired story: counted by analytics, never in the feed.
	story := newPost("insta", "story", t0.Add(-30*time.Minute), 1, 1, author("insta", "author1", 100), w.a.ID)
	story.Kind, story.Expired = geopulse.KindStory, true
	// Only in the other workspace's place.
	foreign := newPost("insta", "foreign", t0.Add(-10*time.Minute), 1, 1.001, author("insta", "author2", 1000), w.x.ID)
	w.posts = append(w.posts, tie1, tie2, story, foreign)
	e.upsert(w.posts...)
	return w
}

// expect is the reference feed: the posts the filter selects, newest first.
func (w *world) expect(f geopulse.PostFilter) []string {
	selected := map[int64]bool{}
	for _, p := range []*geopulse.Place{w.a, w.b, w.c, w.x} {
		if p.WorkspaceID == f.WorkspaceID && (len(f.PlaceIDs) == 0 || slices.Contains(f.PlaceIDs, p.ID)) {
			selected[p.ID] = true
		}
	}
	var out []*geopulse.Post
	for _, p := range w.posts {
		in := slices.ContainsFunc(p.PlaceIDs, func(id int64) bool { return selected[id] })
		switch {
		case !in, p.Expired,
			!f.From.IsZero() && p.TakenAt.Before(f.From),
			!f.To.IsZero() && !p.TakenAt.Before(f.To),
			len(f.Kinds) > 0 && !slices.Contains(f.Kinds, p.Kind),
			f.Hashtag != "" && !slices.Contains(p.Hashtags, f.Hashtag),
			f.Text != "" && !strings.Contains(strings.ToLower(p.Caption), strings.ToLower(f.Text)),
			p.Author.Followers < f.MinFollowers:
			continue
		}
		if a := f.Area; a != nil {
			if p.Lat < a.MinLat || p.Lat > a.MaxLat || p.Lon < a.MinLon || p.Lon > a.MaxLon ||
				(a.Contains != nil && !a.Contains(p.Lat, p.Lon)) {
				continue
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y *geopulse.Post) int {
		if c := y.TakenAt.Compare(x.TakenAt); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	return ids(out)
}

func testFindPosts(t *testing.T, open opener) {
	e := newEnv(t, open)
	w := newWorld(e)
	ws := w.ws.ID
	area := &geopulse.Area{MinLat: 1.001, MinLon: 1.001, MaxLat: 1.003, MaxLon: 1.003}
	round := &geopulse.Area{MinLat: 1, MinLon: 1, MaxLat: 2, MaxLon: 2, Contains: func(lat, lon float64) bool {
		return math.Hypot(lat-1.002, lon-1.002) <= 0.0008
	}}
	tests := []struct {
		name   string
		filter geopulse.PostFilter
	}{
		{"workspace", geopulse.PostFilter{WorkspaceID: ws}},
		{"place a", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.a.ID}}},
		{"place b", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.b.ID}}},
		{"places a and b", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.b.ID, w.a.ID}}},
		{"empty place", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.c.ID}}},
		{"other workspace's place", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.x.ID}}},
		{"mixed places", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.x.ID, w.a.ID, 99999}}},
		{"other workspace", geopulse.PostFilter{WorkspaceID: w.other.ID}},
		{"unknown workspace", geopulse.PostFilter{WorkspaceID: 99999}},
		{"from inclusive", geopulse.PostFilter{WorkspaceID: ws, From: t0.Add(-10 * time.Hour)}},
		{"to exclusive", geopulse.PostFilter{WorkspaceID: ws, To: t0.Add(-10 * time.Hour)}},
		{"from and to", geopulse.PostFilter{WorkspaceID: ws, From: t0.Add(-20 * time.Hour), To: t0.Add(-5 * time.Hour)}},
		{"empty range", geopulse.PostFilter{WorkspaceID: ws, From: t0.Add(-5 * time.Hour), To: t0.Add(-5 * time.Hour)}},
		{"kinds", geopulse.PostFilter{WorkspaceID: ws, Kinds: []geopulse.Kind{geopulse.KindVideo, geopulse.KindReel}}},
		{"stories only", geopulse.PostFilter{WorkspaceID: ws, Kinds: []geopulse.Kind{geopulse.KindStory}}},
		{"hashtag", geopulse.PostFilter{WorkspaceID: ws, Hashtag: "even"}},
		{"unknown hashtag", geopulse.PostFilter{WorkspaceID: ws, Hashtag: "nope"}},
		{"text any case", geopulse.PostFilter{WorkspaceID: ws, Text: "sunSet"}},
		{"text unicode", geopulse.PostFilter{WorkspaceID: ws, Text: "🌅"}},
		{"min followers", geopulse.PostFilter{WorkspaceID: ws, MinFollowers: 1000}},
		{"area box", geopulse.PostFilter{WorkspaceID: ws, Area: area}},
		{"area contains", geopulse.PostFilter{WorkspaceID: ws, Area: round}},
		{"everything", geopulse.PostFilter{WorkspaceID: ws, PlaceIDs: []int64{w.a.ID}, From: t0.Add(-30 * time.Hour),
			Kinds: []geopulse.Kind{geopulse.KindPhoto, geopulse.KindReel}, Hashtag: "all", Text: "number", MinFollowers: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := w.expect(tt.filter)
			for _, limit := range []int{1, 4, 50} {
				f := tt.filter
				f.Limit = limit
				got := e.feedAll(f)
				if g := ids(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
					t.Fatalf("limit %d:\n got %v\nwant %v", limit, g, want)
				}
			}
		})
	}

	t.Run("PageShape", func(t *testing.T) {
		all := w.expect(geopulse.PostFilter{WorkspaceID: ws})
		page, next := e.feed(geopulse.PostFilter{WorkspaceID: ws, Limit: 10})
		if len(page) != 10 || next == "" {
			t.Fatalf("first page: %d posts, next %q", len(page), next)
		}
		page2, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws, Limit: 10, Cursor: next})
		if g := ids(page2); !slices.Equal(g, all[10:20]) {
			t.Fatalf("second page = %v, want %v", g, all[10:20])
		}
		// A cursor is stable: reusing it gives the same page.
		again, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws, Limit: 10, Cursor: next})
		if !slices.Equal(ids(again), ids(page2)) {
			t.Fatalf("same cursor, different page")
		}
		last, next := e.feed(geopulse.PostFilter{WorkspaceID: ws, Limit: len(all)})
		if len(last) != len(all) || next != "" {
			t.Fatalf("exact page: %d posts, next %q; want %d and no cursor", len(last), next, len(all))
		}
	})

	t.Run("PostContents", func(t *testing.T) {
		got, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws, Limit: 500})
		byID := map[string]*geopulse.Post{}
		for _, p := range w.posts {
			byID[p.SourceID] = p
		}
		for _, g := range got {
			want := *byID[g.SourceID]
			want.PlaceIDs = slices.DeleteFunc(slices.Clone(want.PlaceIDs), func(id int64) bool { return id == w.x.ID })
			want.Author.UpdatedAt = t0
			checkPost(t, g, &want)
			if g.Author.ID != geopulse.AuthorID("insta", g.Author.SourceID) || g.Author.Handle == "" {
				t.Fatalf("%s has author card %+v", g.SourceID, g.Author)
			}
		}
	})

	t.Run("DefaultAndMaxLimit", func(t *testing.T) {
		e := newEnv(t, open)
		wsp := e.workspace("big")
		p := e.venue(wsp.ID, "p", 1, 1, 50)
		var posts []*geopulse.Post
		for i := range 120 {
			posts = append(posts, newPost("insta", fmt.Sprint("b", i), t0.Add(-time.Duration(i)*time.Minute), 1, 1, author("insta", "a", 1), p.ID))
		}
		e.upsert(posts...)
		page, next := e.feed(geopulse.PostFilter{WorkspaceID: wsp.ID})
		if len(page) != 50 || next == "" {
			t.Fatalf("default page: %d posts, next %q; want 50 and a cursor", len(page), next)
		}
		page, next = e.feed(geopulse.PostFilter{WorkspaceID: wsp.ID, Limit: 500})
		if len(page) != 120 || next != "" {
			t.Fatalf("max page: %d posts, next %q", len(page), next)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		valid := geopulse.PostFilter{WorkspaceID: ws, Limit: 1}
		_, next := e.feed(valid)
		tests := []struct {
			name string
			edit func(f *geopulse.PostFilter)
		}{
			{"limit above max", func(f *geopulse.PostFilter) { f.Limit = 501 }},
			{"negative limit", func(f *geopulse.PostFilter) { f.Limit = -1 }},
			{"cursor not base64", func(f *geopulse.PostFilter) { f.Cursor = "!!not a cursor!!" }},
			{"cursor wrong length", func(f *geopulse.PostFilter) { f.Cursor = "abcd" }},
			{"cursor truncated", func(f *geopulse.PostFilter) { f.Cursor = next[:len(next)-2] }},
			{"cursor padded", func(f *geopulse.PostFilter) { f.Cursor = next + "==" }},
			{"unknown kind", func(f *geopulse.PostFilter) { f.Kinds = []geopulse.Kind{"hologram"} }},
			{"no workspace", func(f *geopulse.PostFilter) { f.WorkspaceID = 0 }},
			{"to before from", func(f *geopulse.PostFilter) { f.From, f.To = t0, t0.Add(-time.Hour) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := valid
				tt.edit(&f)
				_, _, err := e.s.FindPosts(e.ctx, f)
				wantCode(t, err, geopulse.EINVALID)
			})
		}
	})
}

func testFindPostByID(t *testing.T, open opener) {
	e := newEnv(t, open)
	w := newWorld(e)
	byID := map[string]*geopulse.Post{}
	for _, p := range w.posts {
		byID[p.SourceID] = p
	}
	tests := []struct {
		name   string
		ws     int64
		post   string
		places []int64 // nil: ENOTFOUND
	}{
		{"own place", w.ws.ID, "p00", []int64{w.a.ID}},
		{"shared with other workspace", w.ws.ID, "p02", []int64{w.a.ID, w.b.ID}},
		{"seen from the other workspace", w.other.ID, "p02", []int64{w.x.ID}},
		{"foreign post", w.ws.ID, "foreign", nil},
		{"not in the other workspace", w.other.ID, "p00", nil},
		{"expired story is still found", w.ws.ID, "story", []int64{w.a.ID}},
		{"unknown workspace", 99999, "p00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.s.FindPostByID(e.ctx, tt.ws, byID[tt.post].ID)
			if tt.places == nil {
				wantCode(t, err, geopulse.ENOTFOUND)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.SourceID != tt.post || !slices.Equal(got.PlaceIDs, tt.places) {
				t.Fatalf("got %s with places %v, want %s with %v", got.SourceID, got.PlaceIDs, tt.post, tt.places)
			}
		})
	}
	_, err := e.s.FindPostByID(e.ctx, w.ws.ID, 12345)
	wantCode(t, err, geopulse.ENOTFOUND)
}

func testExpireStories(t *testing.T, open opener) {
	e := newEnv(t, open)
	ws := e.workspace("acme")
	p := e.venue(ws.ID, "p", 1, 1, 50)
	au := author("insta", "ann", 10)
	mk := func(id string, expires *time.Time, at time.Time) *geopulse.Post {
		post := newPost("insta", id, at, 1, 1, au, p.ID)
		post.Kind, post.ExpiresAt = geopulse.KindStory, expires
		post.Hashtags = []string{"gone"}
		return post
	}
	soon, later := t0.Add(time.Hour), t0.Add(48*time.Hour)
	early := mk("early", &soon, t0.Add(-23*time.Hour))
	exact := mk("exact", &later, t0.Add(-time.Hour))
	late := mk("late", new(later.Add(time.Second)), t0)
	forever := mk("photo", nil, t0.Add(-2*time.Hour))
	forever.Kind = geopulse.KindPhoto
	e.upsert(early, exact, late, forever)

	tests := []struct {
		name    string
		now     time.Time
		expired int
		feed    []string
	}{
		{"nothing yet", t0, 0, []string{"late", "exact", "photo", "early"}},
		{"first", soon, 1, []string{"late", "exact", "photo"}},
		{"again is a no-op", soon.Add(time.Minute), 0, []string{"late", "exact", "photo"}},
		{"at exactly expires_at", later, 1, []string{"late", "photo"}},
		{"last", later.Add(time.Hour), 1, []string{"photo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := e.s.ExpireStories(e.ctx, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.expired {
				t.Fatalf("expired %d, want %d", n, tt.expired)
			}
			if g := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})); !slices.Equal(g, tt.feed) {
				t.Fatalf("feed = %v, want %v", g, tt.feed)
			}
		})
	}
	got, err := e.s.FindPostByID(e.ctx, ws.ID, early.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Expired || got.Caption != "" || len(got.Hashtags)+len(got.Mentions)+len(got.MediaURLs) != 0 {
		t.Fatalf("expired story keeps content: %+v", got)
	}
	if got.Likes != early.Likes || got.Lat != early.Lat || got.Author.Handle != "ann" {
		t.Fatalf("expired story lost its counts or author: %+v", got)
	}
	// A source re-sending the story cannot bring its content back.
	e.upsert(mk("early", &soon, t0.Add(-23*time.Hour)))
	if got, _ = e.s.FindPostByID(e.ctx, ws.ID, early.ID); !got.Expired || got.Caption != "" || len(got.Hashtags) != 0 {
		t.Fatalf("re-sent story came back: %+v", got)
	}
	stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Posts != 4 {
		t.Fatalf("analytics counts %d posts, want 4 (expired ones too)", stats.Posts)
	}
	// Only the photo keeps its hashtag; the stories' went with their content.
	if want := []geopulse.TermCount{{Term: "gone", Posts: 1}}; !slices.Equal(stats.TopHashtags, want) {
		t.Fatalf("hashtags = %+v, want %+v", stats.TopHashtags, want)
	}
}
