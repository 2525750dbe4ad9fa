package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// tricky strings a store must keep verbatim. NUL is left out: PostgreSQL
// text cannot hold it, so the pipeline must strip it before any store.
var tricky = []string{
	"plain",
	"emoji 🏖️👩‍👩‍👧 and flags 🇫🇷",
	"combining é vs é, Ångström",
	"RTL עברית العربية",
	"CJK 東京 서울",
	`quotes ' " \ and '; DROP TABLE posts; --`,
	"tabs\tand\nnewlines\r\n",
	"zero\u200bwidth",
	"percent %s %d {{.}} $1 ?",
	"max rune \U0010FFFF, private use \uE000, BOM \uFEFF",
	"",
}

func testUpsertPosts(t *testing.T, open opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		a := e.venue(ws.ID, "a", 1, 1, 50)
		b := e.venue(ws.ID, "b", 1, 1, 80)
		x := e.venue(other.ID, "x", 1, 1, 50)
		expires := t0.Add(24 * time.Hour)
		story := &geopulse.Post{
			Source: "insta", SourceID: "s-1", Kind: geopulse.KindStory,
			Author: geopulse.Author{Source: "insta", SourceID: "u-1", Handle: "zoë", DisplayName: "Zoë 🌸",
				AvatarURL: "https://a/z.jpg", Bio: "bio\nline", Followers: 12345, Following: 67, PostsCount: 890,
				Verified: true, Business: true},
			TakenAt: t0.Add(-time.Hour), ObservedAt: t0.Add(-30 * time.Minute),
			Lat: 1.000001, Lon: -0.999999, AccuracyM: 12.5, Cell: -8070450532247928832, PlaceName: "Café ☕",
			Caption: strings.Repeat("é🏖x", 3333) + "!", Hashtags: []string{"beach", "été"}, Mentions: []string{"ann"},
			MediaURLs: []string{"https://m/1.jpg", "https://m/2.mp4"}, Likes: 1 << 40, Comments: 7, Views: 9,
			ExpiresAt: &expires, Language: "fr", PlaceIDs: []int64{b.ID, x.ID, a.ID},
		}
		// The pipeline caps captions at 10,000 characters; the longest must round-trip.
		if n := len([]rune(story.Caption)); n != 10_000 {
			t.Fatalf("caption has %d runes, %d bytes", n, len(story.Caption))
		}
		e.upsert(story)
		if want := geopulse.PostID("insta", "s-1"); story.ID != want {
			t.Fatalf("post id = %d, want %d", story.ID, want)
		}
		if want := geopulse.AuthorID("insta", "u-1"); story.Author.ID != want {
			t.Fatalf("author id = %d, want %d", story.Author.ID, want)
		}
		got, err := e.s.FindPostByID(e.ctx, ws.ID, story.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *story
		want.PlaceIDs = []int64{a.ID, b.ID} // only this workspace's places
		want.Author.UpdatedAt = t0
		checkPost(t, got, &want)
		got, err = e.s.FindPostByID(e.ctx, other.ID, story.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.PlaceIDs, []int64{x.ID}) {
			t.Fatalf("other workspace place ids = %v", got.PlaceIDs)
		}
	})

	t.Run("TrickyStrings", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 1, 1, 50)
		var posts []*geopulse.Post
		for i, s := range tricky {
			a := author("src "+s, "h"+s, 1)
			a.DisplayName, a.Bio = s, s
			post := newPost("src "+s, "id "+s, t0.Add(time.Duration(i)*time.Second), 1, 1, a, p.ID)
			post.Caption, post.PlaceName, post.Language = s, s, s
			post.Hashtags, post.Mentions, post.MediaURLs = []string{s + "x"}, []string{s + "y"}, []string{s + "z"}
			posts = append(posts, post)
		}
		e.upsert(posts...)
		for _, want := range posts {
			got, err := e.s.FindPostByID(e.ctx, ws.ID, want.ID)
			if err != nil {
				t.Fatalf("%q: %v", want.SourceID, err)
			}
			w := *want
			w.Author.UpdatedAt = t0
			checkPost(t, got, &w)
		}
		// Hashtag filters and analytics terms survive odd characters too.
		for _, s := range tricky {
			got, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws.ID, Hashtag: strings.ToLower(s + "x")})
			if s == strings.ToLower(s) && len(got) != 1 {
				t.Fatalf("hashtag %q: %d posts", s+"x", len(got))
			}
		}
	})

	t.Run("Idempotent", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		a := e.venue(ws.ID, "a", 1, 1, 50)
		b := e.venue(ws.ID, "b", 1, 1, 80)
		first := newPost("insta", "p", t0, 1, 1, author("insta", "ann", 10), a.ID)
		e.upsert(first)
		e.clock.Set(t0.Add(time.Hour))
		again := newPost("insta", "p", t0, 1, 1, author("insta", "ann", 20), b.ID)
		again.Caption, again.Hashtags, again.Mentions = "edited ✏️", []string{"tea"}, []string{"bob"}
		again.MediaURLs, again.Likes, again.Comments, again.Views = []string{"https://m/new.jpg"}, 100, 200, 300
		again.Author.Handle, again.Author.Bio, again.Author.Verified = "ann_new", "new bio", true
		e.upsert(again)
		e.upsert(again) // a plain redelivery changes nothing

		got, err := e.s.FindPostByID(e.ctx, ws.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *again
		want.Author.UpdatedAt = t0.Add(time.Hour)
		checkPost(t, got, &want)
		feed := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})
		if len(feed) != 1 {
			t.Fatalf("feed has %d posts, want 1", len(feed))
		}
		if g, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws.ID, PlaceIDs: []int64{a.ID}}); len(g) != 0 {
			t.Fatalf("old match still in the feed of place a")
		}
		if g, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws.ID, Hashtag: "coffee"}); len(g) != 0 {
			t.Fatalf("old hashtag still matches")
		}
		if g, _ := e.feed(geopulse.PostFilter{WorkspaceID: ws.ID, Hashtag: "tea"}); len(g) != 1 {
			t.Fatalf("new hashtag does not match")
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != 1 || len(stats.Places) != 1 || stats.Places[0].PlaceID != b.ID ||
			len(stats.TopHashtags) != 1 || stats.TopHashtags[0].Term != "tea" {
			t.Fatalf("analytics: %+v", stats)
		}
		// Unmatched now: the post disappears from the workspace.
		alone := newPost("insta", "p", t0, 1, 1, author("insta", "ann", 20))
		e.upsert(alone)
		_, err = e.s.FindPostByID(e.ctx, ws.ID, first.ID)
		wantCode(t, err, geopulse.ENOTFOUND)
	})

	t.Run("DuplicateInBatchLastWins", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 1, 1, 50)
		one := newPost("insta", "dup", t0, 1, 1, author("insta", "ann", 1), p.ID)
		two := newPost("insta", "dup", t0, 1, 1, author("insta", "ann", 2), p.ID)
		two.Caption, two.Likes = "second", 99
		e.upsert(one, two)
		got, err := e.s.FindPostByID(e.ctx, ws.ID, two.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Caption != "second" || got.Likes != 99 || got.Author.Followers != 2 {
			t.Fatalf("got caption %q likes %d followers %d; want the last copy", got.Caption, got.Likes, got.Author.Followers)
		}
		if feed := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID}); len(feed) != 1 {
			t.Fatalf("feed has %d posts, want 1", len(feed))
		}
	})

	t.Run("Rejections", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 1, 1, 50)
		au := author("insta", "ann", 1)
		mk := func(id string, edit func(*geopulse.Post)) *geopulse.Post {
			post := newPost("insta", id, t0, 1, 1, au, p.ID)
			edit(post)
			return post
		}
		tests := []struct {
			name   string
			post   *geopulse.Post
			reason string // "" when accepted
		}{
			{"good", mk("good", func(*geopulse.Post) {}), ""},
			{"nil", nil, geopulse.ReasonMissingField},
			{"no source", mk("x1", func(p *geopulse.Post) { p.Source = "" }), geopulse.ReasonMissingField},
			{"no source id", mk("", func(*geopulse.Post) {}), geopulse.ReasonMissingField},
			{"bad kind", mk("x2", func(p *geopulse.Post) { p.Kind = "hologram" }), geopulse.ReasonInvalidField},
			{"no time", mk("x3", func(p *geopulse.Post) { p.TakenAt = time.Time{} }), geopulse.ReasonMissingField},
			{"lat out of range", mk("x4", func(p *geopulse.Post) { p.Lat = 90.5 }), geopulse.ReasonInvalidCoordinates},
			{"lon out of range", mk("x5", func(p *geopulse.Post) { p.Lon = -181 }), geopulse.ReasonInvalidCoordinates},
			{"wrong id", mk("x6", func(p *geopulse.Post) { p.ID = 42 }), geopulse.ReasonInvalidField},
			{"no author", mk("x7", func(p *geopulse.Post) { p.Author = geopulse.Author{} }), geopulse.ReasonMissingField},
			{"good too", mk("good2", func(*geopulse.Post) {}), ""},
		}
		posts := make([]*geopulse.Post, len(tests))
		for i, tt := range tests {
			posts[i] = tt.post
		}
		errs, err := e.s.UpsertPosts(e.ctx, posts)
		if err != nil {
			t.Fatal(err)
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.reason == "" {
					if errs[i] != nil {
						t.Fatalf("rejected: %v", errs[i])
					}
					return
				}
				wantCode(t, errs[i], geopulse.EINVALID)
				if r := geopulse.ErrorReason(errs[i]); r != tt.reason {
					t.Fatalf("reason = %q, want %q", r, tt.reason)
				}
			})
		}
		if g := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})); !slices.Equal(g, []string{"good2", "good"}) &&
			!slices.Equal(g, []string{"good", "good2"}) {
			t.Fatalf("stored %v, want the two good posts", g)
		}
	})

	t.Run("EmptyBatch", func(t *testing.T) {
		e := newEnv(t, open)
		for _, batch := range [][]*geopulse.Post{nil, {}} {
			errs, err := e.s.UpsertPosts(e.ctx, batch)
			if err != nil || len(errs) != 0 {
				t.Fatalf("empty batch = %v, %v", errs, err)
			}
		}
		errs, err := e.s.UpsertPosts(e.ctx, []*geopulse.Post{nil})
		if err != nil || len(errs) != 1 || errs[0] == nil {
			t.Fatalf("batch of one nil = %v, %v", errs, err)
		}
	})

	t.Run("AuthorLatestCardWins", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 1, 1, 50)
		old := author("insta", "ann", 10)
		e.upsert(newPost("insta", "p1", t0, 1, 1, old, p.ID))
		e.clock.Set(t0.Add(time.Hour))
		card := old
		card.Handle, card.DisplayName, card.AvatarURL, card.Bio = "ann2", "Ann Two", "https://a/2.jpg", "new"
		card.Followers, card.Following, card.PostsCount, card.Verified, card.Business = 11, 12, 13, true, true
		e.upsert(newPost("insta", "p2", t0.Add(time.Minute), 1, 1, card, p.ID))
		got, err := e.s.FindPostByID(e.ctx, ws.ID, geopulse.PostID("insta", "p1"))
		if err != nil {
			t.Fatal(err)
		}
		want := card
		want.ID, want.UpdatedAt = geopulse.AuthorID("insta", card.SourceID), t0.Add(time.Hour)
		if got.Author != want {
			t.Fatalf("author card = %+v, want %+v", got.Author, want)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		p := e.venue(ws.ID, "p", 1, 1, 50)
		const workers, rounds, perBatch = 4, 5, 50
		var wg sync.WaitGroup
		errc := make(chan error, workers*rounds)
		for w := range workers {
			wg.Go(func() {
				for r := range rounds {
					var batch []*geopulse.Post
					for i := range perBatch {
						at := t0.Add(time.Duration(i) * time.Second)
						// Shared posts: every worker writes the same ones.
						batch = append(batch, newPost("insta", fmt.Sprint("shared-", i), at, 1, 1, author("insta", "shared", int64(r)), p.ID))
						own := newPost("insta", fmt.Sprintf("own-%d-%d", w, i), at, 1, 1, author("insta", fmt.Sprint("w", w), int64(r)), p.ID)
						own.Likes = int64(r)
						batch = append(batch, own)
					}
					errs, err := e.s.UpsertPosts(e.ctx, batch)
					if err == nil {
						err = errors.Join(errs...)
					}
					if err != nil {
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
		feed := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID, Limit: 500})
		if want := perBatch * (workers + 1); len(feed) != want {
			t.Fatalf("feed has %d posts, want %d", len(feed), want)
		}
		seen := map[int64]bool{}
		for _, post := range feed {
			if seen[post.ID] {
				t.Fatalf("post %s twice", post.SourceID)
			}
			seen[post.ID] = true
			if strings.HasPrefix(post.SourceID, "own-") && post.Likes != rounds-1 {
				t.Fatalf("%s likes = %d, want the last round's %d", post.SourceID, post.Likes, rounds-1)
			}
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != int64(perBatch*(workers+1)) || stats.Places[0].Posts != stats.Posts {
			t.Fatalf("analytics posts = %d, place posts %d", stats.Posts, stats.Places[0].Posts)
		}
		for w := range workers {
			hist, err := e.s.FindAuthorStats(e.ctx, ws.ID, geopulse.AuthorID("insta", fmt.Sprint("u-w", w)))
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != rounds {
				t.Fatalf("worker %d author has %d stats rows, want %d (one per distinct count)", w, len(hist), rounds)
			}
		}
	})
}

func testAuthorStats(t *testing.T, open opener) {
	e := newEnv(t, open)
	ws := e.workspace("acme")
	p := e.venue(ws.ID, "p", 1, 1, 50)
	au := author("insta", "ann", 100)
	post := func(id string, at time.Time, followers, following, posts int64) *geopulse.Post {
		a := au
		a.Followers, a.Following, a.PostsCount = followers, following, posts
		pp := newPost("insta", id, at, 1, 1, a, p.ID)
		pp.ObservedAt = at
		return pp
	}
	t1, t2, t3, t4 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour), t0.Add(4*time.Hour)
	e.upsert(post("a", t1, 100, 10, 5))
	e.upsert(post("b", t2, 100, 10, 5)) // unchanged: no row
	e.upsert(post("c", t3, 150, 10, 5))
	// Two observations in one batch, and a repeat of the first.
	e.upsert(post("d", t4, 160, 11, 6), post("e", t4.Add(time.Minute), 170, 11, 6), post("f", t4.Add(2*time.Minute), 170, 11, 6))
	// No ObservedAt: the store's clock.
	e.clock.Set(t0.Add(5 * time.Hour))
	noObs := post("g", t0, 171, 11, 6)
	noObs.ObservedAt = time.Time{}
	e.upsert(noObs)

	got, err := e.s.FindAuthorStats(e.ctx, ws.ID, geopulse.AuthorID("insta", au.SourceID))
	if err != nil {
		t.Fatal(err)
	}
	want := []geopulse.AuthorStat{
		{ObservedAt: t1, Followers: 100, Following: 10, PostsCount: 5},
		{ObservedAt: t3, Followers: 150, Following: 10, PostsCount: 5},
		{ObservedAt: t4, Followers: 160, Following: 11, PostsCount: 6},
		{ObservedAt: t4.Add(time.Minute), Followers: 170, Following: 11, PostsCount: 6},
		{ObservedAt: t0.Add(5 * time.Hour), Followers: 171, Following: 11, PostsCount: 6},
	}
	if !slices.EqualFunc(got, want, func(a, b geopulse.AuthorStat) bool {
		return a.ObservedAt.Equal(b.ObservedAt) && a.Followers == b.Followers && a.Following == b.Following && a.PostsCount == b.PostsCount
	}) {
		t.Fatalf("stats =\n%+v\nwant\n%+v", got, want)
	}
	_, err = e.s.FindAuthorStats(e.ctx, ws.ID, 12345)
	wantCode(t, err, geopulse.ENOTFOUND)
	// Another workspace, whose places never saw the author, cannot read them.
	other := e.workspace("other")
	e.venue(other.ID, "elsewhere", 40, 40, 50)
	_, err = e.s.FindAuthorStats(e.ctx, other.ID, geopulse.AuthorID("insta", au.SourceID))
	wantCode(t, err, geopulse.ENOTFOUND)
}
