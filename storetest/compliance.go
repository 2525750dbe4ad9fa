package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func testCompliance(t *testing.T, open opener) {
	// world stores, in one workspace's venue, two posts of ann (one old),
	// one of bob and one of cat, and returns the venue.
	world := func(e *env) *geopulse.Place {
		ws := e.workspace("acme")
		v := e.venue(ws.ID, "v", 1, 1, 100)
		ann, bob, cat := author("x", "ann", 10), author("x", "bob", 20), author("x", "cat", 30)
		e.upsert(
			newPost("x", "a1", t0.Add(-48*time.Hour), 1, 1, ann, v.ID),
			newPost("x", "a2", t0.Add(-time.Hour), 1, 1, ann, v.ID),
			newPost("x", "b1", t0.Add(-time.Hour), 1, 1, bob, v.ID),
			newPost("x", "c1", t0.Add(-time.Hour), 1, 1, cat, v.ID),
		)
		return v
	}
	feedIDs := func(e *env, v *geopulse.Place) []string {
		return ids(e.feedAll(geopulse.PostFilter{WorkspaceID: v.WorkspaceID, From: t0.Add(-72 * time.Hour), To: t0.Add(time.Hour)}))
	}
	apply := func(e *env, ev geopulse.ComplianceEvent) geopulse.ComplianceResult {
		e.t.Helper()
		res, err := e.s.ApplyCompliance(e.ctx, ev)
		if err != nil {
			e.t.Fatalf("apply %+v: %v", ev, err)
		}
		return res
	}
	// wantIDs compares as sets: posts taken at the same instant have no
	// order of their own.
	wantIDs := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
		if len(got) != len(want) {
			t.Fatalf("feed = %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("feed = %v, want %v", got, want)
			}
		}
	}

	t.Run("DeletePost", func(t *testing.T) {
		e := newEnv(t, open)
		v := world(e)
		ev := geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "x", SourceID: "b1", At: t0}
		if res := apply(e, ev); res.PostsRemoved != 1 || res.AuthorRemoved {
			t.Fatalf("result = %+v, want 1 post removed", res)
		}
		wantIDs(t, feedIDs(e, v), "a2", "c1", "a1")
		if _, err := e.s.FindPostByID(e.ctx, v.WorkspaceID, geopulse.PostID("x", "b1")); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
			t.Fatalf("deleted post found: %v", err)
		}
		bl, err := e.s.LoadBlocklist(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := bl.Tombstones[geopulse.PostID("x", "b1")]; !ok {
			t.Fatalf("no tombstone for the deleted post: %+v", bl)
		}
		// Idempotent: the second time removes nothing and is recorded too.
		if res := apply(e, ev); res.PostsRemoved != 0 {
			t.Fatalf("second apply = %+v", res)
		}
		log, err := e.s.ComplianceLog(e.ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 2 || log[0].Kind != geopulse.ComplianceDeletePost || log[0].PostID != geopulse.PostID("x", "b1") ||
			log[0].Result.PostsRemoved != 1 || log[1].Result.PostsRemoved != 0 || !log[0].At.Equal(t0) || log[1].Seq <= log[0].Seq {
			t.Fatalf("log = %+v", log)
		}
		if later, err := e.s.ComplianceLog(e.ctx, log[0].Seq, 10); err != nil || len(later) != 1 {
			t.Fatalf("log after %d = %+v, %v", log[0].Seq, later, err)
		}
	})

	t.Run("DeleteAuthor", func(t *testing.T) {
		for _, kind := range []geopulse.ComplianceKind{geopulse.ComplianceDeleteAuthor, geopulse.ComplianceProtectAuthor} {
			t.Run(string(kind), func(t *testing.T) {
				e := newEnv(t, open)
				v := world(e)
				res := apply(e, geopulse.ComplianceEvent{Kind: kind, Source: "x", AuthorSourceID: "u-ann"})
				if res.PostsRemoved != 2 || !res.AuthorRemoved {
					t.Fatalf("result = %+v, want 2 posts and the author removed", res)
				}
				wantIDs(t, feedIDs(e, v), "b1", "c1")
				annID := geopulse.AuthorID("x", "u-ann")
				if stats, err := e.s.FindAuthorStats(e.ctx, v.WorkspaceID, annID); err == nil && len(stats) > 0 {
					t.Fatalf("author stats survive: %+v", stats)
				}
				an, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: v.WorkspaceID, From: t0.Add(-72 * time.Hour), To: t0.Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				if an.Posts != 2 || an.Authors != 2 {
					t.Fatalf("analytics count %d posts, %d authors; want 2, 2", an.Posts, an.Authors)
				}
				for _, a := range an.TopAuthors {
					if a.Author.ID == annID {
						t.Fatalf("removed author in top authors: %+v", an.TopAuthors)
					}
				}
				bl, err := e.s.LoadBlocklist(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := geopulse.SuppressDeleted
				if kind == geopulse.ComplianceProtectAuthor {
					want = geopulse.SuppressProtected
				}
				if got := bl.Suppressed[geopulse.SuppressionKey("x", "u-ann")]; got != want {
					t.Fatalf("suppression reason = %q, want %q", got, want)
				}
				if kind == geopulse.ComplianceProtectAuthor {
					apply(e, geopulse.ComplianceEvent{Kind: geopulse.ComplianceUnprotectAuthor, Source: "x", AuthorSourceID: "u-ann"})
					if bl, _ := e.s.LoadBlocklist(e.ctx); len(bl.Suppressed) != 0 {
						t.Fatalf("unprotect left %+v", bl.Suppressed)
					}
				}
			})
		}
	})

	t.Run("ScrubGeo", func(t *testing.T) {
		e := newEnv(t, open)
		v := world(e)
		res := apply(e, geopulse.ComplianceEvent{Kind: geopulse.ComplianceScrubGeo, Source: "x", AuthorSourceID: "u-ann", UpTo: t0.Add(-24 * time.Hour)})
		if res.PostsRemoved != 1 || res.AuthorRemoved {
			t.Fatalf("result = %+v, want the old post removed", res)
		}
		wantIDs(t, feedIDs(e, v), "a2", "b1", "c1")
		bl, err := e.s.LoadBlocklist(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := bl.Tombstones[geopulse.PostID("x", "a1")]; !ok || len(bl.Tombstones) != 1 || len(bl.Suppressed) != 0 {
			t.Fatalf("blocklist = %+v", bl)
		}
	})

	t.Run("Suppress", func(t *testing.T) {
		e := newEnv(t, open)
		key := geopulse.HandleKey("x", "@Ann")
		if key != geopulse.HandleKey("x", "ann") {
			t.Fatal("handle keys differ by case or @")
		}
		for _, r := range []string{geopulse.SuppressObjection, geopulse.SuppressProtected, geopulse.SuppressObjection} {
			if err := e.s.Suppress(e.ctx, key, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.s.Unsuppress(e.ctx, key, geopulse.SuppressProtected); err != nil {
			t.Fatal(err)
		}
		bl, err := e.s.LoadBlocklist(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if bl.Suppressed[key] != geopulse.SuppressObjection || len(bl.Suppressed) != 1 {
			t.Fatalf("suppressed = %+v", bl.Suppressed)
		}
		wantCode(t, e.s.Suppress(e.ctx, key, ""), geopulse.EINVALID)
	})

	t.Run("Invalid", func(t *testing.T) {
		e := newEnv(t, open)
		for _, ev := range []geopulse.ComplianceEvent{
			{Kind: "nope", Source: "x", SourceID: "1"},
			{Kind: geopulse.ComplianceDeletePost, SourceID: "1"},
			{Kind: geopulse.ComplianceDeletePost, Source: "x"},
			{Kind: geopulse.ComplianceDeleteAuthor, Source: "x"},
		} {
			_, err := e.s.ApplyCompliance(e.ctx, ev)
			wantCode(t, err, geopulse.EINVALID)
		}
	})
}
