package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// Label shorthands. Text labels come with the post (the pipeline reads
// them from the words); image labels come later through ReplaceLabels.
func obj(name string, score float32) geopulse.Label {
	return geopulse.Label{Kind: geopulse.LabelObject, Name: name, Score: score, Model: "nanodet-coco", Version: "3.0.4"}
}

func brand(name string, score float32) geopulse.Label {
	return geopulse.Label{Kind: geopulse.LabelBrand, Name: name, Score: score, Model: "nsi", Version: "6.0"}
}

func interest(name string, score float32) geopulse.Label {
	return geopulse.Label{Kind: geopulse.LabelInterest, Name: name, Score: score, Model: "interests", Version: "1"}
}

// as returns ls with their origin set, as a store reads them back.
func as(origin geopulse.LabelOrigin, ls ...geopulse.Label) []geopulse.Label {
	out := slices.Clone(ls)
	for i := range out {
		out[i].Origin = origin
	}
	return out
}

// labelWorld is the labelled posts of the label tests: workspace acme with
// places A and B, and workspace other with X.
type labelWorld struct {
	ws, other *geopulse.Workspace
	a, b, x   *geopulse.Place
	ann, bob  geopulse.Author
}

// labelled makes a post of w's kind with text labels and a sentiment.
func labelled(id string, kind geopulse.Kind, at time.Time, au geopulse.Author, sentiment float32, labels []geopulse.Label, places ...int64) *geopulse.Post {
	p := newPost("insta", id, at, 1, 1, au, places...)
	p.Kind, p.Sentiment, p.Labels = kind, sentiment, labels
	if kind == geopulse.KindStory {
		exp := at.Add(2 * time.Hour)
		p.ExpiresAt = &exp
	}
	return p
}

// newLabelWorld stores:
//
//	p1 photo 12:00 A    text: brand starbucks, interest pets, object dog; image: dog, bicycle, pets
//	p2 video 12:30 A,B  text: brand starbucks, interests pets and coffee
//	p3 photo +1d 14:00 B text: interest coffee, object cup
//	p4 story 15:00 A    text: interest pets (hashtag night; expires 17:00)
//	p6 photo 13:00 A    image: object dog, interest pets
//	p5 photo 12:00 X    text: interest pets (the other workspace's)
func newLabelWorld(e *env) *labelWorld {
	e.t.Helper()
	w := &labelWorld{ws: e.workspace("acme"), other: e.workspace("other")}
	w.a = e.venue(w.ws.ID, "A", 1, 1, 100)
	w.b = e.venue(w.ws.ID, "B", 1, 1.001, 100)
	w.x = e.venue(w.other.ID, "X", 1, 1.001, 300)
	w.ann, w.bob = author("insta", "ann", 500), author("insta", "bob", 1000)
	day := 24 * time.Hour
	p4 := labelled("p4", geopulse.KindStory, t0.Add(3*time.Hour), w.bob, 0, []geopulse.Label{interest("pets", 0.4)}, w.a.ID)
	p4.Hashtags = []string{"night"}
	e.upsert(
		labelled("p1", geopulse.KindPhoto, t0, w.ann, 0.5, []geopulse.Label{
			interest(" Pets ", 0.5), obj("Dog", 0.9), brand("starbucks", 0.8), brand("Starbucks", 0.3),
			{Kind: geopulse.LabelObject, Name: "kite", Origin: geopulse.OriginImage}, // not the pipeline's: ignored
		}, w.a.ID),
		labelled("p2", geopulse.KindVideo, t0.Add(30*time.Minute), w.bob, -0.25,
			[]geopulse.Label{brand("starbucks", 0.7), interest("pets", 0.3), interest("coffee", 0.6)}, w.a.ID, w.b.ID),
		labelled("p3", geopulse.KindPhoto, t0.Add(day+2*time.Hour), w.ann, 0, []geopulse.Label{interest("coffee", 0.9), obj("cup", 0.5)}, w.b.ID),
		p4,
		labelled("p5", geopulse.KindPhoto, t0, w.bob, 0, []geopulse.Label{interest("pets", 0.2)}, w.x.ID),
		labelled("p6", geopulse.KindPhoto, t0.Add(time.Hour), w.ann, 0, nil, w.a.ID),
	)
	e.replaceLabels("p1", geopulse.OriginImage, obj("dog", 0.8), obj("bicycle", 0.7), interest("pets", 0.6))
	e.replaceLabels("p6", geopulse.OriginImage, obj("dog", 0.95), interest("pets", 0.5))
	return w
}

func (e *env) replaceLabels(sourceID string, origin geopulse.LabelOrigin, ls ...geopulse.Label) {
	e.t.Helper()
	if err := e.s.ReplaceLabels(e.ctx, geopulse.PostID("insta", sourceID), origin, ls, e.clock.Now()); err != nil {
		e.t.Fatalf("replace %s labels of %s: %v", origin, sourceID, err)
	}
}

func (e *env) post(ws int64, sourceID string) *geopulse.Post {
	e.t.Helper()
	p, err := e.s.FindPostByID(e.ctx, ws, geopulse.PostID("insta", sourceID))
	if err != nil {
		e.t.Fatalf("find %s: %v", sourceID, err)
	}
	return p
}

// labelAnalytics is the part of Analytics the label tests check.
type labelAnalytics struct {
	TopLabels, TopBrands, TopInterests []geopulse.TermCount
	InterestsByPlace                   []geopulse.PlaceTermCount
	InterestsByHour                    []geopulse.HourTermCount
}

func (e *env) labelAnalytics(f geopulse.AnalyticsFilter) labelAnalytics {
	e.t.Helper()
	a, err := e.s.Analytics(e.ctx, f)
	if err != nil {
		e.t.Fatalf("analytics %+v: %v", f, err)
	}
	return labelAnalytics{nilIfNone(a.TopLabels), nilIfNone(a.TopBrands), nilIfNone(a.TopInterests),
		nilIfNone(a.InterestsByPlace), nilIfNone(a.InterestsByHour)}
}

func nilIfNone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func testLabels(t *testing.T, open opener) {
	t.Run("round trip", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		p := e.post(w.ws.ID, "p1")
		want := append(as(geopulse.OriginText, brand("starbucks", 0.8), interest("pets", 0.5), obj("dog", 0.9)),
			as(geopulse.OriginImage, interest("pets", 0.6), obj("bicycle", 0.7), obj("dog", 0.8))...)
		if p.Sentiment != 0.5 || !reflect.DeepEqual(p.Labels, want) {
			t.Fatalf("p1: sentiment %v, labels %s\nwant 0.5, %s", p.Sentiment, dump(p.Labels), dump(want))
		}
		if p := e.post(w.ws.ID, "p2"); p.Sentiment != -0.25 || len(p.Labels) != 3 {
			t.Fatalf("p2: sentiment %v, labels %s", p.Sentiment, dump(p.Labels))
		}
		// Feeds carry the same labels.
		page, _ := e.feed(geopulse.PostFilter{WorkspaceID: w.ws.ID, Label: "bicycle"})
		if len(page) != 1 || !reflect.DeepEqual(page[0].Labels, want) || page[0].Sentiment != 0.5 {
			t.Fatalf("feed p1 = %s", dump(page))
		}
	})

	t.Run("re-ingest replaces text labels and keeps image labels", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		images := as(geopulse.OriginImage, interest("pets", 0.6), obj("bicycle", 0.7), obj("dog", 0.8))
		p1 := labelled("p1", geopulse.KindPhoto, t0, w.ann, -0.5, []geopulse.Label{interest("coffee", 0.4)}, w.a.ID)
		e.upsert(p1)
		e.upsert(p1) // idempotent
		want := append(as(geopulse.OriginText, interest("coffee", 0.4)), images...)
		if p := e.post(w.ws.ID, "p1"); p.Sentiment != -0.5 || !reflect.DeepEqual(p.Labels, want) {
			t.Fatalf("p1: sentiment %v, labels %s\nwant -0.5, %s", p.Sentiment, dump(p.Labels), dump(want))
		}
		if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, Brand: "starbucks"})); !slices.Equal(got, []string{"p2"}) {
			t.Fatalf("brand starbucks after re-ingest = %v, want [p2]", got)
		}
		// Moved to another month (another partition, in a store that has
		// them): the image labels follow.
		moved := t0.Add(40 * 24 * time.Hour)
		p1 = labelled("p1", geopulse.KindPhoto, moved, w.ann, 0, nil, w.a.ID)
		e.upsert(p1)
		if p := e.post(w.ws.ID, "p1"); !reflect.DeepEqual(p.Labels, images) || !p.TakenAt.Equal(moved) {
			t.Fatalf("moved p1: labels %s, want %s", dump(p.Labels), dump(images))
		}
		if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, Label: "bicycle", From: moved})); !slices.Equal(got, []string{"p1"}) {
			t.Fatalf("bicycle after the move = %v, want [p1]", got)
		}
		// Replacing with none removes one origin only.
		e.replaceLabels("p1", geopulse.OriginImage)
		e.replaceLabels("p6", geopulse.OriginText, brand("Fnac", 1))
		if p := e.post(w.ws.ID, "p1"); len(p.Labels) != 0 {
			t.Fatalf("p1 labels = %s, want none", dump(p.Labels))
		}
		want = append(as(geopulse.OriginText, brand("fnac", 1)), as(geopulse.OriginImage, interest("pets", 0.5), obj("dog", 0.95))...)
		if p := e.post(w.ws.ID, "p6"); !reflect.DeepEqual(p.Labels, want) {
			t.Fatalf("p6 labels = %s, want %s", dump(p.Labels), dump(want))
		}
		if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, Label: "bicycle"})); len(got) != 0 {
			t.Fatalf("bicycle after removal = %v, want none", got)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		p1 := geopulse.PostID("insta", "p1")
		wantCode(t, e.s.ReplaceLabels(e.ctx, geopulse.PostID("insta", "nope"), geopulse.OriginImage, []geopulse.Label{obj("dog", 1)}, t0), geopulse.ENOTFOUND)
		wantCode(t, e.s.ReplaceLabels(e.ctx, p1, "video", nil, t0), geopulse.EINVALID)
		wantCode(t, e.s.ReplaceLabels(e.ctx, p1, geopulse.OriginImage, []geopulse.Label{{Kind: "face", Name: "x"}}, t0), geopulse.EINVALID)
		wantCode(t, e.s.ReplaceLabels(e.ctx, p1, geopulse.OriginImage, []geopulse.Label{{Kind: geopulse.LabelObject, Name: " "}}, t0), geopulse.EINVALID)
		wantCode(t, e.s.ReplaceLabels(e.ctx, p1, geopulse.OriginImage, []geopulse.Label{obj("a\x00b", 1)}, t0), geopulse.EINVALID)
		bad := labelled("bad", geopulse.KindPhoto, t0, w.ann, 0, []geopulse.Label{{Kind: "face", Name: "ann"}}, w.a.ID)
		moody := labelled("moody", geopulse.KindPhoto, t0, w.ann, 2, nil, w.a.ID)
		good := labelled("good", geopulse.KindPhoto, t0, w.ann, 0, []geopulse.Label{obj("dog", 1)}, w.a.ID)
		errs, err := e.s.UpsertPosts(e.ctx, []*geopulse.Post{bad, moody, good})
		if err != nil || len(errs) != 3 {
			t.Fatalf("upsert: %v, %v", errs, err)
		}
		wantCode(t, errs[0], geopulse.EINVALID)
		wantCode(t, errs[1], geopulse.EINVALID)
		if errs[2] != nil {
			t.Fatalf("good post: %v", errs[2])
		}
		// A failed replacement changes nothing.
		if p := e.post(w.ws.ID, "p1"); len(p.Labels) != 6 {
			t.Fatalf("p1 labels = %s, want 6", dump(p.Labels))
		}
	})

	t.Run("feed filters", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		day := 24 * time.Hour
		for _, tt := range []struct {
			name string
			f    geopulse.PostFilter
			want []string
		}{
			{"object", geopulse.PostFilter{Label: "dog"}, []string{"p6", "p1"}},
			{"object any case", geopulse.PostFilter{Label: " DOG "}, []string{"p6", "p1"}},
			{"object of text only", geopulse.PostFilter{Label: "cup"}, []string{"p3"}},
			{"brand", geopulse.PostFilter{Brand: "starbucks"}, []string{"p2", "p1"}},
			{"interest", geopulse.PostFilter{Interest: "pets"}, []string{"p4", "p6", "p2", "p1"}},
			{"interest paged", geopulse.PostFilter{Interest: "pets", Limit: 1}, []string{"p4", "p6", "p2", "p1"}},
			{"interest and kind", geopulse.PostFilter{Interest: "pets", Kinds: []geopulse.Kind{geopulse.KindPhoto}}, []string{"p6", "p1"}},
			{"interest and hashtag", geopulse.PostFilter{Interest: "pets", Hashtag: "#night"}, []string{"p4"}},
			{"interest and text", geopulse.PostFilter{Interest: "pets", Text: "POST P2"}, []string{"p2"}},
			{"interest and followers", geopulse.PostFilter{Interest: "pets", MinFollowers: 1000, Limit: 1}, []string{"p4", "p2"}},
			{"interest and place", geopulse.PostFilter{Interest: "coffee", PlaceIDs: []int64{w.a.ID}}, []string{"p2"}},
			{"interest and time", geopulse.PostFilter{Interest: "coffee", From: t0.Add(day)}, []string{"p3"}},
			{"interest and area", geopulse.PostFilter{Interest: "pets", Area: &geopulse.Area{MinLat: 0.5, MinLon: 0.5, MaxLat: 1.5, MaxLon: 1.5}}, []string{"p4", "p6", "p2", "p1"}},
			{"object and brand", geopulse.PostFilter{Label: "dog", Brand: "starbucks"}, []string{"p1"}},
			{"brand in another place", geopulse.PostFilter{Brand: "starbucks", PlaceIDs: []int64{w.b.ID}}, []string{"p2"}},
			{"label of another kind", geopulse.PostFilter{Label: "pets"}, nil},
			{"unknown", geopulse.PostFilter{Interest: "cats"}, nil},
			{"other workspace", geopulse.PostFilter{WorkspaceID: w.other.ID, Interest: "pets"}, []string{"p5"}},
			{"other workspace's place", geopulse.PostFilter{Interest: "pets", PlaceIDs: []int64{w.x.ID}}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := tt.f
				if f.WorkspaceID == 0 {
					f.WorkspaceID = w.ws.ID
				}
				if got := ids(e.feedAll(f)); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
					t.Fatalf("feed = %v, want %v", got, tt.want)
				}
			})
		}
	})

	// Labels follow the matches: a place added later (backfilled) sees the
	// labels of the posts it takes in, of both origins, and loses them
	// with it.
	t.Run("places change", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		tc := func(term string, n int64) geopulse.TermCount { return geopulse.TermCount{Term: term, Posts: n} }
		c := e.venue(w.ws.ID, "C", 1, 1, 100)
		// Every post lies at (1, 1), p5 of the other workspace's place too.
		if _, err := e.s.MatchPlace(e.ctx, c.ID, geopulse.BBox{MinLat: 0.9, MinLon: 0.9, MaxLat: 1.1, MaxLon: 1.1}, nil); err != nil {
			t.Fatal(err)
		}
		got := e.labelAnalytics(geopulse.AnalyticsFilter{WorkspaceID: w.ws.ID, PlaceIDs: []int64{c.ID}})
		want := labelAnalytics{
			TopLabels:        []geopulse.TermCount{tc("dog", 2), tc("bicycle", 1), tc("cup", 1)},
			TopBrands:        []geopulse.TermCount{tc("starbucks", 2)},
			TopInterests:     []geopulse.TermCount{tc("pets", 5), tc("coffee", 2)},
			InterestsByPlace: []geopulse.PlaceTermCount{{PlaceID: c.ID, Term: "pets", Posts: 5}, {PlaceID: c.ID, Term: "coffee", Posts: 2}},
		}
		if got.InterestsByHour = nil; !reflect.DeepEqual(got, want) {
			t.Fatalf("place C: %+v\nwant %+v", got, want)
		}
		// A and C share p1, p2, p4 and p6: each counts once.
		if got := e.labelAnalytics(geopulse.AnalyticsFilter{WorkspaceID: w.ws.ID, PlaceIDs: []int64{w.a.ID, c.ID}}); !reflect.DeepEqual(got.TopInterests, want.TopInterests) {
			t.Fatalf("places A and C: interests %+v, want %+v", got.TopInterests, want.TopInterests)
		}
		if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, PlaceIDs: []int64{c.ID}, Label: "dog"})); !slices.Equal(got, []string{"p6", "p1"}) {
			t.Fatalf("dog at C = %v, want [p6 p1]", got)
		}
		if err := e.s.DeletePlace(e.ctx, w.ws.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.labelAnalytics(geopulse.AnalyticsFilter{WorkspaceID: w.ws.ID}); !reflect.DeepEqual(got.TopInterests, []geopulse.TermCount{tc("pets", 4), tc("coffee", 2)}) {
			t.Fatalf("after deleting C: interests %+v", got.TopInterests)
		}
		if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, Interest: "pets"})); !slices.Equal(got, []string{"p4", "p6", "p2", "p1"}) {
			t.Fatalf("pets after deleting C = %v", got)
		}
	})

	t.Run("analytics", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		day := 24 * time.Hour
		tc := func(term string, n int64) geopulse.TermCount { return geopulse.TermCount{Term: term, Posts: n} }
		pc := func(place *geopulse.Place, term string, n int64) geopulse.PlaceTermCount {
			return geopulse.PlaceTermCount{PlaceID: place.ID, Term: term, Posts: n}
		}
		hc := func(hour int, term string, n int64) geopulse.HourTermCount {
			return geopulse.HourTermCount{Hour: hour, Term: term, Posts: n}
		}
		for _, tt := range []struct {
			name string
			f    geopulse.AnalyticsFilter
			want labelAnalytics
		}{
			{"workspace", geopulse.AnalyticsFilter{}, labelAnalytics{
				// dog: p1 from both origins counts once.
				TopLabels:        []geopulse.TermCount{tc("dog", 2), tc("bicycle", 1), tc("cup", 1)},
				TopBrands:        []geopulse.TermCount{tc("starbucks", 2)},
				TopInterests:     []geopulse.TermCount{tc("pets", 4), tc("coffee", 2)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.a, "pets", 4), pc(w.a, "coffee", 1), pc(w.b, "coffee", 2), pc(w.b, "pets", 1)},
				InterestsByHour:  []geopulse.HourTermCount{hc(12, "pets", 2), hc(12, "coffee", 1), hc(13, "pets", 1), hc(14, "coffee", 1), hc(15, "pets", 1)},
			}},
			{"limit", geopulse.AnalyticsFilter{Limit: 1}, labelAnalytics{
				TopLabels:        []geopulse.TermCount{tc("dog", 2)},
				TopBrands:        []geopulse.TermCount{tc("starbucks", 2)},
				TopInterests:     []geopulse.TermCount{tc("pets", 4)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.a, "pets", 4), pc(w.b, "coffee", 2)},
				InterestsByHour:  []geopulse.HourTermCount{hc(12, "pets", 2), hc(12, "coffee", 1), hc(13, "pets", 1), hc(14, "coffee", 1), hc(15, "pets", 1)},
			}},
			{"place", geopulse.AnalyticsFilter{PlaceIDs: []int64{w.b.ID, w.x.ID}}, labelAnalytics{
				TopLabels:        []geopulse.TermCount{tc("cup", 1)},
				TopBrands:        []geopulse.TermCount{tc("starbucks", 1)},
				TopInterests:     []geopulse.TermCount{tc("coffee", 2), tc("pets", 1)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.b, "coffee", 2), pc(w.b, "pets", 1)},
				InterestsByHour:  []geopulse.HourTermCount{hc(12, "coffee", 1), hc(12, "pets", 1), hc(14, "coffee", 1)},
			}},
			{"kind", geopulse.AnalyticsFilter{Kinds: []geopulse.Kind{geopulse.KindPhoto}}, labelAnalytics{
				TopLabels:        []geopulse.TermCount{tc("dog", 2), tc("bicycle", 1), tc("cup", 1)},
				TopBrands:        []geopulse.TermCount{tc("starbucks", 1)},
				TopInterests:     []geopulse.TermCount{tc("pets", 2), tc("coffee", 1)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.a, "pets", 2), pc(w.b, "coffee", 1)},
				InterestsByHour:  []geopulse.HourTermCount{hc(12, "pets", 1), hc(13, "pets", 1), hc(14, "coffee", 1)},
			}},
			{"time", geopulse.AnalyticsFilter{From: t0.Add(time.Hour), To: t0.Add(day)}, labelAnalytics{
				TopLabels:        []geopulse.TermCount{tc("dog", 1)},
				TopInterests:     []geopulse.TermCount{tc("pets", 2)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.a, "pets", 2)},
				InterestsByHour:  []geopulse.HourTermCount{hc(13, "pets", 1), hc(15, "pets", 1)},
			}},
			{"other workspace", geopulse.AnalyticsFilter{WorkspaceID: w.other.ID}, labelAnalytics{
				TopInterests:     []geopulse.TermCount{tc("pets", 1)},
				InterestsByPlace: []geopulse.PlaceTermCount{pc(w.x, "pets", 1)},
				InterestsByHour:  []geopulse.HourTermCount{hc(12, "pets", 1)},
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := tt.f
				if f.WorkspaceID == 0 {
					f.WorkspaceID = w.ws.ID
				}
				if got := e.labelAnalytics(f); !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("analytics:\n got %s\nwant %s", dump(got), dump(tt.want))
				}
			})
		}
	})

	t.Run("expiry", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		e.replaceLabels("p4", geopulse.OriginImage, obj("kite", 0.9))
		if n, err := e.s.ExpireStories(e.ctx, t0.Add(6*time.Hour)); err != nil || n != 1 {
			t.Fatalf("expire: %d, %v", n, err)
		}
		p := e.post(w.ws.ID, "p4")
		if !p.Expired || p.Sentiment != 0 || len(p.Labels) != 0 {
			t.Fatalf("expired p4: expired %v, sentiment %v, labels %s", p.Expired, p.Sentiment, dump(p.Labels))
		}
		wantCode(t, e.s.ReplaceLabels(e.ctx, p.ID, geopulse.OriginImage, []geopulse.Label{obj("kite", 1)}, t0), geopulse.ENOTFOUND)
		// A source re-sending the story brings its words back, not its labels.
		e.upsert(labelled("p4", geopulse.KindStory, t0.Add(3*time.Hour), w.bob, 0.9, []geopulse.Label{interest("pets", 0.4)}, w.a.ID))
		if p := e.post(w.ws.ID, "p4"); p.Sentiment != 0 || len(p.Labels) != 0 {
			t.Fatalf("re-sent p4: sentiment %v, labels %s", p.Sentiment, dump(p.Labels))
		}
		for _, f := range []geopulse.PostFilter{{Interest: "pets"}, {Label: "kite"}} {
			f.WorkspaceID = w.ws.ID
			if got := ids(e.feedAll(f)); slices.Contains(got, "p4") {
				t.Fatalf("feed %+v = %v, has the expired p4", f, got)
			}
		}
		got := e.labelAnalytics(geopulse.AnalyticsFilter{WorkspaceID: w.ws.ID, Kinds: []geopulse.Kind{geopulse.KindStory}})
		if !reflect.DeepEqual(got, labelAnalytics{}) {
			t.Fatalf("analytics of stories = %s, want nothing", dump(got))
		}
	})

	// Labels never outlive their post: after each removal, the same post
	// stored again without labels has none, and matches no label filter.
	t.Run("removal", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			remove func(e *env, w *labelWorld)
		}{
			{"delete", func(e *env, w *labelWorld) {
				if _, err := e.s.ApplyCompliance(e.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "insta", SourceID: "p1"}); err != nil {
					e.t.Fatal(err)
				}
			}},
			{"erasure", func(e *env, w *labelWorld) {
				if _, err := e.s.ApplyCompliance(e.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeleteAuthor, Source: "insta", AuthorSourceID: w.ann.SourceID}); err != nil {
					e.t.Fatal(err)
				}
			}},
			{"scrub geo", func(e *env, w *labelWorld) {
				// Only located posts are kept, so a scrubbed post goes,
				// labels and all.
				if _, err := e.s.ApplyCompliance(e.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceScrubGeo, Source: "insta", AuthorSourceID: w.ann.SourceID}); err != nil {
					e.t.Fatal(err)
				}
			}},
			{"retention", func(e *env, w *labelWorld) {
				rep, err := e.s.ApplyRetention(e.ctx, geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "*", Kind: "*", Keep: time.Hour}}}, t0.Add(90*time.Minute), false)
				if err != nil || rep.Posts == 0 {
					e.t.Fatalf("retention: %+v, %v", rep, err)
				}
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, open)
				w := newLabelWorld(e)
				tt.remove(e, w)
				wantCode(t, e.s.ReplaceLabels(e.ctx, geopulse.PostID("insta", "p1"), geopulse.OriginImage, []geopulse.Label{obj("dog", 1)}, t0), geopulse.ENOTFOUND)
				for _, f := range []geopulse.PostFilter{{Label: "bicycle"}, {Brand: "starbucks"}, {Interest: "pets"}} {
					f.WorkspaceID = w.ws.ID
					if got := ids(e.feedAll(f)); slices.Contains(got, "p1") {
						t.Fatalf("feed %+v = %v, has the removed p1", f, got)
					}
				}
				if got := e.labelAnalytics(geopulse.AnalyticsFilter{WorkspaceID: w.ws.ID}); slices.Contains(got.TopLabels, geopulse.TermCount{Term: "bicycle", Posts: 1}) {
					t.Fatalf("analytics after removal counts p1's bicycle: %s", dump(got))
				}
				e.upsert(labelled("p1", geopulse.KindPhoto, t0, w.ann, 0, nil, w.a.ID))
				if p := e.post(w.ws.ID, "p1"); len(p.Labels) != 0 {
					t.Fatalf("p1 stored again has labels %s", dump(p.Labels))
				}
				if got := ids(e.feedAll(geopulse.PostFilter{WorkspaceID: w.ws.ID, Label: "bicycle"})); len(got) != 0 {
					t.Fatalf("bicycle after removal = %v, want none", got)
				}
			})
		}
	})

	t.Run("subject access", func(t *testing.T) {
		e := newEnv(t, open)
		w := newLabelWorld(e)
		posts, err := e.subjects().SubjectPosts(e.ctx, geopulse.AuthorID("insta", w.ann.SourceID))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(posts, func(p *geopulse.Post) bool { return p.SourceID == "p1" })
		if i < 0 {
			t.Fatalf("subject posts %v lack p1", ids(posts))
		}
		got := geopulse.NewSubjectPost(posts[i]).Derived
		want := []geopulse.SubjectLabel{
			{Origin: geopulse.OriginText, Kind: geopulse.LabelBrand, Name: "starbucks", Score: 0.8, Model: "nsi", Version: "6.0"},
			{Origin: geopulse.OriginText, Kind: geopulse.LabelInterest, Name: "pets", Score: 0.5, Model: "interests", Version: "1"},
			{Origin: geopulse.OriginText, Kind: geopulse.LabelObject, Name: "dog", Score: 0.9, Model: "nanodet-coco", Version: "3.0.4"},
			{Origin: geopulse.OriginImage, Kind: geopulse.LabelInterest, Name: "pets", Score: 0.6, Model: "interests", Version: "1"},
			{Origin: geopulse.OriginImage, Kind: geopulse.LabelObject, Name: "bicycle", Score: 0.7, Model: "nanodet-coco", Version: "3.0.4"},
			{Origin: geopulse.OriginImage, Kind: geopulse.LabelObject, Name: "dog", Score: 0.8, Model: "nanodet-coco", Version: "3.0.4"},
		}
		if got.Sentiment != 0.5 || !reflect.DeepEqual(got.Labels, want) {
			t.Fatalf("derived = %s\nwant labels %s", dump(got), dump(want))
		}
	})
}
