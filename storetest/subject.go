package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// subjects returns the store's SubjectStore, failing the test without one.
func (e *env) subjects() geopulse.SubjectStore {
	e.t.Helper()
	s, ok := e.s.(geopulse.SubjectStore)
	if !ok {
		e.t.Fatalf("%T is not a geopulse.SubjectStore", e.s)
	}
	return s
}

func testSubjects(t *testing.T, open opener) {
	// world stores Jane on source x (two posts, matched to places of two
	// workspaces, one of them also unmatched), an older account of source x
	// that carries her handle in another case, her namesake on source y, and
	// Bob, and returns the places.
	type world struct {
		jane, older, namesake, bob geopulse.Author
		janeX                      []*geopulse.Post
		acme, other                *geopulse.Place
	}
	build := func(e *env) *world {
		w := &world{}
		w.acme = e.venue(e.workspace("acme").ID, "cafe", 1, 1, 100)
		w.other = e.venue(e.workspace("other").ID, "bar", 1, 1, 100)
		w.jane, w.older, w.namesake, w.bob = author("x", "Jane.Doe", 100), author("x", "jane.doe", 5), author("y", "jane.doe", 7), author("x", "bob", 50)
		w.older.SourceID = "u-old"
		first := newPost("x", "j1", t0.Add(-3*time.Hour), 1, 1, w.jane, w.acme.ID, w.other.ID)
		second := newPost("x", "j2", t0.Add(-2*time.Hour), 5, 5, w.jane) // matched nowhere
		exp := t0.Add(-time.Hour)
		second.Kind, second.ExpiresAt = geopulse.KindStory, &exp
		third := newPost("x", "j3", t0.Add(-time.Hour), 1, 1, w.jane, w.acme.ID)
		third.Author.Followers = 120 // a second observation of her counts
		w.janeX = []*geopulse.Post{first, second, third}
		e.upsert(first, second, third,
			newPost("x", "o1", t0.Add(-time.Hour), 1, 1, w.older, w.acme.ID),
			newPost("y", "n1", t0.Add(-time.Hour), 1, 1, w.namesake, w.acme.ID),
			newPost("x", "b1", t0.Add(-time.Hour), 1, 1, w.bob, w.acme.ID),
			// Handles SQL patterns must not trip on: a LIKE wildcard, a
			// character JSON escapes, and an '@' kept by a connector.
			newPost("x", "u1", t0.Add(-time.Hour), 1, 1, author("x", "jane_doe", 1)),
			newPost("x", "q1", t0.Add(-time.Hour), 1, 1, author("x", `o"brien\`, 1)),
			newPost("x", "c1", t0.Add(-time.Hour), 1, 1, author("x", "@Cat.Real", 1)))
		// The janitor ran: the story lost its content, its counts stay.
		if _, err := e.s.ExpireStories(e.ctx, t0); err != nil {
			e.t.Fatal(err)
		}
		return w
	}

	t.Run("FindSubjectAuthors", func(t *testing.T) {
		e := newEnv(t, open)
		w := build(e)
		s := e.subjects()
		tests := []struct {
			name string
			ref  geopulse.SubjectRef
			want []string // source ids
		}{
			{"handle as stored", geopulse.SubjectRef{Source: "x", Handle: "Jane.Doe"}, []string{"u-Jane.Doe", "u-old"}},
			{"handle in another case with @", geopulse.SubjectRef{Source: "x", Handle: "@JANE.DOE"}, []string{"u-Jane.Doe", "u-old"}},
			{"handle of another source", geopulse.SubjectRef{Source: "y", Handle: "jane.doe"}, []string{"u-jane.doe"}},
			{"handle prefix is not the handle", geopulse.SubjectRef{Source: "x", Handle: "jane"}, nil},
			{"handle of an unknown source", geopulse.SubjectRef{Source: "z", Handle: "jane.doe"}, nil},
			{"underscore is no wildcard", geopulse.SubjectRef{Source: "x", Handle: "JANE_DOE"}, []string{"u-jane_doe"}},
			{"quote and backslash", geopulse.SubjectRef{Source: "x", Handle: `O"Brien\`}, []string{`u-o"brien\`}},
			{"stored with @", geopulse.SubjectRef{Source: "x", Handle: "cat.real"}, []string{"u-@Cat.Real"}},
			{"source id", geopulse.SubjectRef{Source: "x", SourceID: "u-Jane.Doe"}, []string{"u-Jane.Doe"}},
			{"source id is case-sensitive", geopulse.SubjectRef{Source: "x", SourceID: "u-jane.doe"}, nil},
			{"source id of another source", geopulse.SubjectRef{Source: "y", SourceID: "u-Jane.Doe"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.FindSubjectAuthors(e.ctx, tt.ref)
				if err != nil {
					t.Fatal(err)
				}
				if got == nil {
					t.Fatal("nil result; want an empty list when none match")
				}
				var ids []string
				for _, a := range got {
					if a.ID != geopulse.AuthorID(a.Source, a.SourceID) || a.Source != tt.ref.Source {
						t.Fatalf("author %+v: id or source wrong", a)
					}
					ids = append(ids, a.SourceID)
				}
				slices.Sort(ids)
				if !slices.Equal(ids, tt.want) {
					t.Fatalf("found %v, want %v", ids, tt.want)
				}
			})
		}
		got, err := s.FindSubjectAuthors(e.ctx, geopulse.SubjectRef{Source: "x", SourceID: "u-Jane.Doe"})
		if err != nil || len(got) != 1 {
			t.Fatalf("jane = %+v, %v", got, err)
		}
		want := w.jane
		want.ID, want.Source, want.Followers, want.UpdatedAt = geopulse.AuthorID("x", "u-Jane.Doe"), "x", 120, t0
		if got[0] != want {
			t.Fatalf("card = %s, want %s", dump(got[0]), dump(want))
		}
		for _, ref := range []geopulse.SubjectRef{{Handle: "jane"}, {Source: "x"}, {Source: "x", Handle: "a", SourceID: "b"}, {Source: "x", Handle: "@"}} {
			_, err := s.FindSubjectAuthors(e.ctx, ref)
			wantCode(t, err, geopulse.EINVALID)
		}
	})

	t.Run("SubjectPosts", func(t *testing.T) {
		e := newEnv(t, open)
		w := build(e)
		s := e.subjects()
		got, err := s.SubjectPosts(e.ctx, geopulse.AuthorID("x", "u-Jane.Doe"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(w.janeX) {
			t.Fatalf("%d posts: %v, want %d", len(got), ids(got), len(w.janeX))
		}
		for i, p := range got {
			// Every workspace's places, oldest first, with the card as
			// stored now; the expired story without its content.
			want := *w.janeX[i]
			want.Author.Followers, want.Author.UpdatedAt = 120, t0
			if want.Kind == geopulse.KindStory {
				want.Expired, want.Caption, want.Hashtags, want.Mentions, want.MediaURLs = true, "", nil, nil, nil
			}
			checkPost(t, p, &want)
		}
		if !slices.Equal(got[0].PlaceIDs, slices.Sorted(slices.Values([]int64{w.acme.ID, w.other.ID}))) {
			t.Fatalf("place ids = %v, want both workspaces' places", got[0].PlaceIDs)
		}
		for _, id := range []int64{geopulse.AuthorID("x", "nobody"), geopulse.AuthorID("y", "u-Jane.Doe")} {
			none, err := s.SubjectPosts(e.ctx, id)
			if err != nil || none == nil || len(none) != 0 {
				t.Fatalf("posts of an author without any = %v, %v; want an empty list", ids(none), err)
			}
		}
		// A deleted place leaves the report.
		if err := e.s.DeletePlace(e.ctx, w.other.WorkspaceID, w.other.ID); err != nil {
			t.Fatal(err)
		}
		got, err = s.SubjectPosts(e.ctx, geopulse.AuthorID("x", "u-Jane.Doe"))
		if err != nil || !slices.Equal(got[0].PlaceIDs, []int64{w.acme.ID}) {
			t.Fatalf("after the place's deletion: %v, %v", got[0].PlaceIDs, err)
		}
	})

	t.Run("SubjectStats", func(t *testing.T) {
		e := newEnv(t, open)
		build(e)
		s := e.subjects()
		got, err := s.SubjectStats(e.ctx, geopulse.AuthorID("x", "u-Jane.Doe"))
		if err != nil {
			t.Fatal(err)
		}
		var followers []int64
		for _, st := range got {
			followers = append(followers, st.Followers)
		}
		if !slices.Equal(followers, []int64{100, 120}) || !got[0].ObservedAt.Equal(t0.Add(-3*time.Hour+time.Minute)) {
			t.Fatalf("stats = %s, want 100 then 120 followers", dump(got))
		}
		none, err := s.SubjectStats(e.ctx, geopulse.AuthorID("x", "nobody"))
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("stats of nobody = %v, %v; want an empty list", none, err)
		}
	})

	t.Run("SuppressionReasons", func(t *testing.T) {
		e := newEnv(t, open)
		s := e.subjects()
		key := geopulse.HandleKey("x", "jane.doe")
		for _, r := range []string{geopulse.SuppressProtected, geopulse.SuppressObjection, geopulse.SuppressProtected} {
			if err := e.s.Suppress(e.ctx, key, r); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name string
			key  int64
			want []string
		}{
			{"several reasons, sorted", key, []string{geopulse.SuppressObjection, geopulse.SuppressProtected}},
			{"not suppressed", geopulse.HandleKey("x", "bob"), []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.SuppressionReasons(e.ctx, tt.key)
				if err != nil || got == nil || !slices.Equal(got, tt.want) {
					t.Fatalf("reasons = %#v, %v; want %#v", got, err, tt.want)
				}
			})
		}
	})

	t.Run("AfterDeletion", func(t *testing.T) {
		e := newEnv(t, open)
		build(e)
		s := e.subjects()
		if _, err := e.s.ApplyCompliance(e.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeleteAuthor, Source: "x", AuthorSourceID: "u-Jane.Doe"}); err != nil {
			t.Fatal(err)
		}
		id := geopulse.AuthorID("x", "u-Jane.Doe")
		authors, err := s.FindSubjectAuthors(e.ctx, geopulse.SubjectRef{Source: "x", Handle: "jane.doe"})
		if err != nil || len(authors) != 1 || authors[0].SourceID != "u-old" {
			t.Fatalf("authors by handle = %+v, %v; want the older account only", authors, err)
		}
		posts, err := s.SubjectPosts(e.ctx, id)
		if err != nil || len(posts) != 0 {
			t.Fatalf("posts = %v, %v", ids(posts), err)
		}
		stats, err := s.SubjectStats(e.ctx, id)
		if err != nil || len(stats) != 0 {
			t.Fatalf("stats = %v, %v", stats, err)
		}
	})
}
