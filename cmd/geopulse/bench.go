package main

import (
	"bytes"
	"context"
	"errors"
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

With -postgres, the same world is also loaded into a fresh PostgreSQL
database (created on that server and dropped after) and the table gets a
PostgreSQL column beside the DuckDB one, plus the radius feed compared with
a hand-written PostGIS ST_DWithin query on the same data.
`

// benchResult is one row of the table: a value per store column.
type benchResult struct {
	name, size, target string
	values             map[string]string
}

// Columns of the table.
const (
	colDuckDB   = "DuckDB"
	colPostgres = "PostgreSQL"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var (
		sizesFlag   = fs.String("sizes", "1000000", "comma-separated stored-post counts; each is loaded into a fresh store over 90 days (e.g. 1000000,10000000)")
		places      = fs.Int("places", 10_000, "places in the workspace")
		queries     = fs.Int("queries", 500, "queries per latency measurement")
		httpPosts   = fs.Int("http-posts", 200_000, "posts sent over HTTP in NDJSON batches of 1,000")
		httpClients = fs.Int("http-clients", 8, "concurrent HTTP clients, each sending its next batch once the last is answered (2 clients leave the server idle between answers)")
		dir         = fs.String("dir", "", "directory for the store (default: a temporary one, removed after)")
		seed        = fs.Int64("seed", 7, "world seed")
		profile     = fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
		pgDSN       = fs.String("postgres", "", "admin DSN of a PostgreSQL server with PostGIS (a role that may create databases): adds a PostgreSQL column, measured in a fresh database that the run drops")
		withDuck    = fs.Bool("duckdb", true, "measure the embedded DuckDB store (false: only PostgreSQL)")
		pgWriters   = fs.Int("postgres-writers", 2, "concurrent pipeline batches into PostgreSQL, as worker processes write (DuckDB takes one writer at a time)")
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
	if !*withDuck && *pgDSN == "" {
		return fmt.Errorf("bench: -duckdb=false needs -postgres: %w", errUsage)
	}
	if *httpClients < 1 {
		return fmt.Errorf("bench: -http-clients must be ≥ 1: %w", errUsage)
	}
	if *pgWriters < 1 {
		return fmt.Errorf("bench: -postgres-writers must be ≥ 1: %w", errUsage)
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
		places: *places, queries: *queries, httpPosts: *httpPosts, httpClients: *httpClients, seed: *seed,
		end:  time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		logf: func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) },
	}
	if *withDuck {
		b.columns = append(b.columns, colDuckDB)
	}
	if *pgDSN != "" {
		b.columns = append(b.columns, colPostgres)
	}
	b.matching()
	for _, size := range sizes {
		if *withDuck {
			if err := b.atSizeDuckDB(ctx, filepath.Join(*dir, fmt.Sprintf("bench-%d.duckdb", size)), size); err != nil {
				return err
			}
		}
		if *pgDSN != "" {
			if err := b.atSizePostgres(ctx, *pgDSN, size, *pgWriters); err != nil {
				return err
			}
		}
	}
	return b.print(stdout)
}

// print writes the table: one column per measured store.
func (b *bench) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "geopulse bench — %d cores, %s, %d places\n\n", runtime.NumCPU(), runtime.Version(), b.places)
	head, rule := "measure\tat", "-------\t--"
	for _, c := range b.columns {
		head += "\t" + c
		rule += "\t" + strings.Repeat("-", len(c))
	}
	fmt.Fprintln(tw, head+"\ttarget")
	fmt.Fprintln(tw, rule+"\t------")
	for _, r := range b.results {
		line := r.name + "\t" + r.size
		for _, c := range b.columns {
			v := r.values[c]
			if v == "" {
				v = "—"
			}
			line += "\t" + v
		}
		fmt.Fprintln(tw, line+"\t"+r.target)
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
	httpClients                int
	seed                       int64
	end                        time.Time
	logf                       func(string, ...any)
	columns                    []string
	results                    []benchResult
	last                       load // of the last atSize
}

// add records value in column col of the row (name, size), creating the
// row the first time; rows keep the order in which they first appear.
func (b *bench) add(col, name, size, value, target string) {
	b.logf("%s: %s [%s]: %s", col, name, size, value)
	b.set(col, name, size, value, target)
}

// set is add without the log line.
func (b *bench) set(col, name, size, value, target string) {
	for i := range b.results {
		if r := &b.results[i]; r.name == name && r.size == size {
			r.values[col] = value
			return
		}
	}
	b.results = append(b.results, benchResult{name: name, size: size, target: target, values: map[string]string{col: value}})
}

// addAll records a value that is the same for every column.
func (b *bench) addAll(name, size, value, target string) {
	b.logf("%s [%s]: %s", name, size, value)
	for _, c := range b.columns {
		b.set(c, name, size, value, target)
	}
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
	b.addAll("place matching (1 goroutine, in Go)", fmt.Sprintf("%d places", ix.Len()), rate(n, time.Since(start), "points/s"), "≥ 1,000,000 points/s")
}

// atSizeDuckDB measures the embedded store at size posts, in a fresh file.
func (b *bench) atSizeDuckDB(ctx context.Context, path string, size int) error {
	db, err := duckdb.Open(ctx, path, duckdb.Options{MemoryLimit: DefaultConfig().DBMemoryLimit})
	if err != nil {
		return err
	}
	defer db.Close()
	label := human(size) + " posts"
	if err := b.atSize(ctx, colDuckDB, db, size, 1, nil); err != nil {
		return err
	}
	b.add(colDuckDB, "memory (RSS now / peak of the process)", label, rss(), "≤ 1.5 GB at 10M")
	var bytes int64
	for _, suffix := range []string{"", ".wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			bytes += fi.Size()
		}
	}
	b.add(colDuckDB, "store size on disk", label, fmt.Sprintf("%.2f GB", float64(bytes)/1e9), "")
	return b.httpRows(ctx, colDuckDB, db, size)
}

// load is what atSize leaves for the rows that follow it.
type load struct {
	label string
	world *simulate.World
	pl    *pipeline.Pipeline
	key   string
	wsID  int64
	busy  []int64
	rng   *rand.Rand
}

// atSize loads size posts into the fresh store db through the pipeline,
// writers batches at a time, and measures ingest, feed and analytics
// there. It keeps the pipeline and world in b.last for the HTTP rows.
func (b *bench) atSize(ctx context.Context, col string, db geopulse.Store, size, writers int, afterLoad func(context.Context) error) error {
	label := human(size) + " posts"
	world := b.world(size)
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
	// A server store commits each place on its own: creators run
	// concurrently so that their commits share WAL flushes.
	b.logf("%s: creating %d places", col, b.places)
	placeCh := make(chan *geopulse.Place)
	placeErrs := make([]error, placeCreators(col))
	var pwg sync.WaitGroup
	for i := range placeErrs {
		pwg.Go(func() {
			for p := range placeCh {
				if err := db.CreatePlace(ctx, p); err != nil && placeErrs[i] == nil {
					placeErrs[i] = fmt.Errorf("create place: %w", err)
				}
			}
		})
	}
	for _, p := range world.Places() {
		p.WorkspaceID = ws.ID
		placeCh <- p
	}
	close(placeCh)
	pwg.Wait()
	if err := errors.Join(placeErrs...); err != nil {
		return err
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

	// Posts are generated a chunk of batches at a time (not the store's
	// work, so not timed), then ingested as a stream: one goroutine
	// prepares each batch while writers goroutines store the ones before,
	// as that many workers would.
	const batch, chunk = 10_000, 10
	var ingestTime time.Duration
	nextLog := 1_000_000
	for stored := 0; stored < size; {
		var posts [][]*geopulse.Post
		for i := 0; i < chunk && stored < size; i++ {
			k := min(batch, size-stored)
			next := make([]*geopulse.Post, k)
			for j := range next {
				next[j] = world.Next()
			}
			posts = append(posts, next)
			stored += k
		}
		t0 := time.Now()
		prepared := make(chan *pipeline.Batch, writers)
		go func() {
			defer close(prepared)
			for _, next := range posts {
				prepared <- pl.Prepare(next)
			}
		}()
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Go(func() {
				for next := range prepared {
					if _, err := pl.Store(ctx, next); err != nil && errs[i] == nil {
						errs[i] = err
					}
				}
			})
		}
		wg.Wait()
		ingestTime += time.Since(t0)
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if stored >= nextLog {
			b.logf("%s: loaded %d posts (%s)", col, stored, rate(stored, ingestTime, "posts/s"))
			nextLog += 1_000_000
		}
	}
	writes := "1 writer"
	if writers > 1 {
		writes = fmt.Sprintf("%d writers", writers)
	}
	b.add(col, "ingest in process (pipeline → store, batches of 10,000)", label, rate(size, ingestTime, "posts/s")+" ("+writes+")", "≥ 150,000 posts/s (PostgreSQL ≥ 50,000)")
	if afterLoad != nil {
		if err := afterLoad(ctx); err != nil {
			return err
		}
	}

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
	b.add(col, "feed page (50 posts, 1 place, 30 days)", label, feed.String(), "p99 ≤ 10 ms (PostgreSQL ≤ 15 ms)")
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
	b.add(col, "analytics set (50 places, 90 days)", label, an.String(), "p99 ≤ 100 ms (PostgreSQL ≤ 250 ms)")
	b.last = load{label: label, world: world, pl: pl, key: key, wsID: ws.ID, busy: busy, rng: rng}
	return nil
}

// placeCreators is how many goroutines create places in col's store.
func placeCreators(col string) int {
	if col == colPostgres {
		return 16
	}
	return 1
}

// httpRows measures ingest over HTTP into db, first straight into the
// pipeline, then through the stream, with the world and pipeline of the
// last atSize.
func (b *bench) httpRows(ctx context.Context, col string, db geopulse.Store, size int) error {
	if b.httpPosts < 1000 {
		return nil
	}
	l := b.last
	// NDJSON batches of 1,000 from concurrent clients over loopback.
	direct, err := b.httpIngest(ctx, db, l.pl, l.pl, l.key, l.world, nil)
	if err != nil {
		return err
	}
	b.add(col, fmt.Sprintf("ingest over HTTP, direct (NDJSON × 1,000, %d clients)", b.httpClients), l.label, direct.String(), "≥ 50,000 posts/s")

	stream, err := b.streamIngest(ctx, db, l.pl, l.key, l.world)
	if err != nil {
		return err
	}
	b.add(col, "ingest over HTTP via JetStream (until stored)", l.label, stream.String(), "≥ 50,000 posts/s")
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
func (b *bench) httpIngest(ctx context.Context, db geopulse.Store, pl *pipeline.Pipeline, ingester geopulse.Ingester, key string, world *simulate.World, wait func(context.Context) error) (httpResult, error) {
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
	for range b.httpClients {
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
func (b *bench) streamIngest(ctx context.Context, db geopulse.Store, pl *pipeline.Pipeline, key string, world *simulate.World) (httpResult, error) {
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
