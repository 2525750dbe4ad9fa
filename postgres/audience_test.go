package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/postgres"
)

// What the PostgreSQL store adds to the audience contract: home squares
// rounded in SQL exactly as Go rounds them, and profile writers and
// audience savers in several processes at once.

// authorPost is a post by its own author at lat, lon.
func authorPost(id, author string, lat, lon float64, placeIDs ...int64) *geopulse.Post {
	p := post(id, t0, placeIDs...)
	p.Author = geopulse.Author{SourceID: author, Handle: author, Followers: 10}
	p.Lat, p.Lon = lat, lon
	p.Labels = []geopulse.Label{{Kind: geopulse.LabelInterest, Name: "coffee", Origin: geopulse.OriginText, Score: 1, Model: "t", Version: "1"}}
	return p
}

func TestProfileHome(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	coords := [][2]float64{
		{48.85, 2.35}, {48.95, 2.25}, {48.75, 2.45}, {1.15, 1.25}, {0.45, 0.55},
		{-0.04, -0.05}, {-0.06, 0.04}, {0.05, -0.0}, {0, 0}, {-0.5, 0.5},
		{89.95, 179.95}, {-89.95, -179.95}, {90, -180}, {37.449999999999996, -122.45000000000002},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		// Multiples of 0.05 are where rounding ties and their float
		// neighbours lie.
		coords = append(coords, [2]float64{float64(r.IntN(3601)-1800) * 0.05, float64(r.IntN(7201)-3600) * 0.05})
	}
	var posts []*geopulse.Post
	for i, c := range coords {
		posts = append(posts, authorPost(fmt.Sprintf("p%d", i), fmt.Sprintf("a%d", i), c[0], c[1], f.place.ID))
	}
	f.upsert(t, f.db, posts...)
	if n, err := f.db.RefreshProfiles(f.ctx, t0, 0, true); err != nil || n != len(posts) {
		t.Fatalf("refreshed %d profiles, %v; want %d", n, err, len(posts))
	}
	for _, p := range posts {
		want := fmt.Sprintf("%.1f,%.1f", math.Round(p.Lat*10)/10, math.Round(p.Lon*10)/10)
		prof, err := f.db.AuthorProfile(f.ctx, geopulse.AuthorID(p.Source, p.Author.SourceID))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(prof, func(pt geopulse.ProfileTerm) bool { return pt.Kind == geopulse.ProfileHome })
		if i < 0 {
			t.Fatalf("%v, %v: no home in %+v", p.Lat, p.Lon, prof)
		}
		if prof[i].Term != want {
			t.Errorf("home of %v, %v = %q, want %q", p.Lat, p.Lon, prof[i].Term, want)
		}
	}
}

// TestProfileWritersConcurrently runs refreshes (queued and full), queue
// writers and an erasure from several processes at once: none fails, the
// profiles end as one refresh alone computes them, and the erased author
// keeps none.
func TestProfileWritersConcurrently(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	var (
		posts []*geopulse.Post
		ids   []int64
	)
	for a := range 40 {
		author := fmt.Sprintf("a%d", a)
		ids = append(ids, geopulse.AuthorID("insta", author))
		for i := range 5 {
			posts = append(posts, authorPost(fmt.Sprintf("p%d-%d", a, i), author, 1+0.01*float64(i), 1, f.place.ID))
		}
	}
	f.upsert(t, f.db, posts...)
	victim := posts[0].Author
	dbs := []*postgres.DB{f.db}
	for range 3 {
		db, err := postgres.Open(f.ctx, f.dsn, postgres.Options{Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, db := range dbs {
		wg.Go(func() {
			for round := range 5 {
				// Storing posts again queues their authors (not the
				// victim's: the store itself would take them back; the
				// victim is queued from the first store, and erased while
				// these refreshes run).
				if _, err := db.UpsertPosts(f.ctx, posts[5:]); err != nil {
					errs <- err
				}
				if _, err := db.RefreshProfiles(f.ctx, t0, 7, (i+round)%2 == 0); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		_, err := dbs[1].ApplyCompliance(f.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeleteAuthor, Source: "insta", AuthorSourceID: victim.SourceID})
		if err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := f.db.RefreshProfiles(f.ctx, t0, 0, false); err != nil {
		t.Fatal(err)
	}
	profiles := func() map[int64][]geopulse.ProfileTerm {
		out := map[int64][]geopulse.ProfileTerm{}
		for _, id := range ids {
			prof, err := f.db.AuthorProfile(f.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = prof
		}
		return out
	}
	got := profiles()
	if n := len(got[geopulse.AuthorID("insta", victim.SourceID)]); n != 0 {
		t.Errorf("the erased author keeps %d profile terms", n)
	}
	if _, err := f.db.RefreshProfiles(f.ctx, t0, 0, true); err != nil {
		t.Fatal(err)
	}
	if want := profiles(); !reflect.DeepEqual(got, want) {
		t.Errorf("profiles after concurrent writers differ from one refresh's:\n got %v\nwant %v", got, want)
	}
	if n := f.count(t, `SELECT count(*) FROM profile_queue`); n != 0 {
		t.Errorf("%d authors left in the queue", n)
	}
}

// TestSaveAudienceConcurrently saves versions of one audience from several
// processes at once: each save gets its own version.
func TestSaveAudienceConcurrently(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	a := &geopulse.Audience{WorkspaceID: f.ws.ID, Name: "regulars", Criteria: geopulse.AudienceCriteria{MinPosts: 2}, CreatedBy: "test"}
	if err := f.db.SaveAudience(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	other, err := postgres.Open(f.ctx, f.dsn, postgres.Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const saves = 8
	versions := make([]int, saves)
	errs := make([]error, saves)
	var wg sync.WaitGroup
	for i := range saves {
		wg.Go(func() {
			v := *a
			v.Name = fmt.Sprintf("regulars %d", i)
			errs[i] = []*postgres.DB{f.db, other}[i%2].SaveAudience(f.ctx, &v)
			versions[i] = v.Version
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(versions)
	if want := []int{2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(versions, want) {
		t.Fatalf("versions = %v, want %v", versions, want)
	}
	list, err := f.db.Audiences(f.ctx, f.ws.ID)
	if err != nil || len(list) != 1 || list[0].Version != saves+1 {
		t.Fatalf("audiences = %+v, %v", list, err)
	}
}

// TestSensitivePlace marks a place sensitive by hand: it reads back so,
// cannot be targeted, and its posts leave profiles at the next refresh.
func TestSensitivePlace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	shelter := f.venue(t, f.db, "shelter", 1, 1.01)
	f.upsert(t, f.db, authorPost("a", "ann", 1, 1, f.place.ID), authorPost("b", "ann", 1, 1.01, shelter.ID))
	id := geopulse.AuthorID("insta", "ann")
	interestPosts := func() int64 {
		t.Helper()
		if _, err := f.db.RefreshProfiles(f.ctx, t0, 0, true); err != nil {
			t.Fatal(err)
		}
		prof, err := f.db.AuthorProfile(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(prof, func(pt geopulse.ProfileTerm) bool { return pt.Kind == geopulse.ProfileInterest })
		if i < 0 {
			t.Fatalf("no interest in %+v", prof)
		}
		return prof[i].Posts
	}
	if n := interestPosts(); n != 2 {
		t.Fatalf("interest counts %d posts, want 2", n)
	}
	yes := true
	if _, err := f.db.UpdatePlace(f.ctx, f.ws.ID, shelter.ID, geopulse.PlaceUpdate{Sensitive: &yes}); err != nil {
		t.Fatal(err)
	}
	if p, err := f.db.FindPlaceByID(f.ctx, f.ws.ID, shelter.ID); err != nil || !p.Sensitive || p.SensitiveCategory {
		t.Fatalf("place = %+v, %v; want sensitive, not by category", p, err)
	}
	if n := interestPosts(); n != 1 {
		t.Fatalf("interest counts %d posts after the place became sensitive, want 1", n)
	}
	_, err := f.db.AudienceSize(f.ctx, geopulse.AudienceQuery{WorkspaceID: f.ws.ID, Now: t0,
		Criteria: geopulse.AudienceCriteria{Places: []int64{shelter.ID}}})
	wantCode(t, err, geopulse.EINVALID)
	cat := "healthcare=counselling"
	p, err := f.db.UpdatePlace(f.ctx, f.ws.ID, f.place.ID, geopulse.PlaceUpdate{Category: &cat})
	if err != nil || !p.SensitiveCategory || p.Sensitive {
		t.Fatalf("place with a denied OSM key = %+v, %v; want sensitive by category", p, err)
	}
}

// BenchmarkAudience measures, on the benchmark world (profiles refreshed
// once first, its time logged), an audience's size and its
// statistics over one workspace's 50 places for the last 30 days: every
// author, regulars (two posts or more), and a language criterion, which
// every author of the world matches (the widest term lookup).
func BenchmarkAudience(b *testing.B) {
	n := benchPosts(b)
	db, dsn := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	start := time.Now()
	refreshed, err := db.RefreshProfiles(ctx, benchEnd, 0, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("refreshed %d profiles in %v", refreshed, time.Since(start).Round(time.Millisecond))
	// Measure the steady state autovacuum keeps: the refresh rewrote every
	// row, and the first readers would pay for its dead rows.
	if _, err := rawPool(b, dsn).Exec(ctx, `VACUUM ANALYZE author_terms`); err != nil {
		b.Fatal(err)
	}
	query := func(r *rand.Rand, c geopulse.AudienceCriteria) geopulse.AudienceQuery {
		ws := int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1)
		first := (ws-1)*benchPlacesPerWS + 1 + int64(r.IntN(benchPlacesPerWS-50))
		for i := range int64(50) {
			c.Places = append(c.Places, first+i)
		}
		c.WithinDays = 30
		return geopulse.AudienceQuery{WorkspaceID: ws, Criteria: c, Now: benchEnd}
	}
	for _, tc := range []struct {
		name string
		c    geopulse.AudienceCriteria
	}{
		{"all", geopulse.AudienceCriteria{}},
		{"regulars", geopulse.AudienceCriteria{MinPosts: 2}},
		{"language", geopulse.AudienceCriteria{Languages: []string{"en"}}},
	} {
		b.Run(fmt.Sprintf("size/%s/posts=%d", tc.name, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(4, 4))
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				size, err := db.AudienceSize(ctx, query(r, tc.c))
				lat = append(lat, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				if size == 0 {
					b.Fatal("empty audience")
				}
			}
			reportLatency(b, "", lat)
		})
	}
	b.Run(fmt.Sprintf("stats/posts=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(5, 5))
		var lat []time.Duration
		for b.Loop() {
			t := time.Now()
			st, err := db.AudienceStats(ctx, query(r, geopulse.AudienceCriteria{}), 10)
			lat = append(lat, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
			if st.Authors == 0 || len(st.Languages) == 0 || len(st.Homes) == 0 {
				b.Fatalf("empty stats: %+v", st)
			}
		}
		reportLatency(b, "", lat)
	})
}

// TestProfileQueue checks that every change a profile reads from queues
// the authors it concerns, and that others do not.
func TestProfileQueue(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	const day = 24 * time.Hour
	story := func(f *fixture) *geopulse.Post {
		p := post("s", t0, f.place.ID)
		p.Kind = geopulse.KindStory
		exp := t0.Add(geopulse.StoryTTL)
		p.ExpiresAt = &exp
		return p
	}
	yes, bar, renamed := true, "bar", "renamed"
	tests := []struct {
		name   string
		post   func(f *fixture) *geopulse.Post
		change func(f *fixture) error
		queued bool
	}{
		{"labels replaced", nil, func(f *fixture) error {
			return f.db.ReplaceLabels(f.ctx, geopulse.PostID("insta", "p"), geopulse.OriginImage,
				[]geopulse.Label{{Kind: geopulse.LabelInterest, Name: "dogs", Origin: geopulse.OriginImage, Score: 1, Model: "t", Version: "1"}}, time.Time{})
		}, true},
		{"story expired", story, func(f *fixture) error {
			_, err := f.db.ExpireStories(f.ctx, t0.Add(geopulse.StoryTTL))
			return err
		}, true},
		{"place category changed", nil, func(f *fixture) error {
			_, err := f.db.UpdatePlace(f.ctx, f.ws.ID, f.place.ID, geopulse.PlaceUpdate{Category: &bar})
			return err
		}, true},
		{"place marked sensitive", nil, func(f *fixture) error {
			_, err := f.db.UpdatePlace(f.ctx, f.ws.ID, f.place.ID, geopulse.PlaceUpdate{Sensitive: &yes})
			return err
		}, true},
		{"place renamed", nil, func(f *fixture) error {
			_, err := f.db.UpdatePlace(f.ctx, f.ws.ID, f.place.ID, geopulse.PlaceUpdate{Name: &renamed})
			return err
		}, false},
		{"place deleted", nil, func(f *fixture) error { return f.db.DeletePlace(f.ctx, f.ws.ID, f.place.ID) }, true},
		{"place matched again", nil, func(f *fixture) error {
			_, err := f.db.MatchPlace(f.ctx, f.place.ID, f.place.BBox, nil)
			return err
		}, true},
		{"post deleted at its source", nil, func(f *fixture) error {
			_, err := f.db.ApplyCompliance(f.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "insta", SourceID: "p"})
			return err
		}, true},
		{"retention deletes rows", nil, func(f *fixture) error {
			_, err := f.db.ApplyRetention(f.ctx, geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "insta", Keep: day}}}, t0.Add(2*day), false)
			return err
		}, true},
		{"retention drops the month", nil, func(f *fixture) error {
			_, err := f.db.ApplyRetention(f.ctx, geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Keep: day}}}, t0.AddDate(0, 2, 0), false)
			return err
		}, true},
		{"month dropped", nil, func(f *fixture) error {
			_, err := f.db.DropMonthsBefore(f.ctx, t0.AddDate(0, 2, 0))
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, d)
			p := post("p", t0, f.place.ID)
			if tt.post != nil {
				p = tt.post(f)
			}
			f.upsert(t, f.db, p)
			queued := func() int {
				return f.count(t, `SELECT count(*) FROM profile_queue WHERE author_id = $1`, geopulse.AuthorID("insta", "ann"))
			}
			// Storing the post queued its author; a refresh empties the queue.
			if n := queued(); n != 1 {
				t.Fatalf("storing the post queued its author %d times, want 1", n)
			}
			if _, err := f.db.RefreshProfiles(f.ctx, t0, 0, false); err != nil {
				t.Fatal(err)
			}
			if n := queued(); n != 0 {
				t.Fatalf("queued %d times before the change", n)
			}
			if err := tt.change(f); err != nil {
				t.Fatal(err)
			}
			if got := queued() > 0; got != tt.queued {
				t.Fatalf("author queued = %v, want %v", got, tt.queued)
			}
		})
	}
}

// TestSetSensitiveCategories replaces the deny list: places of a newly
// denied category become sensitive and their authors are queued, and the
// list reads back normalised.
func TestSetSensitiveCategories(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	f.upsert(t, f.db, post("p", t0, f.place.ID))                         // at a "cafe"
	if _, err := f.db.RefreshProfiles(f.ctx, t0, 0, false); err != nil { // empties the queue
		t.Fatal(err)
	}
	list, err := f.db.SensitiveCategories(f.ctx)
	if err != nil || len(list) != 25 || !slices.IsSorted(list) || !slices.Contains(list, "healthcare") {
		t.Fatalf("default list = %v, %v", list, err)
	}
	queued := func() int {
		return f.count(t, `SELECT count(*) FROM profile_queue WHERE author_id = $1`, geopulse.AuthorID("insta", "ann"))
	}
	for i, tt := range []struct {
		list   []string
		want   []string
		denied bool
		queued int
	}{
		{[]string{"healthcare", " Amenity=Cafe "}, []string{"amenity=cafe", "healthcare"}, false, 0},
		{[]string{"healthcare", "CAFE", "cafe"}, []string{"cafe", "healthcare"}, true, 1},
		{[]string{"cafe"}, []string{"cafe"}, true, 1}, // still denied: not queued again
		{[]string{"shelter"}, []string{"shelter"}, false, 2},
	} {
		if err := f.db.SetSensitiveCategories(f.ctx, tt.list); err != nil {
			t.Fatal(err)
		}
		got, err := f.db.SensitiveCategories(f.ctx)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Fatalf("%d: list = %v, %v; want %v", i, got, err, tt.want)
		}
		p, err := f.db.FindPlaceByID(f.ctx, f.ws.ID, f.place.ID)
		if err != nil || p.SensitiveCategory != tt.denied {
			t.Fatalf("%d: cafe sensitive by category = %v, %v; want %v", i, p.SensitiveCategory, err, tt.denied)
		}
		if n := queued(); n != tt.queued {
			t.Fatalf("%d: author queued %d times, want %d", i, n, tt.queued)
		}
	}
	wantCode(t, f.db.SetSensitiveCategories(f.ctx, []string{"ok", " "}), geopulse.EINVALID)
}
