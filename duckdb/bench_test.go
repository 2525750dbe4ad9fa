package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/simulate"
	"github.com/geopulse/geopulse/text"
	"github.com/geopulse/geopulse/vision/onnx"
)

// Benchmark world: 10,000 venues in 100 workspaces of 100 (so a workspace's
// places have neighbouring ids, as when a customer draws them together),
// posts over 90 days arriving in time order, ~1.05 place matches per post,
// one author per ten posts with log-normal (heavy-tailed) followers and
// Zipf-skewed activity, Zipf-distributed hashtags.
const (
	benchPlaces        = 10_000
	benchPlacesPerWS   = 100
	benchDays          = 90
	benchBatch         = 10_000
	benchDefaultPosts  = 1_000_000
	benchPostsEnv      = "GEOPULSE_BENCH_POSTS"
	benchDirEnv        = "GEOPULSE_BENCH_DIR"    // keep the loaded file between runs
	benchMemoryEnv     = "GEOPULSE_BENCH_MEMORY" // DuckDB memory_limit, e.g. 1GB
	benchTagVocabulary = 5_000
	benchWarmup        = 50
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
	prefix  string // of source ids, so that generators never collide
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

var (
	benchInterests = strings.Fields("coffee food nightlife fitness music art travel fashion pets sports")
	benchLanguages = strings.Fields("en en en es fr de")
)

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
		ExpiresAt: expires, Language: benchLanguages[r.IntN(len(benchLanguages))], PlaceIDs: placeIDs,
		Labels: []geopulse.Label{{Kind: geopulse.LabelInterest, Name: benchInterests[r.IntN(len(benchInterests))],
			Origin: geopulse.OriginText, Score: 1, Model: "bench", Version: "1"}},
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

// benchStore opens a store holding n generated posts, loading it through
// UpsertPosts unless GEOPULSE_BENCH_DIR already holds a complete one.
func benchStore(b *testing.B, n int) *DB {
	b.Helper()
	ctx := context.Background()
	dir := os.Getenv(benchDirEnv)
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.duckdb", n))
	opts := Options{Logger: benchLogger(), MemoryLimit: os.Getenv(benchMemoryEnv)}
	if db, err := Open(ctx, path, opts); err == nil {
		var posts int
		if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM posts`).Scan(&posts); err == nil && posts == n {
			b.Logf("reusing %s", path)
			return db
		}
		db.Close()
	}
	os.Remove(path)
	os.Remove(path + ".wal")
	db, err := Open(ctx, path, opts)
	if err != nil {
		b.Fatal(err)
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
	var gen time.Duration
	for done := 0; done < n; done += benchBatch {
		t := time.Now()
		batch := g.batch(min(benchBatch, n-done))
		gen += time.Since(t)
		if _, err := db.UpsertPosts(ctx, batch); err != nil {
			b.Fatal(err)
		}
		if (done+benchBatch)%(n/10) == 0 {
			b.Logf("%d posts after %v (generating: %v)", done+benchBatch, time.Since(start).Round(time.Millisecond), gen.Round(time.Millisecond))
		}
	}
	el := time.Since(start)
	b.Logf("loaded %d posts in %v (%.0f posts/s), rss %.0f MB", n, el.Round(time.Millisecond), float64(n)/el.Seconds(), rssMB())
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
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "ingest.duckdb"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
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
// workers do: preparing a batch (validation, ids, JSON) overlaps with
// another batch's transaction.
func BenchmarkUpsertPostsParallel(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "ingest.duckdb"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
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
	db := benchStore(b, n)
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
	} {
		b.Run(fmt.Sprintf("%s/posts=%d", bc.name, n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			// A server is warm: the first queries after Open load index and
			// data blocks and are left out.
			for range benchWarmup {
				if _, _, err := db.FindPosts(ctx, bc.filter(r)); err != nil {
					b.Fatal(err)
				}
			}
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
			reportLatency(b, lat)
		})
	}
}

// BenchmarkAnalytics measures the dashboard set for 50 places of one
// workspace over all 90 days.
func BenchmarkAnalytics(b *testing.B) {
	n := benchPosts(b)
	db := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	b.Run(fmt.Sprintf("places=50/posts=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(2, 2))
		filter := func() geopulse.AnalyticsFilter {
			ws := int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1)
			first := (ws-1)*benchPlacesPerWS + 1 + int64(r.IntN(benchPlacesPerWS-50))
			ids := make([]int64, 50)
			for i := range ids {
				ids[i] = first + int64(i)
			}
			return geopulse.AnalyticsFilter{WorkspaceID: ws, PlaceIDs: ids,
				From: benchEnd.Add(-benchDays * 24 * time.Hour), To: benchEnd}
		}
		for range benchWarmup {
			if _, err := db.Analytics(ctx, filter()); err != nil {
				b.Fatal(err)
			}
		}
		var lat []time.Duration
		for b.Loop() {
			f := filter()
			start := time.Now()
			a, err := db.Analytics(ctx, f)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			if a.Posts == 0 || len(a.TopHashtags) == 0 || len(a.TopAuthors) == 0 {
				b.Fatalf("empty analytics: %+v", a)
			}
		}
		reportLatency(b, lat)
	})
}

// benchLogger shows the store's compactions when GEOPULSE_BENCH_LOG is set.
func benchLogger() *slog.Logger {
	if os.Getenv("GEOPULSE_BENCH_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// BenchmarkMatchPlace measures backfilling a new place whose box holds
// about 1% of the stored posts (the places span a 1°x1° square); the place
// is deleted afterwards, which leaves the stored world as it was.
func BenchmarkMatchPlace(b *testing.B) {
	n := benchPosts(b)
	db := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	ws := &geopulse.Workspace{Name: fmt.Sprint("match-bench-", time.Now().UnixNano())}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		b.Fatal(err)
	}
	p := &geopulse.Place{WorkspaceID: ws.ID, Name: "district", Center: &geopulse.LatLon{Lat: 40.5, Lon: -73.5}, RadiusM: 5000}
	if err := db.CreatePlace(ctx, p); err != nil {
		b.Fatal(err)
	}
	defer db.DeletePlace(ctx, ws.ID, p.ID)
	box := geopulse.BBox{MinLat: 40.45, MinLon: -73.55, MaxLat: 40.55, MaxLon: -73.45}
	inCircle := func(lat, lon, _ float64) bool { return math.Hypot(lat-40.5, lon+73.5) <= 0.05 }
	matched := 0
	b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
		for b.Loop() {
			m, err := db.MatchPlace(ctx, p.ID, box, inCircle)
			if err != nil {
				b.Fatal(err)
			}
			matched = m
		}
		b.ReportMetric(float64(matched), "matches")
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(rssMB(), "rss-MB")
}

// cpuTime returns the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssMB returns the process's resident set size (Linux), or 0.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkIngestPipeline measures what `geopulse bench` calls in-process
// ingest: the simulator's posts (whose authors' counts change with every
// post) through the pipeline into a fresh store with 10,000 places, in
// batches of 10,000, each prepared while the one before is stored. GEOPULSE_BENCH_INGEST sets the post count (300,000).
// text=on adds the text understanding (language, sentiment, brands,
// interests; needs `make ml-assets`), as serve runs it.
func BenchmarkIngestPipeline(b *testing.B) {
	b.Run("text=off", func(b *testing.B) { benchIngestPipeline(b, nil) })
	b.Run("text=on", func(b *testing.B) {
		an, err := text.Load(filepath.Join(onnx.AssetsDir(), "text"))
		if err != nil {
			b.Skipf("text assets: %v", err)
		}
		benchIngestPipeline(b, an)
	})
}

// benchChunk is how many batches of posts BenchmarkIngestPipeline
// generates before it times their ingest.
const benchChunk = 10

func benchIngestPipeline(b *testing.B, an *text.Analyzer) {
	n := benchIngestCount(b, 300_000)
	ctx := context.Background()
	end := benchWorldEnd
	for b.Loop() {
		b.StopTimer()
		world := benchWorld(n)
		db, err := Open(ctx, filepath.Join(b.TempDir(), "ingest.duckdb"), Options{MemoryLimit: "1GB", Logger: benchLogger()})
		if err != nil {
			b.Fatal(err)
		}
		ws := &geopulse.Workspace{Name: "bench"}
		if err := db.CreateWorkspace(ctx, ws); err != nil {
			b.Fatal(err)
		}
		if err := benchLoadPlaces(ctx, db, ws.ID, world.Places()); err != nil {
			b.Fatal(err)
		}
		pl, err := pipeline.New(ctx, db, pipeline.Options{Now: func() time.Time { return end }, MaxFuture: 365 * 24 * time.Hour, Text: an})
		if err != nil {
			b.Fatal(err)
		}
		// The posts are generated (untimed) a chunk of batches at a time,
		// then ingested as a stream: each batch is prepared on one
		// goroutine while the one before is stored on another.
		var took, cpu time.Duration
		for stored := 0; stored < n; {
			var chunk [][]*geopulse.Post
			for k := 0; k < benchChunk && stored < n; k++ {
				batch := make([]*geopulse.Post, min(benchBatch, n-stored))
				for i := range batch {
					batch[i] = world.Next()
				}
				chunk = append(chunk, batch)
				stored += len(batch)
			}
			b.StartTimer()
			t0, c0 := time.Now(), cpuTime()
			prepared := make(chan *pipeline.Batch, 1)
			go func() {
				defer close(prepared)
				for _, posts := range chunk {
					prepared <- pl.Prepare(posts)
				}
			}()
			for batch := range prepared {
				if _, err := pl.Store(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			took += time.Since(t0)
			cpu += cpuTime() - c0
			b.StopTimer()
		}
		b.ReportMetric(float64(n)/took.Seconds(), "posts/s")
		// CPU time of every thread (DuckDB's too) per post: steadier than
		// posts/s when other processes share the cores.
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/post")
		b.ReportMetric(rssMB(), "rss-MB")
		db.Close()
		b.StartTimer() // b.Loop wants it running
	}
}

// BenchmarkPostsAppendFloor appends the posts rows alone, as UpsertPosts
// encodes them and in transactions of benchBatch, into a store with the
// product's settings; matches, authors and the profile queue are left out.
// It is the floor under ingest into this store as designed: whatever the
// pipeline and the match tables cost comes on top of each post's own row.
// doc=off leaves the JSON document empty, which shows what the content
// costs.
// GEOPULSE_BENCH_INGEST sets the post count (1,000,000, so that the
// figure includes DuckDB's checkpoints, which start at 256 MB of WAL).
func BenchmarkPostsAppendFloor(b *testing.B) {
	n := benchIngestCount(b, 1_000_000)
	world := benchWorld(n)
	staged := make([]stagedPost, 0, n)
	seen := make(map[int64]bool, n)
	var docBytes int
	for len(staged) < n {
		p := world.Next()
		if preparePost(p, benchWorldEnd) != nil || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		s := stagedPost{p: p, placeIDs: normIDs(p.PlaceIDs), doc: encodeDoc(p)}
		docBytes += len(s.doc)
		staged = append(staged, s)
	}
	for _, bc := range []struct {
		name string
		doc  bool
	}{{"doc=on", true}, {"doc=off", false}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				db, err := Open(ctx, filepath.Join(b.TempDir(), "floor.duckdb"), Options{MemoryLimit: "1GB", Logger: benchLogger()})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime()
				for batch := range slices.Chunk(staged, benchBatch) {
					err := db.write(ctx, func(c *sql.Conn) error {
						return withAppender(c, "", "posts", func(a *duckdb.Appender) error {
							for _, s := range batch {
								if !bc.doc {
									s.doc = ""
								}
								if err := a.AppendRow(postRow(s, int32(0), nil)...); err != nil {
									return err
								}
							}
							return nil
						})
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				took, cpu := time.Since(t0), cpuTime()-c0
				b.StopTimer()
				b.ReportMetric(float64(n)/took.Seconds(), "posts/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/post")
				if bc.doc {
					b.ReportMetric(float64(docBytes)/float64(n), "doc-bytes/post")
				}
				db.Close()
				b.StartTimer()
			}
		})
	}
}

// benchWorldEnd is when the simulated world of the ingest benchmarks ends.
var benchWorldEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchWorld returns the ingest benchmarks' simulated world: 90 days up to
// benchWorldEnd, benchPlaces venues, and authors for about n posts.
func benchWorld(n int) *simulate.World {
	return simulate.New(simulate.Options{Seed: 7, Venues: benchPlaces,
		Authors: max(int(float64(n)/(simulate.PostsPerAuthorDay*90)), 200),
		Start:   benchWorldEnd.AddDate(0, 0, -90), End: benchWorldEnd})
}

// benchIngestCount returns GEOPULSE_BENCH_INGEST, the post count of the
// ingest benchmarks, or def when it is not set.
func benchIngestCount(b *testing.B, def int) int {
	s := os.Getenv("GEOPULSE_BENCH_INGEST")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("GEOPULSE_BENCH_INGEST=%q: want a positive number", s)
	}
	return n
}

// benchLoadPlaces inserts places in one transaction (CreatePlace commits
// each, which takes minutes for 10,000).
func benchLoadPlaces(ctx context.Context, db *DB, wsID int64, places []*geopulse.Place) error {
	now := db.nowUTC()
	return db.write(ctx, func(c *sql.Conn) error {
		for len(places) > 0 {
			chunk := places[:min(500, len(places))]
			places = places[len(chunk):]
			var q strings.Builder
			var args []any
			q.WriteString(`INSERT INTO places (workspace_id, name, category, brand, groups, center_lat, center_lon,
				radius_m, geometry, min_lat, min_lon, max_lat, max_lon, created_at, updated_at) VALUES `)
			for i, p := range chunk {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString(`(?, ?, ?, ?, ?::VARCHAR[], ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
				var clat, clon, geometry any
				if p.Center != nil {
					clat, clon = p.Center.Lat, p.Center.Lon
				}
				if len(p.Geometry) > 0 {
					geometry = string(p.Geometry)
				}
				args = append(args, wsID, p.Name, p.Category, p.Brand, emptyIfNil(p.Groups), clat, clon, p.RadiusM, geometry,
					p.BBox.MinLat, p.BBox.MinLon, p.BBox.MaxLat, p.BBox.MaxLon, now, now)
			}
			if _, err := c.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}
