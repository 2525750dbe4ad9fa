package simulate

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
)

var testEnd = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func testWorld(t testing.TB, opts Options) *World {
	t.Helper()
	if opts.End.IsZero() {
		opts.End = testEnd
	}
	return New(opts)
}

func take(w *World, n int) []*geopulse.Post {
	out := make([]*geopulse.Post, n)
	for i := range out {
		out[i] = w.Next()
	}
	return out
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name     string
		a, b     Options
		wantSame bool
	}{
		{"same seed", Options{Seed: 7}, Options{Seed: 7}, true},
		{"same seed, small world", Options{Seed: 3, Cities: 3, Venues: 40, Authors: 300},
			Options{Seed: 3, Cities: 3, Venues: 40, Authors: 300}, true},
		{"different seeds", Options{Seed: 7}, Options{Seed: 8}, false},
		{"negative seed differs from positive", Options{Seed: -7}, Options{Seed: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wa, wb := testWorld(t, tt.a), testWorld(t, tt.b)
			pa, pb := take(wa, 1000), take(wb, 1000)
			same := 0
			for i := range pa {
				if reflect.DeepEqual(pa[i], pb[i]) {
					same++
				}
			}
			if tt.wantSame {
				if same != len(pa) {
					t.Fatalf("%d of %d posts identical, want all", same, len(pa))
				}
				if !reflect.DeepEqual(wa.Places(), wb.Places()) {
					t.Error("places differ")
				}
				if !reflect.DeepEqual(wa.Authors(), wb.Authors()) {
					t.Error("authors differ")
				}
				return
			}
			if same > 0 {
				t.Errorf("%d of %d posts identical across seeds, want none", same, len(pa))
			}
			if reflect.DeepEqual(wa.Places(), wb.Places()) {
				t.Error("places identical across seeds")
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		cities      int
		venues      int
		authors     int
		start, end  time.Time
		singleCity  string
		wantNoTrips bool
	}{
		{name: "defaults", opts: Options{}, cities: len(cityTable), venues: DefaultVenues, authors: DefaultAuthors,
			start: testEnd.Add(-DefaultSpan), end: testEnd},
		{name: "one city", opts: Options{Cities: 1, Venues: 60, Authors: 200}, cities: 1, venues: 60, authors: 200,
			start: testEnd.Add(-DefaultSpan), end: testEnd, singleCity: "London", wantNoTrips: true},
		{name: "too many cities clamps", opts: Options{Cities: 1000, Venues: 10, Authors: 50}, cities: len(cityTable),
			venues: 10, authors: 50, start: testEnd.Add(-DefaultSpan), end: testEnd},
		{name: "start after end falls back", opts: Options{Cities: 2, Authors: 20, Start: testEnd.Add(time.Hour)},
			cities: 2, venues: DefaultVenues, authors: 20, start: testEnd.Add(-DefaultSpan), end: testEnd},
		{name: "explicit window", opts: Options{Cities: 5, Venues: 50, Authors: 100, Start: testEnd.Add(-48 * time.Hour)},
			cities: 5, venues: 50, authors: 100, start: testEnd.Add(-48 * time.Hour), end: testEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld(t, tt.opts)
			if got := len(w.Cities()); got != tt.cities {
				t.Errorf("cities = %d, want %d", got, tt.cities)
			}
			if got := len(w.Places()); got != tt.venues {
				t.Errorf("venues = %d, want %d", got, tt.venues)
			}
			if got := len(w.Authors()); got != tt.authors {
				t.Errorf("authors = %d, want %d", got, tt.authors)
			}
			if !w.Start().Equal(tt.start) || !w.End().Equal(tt.end) {
				t.Errorf("window = [%v, %v), want [%v, %v)", w.Start(), w.End(), tt.start, tt.end)
			}
			if tt.singleCity != "" {
				if c := w.Cities()[0]; c.Name != tt.singleCity {
					t.Errorf("city = %q, want %q", c.Name, tt.singleCity)
				}
				for _, p := range take(w, 2000) {
					if d := haversine(p.Lat, p.Lon, 51.5074, -0.1278); d > 40_000 {
						t.Fatalf("post %s is %.0f m from the only city", p.SourceID, d)
					}
				}
			}
		})
	}
}

func TestCities(t *testing.T) {
	w := testWorld(t, Options{Authors: 100})
	seen := map[string]bool{}
	for _, c := range w.Cities() {
		if seen[c.Name] {
			t.Errorf("city %q twice", c.Name)
		}
		seen[c.Name] = true
		if c.Country == "" || math.Abs(c.Lat) > 90 || math.Abs(c.Lon) > 180 || (c.Lat == 0 && c.Lon == 0) {
			t.Errorf("bad city %+v", c)
		}
	}
	if len(seen) < 40 {
		t.Errorf("%d cities, want about 40", len(seen))
	}
	for i := range cityTable {
		d := &cityTable[i]
		// Venues scatter about a kilometre around their area, and must stay
		// within 15 km of the centre; beaches are where the coast is.
		for _, a := range d.areas {
			if dist := haversine(d.lat, d.lon, a.lat, a.lon); dist > 12_500 {
				t.Errorf("%s: %s is %.1f km from the centre", d.name, a.name, dist/1000)
			}
		}
		for _, a := range d.beaches {
			if dist := haversine(d.lat, d.lon, a.lat, a.lon); dist > 30_000 {
				t.Errorf("%s: %s is %.1f km from the centre", d.name, a.name, dist/1000)
			}
		}
	}
}

// osmKeys are the OpenStreetMap keys venue categories may use.
var osmKeys = map[string]bool{"amenity": true, "shop": true, "tourism": true, "leisure": true, "natural": true}

func TestPlaces(t *testing.T) {
	w := testWorld(t, Options{Seed: 11, Authors: 100})
	places := w.Places()
	cityNames := map[string]City{}
	for _, c := range w.Cities() {
		cityNames[c.Name] = c
	}
	names := map[string]bool{}
	var branded, polygons, competitors int
	brands := map[string]bool{}
	for _, p := range places {
		if names[p.Name] {
			t.Errorf("venue name %q twice", p.Name)
		}
		names[p.Name] = true
		key, value, ok := strings.Cut(p.Category, "=")
		if !ok || !osmKeys[key] || value == "" || strings.ToLower(value) != value {
			t.Errorf("%s: category %q is not an OSM key=value", p.Name, p.Category)
		}
		if p.ID != 0 || p.WorkspaceID != 0 {
			t.Errorf("%s: ids set (%d, %d)", p.Name, p.ID, p.WorkspaceID)
		}
		if p.Brand != "" {
			branded++
			brands[p.Brand] = true
		}
		if slices.Contains(p.Groups, "competitors") {
			competitors++
			if p.Category != "amenity=cafe" || p.Brand == "" {
				t.Errorf("%s: competitors group on %q brand %q", p.Name, p.Category, p.Brand)
			}
		}
		var city City
		for _, g := range p.Groups {
			if c, ok := cityNames[g]; ok {
				city = c
			}
		}
		if city.Name == "" {
			t.Errorf("%s: no city among groups %v", p.Name, p.Groups)
			continue
		}
		var lat, lon float64
		switch {
		case p.Center != nil && p.Geometry == nil:
			if p.RadiusM < 50 || p.RadiusM > 300 {
				t.Errorf("%s: radius %.0f m", p.Name, p.RadiusM)
			}
			lat, lon = p.Center.Lat, p.Center.Lon
		case p.Center == nil && p.Geometry != nil:
			polygons++
			ring := checkPolygon(t, p)
			if len(ring) > 0 {
				lat, lon = ring[0][1], ring[0][0]
			}
		default:
			t.Errorf("%s: want exactly one shape, have center %v, geometry %d bytes", p.Name, p.Center, len(p.Geometry))
			continue
		}
		limit := 15_500.0
		if p.Category == "natural=beach" || p.Category == "leisure=beach_resort" {
			limit = 30_000 // beaches are where the coast is
		}
		if d := haversine(city.Lat, city.Lon, lat, lon); d > limit {
			t.Errorf("%s: %.1f km from %s", p.Name, d/1000, city.Name)
		}
		if p.BBox.MinLat > lat || p.BBox.MaxLat < lat || p.BBox.MinLon > lon || p.BBox.MaxLon < lon {
			t.Errorf("%s: bbox %+v does not hold %f,%f", p.Name, p.BBox, lat, lon)
		}
	}
	if branded < len(places)/6 {
		t.Errorf("%d branded venues of %d, want more", branded, len(places))
	}
	for _, b := range []string{"Starbucks", "McDonald's", "Hilton"} {
		if !brands[b] {
			t.Errorf("no %s venue among brands %v", b, brands)
		}
	}
	if polygons == 0 || polygons == len(places) {
		t.Errorf("%d polygon venues of %d, want some", polygons, len(places))
	}
	if competitors == 0 {
		t.Error("no venue in the competitors group")
	}
}

// checkPolygon asserts GeoJSON validity: a Polygon with one closed,
// non-self-intersecting ring, counter-clockwise and under 2 km across.
func checkPolygon(t *testing.T, p *geopulse.Place) [][2]float64 {
	t.Helper()
	var g struct {
		Type        string         `json:"type"`
		Coordinates [][][2]float64 `json:"coordinates"`
	}
	if err := json.Unmarshal(p.Geometry, &g); err != nil {
		t.Errorf("%s: geometry: %v", p.Name, err)
		return nil
	}
	if g.Type != "Polygon" || len(g.Coordinates) != 1 {
		t.Errorf("%s: type %q with %d rings", p.Name, g.Type, len(g.Coordinates))
		return nil
	}
	ring := g.Coordinates[0]
	if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
		t.Errorf("%s: ring of %d positions, closed %v", p.Name, len(ring), ring[0] == ring[len(ring)-1])
		return nil
	}
	n := len(ring) - 1
	for i := range n {
		for j := i + 1; j < n; j++ {
			if j == i+1 || (i == 0 && j == n-1) {
				continue // adjacent edges share a vertex
			}
			if segmentsIntersect(ring[i], ring[i+1], ring[j], ring[j+1]) {
				t.Errorf("%s: edges %d and %d intersect", p.Name, i, j)
			}
		}
	}
	var area float64
	for i := range n {
		area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	if area <= 0 {
		t.Errorf("%s: exterior ring is not counter-clockwise", p.Name)
	}
	if d := haversine(p.BBox.MinLat, p.BBox.MinLon, p.BBox.MaxLat, p.BBox.MaxLon); d > 2000 {
		t.Errorf("%s: %.0f m across", p.Name, d)
	}
	return ring
}

func cross(o, a, b [2]float64) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func segmentsIntersect(p1, p2, q1, q2 [2]float64) bool {
	d1, d2 := cross(q1, q2, p1), cross(q1, q2, p2)
	d3, d4 := cross(p1, p2, q1), cross(p1, p2, q2)
	return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0
}

func inRing(ring [][2]float64, lat, lon float64) bool {
	in := false
	for i, j := 0, len(ring)-2; i < len(ring)-1; j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a[1] > lat) != (b[1] > lat) && lon < (b[0]-a[0])*(lat-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// tagsOf parses #tags or @mentions the way the text package does: a mark
// not preceded by a word character, then letters, digits and underscores.
func tagsOf(s string, mark byte) []string {
	var out []string
	isTag := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	for i := 0; i < len(s); i++ {
		if s[i] != mark {
			continue
		}
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(s[:i]); isTag(r) {
				continue
			}
		}
		j := i + 1
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !isTag(r) {
				break
			}
			j += size
		}
		if j > i+1 {
			if tag := strings.ToLower(s[i+1 : j]); !slices.Contains(out, tag) {
				out = append(out, tag)
			}
		}
		i = j - 1
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestPosts checks every post of a 50,000-post run against the invariants
// and the proportions the world is meant to have.
func TestPosts(t *testing.T) {
	const n = 50_000
	w := testWorld(t, Options{Seed: 42})
	byName := map[string]*geopulse.Place{}
	rings := map[string][][2]float64{}
	for _, p := range w.Places() {
		byName[p.Name] = p
		if p.Geometry != nil {
			var g struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			}
			if err := json.Unmarshal(p.Geometry, &g); err != nil {
				t.Fatal(err)
			}
			rings[p.Name] = g.Coordinates[0]
		}
	}
	cities := w.Cities()
	ids := map[[2]string]bool{}
	var prev time.Time
	var stories, private, texts, coarse, atVenue, farFromCity, mentions int
	kinds := map[geopulse.Kind]int{}
	for i, p := range take(w, n) {
		key := [2]string{p.Source, p.SourceID}
		if ids[key] {
			t.Fatalf("post %d: duplicate %v", i, key)
		}
		ids[key] = true
		if p.ID != geopulse.PostID(p.Source, p.SourceID) || p.Author.ID != geopulse.AuthorID(p.Source, p.Author.SourceID) {
			t.Fatalf("post %d: ids %d/%d do not derive from source ids", i, p.ID, p.Author.ID)
		}
		if p.Author.Source != p.Source || !p.Kind.Valid() {
			t.Fatalf("post %d: source %q author source %q kind %q", i, p.Source, p.Author.Source, p.Kind)
		}
		if p.TakenAt.Before(w.Start()) || !p.TakenAt.Before(w.End()) {
			t.Fatalf("post %d: taken at %v outside [%v, %v)", i, p.TakenAt, w.Start(), w.End())
		}
		if p.TakenAt.Before(prev) {
			t.Fatalf("post %d: taken at %v before previous %v", i, p.TakenAt, prev)
		}
		prev = p.TakenAt
		if p.ObservedAt.Before(p.TakenAt) || p.ObservedAt.Sub(p.TakenAt) > 12*time.Hour {
			t.Errorf("post %d: observed %v after taken", i, p.ObservedAt.Sub(p.TakenAt))
		}
		kinds[p.Kind]++
		switch p.Kind {
		case geopulse.KindStory:
			stories++
			if p.ExpiresAt == nil || !p.ExpiresAt.Equal(p.TakenAt.Add(24*time.Hour)) {
				t.Fatalf("post %d: story expires at %v, taken %v", i, p.ExpiresAt, p.TakenAt)
			}
		default:
			if p.ExpiresAt != nil {
				t.Fatalf("post %d: %s with an expiry", i, p.Kind)
			}
		}
		if p.Kind == geopulse.KindText {
			texts++
			if len(p.MediaURLs) != 0 {
				t.Errorf("post %d: text post with media", i)
			}
		} else if len(p.MediaURLs) == 0 {
			t.Errorf("post %d: %s without media", i, p.Kind)
		}
		for _, u := range p.MediaURLs {
			if !strings.HasPrefix(u, "https://cdn.example/media/") || !strings.HasSuffix(u, ".jpg") {
				t.Errorf("post %d: media URL %q", i, u)
			}
		}
		if p.Author.Private {
			private++
		}
		if p.Likes < 0 || p.Comments < 0 || p.Views < 0 {
			t.Errorf("post %d: negative engagement", i)
		}

		if got := tagsOf(p.Caption, '#'); !sameSet(got, p.Hashtags) {
			t.Errorf("post %d: hashtags %v, caption %q has %v", i, p.Hashtags, p.Caption, got)
		}
		if got := tagsOf(p.Caption, '@'); !sameSet(got, p.Mentions) {
			t.Errorf("post %d: mentions %v, caption %q has %v", i, p.Mentions, p.Caption, got)
		}
		mentions += len(p.Mentions)

		if math.IsNaN(p.Lat) || math.Abs(p.Lat) > 90 || math.Abs(p.Lon) > 180 {
			t.Fatalf("post %d: location %f,%f", i, p.Lat, p.Lon)
		}
		nearest := math.Inf(1)
		for _, c := range cities {
			nearest = math.Min(nearest, haversine(p.Lat, p.Lon, c.Lat, c.Lon))
		}
		if nearest > 30_000 {
			farFromCity++
		}
		if p.AccuracyM >= 1000 {
			coarse++
			if p.AccuracyM > 5000 {
				t.Errorf("post %d: accuracy %.0f m", i, p.AccuracyM)
			}
			continue
		}
		if p.AccuracyM < 5 || p.AccuracyM > 30 {
			t.Errorf("post %d: accuracy %.0f m", i, p.AccuracyM)
		}
		place := byName[p.PlaceName]
		if place == nil {
			continue
		}
		atVenue++
		if place.Center != nil {
			if d := haversine(p.Lat, p.Lon, place.Center.Lat, place.Center.Lon); d > place.RadiusM {
				t.Errorf("post %d: %.1f m from %s, radius %.0f", i, d, place.Name, place.RadiusM)
			}
		} else if !inRing(rings[place.Name], p.Lat, p.Lon) {
			t.Errorf("post %d: outside polygon %s", i, place.Name)
		}
	}

	share := func(k int) float64 { return float64(k) / n }
	checks := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"stories", share(stories), 0.25, 0.35},
		{"posts by private authors", share(private), 0.03, 0.07},
		{"text posts", share(texts), 0.005, 0.1},
		{"city-level locations", share(coarse), 0.01, 0.06},
		{"posts at a venue", share(atVenue), 0.6, 0.95},
		{"posts far from every city", share(farFromCity), 0, 0.001},
		{"mentions per post", share(mentions), 0.05, 0.5},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %.3f, want within [%.3f, %.3f]", c.name, c.got, c.min, c.max)
		}
	}
	for _, k := range geopulse.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s posts", k)
		}
	}
}

func TestAuthors(t *testing.T) {
	w := testWorld(t, Options{Seed: 5})
	authors := w.Authors()
	followers := make([]int64, len(authors))
	handles := map[string]bool{}
	sources := map[string]int{}
	var private, verified, business int
	var verifiedF, otherF []int64
	for i, a := range authors {
		followers[i] = a.Followers
		sources[a.Source]++
		key := a.Source + "/" + a.Handle
		if handles[key] {
			t.Errorf("handle %s twice", key)
		}
		handles[key] = true
		for _, r := range a.Handle {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				t.Errorf("handle %q has %q", a.Handle, r)
			}
		}
		if a.Handle == "" || len(a.Handle) > 30 || a.DisplayName == "" || a.SourceID == "" {
			t.Errorf("incomplete author %+v", a)
		}
		if a.ID != geopulse.AuthorID(a.Source, a.SourceID) {
			t.Errorf("author %s: id does not derive from source id", a.Handle)
		}
		if !strings.HasPrefix(a.AvatarURL, "https://cdn.example/avatars/") || !strings.HasSuffix(a.AvatarURL, ".jpg") {
			t.Errorf("avatar URL %q", a.AvatarURL)
		}
		if a.Private {
			private++
		}
		if a.Business {
			business++
		}
		if a.Verified {
			verified++
			verifiedF = append(verifiedF, a.Followers)
		} else {
			otherF = append(otherF, a.Followers)
		}
		if a.Private && (a.Verified || a.Business) {
			t.Errorf("%s: private yet verified or business", a.Handle)
		}
	}
	median := func(x []int64) int64 {
		x = slices.Clone(x)
		slices.Sort(x)
		return x[len(x)/2]
	}
	if m := median(followers); m >= 1000 || m < 50 {
		t.Errorf("median followers %d, want a few hundred", m)
	}
	if m := slices.Max(followers); m <= 100_000 {
		t.Errorf("max followers %d, want > 100,000", m)
	}
	if p := float64(private) / float64(len(authors)); p < 0.03 || p > 0.07 {
		t.Errorf("private share %.3f, want 3–7%%", p)
	}
	if verified == 0 || business == 0 {
		t.Errorf("%d verified, %d business accounts; want some", verified, business)
	}
	if len(verifiedF) > 0 && median(verifiedF) < 5*median(otherF) {
		t.Errorf("verified median %d not far above the rest %d", median(verifiedF), median(otherF))
	}
	for _, s := range []string{"instagram", "x", "mastodon", "flickr"} {
		if sources[s] == 0 {
			t.Errorf("no %s authors", s)
		}
	}
	if sources["instagram"] < sources["x"] {
		t.Errorf("sources %v: instagram should lead", sources)
	}
}

// TestFollowerDrift checks that an author's card, post after post, shows
// follower counts that only grow and post counts that only rise.
func TestFollowerDrift(t *testing.T) {
	w := testWorld(t, Options{Seed: 9, Authors: 50, Cities: 2, Start: testEnd.Add(-10 * 24 * time.Hour)})
	last := map[int64]geopulse.Author{}
	grew := 0
	for _, p := range take(w, 1000) {
		prev, ok := last[p.Author.ID]
		if ok {
			if p.Author.Followers < prev.Followers || p.Author.PostsCount <= prev.PostsCount {
				t.Fatalf("%s: followers %d → %d, posts %d → %d", p.Author.Handle,
					prev.Followers, p.Author.Followers, prev.PostsCount, p.Author.PostsCount)
			}
			if p.Author.Followers > prev.Followers {
				grew++
			}
		}
		last[p.Author.ID] = p.Author
	}
	if grew == 0 {
		t.Error("no follower count ever grew")
	}
}

// TestRhythm checks that posts follow the local clock: cafés in the
// morning, nightlife late and at weekends, and the stream denser in the
// evening than before dawn.
func TestRhythm(t *testing.T) {
	w := testWorld(t, Options{Seed: 13})
	venueOf := map[string]*venue{}
	for i := range w.venues {
		venueOf[w.venues[i].name] = &w.venues[i]
	}
	var cafeMorning, cafeNight, nightWeekend, nightEarlyWeek int
	for _, p := range take(w, 50_000) {
		v := venueOf[p.PlaceName]
		if v == nil {
			continue
		}
		how := hourOfWeek(p.TakenAt.Unix(), w.cities[v.city].tzMin)
		hour, day := how%24, effectiveDay(how)
		switch categoryTable[v.cat].group {
		case "coffee":
			if hour >= 7 && hour < 12 {
				cafeMorning++
			} else if hour < 5 {
				cafeNight++
			}
		case "nightlife":
			if day == 4 || day == 5 { // Friday and Saturday nights
				nightWeekend++
			} else if day == 0 || day == 1 {
				nightEarlyWeek++
			}
		}
	}
	if cafeMorning < 10*cafeNight {
		t.Errorf("café posts: %d in the morning, %d at night", cafeMorning, cafeNight)
	}
	if nightWeekend < 2*nightEarlyWeek {
		t.Errorf("nightlife posts: %d Fri/Sat, %d Mon/Tue", nightWeekend, nightEarlyWeek)
	}
}

// TestStreamPastEnd checks that Next keeps going after End at the same mean
// rate, and that the rate matches PostsPerAuthorDay.
func TestStreamPastEnd(t *testing.T) {
	const authors = 300
	w := testWorld(t, Options{Seed: 21, Authors: authors, Cities: 5, Start: testEnd.Add(-7 * 24 * time.Hour)})
	var inside, after int
	horizon := testEnd.Add(7 * 24 * time.Hour)
	for {
		p := w.Next()
		if !p.TakenAt.Before(horizon) {
			break
		}
		if p.TakenAt.Before(testEnd) {
			inside++
		} else {
			after++
		}
	}
	want := authors * PostsPerAuthorDay * 7
	for name, got := range map[string]int{"inside": inside, "after": after} {
		if math.Abs(float64(got)-want) > 0.1*want {
			t.Errorf("%s the window: %d posts a week, want about %.0f", name, got, want)
		}
	}
}

func TestLive(t *testing.T) {
	w := testWorld(t, Options{Seed: 4, Authors: 500})
	var last time.Time
	at := testEnd.Add(3 * time.Hour)
	for i := range 500 {
		tt := at.Add(time.Duration(i) * time.Second)
		p := w.Live(tt)
		if !p.TakenAt.Equal(tt) || !p.ObservedAt.Equal(tt) {
			t.Fatalf("live post at %v: taken %v, observed %v", tt, p.TakenAt, p.ObservedAt)
		}
		if p.Kind == geopulse.KindStory && !p.ExpiresAt.Equal(tt.Add(24*time.Hour)) {
			t.Fatalf("live story expires at %v", p.ExpiresAt)
		}
		// Live posts do not move the historical stream.
		n := w.Next()
		if n.TakenAt.Before(last) || !n.TakenAt.Before(w.End()) {
			t.Fatalf("Next after Live at %v (previous %v)", n.TakenAt, last)
		}
		last = n.TakenAt
	}
}

func TestHourOfWeek(t *testing.T) {
	tests := []struct {
		name  string
		at    time.Time
		tzMin int
		want  int
	}{
		{"monday midnight utc", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 0, 0},
		{"sunday late utc", time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), 0, 167},
		{"tokyo is monday 9am", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 540, 9},
		{"new york is sunday 7pm", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), -300, 163},
		{"mumbai half hour", time.Date(2026, 3, 2, 0, 40, 0, 0, time.UTC), 330, 6},
		{"before 1970", time.Date(1969, 12, 29, 1, 0, 0, 0, time.UTC), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hourOfWeek(tt.at.Unix(), tt.tzMin); got != tt.want {
				t.Errorf("hourOfWeek = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"London", "london"},
		{"São Paulo", "saopaulo"},
		{"Kadıköy", "kadikoy"},
		{"Nørrebro", "norrebro"},
		{"Žižkov", "zizkov"},
		{"H&M Soho", "hmsoho"},
		{"People's Square", "peoplessquare"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := slug(tt.in, 30); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAlias(t *testing.T) {
	tests := []struct {
		name string
		w    []float64
	}{
		{"uniform", []float64{1, 1, 1, 1}},
		{"skewed", []float64{10, 1, 0.5, 0}},
		{"single", []float64{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newRNG(1, 2)
			a := newAlias(tt.w)
			counts := make([]float64, len(tt.w))
			const n = 100_000
			for range n {
				counts[a.sample(g)]++
			}
			var total float64
			for _, x := range tt.w {
				total += x
			}
			for i, x := range tt.w {
				if want := x / total; math.Abs(counts[i]/n-want) > 0.01 {
					t.Errorf("item %d drawn %.3f, want %.3f", i, counts[i]/n, want)
				}
			}
		})
	}
}

func TestVenueCounts(t *testing.T) {
	tests := []struct {
		name           string
		cities, venues int
	}{
		{"default", 0, 400},
		{"fewer venues than cities", 0, 10},
		{"one city", 1, 7},
		{"many", 3, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := testWorld(t, Options{Cities: tt.cities, Venues: tt.venues, Authors: 20})
			counts := w.venueCounts(tt.venues)
			sum := 0
			for _, c := range counts {
				sum += c
			}
			if sum != tt.venues {
				t.Errorf("counts sum to %d, want %d", sum, tt.venues)
			}
			for i, c := range counts {
				if c < 0 || (tt.venues >= 2*len(counts) && c < 2) {
					t.Errorf("city %d got %d venues", i, c)
				}
			}
		})
	}
}
