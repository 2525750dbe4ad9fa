package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func testAnalytics(t *testing.T, open opener) {
	e := newEnv(t, open)
	ws, other := e.workspace("acme"), e.workspace("other")
	a := e.venue(ws.ID, "A", 1, 1, 100)
	b := e.venue(ws.ID, "B", 1, 1.001, 100)
	e.venue(ws.ID, "C (no posts)", 9, 9, 100)
	x := e.venue(other.ID, "X", 1, 1.001, 300)

	ann, bob := author("insta", "ann", 500), author("insta", "bob", 1000)
	cat, dan, eve := author("insta", "cat", 5000), author("insta", "dan", 50), author("insta", "eve", 10)
	cat.Private = true
	mk := func(id string, kind geopulse.Kind, at time.Time, au geopulse.Author, tags []string, places ...int64) *geopulse.Post {
		p := newPost("insta", id, at, 1, 1, au, places...)
		p.Kind, p.Hashtags = kind, tags
		return p
	}
	day := 24 * time.Hour
	e.upsert(
		mk("p1", geopulse.KindPhoto, t0, ann, []string{"sun", "beach"}, a.ID),
		mk("p2", geopulse.KindVideo, t0.Add(30*time.Minute), bob, []string{"sun"}, a.ID, b.ID),
		mk("p3", geopulse.KindPhoto, t0.Add(day+2*time.Hour), ann, []string{"beach", "sun", "sun"}, b.ID),
		mk("p4", geopulse.KindStory, t0.Add(day+3*time.Hour), cat, []string{"night"}, a.ID),
		mk("p5", geopulse.KindPhoto, t0.Add(6*day+11*time.Hour), dan, []string{"beach"}, b.ID, x.ID),
		mk("p6", geopulse.KindReel, t0.Add(-day), bob, []string{"elsewhere"}, x.ID),
		mk("p7", geopulse.KindPhoto, t0.Add(2*time.Hour), eve, nil, a.ID),
	)
	d := func(days, hours int) time.Time {
		return time.Date(2025, 6, 2+days, hours, 0, 0, 0, time.UTC)
	}
	var how [7][24]int64
	how[0][12], how[0][14], how[1][14], how[1][15], how[6][23] = 2, 1, 1, 1, 1

	full := &geopulse.Analytics{
		Volume: []geopulse.VolumeBucket{
			{Start: d(0, 0), Kind: geopulse.KindPhoto, Posts: 2},
			{Start: d(0, 0), Kind: geopulse.KindVideo, Posts: 1},
			{Start: d(1, 0), Kind: geopulse.KindPhoto, Posts: 1},
			{Start: d(1, 0), Kind: geopulse.KindStory, Posts: 1},
			{Start: d(6, 0), Kind: geopulse.KindPhoto, Posts: 1},
		},
		TopHashtags: []geopulse.TermCount{{Term: "beach", Posts: 3}, {Term: "sun", Posts: 3}, {Term: "night", Posts: 1}},
		TopAuthors: []geopulse.AuthorCount{
			{Author: bob, Posts: 1}, {Author: ann, Posts: 2}, {Author: dan, Posts: 1}, {Author: eve, Posts: 1},
		},
		HourOfWeek: how,
		Places: []geopulse.PlaceCount{
			{PlaceID: a.ID, Name: "A", Posts: 4, Authors: 4},
			{PlaceID: b.ID, Name: "B", Posts: 3, Authors: 3},
		},
		Posts: 6, Authors: 5,
	}
	hourly := *full
	hourly.Volume = []geopulse.VolumeBucket{
		{Start: d(0, 12), Kind: geopulse.KindPhoto, Posts: 1},
		{Start: d(0, 12), Kind: geopulse.KindVideo, Posts: 1},
		{Start: d(0, 14), Kind: geopulse.KindPhoto, Posts: 1},
		{Start: d(1, 14), Kind: geopulse.KindPhoto, Posts: 1},
		{Start: d(1, 15), Kind: geopulse.KindStory, Posts: 1},
		{Start: d(6, 23), Kind: geopulse.KindPhoto, Posts: 1},
	}
	var howB [7][24]int64
	howB[0][12], howB[1][14], howB[6][23] = 1, 1, 1
	onlyB := &geopulse.Analytics{
		Volume: []geopulse.VolumeBucket{
			{Start: d(0, 0), Kind: geopulse.KindVideo, Posts: 1},
			{Start: d(1, 0), Kind: geopulse.KindPhoto, Posts: 1},
			{Start: d(6, 0), Kind: geopulse.KindPhoto, Posts: 1},
		},
		TopHashtags: []geopulse.TermCount{{Term: "beach", Posts: 2}, {Term: "sun", Posts: 2}},
		TopAuthors:  []geopulse.AuthorCount{{Author: bob, Posts: 1}, {Author: ann, Posts: 1}, {Author: dan, Posts: 1}},
		HourOfWeek:  howB,
		Places:      []geopulse.PlaceCount{{PlaceID: b.ID, Name: "B", Posts: 3, Authors: 3}},
		Posts:       3, Authors: 3,
	}
	top1 := *full
	top1.TopHashtags, top1.TopAuthors, top1.Places = full.TopHashtags[:1], full.TopAuthors[:1], full.Places[:1]

	tests := []struct {
		name   string
		filter geopulse.AnalyticsFilter
		want   *geopulse.Analytics
	}{
		{"workspace by day", geopulse.AnalyticsFilter{WorkspaceID: ws.ID}, full},
		{"explicit day", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Interval: geopulse.IntervalDay}, full},
		{"by hour", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Interval: geopulse.IntervalHour}, &hourly},
		{"both places", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, PlaceIDs: []int64{b.ID, a.ID}}, full},
		{"place b", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, PlaceIDs: []int64{b.ID}}, onlyB},
		{"other workspace's place", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, PlaceIDs: []int64{x.ID}}, &geopulse.Analytics{}},
		{"other workspace's place mixed in", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, PlaceIDs: []int64{x.ID, b.ID}}, onlyB},
		{"limit 1", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Limit: 1}, &top1},
		{"time range", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, From: t0.Add(day), To: t0.Add(day + 3*time.Hour)}, &geopulse.Analytics{
			Volume:      []geopulse.VolumeBucket{{Start: d(1, 0), Kind: geopulse.KindPhoto, Posts: 1}},
			TopHashtags: []geopulse.TermCount{{Term: "beach", Posts: 1}, {Term: "sun", Posts: 1}},
			TopAuthors:  []geopulse.AuthorCount{{Author: ann, Posts: 1}},
			HourOfWeek:  func() (h [7][24]int64) { h[1][14] = 1; return }(),
			Places:      []geopulse.PlaceCount{{PlaceID: b.ID, Name: "B", Posts: 1, Authors: 1}},
			Posts:       1, Authors: 1,
		}},
		{"kinds", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Kinds: []geopulse.Kind{geopulse.KindStory, geopulse.KindVideo}}, &geopulse.Analytics{
			Volume: []geopulse.VolumeBucket{
				{Start: d(0, 0), Kind: geopulse.KindVideo, Posts: 1},
				{Start: d(1, 0), Kind: geopulse.KindStory, Posts: 1},
			},
			TopHashtags: []geopulse.TermCount{{Term: "night", Posts: 1}, {Term: "sun", Posts: 1}},
			TopAuthors:  []geopulse.AuthorCount{{Author: bob, Posts: 1}},
			HourOfWeek:  func() (h [7][24]int64) { h[0][12], h[1][15] = 1, 1; return }(),
			Places: []geopulse.PlaceCount{
				{PlaceID: a.ID, Name: "A", Posts: 2, Authors: 2},
				{PlaceID: b.ID, Name: "B", Posts: 1, Authors: 1},
			},
			Posts: 2, Authors: 2,
		}},
		// X holds p5 and p6 only (p2 is in A and B).
		{"other workspace", geopulse.AnalyticsFilter{WorkspaceID: other.ID, Limit: 2}, &geopulse.Analytics{
			Volume: []geopulse.VolumeBucket{
				{Start: d(-1, 0), Kind: geopulse.KindReel, Posts: 1},
				{Start: d(6, 0), Kind: geopulse.KindPhoto, Posts: 1},
			},
			TopHashtags: []geopulse.TermCount{{Term: "beach", Posts: 1}, {Term: "elsewhere", Posts: 1}},
			TopAuthors:  []geopulse.AuthorCount{{Author: bob, Posts: 1}, {Author: dan, Posts: 1}},
			HourOfWeek:  func() (h [7][24]int64) { h[6][12], h[6][23] = 1, 1; return }(),
			Places:      []geopulse.PlaceCount{{PlaceID: x.ID, Name: "X", Posts: 2, Authors: 2}},
			Posts:       2, Authors: 2,
		}},
		{"only a private author", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Kinds: []geopulse.Kind{geopulse.KindStory}}, &geopulse.Analytics{
			Volume:      []geopulse.VolumeBucket{{Start: d(1, 0), Kind: geopulse.KindStory, Posts: 1}},
			TopHashtags: []geopulse.TermCount{{Term: "night", Posts: 1}},
			HourOfWeek:  func() (h [7][24]int64) { h[1][15] = 1; return }(),
			Places:      []geopulse.PlaceCount{{PlaceID: a.ID, Name: "A", Posts: 1, Authors: 1}},
			Posts:       1, Authors: 1,
		}},
		{"unknown workspace", geopulse.AnalyticsFilter{WorkspaceID: 99999}, &geopulse.Analytics{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.s.Analytics(e.ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			checkAnalytics(t, got, tt.want)
		})
	}

	t.Run("Errors", func(t *testing.T) {
		tests := []struct {
			name   string
			filter geopulse.AnalyticsFilter
		}{
			{"no workspace", geopulse.AnalyticsFilter{}},
			{"bad interval", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Interval: "week"}},
			{"negative limit", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Limit: -1}},
			{"huge limit", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Limit: 1_000_001}},
			{"unknown kind", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, Kinds: []geopulse.Kind{"hologram"}}},
			{"to before from", geopulse.AnalyticsFilter{WorkspaceID: ws.ID, From: t0, To: t0.Add(-time.Hour)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.s.Analytics(e.ctx, tt.filter)
				wantCode(t, err, geopulse.EINVALID)
			})
		}
	})
}

// checkAnalytics compares field by field; author cards are compared on
// identity and public fields (the store sets ID and UpdatedAt).
func checkAnalytics(t *testing.T, got, want *geopulse.Analytics) {
	t.Helper()
	if !slices.EqualFunc(got.Volume, want.Volume, func(a, b geopulse.VolumeBucket) bool {
		return a.Start.Equal(b.Start) && a.Kind == b.Kind && a.Posts == b.Posts
	}) {
		t.Errorf("volume =\n%v\nwant\n%v", got.Volume, want.Volume)
	}
	for _, v := range got.Volume {
		if v.Start.Location() != time.UTC {
			t.Errorf("bucket start %v is not UTC", v.Start)
		}
	}
	if !slices.Equal(got.TopHashtags, want.TopHashtags) && len(got.TopHashtags)+len(want.TopHashtags) > 0 {
		t.Errorf("hashtags = %v, want %v", got.TopHashtags, want.TopHashtags)
	}
	if !slices.EqualFunc(got.TopAuthors, want.TopAuthors, func(a, b geopulse.AuthorCount) bool {
		return a.Posts == b.Posts && a.Author.Handle == b.Author.Handle && a.Author.Followers == b.Author.Followers &&
			a.Author.ID == geopulse.AuthorID(b.Author.Source, b.Author.SourceID) && !a.Author.Private
	}) {
		t.Errorf("authors = %v, want %v", got.TopAuthors, want.TopAuthors)
	}
	if got.HourOfWeek != want.HourOfWeek {
		t.Errorf("hour of week = %v, want %v", got.HourOfWeek, want.HourOfWeek)
	}
	if !reflect.DeepEqual(got.Places, want.Places) && len(got.Places)+len(want.Places) > 0 {
		t.Errorf("places = %+v, want %+v", got.Places, want.Places)
	}
	if got.Posts != want.Posts || got.Authors != want.Authors {
		t.Errorf("totals = %d posts, %d authors; want %d, %d", got.Posts, got.Authors, want.Posts, want.Authors)
	}
}
