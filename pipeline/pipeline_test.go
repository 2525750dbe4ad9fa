package pipeline_test

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/pipeline"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type env struct {
	store geopulse.Store
	pl    *pipeline.Pipeline
	ws    *geopulse.Workspace
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	clock := func() time.Time { return now }
	db, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "test.duckdb"), duckdb.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pl, err := pipeline.New(ctx, db, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ws := &geopulse.Workspace{Name: "acme"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	return &env{db, pl, ws}
}

// post returns a valid post at (lat, lon) by a public author.
func post(id string, lat, lon float64) *geopulse.Post {
	return &geopulse.Post{
		Source: "test", SourceID: id, Kind: geopulse.KindPhoto,
		Author:  geopulse.Author{SourceID: "a-" + id, Handle: "h" + id, Followers: 100},
		TakenAt: now.Add(-time.Hour), Lat: lat, Lon: lon, Caption: "hello #Coffee @Jane",
	}
}

func (e *env) venue(t *testing.T, name string, lat, lon, r float64) *geopulse.Place {
	t.Helper()
	p := &geopulse.Place{WorkspaceID: e.ws.ID, Name: name, Center: &geopulse.LatLon{Lat: lat, Lon: lon}, RadiusM: r}
	if err := e.pl.Places().CreatePlace(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) feed(t *testing.T, placeID int64) []*geopulse.Post {
	t.Helper()
	posts, _, err := e.store.FindPosts(t.Context(), geopulse.PostFilter{WorkspaceID: e.ws.ID, PlaceIDs: []int64{placeID}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestIngestGate(t *testing.T) {
	e := newEnv(t)
	cafe := e.venue(t, "Cafe", 51.5, -0.12, 200)
	tests := []struct {
		name   string
		mutate func(*geopulse.Post)
		reason string // "" = accepted
	}{
		{"valid", func(*geopulse.Post) {}, ""},
		{"latitude over 90", func(p *geopulse.Post) { p.Lat = 91 }, geopulse.ReasonInvalidCoordinates},
		{"longitude under -180", func(p *geopulse.Post) { p.Lon = -180.5 }, geopulse.ReasonInvalidCoordinates},
		{"NaN latitude", func(p *geopulse.Post) { p.Lat = math.NaN() }, geopulse.ReasonInvalidCoordinates},
		{"infinite longitude", func(p *geopulse.Post) { p.Lon = math.Inf(1) }, geopulse.ReasonInvalidCoordinates},
		{"negative accuracy", func(p *geopulse.Post) { p.AccuracyM = -1 }, geopulse.ReasonInvalidField},
		{"far future", func(p *geopulse.Post) { p.TakenAt = now.Add(48 * time.Hour) }, geopulse.ReasonFutureTimestamp},
		{"slightly future is clock drift", func(p *geopulse.Post) { p.TakenAt = now.Add(10 * time.Minute) }, ""},
		{"zero time", func(p *geopulse.Post) { p.TakenAt = time.Time{} }, geopulse.ReasonInvalidField},
		{"private account", func(p *geopulse.Post) { p.Author.Private = true }, geopulse.ReasonPrivateAccount},
		{"missing source id", func(p *geopulse.Post) { p.SourceID = "" }, geopulse.ReasonMissingField},
		{"missing author", func(p *geopulse.Post) { p.Author.SourceID = "" }, geopulse.ReasonMissingField},
		{"unknown kind", func(p *geopulse.Post) { p.Kind = "hologram" }, geopulse.ReasonInvalidField},
		{"caption too long", func(p *geopulse.Post) { p.Caption = strings.Repeat("é", 10_001) }, geopulse.ReasonTooLarge},
		{"invalid utf-8 caption", func(p *geopulse.Post) { p.Caption = "bad \xff\xfe bytes" }, geopulse.ReasonInvalidUTF8},
		{"invalid utf-8 handle", func(p *geopulse.Post) { p.Author.Handle = "\xc3\x28" }, geopulse.ReasonInvalidUTF8},
	}
	// One batch with every case: the bad ones are rejected per item, the rest land.
	batch := make([]*geopulse.Post, len(tests))
	for i, tt := range tests {
		batch[i] = post(tt.name, 51.5, -0.12)
		tt.mutate(batch[i])
	}
	errs, err := e.pl.Ingest(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, p := range e.feed(t, cafe.ID) {
		stored[p.SourceID] = true
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := geopulse.ErrorReason(errs[i]); got != tt.reason {
				t.Fatalf("reason = %q (%v), want %q", got, errs[i], tt.reason)
			}
			if tt.reason == "" && !stored[batch[i].SourceID] {
				t.Fatal("accepted post is not in the feed")
			}
			if tt.reason != "" && stored[batch[i].SourceID] {
				t.Fatal("rejected post was stored")
			}
		})
	}
}

func TestIngestEnrichesAndIsIdempotent(t *testing.T) {
	e := newEnv(t)
	cafe := e.venue(t, "Cafe", 51.5, -0.12, 200)
	p := post("1", 51.5001, -0.1201)
	if errs, err := e.pl.Ingest(t.Context(), []*geopulse.Post{p}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	if p.Cell == 0 || p.ID != geopulse.PostID("test", "1") || !slices.Equal(p.PlaceIDs, []int64{cafe.ID}) {
		t.Fatalf("enriched post: cell %d id %d places %v", p.Cell, p.ID, p.PlaceIDs)
	}
	if !slices.Equal(p.Hashtags, []string{"coffee"}) || !slices.Equal(p.Mentions, []string{"jane"}) {
		t.Fatalf("tags %v mentions %v", p.Hashtags, p.Mentions)
	}
	again := post("1", 51.5001, -0.1201)
	again.Likes, again.Caption = 99, "edited #tea"
	if errs, err := e.pl.Ingest(t.Context(), []*geopulse.Post{again}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	got := e.feed(t, cafe.ID)
	if len(got) != 1 || got[0].Likes != 99 || got[0].Caption != "edited #tea" {
		t.Fatalf("after re-send: %d posts, %+v", len(got), got)
	}
}

func TestStories(t *testing.T) {
	e := newEnv(t)
	cafe := e.venue(t, "Cafe", 51.5, -0.12, 200)
	live := post("live", 51.5, -0.12)
	live.Kind = geopulse.KindStory
	old := post("old", 51.5, -0.12)
	old.Kind, old.TakenAt = geopulse.KindStory, now.Add(-30*time.Hour)
	if _, err := e.pl.Ingest(t.Context(), []*geopulse.Post{live, old}); err != nil {
		t.Fatal(err)
	}
	if live.ExpiresAt == nil || !live.ExpiresAt.Equal(live.TakenAt.Add(24*time.Hour)) {
		t.Fatalf("story expires_at = %v, want taken_at + 24h", live.ExpiresAt)
	}
	// A story already gone at its source is never stored with content.
	stored, err := e.store.FindPostByID(t.Context(), e.ws.ID, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Expired || stored.Caption != "" || len(stored.Hashtags) != 0 {
		t.Fatalf("expired story kept content: %+v", stored)
	}
	feed := e.feed(t, cafe.ID)
	if len(feed) != 1 || feed[0].SourceID != "live" {
		t.Fatalf("feed shows %d posts; want only the live story", len(feed))
	}
}

func TestPlacesBackfillAndReshape(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	// Posts first: one in Soho, one 3 km away, one with city-level accuracy.
	soho, far, coarse := post("soho", 51.5136, -0.1365), post("far", 51.5, -0.09), post("coarse", 51.5137, -0.1366)
	coarse.AccuracyM = 5_000
	if _, err := e.pl.Ingest(ctx, []*geopulse.Post{soho, far, coarse}); err != nil {
		t.Fatal(err)
	}
	place := e.venue(t, "Soho", 51.5136, -0.1365, 150)
	if got := ids(e.feed(t, place.ID)); !slices.Equal(got, []string{"soho"}) {
		t.Fatalf("backfilled feed = %v, want [soho] (coarse location must not count)", got)
	}

	// Reshape into a polygon around the far post: matches move with the shape.
	poly := json.RawMessage(`{"type":"Polygon","coordinates":[[[-0.095,51.495],[-0.085,51.495],[-0.085,51.505],[-0.095,51.505],[-0.095,51.495]]]}`)
	if _, err := e.pl.Places().UpdatePlace(ctx, e.ws.ID, place.ID, geopulse.PlaceUpdate{Geometry: &poly}); err != nil {
		t.Fatal(err)
	}
	if got := ids(e.feed(t, place.ID)); !slices.Equal(got, []string{"far"}) {
		t.Fatalf("after reshape feed = %v, want [far]", got)
	}
	// New posts match the new shape through the refreshed index.
	near := post("near-far", 51.501, -0.09)
	if _, err := e.pl.Ingest(ctx, []*geopulse.Post{near}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(near.PlaceIDs, []int64{place.ID}) {
		t.Fatalf("new post matched %v, want [%d]", near.PlaceIDs, place.ID)
	}

	bad := json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`)
	if _, err := e.pl.Places().UpdatePlace(ctx, e.ws.ID, place.ID, geopulse.PlaceUpdate{Geometry: &bad}); geopulse.ErrorReason(err) != geopulse.ReasonInvalidGeometry {
		t.Fatalf("self-intersecting update: %v", err)
	}
	if err := e.pl.Places().DeletePlace(ctx, e.ws.ID, place.ID); err != nil {
		t.Fatal(err)
	}
	late := post("late", 51.501, -0.09)
	if _, err := e.pl.Ingest(ctx, []*geopulse.Post{late}); err != nil {
		t.Fatal(err)
	}
	if len(late.PlaceIDs) != 0 {
		t.Fatalf("deleted place still matches: %v", late.PlaceIDs)
	}
}

func TestPlaceValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		place  geopulse.Place
		reason string
	}{
		{"no name", geopulse.Place{Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 50}, geopulse.ReasonMissingField},
		{"control chars", geopulse.Place{Name: "a\x00b", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 50}, geopulse.ReasonInvalidField},
		{"long name", geopulse.Place{Name: strings.Repeat("x", 201), Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 50}, geopulse.ReasonTooLarge},
		{"no shape", geopulse.Place{Name: "x"}, geopulse.ReasonInvalidGeometry},
		{"bad centre", geopulse.Place{Name: "x", Center: &geopulse.LatLon{Lat: 100, Lon: 1}, RadiusM: 50}, geopulse.ReasonInvalidCoordinates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.place
			p.WorkspaceID = e.ws.ID
			err := e.pl.Places().CreatePlace(context.Background(), &p)
			if got := geopulse.ErrorReason(err); got != tt.reason {
				t.Fatalf("reason = %q (%v), want %q", got, err, tt.reason)
			}
		})
	}
}

func ids(posts []*geopulse.Post) []string {
	out := []string{}
	for _, p := range posts {
		out = append(out, p.SourceID)
	}
	slices.Sort(out)
	return out
}
