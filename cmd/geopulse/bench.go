package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/http"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/simulate"
	"github.com/geopulse/geopulse/source/canonical"
)

const benchUsage = `Usage:

	geopulse bench [flags]

Generates a world with the simulator, loads it into a fresh embedded store in
a temporary directory and prints one table: place matching, ingest in process
and over HTTP, feed and analytics latency at each size, and memory.
`

// benchResult is one row of the table.
type benchResult struct {
	name, size, value, target string
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var (
		sizesFlag = fs.String("sizes", "1000000", "comma-separated stored-post counts; each is loaded into a fresh store over 90 days (e.g. 1000000,10000000)")
		places    = fs.Int("places", 10_000, "places in the workspace")
		queries   = fs.Int("queries", 500, "queries per latency measurement")
		httpPosts = fs.Int("http-posts", 200_000, "posts sent over HTTP in NDJSON batches of 1,000")
		dir       = fs.String("dir", "", "directory for the store (default: a temporary one, removed after)")
		seed      = fs.Int64("seed", 7, "world seed")
		profile   = fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1000 {
			return fmt.Errorf("bench: -sizes must be counts ≥ 1000: %w", errUsage)
		}
		sizes = append(sizes, n)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "geopulse-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	b := &bench{
		places: *places, queries: *queries, httpPosts: *httpPosts, seed: *seed,
		end:  time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		logf: func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) },
	}
	b.matching()
	for _, size := range sizes {
		if err := b.atSize(ctx, filepath.Join(*dir, fmt.Sprintf("bench-%d.duckdb", size)), size); err != nil {
			return err
		}
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "geopulse bench — %d cores, %s, %d places\n\n", runtime.NumCPU(), runtime.Version(), *places)
	fmt.Fprintln(tw, "measure\tat\tresult\ttarget")
	fmt.Fprintln(tw, "-------\t--\t------\t------")
	for _, r := range b.results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.size, r.value, r.target)
	}
	return tw.Flush()
}

func postBatch(ctx context.Context, url, key string, body []byte) error {
	req, err := nethttp.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST /v1/posts: %s", resp.Status)
	}
	return nil
}

// busiest returns the places with the most posts, so feed and analytics are
// measured where pages are full rather than on empty places.
func busiest(ctx context.Context, db geopulse.AnalyticsService, wsID int64, ids []int64, end time.Time, rng *rand.Rand) []int64 {
	a, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: wsID, From: end.AddDate(0, 0, -90), To: end, Limit: 10})
	if err != nil || len(a.Places) == 0 {
		return ids
	}
	out := make([]int64, 0, len(a.Places))
	for _, p := range a.Places {
		out = append(out, p.PlaceID)
	}
	// Mix the busiest with random ones: the tail matters for p99 too.
	for range len(out) {
		out = append(out, ids[rng.IntN(len(ids))])
	}
	return out
}

type latency struct {
	p50, p99 time.Duration
	err      error
}

func (l latency) String() string {
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", ms(l.p50), ms(l.p99))
}

func latencies(n int, f func() error) latency {
	d := make([]time.Duration, n)
	for i := range d {
		t0 := time.Now()
		if err := f(); err != nil {
			return latency{err: err}
		}
		d[i] = time.Since(t0)
	}
	slices.Sort(d)
	return latency{p50: d[n/2], p99: d[min(n-1, n*99/100)]}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func rate(n int, d time.Duration, unit string) string {
	return fmt.Sprintf("%s %s", human(int(float64(n)/d.Seconds())), unit)
}

func human(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// rss reads the resident set size now and at peak from /proc (Linux).
func rss() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	var now, peak string
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			now = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
	}
	return now + " / " + peak
}

// bench measures one configuration and collects the table's rows.
type bench struct {
	places, queries, httpPosts int
	seed                       int64
	end                        time.Time
	logf                       func(string, ...any)
	results                    []benchResult
}

func (b *bench) add(name, size, value, target string) {
	b.results = append(b.results, benchResult{name, size, value, target})
	b.logf("%s [%s]: %s", name, size, value)
}

// world returns a simulated world whose stream spans the 90 days before b.end
// with posts posts, over b.places venues.
func (b *bench) world(posts int) *simulate.World {
	return simulate.New(simulate.Options{
		Seed: b.seed, Venues: b.places, Authors: authorsFor(posts, 90),
		Start: b.end.AddDate(0, 0, -90), End: b.end,
	})
}

// matching measures the place index on one core.
func (b *bench) matching() {
	world := b.world(1_000_000)
	places := world.Places()
	for i, p := range places {
		p.ID = int64(i + 1) // the store would assign them; the index needs them distinct
	}
	ix, _ := geo.NewIndex(places)
	pts := make([]*geopulse.Post, 200_000)
	for i := range pts {
		pts[i] = world.Next()
	}
	var dst []int64
	start := time.Now()
	var n int
	for time.Since(start) < 2*time.Second {
		for _, p := range pts {
			dst = ix.Match(p.Lat, p.Lon, p.AccuracyM, dst[:0])
		}
		n += len(pts)
	}
	b.add("place matching (1 goroutine)", fmt.Sprintf("%d places", ix.Len()), rate(n, time.Since(start), "points/s"), "≥ 1,000,000 points/s")
}

// atSize loads size posts into a fresh store through the pipeline and
// measures ingest, feed, analytics, memory and HTTP ingest there.
func (b *bench) atSize(ctx context.Context, path string, size int) error {
	label := human(size) + " posts"
	world := b.world(size)
	db, err := duckdb.Open(ctx, path, duckdb.Options{MemoryLimit: DefaultConfig().DBMemoryLimit})
	if err != nil {
		return err
	}
	defer db.Close()
	ws := &geopulse.Workspace{Name: "bench"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		return err
	}
	key := geopulse.NewAPIKey()
	if err := db.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		return err
	}
	// Places go straight into the empty store (the simulator's shapes are
	// valid and carry their bbox; there is nothing to backfill yet), and the
	// pipeline then loads them into its index once. Through the place
	// service each create would rebuild the index: quadratic at 10,000.
	b.logf("creating %d places", b.places)
	for _, p := range world.Places() {
		p.WorkspaceID = ws.ID
		if err := db.CreatePlace(ctx, p); err != nil {
			return fmt.Errorf("create place: %w", err)
		}
	}
	// The pipeline's clock is the end of the simulated window, so history
	// stories arrive already expired as they would in reality; the HTTP run
	// goes on past it, hence the wide MaxFuture.
	pl, err := pipeline.New(ctx, db, pipeline.Options{Now: func() time.Time { return b.end }, MaxFuture: 365 * 24 * time.Hour})
	if err != nil {
		return err
	}
	all, err := db.FindPlaces(ctx, geopulse.PlaceFilter{WorkspaceID: ws.ID})
	if err != nil {
		return err
	}
	placeIDs := make([]int64, 0, len(all))
	for _, p := range all {
		placeIDs = append(placeIDs, p.ID)
	}

	const batch = 10_000
	posts := make([]*geopulse.Post, batch)
	var ingestTime time.Duration
	for stored := 0; stored < size; {
		k := min(batch, size-stored)
		for i := range k {
			posts[i] = world.Next()
		}
		t0 := time.Now()
		if _, err := pl.Ingest(ctx, posts[:k]); err != nil {
			return err
		}
		ingestTime += time.Since(t0)
		stored += k
		if stored%1_000_000 == 0 {
			b.logf("loaded %d posts (%s)", stored, rate(stored, ingestTime, "posts/s"))
		}
	}
	b.add("ingest in process (pipeline → DuckDB, batches of 10,000)", label, rate(size, ingestTime, "posts/s"), "≥ 150,000 posts/s")

	rng := rand.New(rand.NewPCG(uint64(b.seed), uint64(size)))
	busy := busiest(ctx, db, ws.ID, placeIDs, b.end, rng)
	feed := latencies(b.queries, func() error {
		_, _, err := db.FindPosts(ctx, geopulse.PostFilter{
			WorkspaceID: ws.ID, PlaceIDs: []int64{busy[rng.IntN(len(busy))]},
			From: b.end.AddDate(0, 0, -30), To: b.end, Limit: 50,
		})
		return err
	})
	if feed.err != nil {
		return feed.err
	}
	b.add("feed page (50 posts, 1 place, 30 days)", label, feed.String(), "p99 ≤ 10 ms")
	an := latencies(max(b.queries/5, 20), func() error {
		set := make([]int64, 50)
		for i := range set {
			set[i] = busy[rng.IntN(len(busy))]
		}
		_, err := db.Analytics(ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID, PlaceIDs: set, From: b.end.AddDate(0, 0, -90), To: b.end})
		return err
	})
	if an.err != nil {
		return an.err
	}
	b.add("analytics set (50 places, 90 days)", label, an.String(), "p99 ≤ 100 ms")
	b.add("memory (RSS now / peak of the process)", label, rss(), "≤ 1.5 GB at 10M")

	if b.httpPosts < 1000 {
		return nil
	}
	// HTTP ingest: NDJSON batches of 1,000 from two concurrent clients over
	// loopback, first straight into the pipeline, then through the stream.
	direct, err := b.httpIngest(ctx, db, pl, pl, key, world, nil)
	if err != nil {
		return err
	}
	b.add("ingest over HTTP, direct (NDJSON × 1,000, 2 clients)", label, direct.String(), "≥ 50,000 posts/s")

	stream, err := b.streamIngest(ctx, db, pl, key, world)
	if err != nil {
		return err
	}
	b.add("ingest over HTTP via JetStream (until stored)", label, stream.String(), "≥ 50,000 posts/s")
	return nil
}

// httpResult is a rate and the latency of one 1,000-post request.
type httpResult struct {
	rate string
	lat  latency
}

func (r httpResult) String() string {
	return fmt.Sprintf("%s; request %s", r.rate, r.lat)
}

// httpIngest posts b.httpPosts fresh posts over HTTP to an API whose intake
// is ingester; wait, if set, runs before the clock stops (the stream's
// workers finishing).
func (b *bench) httpIngest(ctx context.Context, db *duckdb.DB, pl *pipeline.Pipeline, ingester geopulse.Ingester, key string, world *simulate.World, wait func(context.Context) error) (httpResult, error) {
	srv := &http.Server{Workspaces: db, Places: pl.Places(), Posts: db, Analytics: db, Ingester: ingester}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return httpResult{}, err
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	defer hs.Close()
	bodies := make([][]byte, b.httpPosts/1000)
	for i := range bodies {
		var body []byte
		for range 1000 {
			body = canonical.AppendJSON(body, world.Next())
			body = append(body, '\n')
		}
		bodies[i] = body
	}
	url := "http://" + ln.Addr().String() + "/v1/posts?quiet=1"
	var wg sync.WaitGroup
	var mu sync.Mutex
	var httpErr error
	lats := make([]time.Duration, 0, len(bodies))
	next := 0
	start := time.Now()
	for range 2 {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(bodies) {
					return
				}
				t0 := time.Now()
				err := postBatch(ctx, url, key, bodies[i])
				d := time.Since(t0)
				mu.Lock()
				lats = append(lats, d)
				if err != nil {
					httpErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if httpErr != nil {
		return httpResult{}, httpErr
	}
	if wait != nil {
		if err := wait(ctx); err != nil {
			return httpResult{}, err
		}
	}
	elapsed := time.Since(start)
	slices.Sort(lats)
	n := len(lats)
	return httpResult{
		rate: rate(len(bodies)*1000, elapsed, "posts/s"),
		lat:  latency{p50: lats[n/2], p99: lats[min(n-1, n*99/100)]},
	}, nil
}

// streamIngest runs the HTTP ingest through an embedded JetStream (as
// serve does: publisher at intake, two worker loops into the pipeline) and
// stops the clock once the workers have stored everything.
func (b *bench) streamIngest(ctx context.Context, db *duckdb.DB, pl *pipeline.Pipeline, key string, world *simulate.World) (httpResult, error) {
	dir, err := os.MkdirTemp("", "geopulse-bench-nats-")
	if err != nil {
		return httpResult{}, err
	}
	defer os.RemoveAll(dir)
	srv, err := gpnats.StartServer(gpnats.ServerOptions{Dir: dir})
	if err != nil {
		return httpResult{}, err
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("bench")
	if err != nil {
		return httpResult{}, err
	}
	st, err := gpnats.Open(ctx, nc, gpnats.Config{}, nil)
	if err != nil {
		nc.Close()
		return httpResult{}, err
	}
	defer st.Close()
	clock := func() time.Time { return b.end }
	pub := gpnats.NewPublisher(st, gpnats.PublisherOptions{Gate: pipeline.Gate{MaxFuture: 365 * 24 * time.Hour}, Now: clock})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- gpnats.NewWorker(st, gpnats.WorkerOptions{Ingester: pl, Concurrency: 2}).Run(wctx) }()
	defer func() { stop(); <-done }()
	return b.httpIngest(ctx, db, pl, pub, key, world, st.WaitDrained)
}
