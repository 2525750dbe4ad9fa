package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// opener returns a fresh, empty store whose clock is now. Run closes it.
type opener func(t *testing.T, now func() time.Time) geopulse.Store

// Run runs the whole contract suite against stores created by open. Each
// subtest gets its own store, so subtests are independent and can be run
// alone with -run.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) geopulse.Store) {
	t.Helper()
	o := opener(open)
	t.Run("Workspace", func(t *testing.T) { testWorkspace(t, o) })
	t.Run("Place", func(t *testing.T) { testPlace(t, o) })
	t.Run("MatchPlace", func(t *testing.T) { testMatchPlace(t, o) })
	t.Run("UpsertPosts", func(t *testing.T) { testUpsertPosts(t, o) })
	t.Run("AuthorStats", func(t *testing.T) { testAuthorStats(t, o) })
	t.Run("FindPosts", func(t *testing.T) { testFindPosts(t, o) })
	t.Run("FindPostByID", func(t *testing.T) { testFindPostByID(t, o) })
	t.Run("ExpireStories", func(t *testing.T) { testExpireStories(t, o) })
	t.Run("Analytics", func(t *testing.T) { testAnalytics(t, o) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, o) })
	t.Run("Compliance", func(t *testing.T) { testCompliance(t, o) })
	t.Run("Subjects", func(t *testing.T) { testSubjects(t, o) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, o) })
	t.Run("Labels", func(t *testing.T) { testLabels(t, o) })
	t.Run("Audiences", func(t *testing.T) { testAudiences(t, o) })
}

// t0 is the suite's starting clock: a Monday, so hour-of-week indexes are
// easy to read.
var t0 = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// clock is a settable, concurrency-safe clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is one test's store, clock and helpers.
type env struct {
	t     *testing.T
	s     geopulse.Store
	clock *clock
	ctx   context.Context
}

func newEnv(t *testing.T, open opener) *env {
	t.Helper()
	c := &clock{now: t0}
	s := open(t, c.Now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &env{t: t, s: s, clock: c, ctx: context.Background()}
}

func (e *env) workspace(name string) *geopulse.Workspace {
	e.t.Helper()
	w := &geopulse.Workspace{Name: name}
	if err := e.s.CreateWorkspace(e.ctx, w); err != nil {
		e.t.Fatalf("create workspace %q: %v", name, err)
	}
	return w
}

// venue creates a circular place; its bbox is a rough square around it.
func (e *env) venue(ws int64, name string, lat, lon, radiusM float64, groups ...string) *geopulse.Place {
	e.t.Helper()
	d := radiusM / 111_000
	p := &geopulse.Place{
		WorkspaceID: ws, Name: name, Category: "cafe", Groups: groups,
		Center: &geopulse.LatLon{Lat: lat, Lon: lon}, RadiusM: radiusM,
		BBox: geopulse.BBox{MinLat: lat - d, MinLon: lon - d, MaxLat: lat + d, MaxLon: lon + d},
	}
	if err := e.s.CreatePlace(e.ctx, p); err != nil {
		e.t.Fatalf("create place %q: %v", name, err)
	}
	return p
}

// upsert stores posts and fails the test on any error.
func (e *env) upsert(posts ...*geopulse.Post) {
	e.t.Helper()
	errs, err := e.s.UpsertPosts(e.ctx, posts)
	if err != nil {
		e.t.Fatalf("upsert posts: %v", err)
	}
	if len(errs) != len(posts) {
		e.t.Fatalf("upsert posts: %d errors for %d posts", len(errs), len(posts))
	}
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("upsert post %d: %v", i, err)
		}
	}
}

// feed returns one page and fails the test on error.
func (e *env) feed(f geopulse.PostFilter) ([]*geopulse.Post, string) {
	e.t.Helper()
	posts, next, err := e.s.FindPosts(e.ctx, f)
	if err != nil {
		e.t.Fatalf("find posts %+v: %v", f, err)
	}
	return posts, next
}

// feedAll follows cursors to the end and returns every post.
func (e *env) feedAll(f geopulse.PostFilter) []*geopulse.Post {
	e.t.Helper()
	var all []*geopulse.Post
	for i := 0; ; i++ {
		if i > 10_000 {
			e.t.Fatalf("feed does not end")
		}
		page, next := e.feed(f)
		all = append(all, page...)
		if next == "" {
			return all
		}
		f.Cursor = next
	}
}

// author makes a public author card.
func author(source, handle string, followers int64) geopulse.Author {
	return geopulse.Author{
		Source: source, SourceID: "u-" + handle, Handle: handle, DisplayName: "The " + handle,
		AvatarURL: "https://img.example/" + handle + ".jpg", Bio: "bio of " + handle,
		Followers: followers, Following: 10, PostsCount: 5,
	}
}

// newPost makes a photo post with a caption and hashtags.
func newPost(source, sourceID string, at time.Time, lat, lon float64, a geopulse.Author, placeIDs ...int64) *geopulse.Post {
	return &geopulse.Post{
		Source: source, SourceID: sourceID, Kind: geopulse.KindPhoto, Author: a,
		TakenAt: at, ObservedAt: at.Add(time.Minute),
		Lat: lat, Lon: lon, AccuracyM: 5, Cell: 1234567, PlaceName: "Somewhere",
		Caption: "post " + sourceID, Hashtags: []string{"coffee"}, Mentions: []string{"friend"},
		MediaURLs: []string{"https://media.example/" + sourceID + ".jpg"},
		Likes:     1, Comments: 2, Views: 3, Language: "en", PlaceIDs: placeIDs,
	}
}

func ids(posts []*geopulse.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.SourceID
	}
	return out
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := geopulse.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// normPost returns a copy with empty slices as nil and times in UTC, so
// that a post written and read back compares equal with reflect.DeepEqual.
func normPost(p *geopulse.Post) geopulse.Post {
	c := *p
	c.Hashtags, c.Mentions, c.MediaURLs = nilIfEmpty(c.Hashtags), nilIfEmpty(c.Mentions), nilIfEmpty(c.MediaURLs)
	if len(c.PlaceIDs) == 0 {
		c.PlaceIDs = nil
	} else {
		c.PlaceIDs = slices.Sorted(slices.Values(c.PlaceIDs))
	}
	c.TakenAt, c.ObservedAt = c.TakenAt.UTC(), c.ObservedAt.UTC()
	c.Author.UpdatedAt = c.Author.UpdatedAt.UTC()
	if c.ExpiresAt != nil {
		t := c.ExpiresAt.UTC()
		c.ExpiresAt = &t
	}
	return c
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// checkPost compares a stored post to what was written.
func checkPost(t *testing.T, got, want *geopulse.Post) {
	t.Helper()
	g, w := normPost(got), normPost(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("post mismatch:\n got %s\nwant %s", dump(g), dump(w))
	}
}

// normPlace returns a copy with empty groups as nil and geometry compacted.
func normPlace(p *geopulse.Place) geopulse.Place {
	c := *p
	c.Groups = nilIfEmpty(c.Groups)
	if len(c.Geometry) == 0 {
		c.Geometry = nil
	}
	return c
}

func checkPlace(t *testing.T, got, want *geopulse.Place) {
	t.Helper()
	g, w := normPlace(got), normPlace(want)
	if !jsonEqual(g.Geometry, w.Geometry) {
		t.Fatalf("geometry = %s, want %s", g.Geometry, w.Geometry)
	}
	g.Geometry, w.Geometry = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("place mismatch:\n got %s\nwant %s", dump(g), dump(w))
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
