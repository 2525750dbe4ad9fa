package postgres_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/postgres"
	"github.com/geopulse/geopulse/postgres/pgtest"
)

// Benchmark world: the DuckDB store's (duckdb/bench_test.go), so the two
// tables compare like with like. 10,000 venues in 100 workspaces of 100,
// posts over 90 days arriving in time order, ~1.05 place matches per post,
// one author per ten posts with log-normal followers and Zipf-skewed
// activity, Zipf-distributed hashtags.
const (
	benchPlaces        = 10_000
	benchPlacesPerWS   = 100
	benchDays          = 90
	benchBatch         = 10_000
	benchDefaultPosts  = 1_000_000
	benchPostsEnv      = "GEOPULSE_BENCH_POSTS"
	benchKeepEnv       = "GEOPULSE_BENCH_KEEP"    // keep (and reuse) the loaded database
	benchWritersEnv    = "GEOPULSE_BENCH_WRITERS" // concurrent loaders; default 2
	benchTagVocabulary = 5_000
)

var benchEnd = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

// benchGen generates the synthetic world deterministically.
type benchGen struct {
	r       *rand.Rand
	places  []*geopulse.Place // index i has ID i+1 once created
	authors []geopulse.Author
	authorZ *rand.Zipf
	tagZ    *rand.Zipf
	total   int
	next    int
	prefix  string
}

func newBenchGen(total int, seed uint64, prefix string) *benchGen {
	r := rand.New(rand.NewPCG(42, seed))
	g := &benchGen{r: r, total: total, prefix: prefix}
	for i := range benchPlaces {
		lat, lon := 40+r.Float64(), -74+r.Float64()
		d := 100.0 / 111_000
		g.places = append(g.places, &geopulse.Place{
			WorkspaceID: int64(i/benchPlacesPerWS + 1), Name: fmt.Sprintf("venue %d", i), Category: "cafe",
			Center: &geopulse.LatLon{Lat: lat, Lon: lon}, RadiusM: 100,
			BBox: geopulse.BBox{MinLat: lat - d, MinLon: lon - d, MaxLat: lat + d, MaxLon: lon + d},
		})
	}
	nAuthors := max(total/10, 1000)
	for i := range nAuthors {
		g.authors = append(g.authors, geopulse.Author{
			Source: "insta", SourceID: "u" + strconv.Itoa(i), Handle: "user" + strconv.Itoa(i),
			DisplayName: "User " + strconv.Itoa(i), AvatarURL: "https://img.example/u" + strconv.Itoa(i) + ".jpg",
			Followers: int64(math.Exp(6 + 2*r.NormFloat64())), Following: int64(r.IntN(2000)), PostsCount: int64(r.IntN(5000)),
			Private: r.IntN(50) == 0,
		})
	}
	g.authorZ = rand.NewZipf(r, 1.1, 10, uint64(nAuthors-1))
	g.tagZ = rand.NewZipf(r, 1.2, 5, benchTagVocabulary-1)
	return g
}

var benchWords = strings.Fields("the a great view of city night with friends coffee best day ever love this place sunset food")

// post returns the next post in time order.
func (g *benchGen) post() *geopulse.Post {
	r := g.r
	i := g.next
	g.next++
	span := time.Duration(benchDays) * 24 * time.Hour
	at := benchEnd.Add(-span + time.Duration(float64(span)*float64(i)/float64(g.total)) - time.Duration(r.IntN(600))*time.Second)
	pi := r.IntN(benchPlaces)
	place := g.places[pi]
	placeIDs := []int64{int64(pi + 1)}
	if r.IntN(20) == 0 { // an overlapping place of the same workspace
		placeIDs = append(placeIDs, int64(pi/benchPlacesPerWS*benchPlacesPerWS+r.IntN(benchPlacesPerWS)+1))
	}
	a := g.authors[g.authorZ.Uint64()]
	a.Followers += int64(i / 1_000_000) // counts drift, so stats rows accrue
	kind := geopulse.KindPhoto
	var expires *time.Time
	switch k := r.IntN(20); {
	case k < 3:
		kind = geopulse.KindVideo
	case k < 6:
		kind = geopulse.KindStory
		e := at.Add(geopulse.StoryTTL)
		expires = &e
	case k < 8:
		kind = geopulse.KindReel
	}
	tags := make([]string, r.IntN(5))
	for j := range tags {
		tags[j] = "tag" + strconv.FormatUint(g.tagZ.Uint64(), 10)
	}
	var caption strings.Builder
	for range 8 + r.IntN(8) {
		caption.WriteString(benchWords[r.IntN(len(benchWords))])
		caption.WriteByte(' ')
	}
	return &geopulse.Post{
		Source: "insta", SourceID: g.prefix + strconv.Itoa(i), Kind: kind, Author: a,
		TakenAt: at, ObservedAt: at.Add(time.Minute),
		Lat: place.Center.Lat + (r.Float64()-0.5)*0.001, Lon: place.Center.Lon + (r.Float64()-0.5)*0.001,
		AccuracyM: 10, Cell: int64(r.Uint64() >> 1), PlaceName: place.Name,
		Caption: caption.String(), Hashtags: tags, Mentions: []string{"friend"},
		MediaURLs: []string{"https://media.example/" + g.prefix + strconv.Itoa(i) + ".jpg"},
		Likes:     int64(r.IntN(1000)), Comments: int64(r.IntN(50)), Views: int64(r.IntN(10000)),
		ExpiresAt: expires, Language: "en", PlaceIDs: placeIDs,
	}
}

func (g *benchGen) batch(n int) []*geopulse.Post {
	out := make([]*geopulse.Post, n)
	for i := range out {
		out[i] = g.post()
	}
	return out
}

func benchPosts(b *testing.B) int {
	if s := os.Getenv(benchPostsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive number", benchPostsEnv, s)
		}
		return n
	}
	return benchDefaultPosts
}

// benchAdmin returns the admin DSN or skips.
func benchAdmin(b *testing.B) string {
	admin := os.Getenv(pgtest.EnvDSN)
	if admin == "" {
		b.Skipf("%s is not set: skipping the PostgreSQL benchmarks", pgtest.EnvDSN)
	}
	return admin
}

// benchDatabase returns the DSN of database name on the admin's server,
// creating it (with PostGIS) if needed. Unless keep, it is dropped when
// the benchmark ends.
func benchDatabase(b *testing.B, name string, keep bool) (dsn string, existed bool) {
	b.Helper()
	ctx := context.Background()
	admin := benchAdmin(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&existed); err != nil {
		b.Fatal(err)
	}
	if !existed {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
			b.Fatal(err)
		}
	}
	if keep {
		conn.Close(ctx)
	} else {
		b.Cleanup(func() {
			if _, err := conn.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
				b.Errorf("drop %s: %v", name, err)
			}
			conn.Close(context.Background())
		})
	}
	u, err := url.Parse(admin)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	dsn = u.String()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		b.Fatal(err)
	}
	return dsn, existed
}

// benchStore opens a store holding n generated posts in database
// geopulse_bench_<n>, loading it through UpsertPosts unless
// GEOPULSE_BENCH_KEEP is set and the database already holds them all.
func benchStore(b *testing.B, n int) (*postgres.DB, string) {
	b.Helper()
	ctx := context.Background()
	keep := os.Getenv(benchKeepEnv) != ""
	dsn, existed := benchDatabase(b, fmt.Sprintf("geopulse_bench_%d", n), keep)
	db, err := postgres.Open(ctx, dsn, postgres.Options{AutoMigrate: true})
	if err != nil {
		b.Fatal(err)
	}
	if existed {
		var posts int
		if err := rawPool(b, dsn).QueryRow(ctx, `SELECT count(*) FROM post_keys`).Scan(&posts); err == nil && posts == n {
			b.Logf("reusing geopulse_bench_%d", n)
			return db, dsn
		}
		b.Fatalf("geopulse_bench_%d exists but is incomplete: drop it", n)
	}
	loadBench(b, db, n)
	start := time.Now()
	if _, err := rawPool(b, dsn).Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("vacuum analyze in %v", time.Since(start).Round(time.Millisecond))
	return db, dsn
}

// loadBench writes n generated posts with GEOPULSE_BENCH_WRITERS concurrent
// writers (default 2, as pipeline workers write concurrently).
func loadBench(b *testing.B, db *postgres.DB, n int) {
	ctx := context.Background()
	writers := 2
	if s := os.Getenv(benchWritersEnv); s != "" {
		writers, _ = strconv.Atoi(s)
		writers = max(writers, 1)
	}
	g := newBenchGen(n, 7, "p")
	start := time.Now()
	for w := range benchPlaces / benchPlacesPerWS {
		if err := db.CreateWorkspace(ctx, &geopulse.Workspace{Name: fmt.Sprint("ws", w)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range g.places {
		if err := db.CreatePlace(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	batches := make(chan []*geopulse.Post, writers)
	go func() {
		defer close(batches)
		for done := 0; done < n; done += benchBatch {
			batches <- g.batch(min(benchBatch, n-done))
		}
	}()
	var (
		wg    sync.WaitGroup
		done  atomic.Int64
		errMu sync.Mutex
		first error
	)
	for range writers {
		wg.Go(func() {
			for batch := range batches {
				if _, err := db.UpsertPosts(ctx, batch); err != nil {
					errMu.Lock()
					first = err
					errMu.Unlock()
					return
				}
				if d := done.Add(int64(len(batch))); d%int64(max(n/10, benchBatch)) == 0 {
					b.Logf("%d posts after %v", d, time.Since(start).Round(time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	el := time.Since(start)
	b.Logf("loaded %d posts in %v (%.0f posts/s, %d writers)", n, el.Round(time.Millisecond), float64(n)/el.Seconds(), writers)
}

// rawPool is a plain pgx pool on dsn, for hand-written SQL.
func rawPool(b *testing.B, dsn string) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// freshBenchStore opens an empty store in a fresh schema of a scratch
// database, for the ingest benchmarks.
func freshBenchStore(b *testing.B) *postgres.DB {
	b.Helper()
	b1 := make([]byte, 4)
	for i := range b1 {
		b1[i] = byte('a' + rand.IntN(26))
	}
	dsn, _ := benchDatabase(b, "geopulse_bench_ingest_"+string(b1), false)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{AutoMigrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	g := newBenchGen(1000, 7, "p")
	ctx := context.Background()
	for w := range benchPlaces / benchPlacesPerWS {
		if err := db.CreateWorkspace(ctx, &geopulse.Workspace{Name: fmt.Sprint("ws", w)}); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range g.places {
		if err := db.CreatePlace(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkUpsertPosts measures ingest into a fresh store in batches;
// "resend" re-delivers 10% of every batch (the redelivery path).
func BenchmarkUpsertPosts(b *testing.B) {
	for _, bc := range []struct {
		name   string
		batch  int
		resend bool
		labels bool
	}{
		{"batch=1000", 1000, false, false},
		{"batch=10000", 10000, false, false},
		{"batch=10000-resend", 10000, true, false},
		// Three text labels per post, as the pipeline reads them from a
		// caption: what labelled ingest costs over the plain one.
		{"batch=10000-labels", 10000, false, true},
		{"batch=10000-labels-resend", 10000, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := freshBenchStore(b)
			ctx := context.Background()
			g := newBenchGen(2_000_000, 7, "p")
			posts := 0
			var prev []*geopulse.Post
			for b.Loop() {
				b.StopTimer() // generating posts is not the store's work
				batch := g.batch(bc.batch)
				if bc.labels {
					for i, p := range batch {
						p.Sentiment = float32(i%21-10) / 10
						p.Labels = benchLabels[i%len(benchLabels)]
					}
				}
				if bc.resend && prev != nil {
					copy(batch[:bc.batch/10], prev)
				}
				b.StartTimer()
				if _, err := db.UpsertPosts(ctx, batch); err != nil {
					b.Fatal(err)
				}
				posts += len(batch)
				prev = batch[bc.batch/2:]
			}
			b.ReportMetric(float64(posts)/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// benchLabels are the text labels of labelled posts, in rotation.
var benchLabels = [][]geopulse.Label{
	{{Kind: geopulse.LabelInterest, Name: "coffee", Score: 0.9, Model: "interests", Version: "1"},
		{Kind: geopulse.LabelBrand, Name: "starbucks", Score: 1, Model: "nsi", Version: "6.0"},
		{Kind: geopulse.LabelObject, Name: "cup", Score: 0.6, Model: "captions", Version: "1"}},
	{{Kind: geopulse.LabelInterest, Name: "pets", Score: 0.8, Model: "interests", Version: "1"},
		{Kind: geopulse.LabelInterest, Name: "outdoors", Score: 0.5, Model: "interests", Version: "1"},
		{Kind: geopulse.LabelObject, Name: "dog", Score: 0.7, Model: "captions", Version: "1"}},
}

// BenchmarkUpsertPostsParallel runs one writer per core, as pipeline
// workers do: preparing a batch overlaps with another batch's transaction.
func BenchmarkUpsertPostsParallel(b *testing.B) {
	db := freshBenchStore(b)
	ctx := context.Background()
	const batch = 10_000
	var seed atomic.Uint64
	var posts atomic.Int64
	b.ResetTimer() // creating the store and its places is not ingest
	b.RunParallel(func(pb *testing.PB) {
		s := seed.Add(1)
		prefix := fmt.Sprintf("w%d-", s)
		// One generated batch is reused with fresh source ids, so that the
		// generator does not compete with the store for the two cores.
		posts0 := newBenchGen(2_000_000, s, prefix).batch(batch)
		k := 0
		for pb.Next() {
			for _, p := range posts0 {
				p.ID, p.SourceID = 0, prefix+strconv.Itoa(k)
				p.TakenAt = p.TakenAt.Add(time.Millisecond)
				k++
			}
			if _, err := db.UpsertPosts(ctx, posts0); err != nil {
				b.Error(err)
				return
			}
			posts.Add(batch)
		}
	})
	b.ReportMetric(float64(posts.Load())/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkFeed measures one feed page: 50 posts of one place over the last
// 30 days, and of a whole workspace (100 places).
func BenchmarkFeed(b *testing.B) {
	n := benchPosts(b)
	db, _ := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	for _, bc := range []struct {
		name   string
		filter func(r *rand.Rand) geopulse.PostFilter
	}{
		{"place", func(r *rand.Rand) geopulse.PostFilter {
			p := int64(r.IntN(benchPlaces) + 1)
			return geopulse.PostFilter{WorkspaceID: (p-1)/benchPlacesPerWS + 1, PlaceIDs: []int64{p},
				From: benchEnd.Add(-30 * 24 * time.Hour), To: benchEnd, Limit: 50}
		}},
		{"workspace", func(r *rand.Rand) geopulse.PostFilter {
			return geopulse.PostFilter{WorkspaceID: int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1),
				From: benchEnd.Add(-30 * 24 * time.Hour), To: benchEnd, Limit: 50}
		}},
		{"hashtag", func(r *rand.Rand) geopulse.PostFilter {
			return geopulse.PostFilter{WorkspaceID: int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1),
				Hashtag: "tag" + strconv.Itoa(5+r.IntN(5)), Limit: 50}
		}},
	} {
		b.Run(fmt.Sprintf("%s/posts=%d", bc.name, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			var lat []time.Duration
			for b.Loop() {
				f := bc.filter(r)
				start := time.Now()
				posts, _, err := db.FindPosts(ctx, f)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(posts) == 0 {
					b.Fatalf("empty page for %+v", f)
				}
			}
			reportLatency(b, "", lat)
		})
	}
}

// BenchmarkAnalytics measures the dashboard set for 50 places of one
// workspace over all 90 days.
func BenchmarkAnalytics(b *testing.B) {
	n := benchPosts(b)
	db, _ := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	b.Run(fmt.Sprintf("places=50/posts=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(2, 2))
		var lat []time.Duration
		for b.Loop() {
			ws := int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1)
			first := (ws-1)*benchPlacesPerWS + 1 + int64(r.IntN(benchPlacesPerWS-50))
			ids := make([]int64, 50)
			for i := range ids {
				ids[i] = first + int64(i)
			}
			start := time.Now()
			a, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: ws, PlaceIDs: ids,
				From: benchEnd.Add(-benchDays * 24 * time.Hour), To: benchEnd})
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if a.Posts == 0 || len(a.TopHashtags) == 0 || len(a.TopAuthors) == 0 {
				b.Fatalf("empty analytics: %+v", a)
			}
		}
		reportLatency(b, "", lat)
	})
}

// radiusSQL is the hand-written PostGIS radius feed a GIS developer would
// write: the newest 50 posts within r metres of a point (geodesic), with
// their authors, served by the GiST index on geom::geography that
// BenchmarkRadius creates first. It is not scoped to a workspace (the
// geopulse query is, through post_places).
const radiusSQL = `SELECT p.id, p.kind, p.author_id, p.taken_at, p.lat, p.lon, p.accuracy_m, p.expires_at,
	p.expired, p.place_ids, p.doc, a.followers, a.following, a.posts_count, a.private, a.updated_at, a.card
FROM posts p JOIN authors a ON a.id = p.author_id
WHERE ST_DWithin(p.geom::geography, ST_MakePoint($1, $2)::geography, $3) AND NOT p.expired
ORDER BY p.taken_at DESC, p.id DESC LIMIT 50`

// BenchmarkRadius compares geopulse's radius feed (FindPosts with a
// geo.CircleArea: bounding box through the GiST index on geom, exact
// circle in Go, scoped to the venue's workspace) with radiusSQL on the same
// data, alternating the two on the same random circles, and reports the
// ratio of their medians (geopulse / PostGIS; below 1 is geopulse faster).
func BenchmarkRadius(b *testing.B) {
	n := benchPosts(b)
	db, dsn := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	pool := rawPool(b, dsn)
	start := time.Now()
	if _, err := pool.Exec(ctx, `CREATE INDEX IF NOT EXISTS bench_posts_geog ON posts USING gist ((geom::geography))`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE posts`); err != nil {
		b.Fatal(err)
	}
	b.Logf("geography index in %v", time.Since(start).Round(time.Millisecond))
	g := newBenchGen(1000, 7, "p") // the same places as the loaded world
	for _, radius := range []float64{200, 1000} {
		b.Run(fmt.Sprintf("r=%gm/posts=%d", radius, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			var ours, theirs []time.Duration
			var gotOurs, gotTheirs int
			for b.Loop() {
				pi := r.IntN(benchPlaces)
				c := g.places[pi].Center
				area, err := geo.CircleArea(c.Lat, c.Lon, radius)
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				posts, _, err := db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: int64(pi/benchPlacesPerWS + 1), Area: area, Limit: 50})
				ours = append(ours, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				gotOurs += len(posts)
				t0 = time.Now()
				rows, err := pool.Query(ctx, radiusSQL, c.Lon, c.Lat, radius)
				if err != nil {
					b.Fatal(err)
				}
				k := 0
				for rows.Next() {
					k++
				}
				rows.Close()
				theirs = append(theirs, time.Since(t0))
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				gotTheirs += k
			}
			reportLatency(b, "geopulse-", ours)
			reportLatency(b, "postgis-", theirs)
			b.ReportMetric(median(ours)/median(theirs), "ratio-p50")
			b.ReportMetric(float64(gotOurs)/float64(len(ours)), "geopulse-posts/op")
			b.ReportMetric(float64(gotTheirs)/float64(len(theirs)), "postgis-posts/op")
		})
	}
}

func median(lat []time.Duration) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[len(s)/2])
}

func reportLatency(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), prefix+"p50-ms")
	b.ReportMetric(q(0.99), prefix+"p99-ms")
}
