package pipeline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/pipeline"
)

// TestComply shows that each compliance event removes what it concerns and
// that the same content sent again is refused at the gate with a reason.
func TestComply(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	v := e.venue(t, "cafe", 51.5, -0.12, 100)
	ingest := func(posts ...*geopulse.Post) []string {
		t.Helper()
		errs, err := e.pl.Ingest(ctx, posts)
		if err != nil {
			t.Fatal(err)
		}
		reasons := make([]string, len(errs))
		for i, err := range errs {
			reasons[i] = geopulse.ErrorReason(err)
		}
		return reasons
	}
	comply := func(evs ...*geopulse.ComplianceEvent) {
		t.Helper()
		errs, err := e.pl.Comply(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	feedIDs := func() []string {
		var ids []string
		for _, p := range e.feed(t, v.ID) {
			ids = append(ids, p.SourceID)
		}
		slices.Sort(ids)
		return ids
	}
	mk := func(id, author string, age time.Duration) *geopulse.Post {
		p := post(id, 51.5, -0.12)
		p.Author.SourceID, p.Author.Handle, p.TakenAt = author, "h"+author, now.Add(-age)
		return p
	}
	fresh := func() []*geopulse.Post {
		return []*geopulse.Post{mk("1", "ann", time.Hour), mk("2", "ann", 48*time.Hour), mk("3", "bob", time.Hour), mk("4", "cat", time.Hour), mk("5", "dan", time.Hour)}
	}
	if got := ingest(fresh()...); !slices.Equal(got, []string{"", "", "", "", ""}) {
		t.Fatalf("first ingest: %q", got)
	}

	comply(
		&geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "test", SourceID: "3"},
		&geopulse.ComplianceEvent{Kind: geopulse.ComplianceScrubGeo, Source: "test", AuthorSourceID: "ann", UpTo: now.Add(-24 * time.Hour)},
		&geopulse.ComplianceEvent{Kind: geopulse.ComplianceProtectAuthor, Source: "test", AuthorSourceID: "cat"},
		// A delete may arrive before its post.
		&geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "test", SourceID: "9"},
	)
	if got, want := feedIDs(), []string{"1", "5"}; !slices.Equal(got, want) {
		t.Fatalf("feed after events = %v, want %v", got, want)
	}
	late := mk("9", "eve", time.Hour)
	got := ingest(append(fresh(), late)...)
	want := []string{"", geopulse.ReasonDeletedAtSource, geopulse.ReasonDeletedAtSource, geopulse.ReasonSuppressed, "", geopulse.ReasonDeletedAtSource}
	if !slices.Equal(got, want) {
		t.Fatalf("re-sent posts: %q, want %q", got, want)
	}

	// An objection by handle, stored by another process: the next refresh
	// makes this pipeline refuse the handle (any case, with or without @).
	if err := e.store.Suppress(ctx, geopulse.HandleKey("test", "@HDAN"), geopulse.SuppressObjection); err != nil {
		t.Fatal(err)
	}
	if err := e.pl.Blocklist().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ingest(mk("6", "dan", time.Hour)); got[0] != geopulse.ReasonSuppressed {
		t.Fatalf("suppressed handle: %q", got)
	}

	// The account is public again: new posts are collected.
	comply(&geopulse.ComplianceEvent{Kind: geopulse.ComplianceUnprotectAuthor, Source: "test", AuthorSourceID: "cat"})
	if got := ingest(mk("7", "cat", time.Hour)); got[0] != "" {
		t.Fatalf("unprotected author: %q", got)
	}
	// A restart keeps the store's lists (the scrub's stored posts are tombstoned).
	bl, err := pipeline.NewBlocklist(ctx, e.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*geopulse.Post{mk("2", "ann", 48*time.Hour), mk("3", "bob", time.Hour)} {
		p.ID, p.Author.ID = geopulse.PostID(p.Source, p.SourceID), geopulse.AuthorID(p.Source, p.Author.SourceID)
		if err := bl.Check(p); geopulse.ErrorReason(err) != geopulse.ReasonDeletedAtSource {
			t.Fatalf("after restart, post %s: %v", p.SourceID, err)
		}
	}

	errs, err := e.pl.Comply(ctx, []*geopulse.ComplianceEvent{{Kind: "nope", Source: "test"}, {Kind: geopulse.ComplianceDeleteAuthor, Source: "test"}})
	if err != nil || geopulse.ErrorCode(errs[0]) != geopulse.EINVALID || geopulse.ErrorCode(errs[1]) != geopulse.EINVALID {
		t.Fatalf("invalid events: %v, %v", errs, err)
	}
}
