package postgres_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/postgres"
)

// What the PostgreSQL store adds to the contract: monthly partitions and
// retention, posts that move between months, several processes on one
// database, the GIS views, and the text PostgreSQL cannot hold.

var t0 = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

// fixture is a store with one workspace and one venue at (1, 1).
type fixture struct {
	db    *postgres.DB
	dsn   string
	ws    *geopulse.Workspace
	place *geopulse.Place
	ctx   context.Context
}

func newFixture(t *testing.T, d *testDatabase) *fixture {
	t.Helper()
	db, dsn := d.openFresh(t, fixedClock)
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, dsn: dsn, ctx: context.Background()}
	f.ws = &geopulse.Workspace{Name: "acme"}
	if err := db.CreateWorkspace(f.ctx, f.ws); err != nil {
		t.Fatal(err)
	}
	f.place = f.venue(t, db, "cafe", 1, 1)
	return f
}

func (f *fixture) venue(t *testing.T, db *postgres.DB, name string, lat, lon float64) *geopulse.Place {
	t.Helper()
	p := &geopulse.Place{WorkspaceID: f.ws.ID, Name: name, Category: "cafe", Center: &geopulse.LatLon{Lat: lat, Lon: lon}, RadiusM: 100,
		BBox: geopulse.BBox{MinLat: lat - 0.001, MinLon: lon - 0.001, MaxLat: lat + 0.001, MaxLon: lon + 0.001}}
	if err := db.CreatePlace(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func post(id string, at time.Time, placeIDs ...int64) *geopulse.Post {
	return &geopulse.Post{Source: "insta", SourceID: id, Kind: geopulse.KindPhoto, TakenAt: at,
		Author: geopulse.Author{SourceID: "ann", Handle: "ann", Followers: 10}, Lat: 1, Lon: 1,
		Caption: "caption of " + id, Hashtags: []string{"tag"}, PlaceIDs: placeIDs}
}

func (f *fixture) upsert(t *testing.T, db *postgres.DB, posts ...*geopulse.Post) {
	t.Helper()
	errs, err := db.UpsertPosts(f.ctx, posts)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
}

func (f *fixture) feed(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	var out []string
	filter := geopulse.PostFilter{WorkspaceID: f.ws.ID, Limit: 500}
	posts, _, err := db.FindPosts(f.ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts {
		out = append(out, p.SourceID)
	}
	return out
}

// count runs a count(*) query.
func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	c, err := pgx.Connect(f.ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(f.ctx)
	var n int
	if err := c.QueryRow(f.ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestPartitions(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	april, may, june := time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 31, 23, 59, 0, 0, time.UTC), time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

	t.Run("RetentionDropsWholeMonths", func(t *testing.T) {
		f := newFixture(t, d)
		f.upsert(t, f.db, post("apr", april, f.place.ID), post("may", may, f.place.ID), post("jun", june, f.place.ID))
		if n := f.count(t, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'posts'::regclass`); n != 3 {
			t.Fatalf("posts has %d partitions, want 3", n)
		}
		tests := []struct {
			name    string
			before  time.Time
			dropped int
			feed    []string
		}{
			{"inside the first month keeps it", april.Add(24 * time.Hour), 0, []string{"jun", "may", "apr"}},
			{"at a month boundary drops what ends there", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 1, []string{"jun", "may"}},
			{"again is a no-op", time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), 0, []string{"jun", "may"}},
			{"inside june drops may", june.Add(time.Hour), 1, []string{"jun"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n, err := f.db.DropMonthsBefore(f.ctx, tt.before)
				if err != nil {
					t.Fatal(err)
				}
				if n != tt.dropped {
					t.Fatalf("dropped %d months, want %d", n, tt.dropped)
				}
				if g := f.feed(t, f.db); !slices.Equal(g, tt.feed) {
					t.Fatalf("feed = %v, want %v", g, tt.feed)
				}
			})
		}
		if n := f.count(t, `SELECT count(*) FROM post_keys`); n != 1 {
			t.Fatalf("post_keys has %d rows, want 1 (dropped months' keys go)", n)
		}
		_, err := f.db.FindPostByID(f.ctx, f.ws.ID, geopulse.PostID("insta", "apr"))
		wantCode(t, err, geopulse.ENOTFOUND)
		stats, err := f.db.Analytics(f.ctx, geopulse.AnalyticsFilter{WorkspaceID: f.ws.ID})
		if err != nil || stats.Posts != 1 {
			t.Fatalf("analytics after retention: %+v, %v", stats, err)
		}
		// A dropped month comes back when a post for it arrives again.
		f.upsert(t, f.db, post("apr", april, f.place.ID))
		if g := f.feed(t, f.db); !slices.Equal(g, []string{"jun", "apr"}) {
			t.Fatalf("feed after re-ingest = %v", g)
		}
	})

	t.Run("PostMovesToItsNewMonth", func(t *testing.T) {
		f := newFixture(t, d)
		other := f.venue(t, f.db, "bar", 1, 1)
		f.upsert(t, f.db, post("p", may, f.place.ID))
		moved := post("p", june.Add(time.Hour), other.ID)
		moved.Hashtags = []string{"moved"}
		f.upsert(t, f.db, moved)
		for _, c := range []struct {
			query string
			want  int
		}{
			{`SELECT count(*) FROM posts`, 1},
			{`SELECT count(*) FROM posts_y2025m06`, 1},
			{`SELECT count(*) FROM post_places`, 1},
			{`SELECT count(*) FROM post_tags`, 1},
			{`SELECT count(*) FROM post_keys WHERE taken_at = '2025-06-01 01:00:00+00'`, 1},
		} {
			if n := f.count(t, c.query); n != c.want {
				t.Fatalf("%s = %d, want %d", c.query, n, c.want)
			}
		}
		got, err := f.db.FindPostByID(f.ctx, f.ws.ID, moved.ID)
		if err != nil || !got.TakenAt.Equal(moved.TakenAt) || !slices.Equal(got.PlaceIDs, []int64{other.ID}) {
			t.Fatalf("moved post = %+v, %v", got, err)
		}
		posts, _, err := f.db.FindPosts(f.ctx, geopulse.PostFilter{WorkspaceID: f.ws.ID, Hashtag: "moved"})
		if err != nil || len(posts) != 1 {
			t.Fatalf("hashtag feed = %d posts, %v", len(posts), err)
		}
	})

	t.Run("TwoProcessesShareTheDatabase", func(t *testing.T) {
		f := newFixture(t, d)
		other, err := postgres.Open(f.ctx, f.dsn, postgres.Options{Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		// One process drops a month the other has written into and still
		// believes exists; the other's next write recreates it.
		f.upsert(t, other, post("a", may, f.place.ID))
		if _, err := f.db.DropMonthsBefore(f.ctx, june); err != nil {
			t.Fatal(err)
		}
		f.upsert(t, other, post("b", may.Add(-time.Hour), f.place.ID))
		if g := f.feed(t, f.db); !slices.Equal(g, []string{"b"}) {
			t.Fatalf("feed = %v, want [b]", g)
		}
		// A place deleted by one process takes its matches with it, and the
		// other's later batches naming it store no match for it.
		gone := f.venue(t, f.db, "gone", 1, 1)
		f.upsert(t, other, post("c", june, gone.ID))
		if err := f.db.DeletePlace(f.ctx, f.ws.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		f.upsert(t, other, post("d", june, gone.ID, f.place.ID))
		if g := f.feed(t, other); !slices.Equal(g, []string{"d", "b"}) {
			t.Fatalf("feed = %v, want [d b]", g)
		}
		if n := f.count(t, `SELECT count(*) FROM post_places WHERE place_id = $1`, gone.ID); n != 0 {
			t.Fatalf("%d matches of the deleted place", n)
		}
		got, err := other.FindPostByID(f.ctx, f.ws.ID, geopulse.PostID("insta", "d"))
		if err != nil || !slices.Equal(got.PlaceIDs, []int64{f.place.ID}) {
			t.Fatalf("post d = %+v, %v", got, err)
		}
	})

	t.Run("TakenAtOutOfRange", func(t *testing.T) {
		f := newFixture(t, d)
		for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
			errs, err := f.db.UpsertPosts(f.ctx, []*geopulse.Post{post("x", at, f.place.ID)})
			if err != nil {
				t.Fatal(err)
			}
			if geopulse.ErrorReason(errs[0]) != geopulse.ReasonInvalidField {
				t.Fatalf("taken_at %v: %v, want invalid_field", at, errs[0])
			}
		}
		// Bounds beyond the stored range constrain nothing.
		f.upsert(t, f.db, post("ok", june, f.place.ID))
		posts, _, err := f.db.FindPosts(f.ctx, geopulse.PostFilter{WorkspaceID: f.ws.ID,
			From: time.Date(-500, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil || len(posts) != 1 {
			t.Fatalf("feed with extreme bounds = %d posts, %v", len(posts), err)
		}
	})
}

func TestUnstorableText(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	nul, bad := "a\x00b", "a\xffb"
	tests := []struct {
		name string
		err  func() error
		code string
	}{
		{"workspace name with NUL", func() error { return f.db.CreateWorkspace(f.ctx, &geopulse.Workspace{Name: nul}) }, geopulse.EINVALID},
		{"workspace name not UTF-8", func() error { return f.db.CreateWorkspace(f.ctx, &geopulse.Workspace{Name: bad}) }, geopulse.EINVALID},
		{"find workspace by NUL name", func() error { _, err := f.db.FindWorkspaceByName(f.ctx, nul); return err }, geopulse.ENOTFOUND},
		{"api key hash with NUL", func() error { return f.db.CreateAPIKey(f.ctx, f.ws.ID, nul) }, geopulse.EINVALID},
		{"find by NUL key hash", func() error { _, _, err := f.db.FindAPIKey(f.ctx, nul); return err }, geopulse.EUNAUTHORIZED},
		{"place name with NUL", func() error {
			return f.db.CreatePlace(f.ctx, &geopulse.Place{WorkspaceID: f.ws.ID, Name: nul, Center: &geopulse.LatLon{}, RadiusM: 1})
		}, geopulse.EINVALID},
		{"place group not UTF-8", func() error {
			return f.db.CreatePlace(f.ctx, &geopulse.Place{WorkspaceID: f.ws.ID, Name: "x", Groups: []string{bad}, Center: &geopulse.LatLon{}, RadiusM: 1})
		}, geopulse.EINVALID},
		{"geometry not UTF-8", func() error {
			return f.db.CreatePlace(f.ctx, &geopulse.Place{WorkspaceID: f.ws.ID, Name: "x", Geometry: json.RawMessage("\"\xff\"")})
		}, geopulse.EINVALID},
		{"rename place with NUL", func() error {
			_, err := f.db.UpdatePlace(f.ctx, f.ws.ID, f.place.ID, geopulse.PlaceUpdate{Name: &nul})
			return err
		}, geopulse.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err(), tt.code) })
	}
	places, err := f.db.FindPlaces(f.ctx, geopulse.PlaceFilter{WorkspaceID: f.ws.ID, Group: nul})
	if err != nil || len(places) != 0 {
		t.Fatalf("find places by NUL group = %v, %v", places, err)
	}
}

func TestGISViews(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	fence := &geopulse.Place{WorkspaceID: f.ws.ID, Name: "park", Category: "park", Groups: []string{"a", "b"},
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[2,2],[2.01,2],[2.01,2.01],[2,2.01],[2,2]]]}`)}
	odd := &geopulse.Place{WorkspaceID: f.ws.ID, Name: "odd", Geometry: json.RawMessage(`{"type":"Point","coordinates":[1,1]}`)}
	for _, p := range []*geopulse.Place{fence, odd} {
		if err := f.db.CreatePlace(f.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	p := post("p", t0, f.place.ID, fence.ID)
	p.Lat, p.Lon = 1.0001, 1.0002
	f.upsert(t, f.db, p)

	c, err := pgx.Connect(f.ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(f.ctx)
	t.Run("places", func(t *testing.T) {
		tests := []struct {
			name       string
			id         int64
			shape      string
			areaM2     float64 // 0: no geometry
			tolerance  float64
			groups     string
			workspace  string
			hasPolygon bool
		}{
			// A 32-gon of radius 100 m covers 98.7% of the circle.
			{"venue is a buffered circle", f.place.ID, "venue", math.Pi * 100 * 100 * 0.987, 0.01, "", "acme", true},
			{"geofence is its polygon", fence.ID, "geofence", 1113.2 * 1105.7 * 1.0, 0.02, "a, b", "acme", true},
			{"a shape PostGIS does not take is NULL", odd.ID, "geofence", 0, 0, "", "acme", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var (
					shape, groups, workspace, gtype string
					area                            *float64
				)
				err := c.QueryRow(f.ctx, `SELECT shape, groups, workspace, coalesce(GeometryType(geom), ''), ST_Area(geom::geography)
					FROM gis_places WHERE id = $1`, tt.id).Scan(&shape, &groups, &workspace, &gtype, &area)
				if err != nil {
					t.Fatal(err)
				}
				if shape != tt.shape || groups != tt.groups || workspace != tt.workspace {
					t.Fatalf("shape %q groups %q workspace %q", shape, groups, workspace)
				}
				if !tt.hasPolygon {
					if area != nil {
						t.Fatalf("geometry %s, want NULL", gtype)
					}
					return
				}
				if gtype != "MULTIPOLYGON" || area == nil || math.Abs(*area-tt.areaM2)/tt.areaM2 > tt.tolerance {
					t.Fatalf("geometry %s with area %v m², want a multipolygon of ~%.0f m²", gtype, area, tt.areaM2)
				}
			})
		}
	})
	t.Run("posts and matches", func(t *testing.T) {
		var lat, lon float64
		var places string
		if err := c.QueryRow(f.ctx, `SELECT ST_Y(geom), ST_X(geom), place_ids FROM gis_posts WHERE id = $1`, p.ID).Scan(&lat, &lon, &places); err != nil {
			t.Fatal(err)
		}
		if lat != p.Lat || lon != p.Lon {
			t.Fatalf("point (%v, %v), want (%v, %v)", lat, lon, p.Lat, p.Lon)
		}
		var n int
		if err := c.QueryRow(f.ctx, `SELECT count(*) FROM gis_matches WHERE post_id = $1 AND workspace_id = $2
			AND ST_Equals(geom, ST_SetSRID(ST_MakePoint($3, $4), 4326))`, p.ID, f.ws.ID, p.Lon, p.Lat).Scan(&n); err != nil || n != 2 {
			t.Fatalf("gis_matches has %d rows for the post, %v; want 2", n, err)
		}
		// The GiST index finds the post by radius in metres, as a GIS
		// user would ask.
		if err := c.QueryRow(f.ctx, `SELECT count(*) FROM gis_posts
			WHERE ST_DWithin(geom::geography, ST_MakePoint(1, 1)::geography, 50)`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("radius query found %d, %v", n, err)
		}
	})
	t.Run("no personal content", func(t *testing.T) {
		for _, view := range []string{"gis_posts", "gis_matches", "gis_places"} {
			rows, err := c.Query(f.ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()`, view)
			if err != nil {
				t.Fatal(err)
			}
			cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil || len(cols) == 0 {
				t.Fatalf("%s columns: %v, %v", view, cols, err)
			}
			for _, col := range cols {
				if slices.Contains([]string{"author_id", "doc", "card", "caption", "handle", "hashtags", "media_urls"}, col) {
					t.Fatalf("%s exposes %s", view, col)
				}
			}
		}
	})
}

func TestDroppedPlaceIDs(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	f.upsert(t, f.db, post("p", t0, f.place.ID, 424242, -1))
	got, err := f.db.FindPostByID(f.ctx, f.ws.ID, geopulse.PostID("insta", "p"))
	if err != nil || !slices.Equal(got.PlaceIDs, []int64{f.place.ID}) {
		t.Fatalf("post = %+v, %v", got, err)
	}
	if n := f.count(t, `SELECT count(*) FROM posts WHERE place_ids = ARRAY[$1::bigint]`, f.place.ID); n != 1 {
		t.Fatalf("stored place_ids keep unknown ids")
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := geopulse.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestExpireStoriesInChunks(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	const n = 4100 // more than two chunks of 2,000
	soon := t0.Add(time.Hour)
	var posts []*geopulse.Post
	for i := range n {
		p := post("s"+strconv.Itoa(i), t0.Add(-time.Duration(i)*time.Second), f.place.ID)
		p.Kind, p.ExpiresAt = geopulse.KindStory, &soon
		posts = append(posts, p)
	}
	f.upsert(t, f.db, posts...)
	got, err := f.db.ExpireStories(f.ctx, soon)
	if err != nil || got != n {
		t.Fatalf("expired %d, %v; want %d", got, err, n)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{`SELECT count(*) FROM posts WHERE expired AND doc::text NOT LIKE '%caption of%'`, n},
		{`SELECT count(*) FROM post_places WHERE expired`, n},
		{`SELECT count(*) FROM post_tags`, 0},
	} {
		if got := f.count(t, c.query); got != c.want {
			t.Fatalf("%s = %d, want %d", c.query, got, c.want)
		}
	}
	if again, err := f.db.ExpireStories(f.ctx, soon); err != nil || again != 0 {
		t.Fatalf("second sweep expired %d, %v", again, err)
	}
}

// TestConcurrentWriters runs every kind of writer at once from two
// processes (two DBs on one database): batches that re-deliver each other's
// posts and move them between months, a place being re-matched, and the
// story janitor. Nothing may fail, and the tables must agree afterwards.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	other, err := postgres.Open(f.ctx, f.dsn, postgres.Options{Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b := f.venue(t, f.db, "b", 1, 1)
	nodes := []*postgres.DB{f.db, other}
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 15 {
				var batch []*geopulse.Post
				for range 60 {
					// Ids shared by every writer (re-deliveries), times over
					// May and June (a re-delivery may move a post's month).
					id := r.IntN(200)
					at := t0.Add(-time.Duration(r.IntN(60*24)) * time.Hour)
					p := post("p"+strconv.Itoa(id), at, f.place.ID)
					if r.IntN(2) == 0 {
						p.PlaceIDs = append(p.PlaceIDs, b.ID)
					}
					if r.IntN(3) == 0 {
						exp := at.Add(time.Hour)
						p.Kind, p.ExpiresAt = geopulse.KindStory, &exp
					}
					p.Author.Followers = int64(r.IntN(3))
					batch = append(batch, p)
				}
				if _, err := nodes[w%2].UpsertPosts(f.ctx, batch); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if _, err := other.MatchPlace(f.ctx, b.ID, geopulse.BBox{MinLat: 0.9, MinLon: 0.9, MaxLat: 1.1, MaxLon: 1.1}, nil); err != nil {
				errc <- err
			}
		}
	})
	wg.Go(func() {
		for range 10 {
			if _, err := f.db.ExpireStories(f.ctx, t0); err != nil {
				errc <- err
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		query string
	}{
		{"a key per post", `SELECT count(*) FROM post_keys k FULL JOIN posts p ON p.id = k.id AND p.taken_at = k.taken_at
			WHERE k.id IS NULL OR p.id IS NULL`},
		{"matches mirror place_ids", `SELECT count(*) FROM (SELECT id, taken_at, unnest(place_ids) AS place_id FROM posts) p
			FULL JOIN post_places m ON m.post_id = p.id AND m.taken_at = p.taken_at AND m.place_id = p.place_id
			WHERE m.post_id IS NULL OR p.id IS NULL`},
		{"matches carry the post's expiry", `SELECT count(*) FROM post_places m JOIN posts p ON p.id = m.post_id AND p.taken_at = m.taken_at
			WHERE m.expired <> p.expired OR m.kind <> p.kind OR m.author_id <> p.author_id`},
		{"no tags of expired posts", `SELECT count(*) FROM post_tags t JOIN posts p ON p.id = t.post_id AND p.taken_at = t.taken_at WHERE p.expired`},
		{"no orphan tags", `SELECT count(*) FROM post_tags t LEFT JOIN post_places m
			ON m.place_id = t.place_id AND m.taken_at = t.taken_at AND m.post_id = t.post_id WHERE m.post_id IS NULL`},
		{"authors' counts are their newest stats", `SELECT count(*) FROM authors a JOIN LATERAL (
			SELECT followers FROM author_stats s WHERE s.author_id = a.id ORDER BY observed_at DESC, seq DESC LIMIT 1) s ON true
			WHERE s.followers <> a.followers`},
	} {
		if n := f.count(t, c.query); n != 0 {
			t.Errorf("%s: %d rows disagree", c.name, n)
		}
	}
	feed := e2eFeed(t, f)
	seen := map[string]bool{}
	for _, id := range feed {
		if seen[id] {
			t.Fatalf("%s twice in the feed", id)
		}
		seen[id] = true
	}
}

// e2eFeed follows the workspace feed's cursors to the end.
func e2eFeed(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	filter := geopulse.PostFilter{WorkspaceID: f.ws.ID, Limit: 37}
	for {
		posts, next, err := f.db.FindPosts(f.ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range posts {
			out = append(out, p.SourceID)
		}
		if next == "" {
			return out
		}
		filter.Cursor = next
	}
}
