package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

const day = 24 * time.Hour

// retentionWorld is the retention tests' fixture: workspaces A and B share
// the spot (1, 1), each with a venue there; A also has a venue at (2, 2).
// Posts of several sources, kinds and ages lie at (1, 1) (matched by both),
// at (2, 2) (A only), and at (3, 3) and (4, 4) (matched by no place).
type retentionWorld struct {
	a, b   *geopulse.Workspace
	a1, b1 *geopulse.Place
	a2     *geopulse.Place
}

// retentionPost describes one post of the world.
type retentionPost struct {
	id       string
	source   string
	kind     geopulse.Kind
	age      time.Duration
	lat, lon float64
}

var retentionPosts = []retentionPost{
	{"ancient", "insta", geopulse.KindPhoto, 800 * day, 1, 1},
	{"old", "insta", geopulse.KindPhoto, 400 * day, 1, 1},
	{"story", "insta", geopulse.KindStory, 400 * day, 1, 1},
	{"mid", "insta", geopulse.KindPhoto, 100 * day, 1, 1},
	{"xtext", "x", geopulse.KindText, 100 * day, 1, 1},
	{"xnew", "x", geopulse.KindPhoto, 10 * day, 1, 1},
	{"far", "insta", geopulse.KindPhoto, 40 * day, 2, 2},
	{"xold", "x", geopulse.KindPhoto, 400 * day, 3, 3},
	{"lone", "insta", geopulse.KindReel, 3 * day, 4, 4},
}

func takenAt(id string) time.Time {
	for _, p := range retentionPosts {
		if p.id == id {
			return t0.Add(-p.age)
		}
	}
	panic("no retention post " + id)
}

func postSource(id string) string {
	for _, p := range retentionPosts {
		if p.id == id {
			return p.source
		}
	}
	panic("no retention post " + id)
}

func newRetentionWorld(e *env) *retentionWorld {
	e.t.Helper()
	w := &retentionWorld{a: e.workspace("acme"), b: e.workspace("bravo")}
	w.a1 = e.venue(w.a.ID, "a1", 1, 1, 100)
	w.b1 = e.venue(w.b.ID, "b1", 1, 1, 100)
	w.a2 = e.venue(w.a.ID, "a2", 2, 2, 100)
	ann := author("insta", "ann", 100)
	var posts []*geopulse.Post
	for _, rp := range retentionPosts {
		var places []int64
		switch {
		case rp.lat == 1:
			places = []int64{w.a1.ID, w.b1.ID}
		case rp.lat == 2:
			places = []int64{w.a2.ID}
		}
		a := ann
		a.Source = rp.source
		p := newPost(rp.source, rp.id, t0.Add(-rp.age), rp.lat, rp.lon, a, places...)
		p.Kind = rp.kind
		if rp.kind == geopulse.KindStory {
			exp := p.TakenAt.Add(geopulse.StoryTTL)
			p.ExpiresAt = &exp
		}
		posts = append(posts, p)
	}
	e.upsert(posts...)
	// As the janitor would have: the story's content (and tags) went a
	// day after it was taken; its counts stay for retention to judge.
	if _, err := e.s.ExpireStories(e.ctx, t0); err != nil {
		e.t.Fatalf("expire stories: %v", err)
	}
	return w
}

// systemPolicy exercises every level of rule: x photos outlive x's own
// window, stories are shorter than anything else.
var systemPolicy = geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{
	{Source: "*", Kind: "*", Keep: 365 * day},
	{Kind: geopulse.KindStory, Keep: 30 * day},
	{Source: "x", Keep: 60 * day},
	{Source: "x", Kind: geopulse.KindPhoto, Keep: 730 * day},
}}

func testRetention(t *testing.T, open opener) {
	store := func(e *env) geopulse.RetentionStore {
		e.t.Helper()
		rs, ok := e.s.(geopulse.RetentionStore)
		if !ok {
			e.t.Fatalf("%T does not implement geopulse.RetentionStore", e.s)
		}
		return rs
	}
	apply := func(e *env, p geopulse.RetentionPolicy, dryRun bool) geopulse.RetentionReport {
		e.t.Helper()
		rep, err := store(e).ApplyRetention(e.ctx, p, e.clock.Now(), dryRun)
		if err != nil {
			e.t.Fatalf("apply retention %+v (dry run %v): %v", p, dryRun, err)
		}
		if rep.WorkspaceID != p.WorkspaceID || rep.DryRun != dryRun {
			e.t.Fatalf("report = %+v, want workspace %d, dry run %v", rep, p.WorkspaceID, dryRun)
		}
		return rep
	}
	feed := func(e *env, ws int64, hashtag string) []string {
		e.t.Helper()
		got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: ws, Hashtag: hashtag}))
		slices.Sort(got)
		return got
	}
	wantFeed := func(e *env, ws int64, hashtag string, want ...string) {
		e.t.Helper()
		slices.Sort(want)
		if got := feed(e, ws, hashtag); !slices.Equal(got, want) {
			e.t.Fatalf("feed of workspace %d (hashtag %q) = %v, want %v", ws, hashtag, got, want)
		}
	}
	// backfill makes a venue of ws at (lat, lon) and returns how many
	// stored posts it matches: unmatched posts are seen only this way.
	backfill := func(e *env, ws int64, name string, lat, lon float64) int {
		e.t.Helper()
		v := e.venue(ws, name, lat, lon, 100)
		n, err := e.s.MatchPlace(e.ctx, v.ID, v.BBox, nil)
		if err != nil {
			e.t.Fatalf("match place %s: %v", name, err)
		}
		return n
	}
	// wantReport compares counts; Months depends on the store's layout.
	wantReport := func(t *testing.T, got geopulse.RetentionReport, want ...geopulse.RetentionCount) {
		t.Helper()
		var posts, matches int64
		for _, c := range want {
			posts, matches = posts+c.Posts, matches+c.Matches
		}
		ok := len(got.Counts) == len(want) && got.Posts == posts && got.Matches == matches
		for i := 0; ok && i < len(want); i++ {
			g, w := got.Counts[i], want[i]
			ok = g.Source == w.Source && g.Kind == w.Kind && g.Posts == w.Posts && g.Matches == w.Matches &&
				g.Oldest.Equal(w.Oldest) && g.Oldest.Location() == time.UTC
		}
		if !ok {
			t.Fatalf("report = %+v, want counts %+v (%d posts, %d matches)", got, want, posts, matches)
		}
	}
	count := func(id string, kind geopulse.Kind, posts, matches int64) geopulse.RetentionCount {
		return geopulse.RetentionCount{Source: postSource(id), Kind: kind, Posts: posts, Matches: matches, Oldest: takenAt(id)}
	}
	// visible reports whether workspace ws sees post id: feeds leave
	// expired stories out, FindPostByID does not.
	visible := func(e *env, ws int64, id string) bool {
		e.t.Helper()
		_, err := e.s.FindPostByID(e.ctx, ws, geopulse.PostID(postSource(id), id))
		if err != nil && geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
			e.t.Fatalf("find post %s: %v", id, err)
		}
		return err == nil
	}
	// The live posts at (1, 1), all tagged #coffee; the expired story is
	// there too, without tags.
	atOneOne := []string{"ancient", "old", "mid", "xtext", "xnew"}
	tagged := atOneOne

	t.Run("System", func(t *testing.T) {
		e := newEnv(t, open)
		w := newRetentionWorld(e)
		// Most specific rule wins: x photos (730 d) outlive x's 60 d, so
		// xold stays; insta photos go after 365 d, stories after 30 d.
		want := []geopulse.RetentionCount{
			count("ancient", geopulse.KindPhoto, 2, 4),
			count("story", geopulse.KindStory, 1, 2),
			count("xtext", geopulse.KindText, 1, 2),
		}
		dry := apply(e, systemPolicy, true)
		wantReport(t, dry, want...)
		wantFeed(e, w.a.ID, "", append(slices.Clone(atOneOne), "far")...)
		wantFeed(e, w.b.ID, "", atOneOne...)
		wantFeed(e, w.b.ID, "coffee", tagged...)
		if !visible(e, w.b.ID, "story") {
			t.Fatal("a dry run removed the story")
		}

		done := apply(e, systemPolicy, false)
		wantReport(t, done, want...)
		if done.Months != dry.Months {
			t.Fatalf("months: dry run %d, real run %d", dry.Months, done.Months)
		}
		wantFeed(e, w.a.ID, "", "mid", "xnew", "far")
		wantFeed(e, w.b.ID, "", "mid", "xnew")
		wantFeed(e, w.b.ID, "coffee", "mid", "xnew")
		for _, id := range []string{"ancient", "old", "story", "xtext"} {
			if visible(e, w.a.ID, id) || visible(e, w.b.ID, id) {
				t.Fatalf("deleted post %s is still visible", id)
			}
		}
		// Deleted everywhere: a new place finds nothing where they were,
		// but finds the unmatched post the rules keep.
		if n := backfill(e, w.b.ID, "b1 again", 1, 1); n != 2 {
			t.Fatalf("backfill at (1, 1) matched %d posts, want mid and xnew", n)
		}
		if n := backfill(e, w.b.ID, "b3", 3, 3); n != 1 {
			t.Fatalf("backfill at (3, 3) matched %d posts, want xold (x photos keep 730 d)", n)
		}

		wantReport(t, apply(e, systemPolicy, false)) // idempotent
		wantReport(t, apply(e, systemPolicy, true))
	})

	t.Run("Workspace", func(t *testing.T) {
		e := newEnv(t, open)
		w := newRetentionWorld(e)
		policy := geopulse.RetentionPolicy{WorkspaceID: w.a.ID, Rules: []geopulse.RetentionRule{
			{Keep: 90 * day},
			{Source: "insta", Kind: geopulse.KindPhoto, Keep: 30 * day},
		}}
		want := []geopulse.RetentionCount{
			count("ancient", geopulse.KindPhoto, 4, 4), // ancient, old, mid (a1), far (a2)
			count("story", geopulse.KindStory, 1, 1),
			count("xtext", geopulse.KindText, 1, 1),
		}
		dry := apply(e, policy, true)
		wantReport(t, dry, want...)
		wantFeed(e, w.a.ID, "", append(slices.Clone(atOneOne), "far")...)
		wantFeed(e, w.a.ID, "coffee", append(slices.Clone(tagged), "far")...)
		if !visible(e, w.a.ID, "story") {
			t.Fatal("a dry run removed the story from workspace A")
		}

		wantReport(t, apply(e, policy, false), want...)
		wantFeed(e, w.a.ID, "", "xnew")
		wantFeed(e, w.a.ID, "coffee", "xnew")
		for _, id := range []string{"old", "story", "far"} {
			if visible(e, w.a.ID, id) {
				t.Fatalf("workspace A still sees %s", id)
			}
		}
		// B is untouched and sees only its own match.
		if !visible(e, w.b.ID, "story") {
			t.Fatal("workspace B lost the story")
		}
		wantFeed(e, w.b.ID, "", atOneOne...)
		wantFeed(e, w.b.ID, "coffee", tagged...)
		p, err := e.s.FindPostByID(e.ctx, w.b.ID, geopulse.PostID("insta", "old"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.PlaceIDs, []int64{w.b1.ID}) {
			t.Fatalf("old's places in B = %v, want [%d]", p.PlaceIDs, w.b1.ID)
		}
		wantReport(t, apply(e, policy, false)) // idempotent

		// The window moves with the clock: xnew (10 d old at t0) passes the
		// 90 d catch-all 85 days later.
		e.clock.Set(t0.Add(85 * day))
		wantReport(t, apply(e, policy, false), count("xnew", geopulse.KindPhoto, 1, 1))
		wantFeed(e, w.a.ID, "")
		wantFeed(e, w.b.ID, "", atOneOne...)
	})

	t.Run("Unmatched", func(t *testing.T) {
		e := newEnv(t, open)
		w := newRetentionWorld(e)
		apply(e, geopulse.RetentionPolicy{WorkspaceID: w.a.ID, Rules: []geopulse.RetentionRule{{Kind: geopulse.KindPhoto, Keep: 30 * day}}}, false)
		// far lost its only match; xold and lone never had one. Only the
		// unmatched posts older than 30 d go; B's posts stay.
		policy := geopulse.RetentionPolicy{Unmatched: 30 * day}
		want := []geopulse.RetentionCount{
			count("far", geopulse.KindPhoto, 1, 0),
			count("xold", geopulse.KindPhoto, 1, 0),
		}
		wantReport(t, apply(e, policy, true), want...)
		wantReport(t, apply(e, policy, false), want...)
		wantFeed(e, w.b.ID, "", atOneOne...)
		for _, tt := range []struct {
			lat  float64
			want int
		}{{2, 0}, {3, 0}, {4, 1}} {
			if n := backfill(e, w.b.ID, fmt.Sprintf("probe %v", tt.lat), tt.lat, tt.lat); n != tt.want {
				t.Fatalf("backfill at (%v, %v) matched %d posts, want %d", tt.lat, tt.lat, n, tt.want)
			}
		}
		wantReport(t, apply(e, policy, false))
	})

	t.Run("Invalid", func(t *testing.T) {
		e := newEnv(t, open)
		w := newRetentionWorld(e)
		tests := []struct {
			name string
			p    geopulse.RetentionPolicy
			code string
		}{
			{"zero keep", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "x"}}}, geopulse.EINVALID},
			{"unknown kind", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Kind: "gif", Keep: day}}}, geopulse.EINVALID},
			{"workspace unmatched", geopulse.RetentionPolicy{WorkspaceID: w.a.ID, Unmatched: day}, geopulse.EINVALID},
			{"unknown workspace", geopulse.RetentionPolicy{WorkspaceID: w.b.ID + 1000, Rules: []geopulse.RetentionRule{{Keep: day}}}, geopulse.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, dry := range []bool{true, false} {
					_, err := store(e).ApplyRetention(e.ctx, tt.p, e.clock.Now(), dry)
					wantCode(t, err, tt.code)
				}
			})
		}
		wantFeed(e, w.a.ID, "", append(slices.Clone(atOneOne), "far")...)
	})
}
