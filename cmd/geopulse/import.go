package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/canonical"
	"github.com/geopulse/geopulse/source/csvfile"
	"github.com/geopulse/geopulse/source/formats"
	"github.com/geopulse/geopulse/source/instagram"
)

const importUsage = `Usage:

	geopulse import [flags] FILE...

Reads posts (and compliance events) from files in any format geopulse
knows, and sends them to a running server (default) or, with --db or
--data, writes them to a store directly (stop 'geopulse serve' first when
it uses the same embedded store). Files may be gzip- or xz-compressed; the
format is detected from the content unless --format is given. Every item
gets an outcome; the import goes on past bad items and ends with a summary:
accepted, duplicates (the same post twice in this import: sent once),
rejected by reason.

Formats: %s.

Examples:

	geopulse import --key $KEY export.ndjson.gz
	geopulse import --format flickr --key $KEY page1.json page2.json
	geopulse import --format instagram-graph --at 51.5136,-0.1365,80,"Soho Café" media.json
	geopulse import --format csv --map "lat=latitude,lon=lng,source_id=id" --source myfeed posts.csv
	geopulse import --db ./data/geopulse.duckdb posts.ndjson.xz

`

// importBatch is how many items go to the server or the store at once.
const importBatch = 5000

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, importUsage, strings.Join(formats.Names(), ", ")); fs.PrintDefaults() }
	var (
		format  = fs.String("format", "", "payload format (default: detect from the content)")
		url     = fs.String("url", "http://localhost:8080", "server to send to")
		key     = fs.String("key", "", "API key of the workspace (default $GEOPULSE_API_KEY)")
		db      = fs.String("db", "", "write to this store directly instead of a server: a DuckDB file or postgres:// DSN")
		data    = fs.String("data", "", "write to the embedded store of this data directory directly")
		at      = fs.String("at", "", "attribute items without a location to a venue: LAT,LON[,RADIUS_M[,NAME]] (Instagram Graph)")
		mapping = fs.String("map", "", "CSV column mapping: field=header,… (e.g. lat=latitude,lon=lng)")
		src     = fs.String("source", "", "source name for CSV rows without a source column")
		quiet   = fs.Bool("quiet", false, "no progress line")
		places  = fs.String("places", "", "first create the places of this GeoJSON FeatureCollection (with --db/--data: in --workspace, created if missing)")
		wsName  = fs.String("workspace", "", "workspace of --places when writing to a store directly")
		workers = fs.Int("concurrency", 2, "requests in flight to the server")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return fmt.Errorf("import: no files: %w", errUsage)
	}
	var opts formats.Options
	var err error
	if opts.Venue, err = parseVenue(*at); err != nil {
		return fmt.Errorf("import: --at: %v: %w", err, errUsage)
	}
	if *mapping != "" {
		if opts.CSV, err = csvfile.ParseMapping(*mapping); err != nil {
			return fmt.Errorf("import: --map: %v: %w", err, errUsage)
		}
	}
	opts.Source = *src
	var fixed *source.Format
	if *format != "" {
		f, err := formats.Lookup(*format, opts)
		if err != nil {
			return fmt.Errorf("import: --format: %v: %w", err, errUsage)
		}
		fixed = &f
	}

	var sink importSink
	if *db != "" || *data != "" {
		cfg := DefaultConfig()
		cfg.DB = *db
		if *data != "" {
			cfg.DataDir = *data
		}
		logger := newLogger(cfg, stderr)
		store, err := openStore(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer store.Close()
		an, err := loadText(cfg, logger)
		if err != nil {
			return err
		}
		pl, err := pipeline.New(ctx, store, pipeline.Options{Logger: logger, Text: an})
		if err != nil {
			return err
		}
		if *places != "" {
			if err := importPlacesToStore(ctx, store, pl, *wsName, *places, stderr); err != nil {
				return err
			}
		}
		sink = &storeSink{pl: pl}
		*workers = 1 // one writer: the store serialises writes anyway
	} else {
		k := cmp.Or(*key, os.Getenv("GEOPULSE_API_KEY"))
		if k == "" {
			return fmt.Errorf("import: --key (or GEOPULSE_API_KEY) is required to send to a server, or give --db: %w", errUsage)
		}
		c := &client{base: strings.TrimRight(*url, "/"), key: k, http: &nethttp.Client{Timeout: 5 * time.Minute}}
		if *places != "" {
			data, err := os.ReadFile(*places)
			if err != nil {
				return fmt.Errorf("import: --places: %w", err)
			}
			var res struct{ Created, Rejected int }
			if err := c.do(ctx, "/v1/places/import", "application/geo+json", data, &res); err != nil {
				return fmt.Errorf("import: --places: %w", err)
			}
			fmt.Fprintf(stderr, "places: %d created, %d rejected\n", res.Created, res.Rejected)
		}
		sink = &serverSink{c: c}
	}

	im := &importer{sink: sink, stderr: stderr, workers: max(1, *workers), progress: !*quiet,
		seen: map[int64]struct{}{}, reasons: map[string]int64{}}
	start := time.Now()
	for _, path := range files {
		if err := im.file(ctx, path, fixed, opts); err != nil {
			im.summary(stdout, time.Since(start))
			return err
		}
	}
	im.summary(stdout, time.Since(start))
	return nil
}

// importPlacesToStore creates the places of a FeatureCollection file in a
// workspace of the store (created when missing).
func importPlacesToStore(ctx context.Context, store geopulse.Store, pl *pipeline.Pipeline, wsName, path string, stderr io.Writer) error {
	if wsName == "" {
		return fmt.Errorf("import: --places with --db/--data needs --workspace: %w", errUsage)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import: --places: %w", err)
	}
	ws, err := store.FindWorkspaceByName(ctx, wsName)
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		ws = &geopulse.Workspace{Name: wsName}
		err = store.CreateWorkspace(ctx, ws)
	}
	if err != nil {
		return fmt.Errorf("import: workspace %q: %w", wsName, err)
	}
	places, errs := geo.ParseFeatureCollection(data)
	created := 0
	for _, p := range places {
		if p == nil {
			continue
		}
		p.WorkspaceID = ws.ID
		if err := pl.Places().CreatePlace(ctx, p); err != nil {
			errs = append(errs, err)
			continue
		}
		created++
	}
	rejected := 0
	for _, err := range errs {
		if err != nil {
			rejected++
		}
	}
	fmt.Fprintf(stderr, "places: %d created in workspace %q, %d rejected\n", created, wsName, rejected)
	return nil
}

// parseVenue reads LAT,LON[,RADIUS_M[,NAME]].
func parseVenue(s string) (*instagram.Venue, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.SplitN(s, ",", 4)
	if len(parts) < 2 {
		return nil, errors.New("want LAT,LON[,RADIUS_M[,NAME]]")
	}
	v := &instagram.Venue{RadiusM: 50}
	var err error
	if v.Lat, err = strconv.ParseFloat(strings.TrimSpace(parts[0]), 64); err != nil || v.Lat < -90 || v.Lat > 90 {
		return nil, fmt.Errorf("latitude %q is not a number within ±90", parts[0])
	}
	if v.Lon, err = strconv.ParseFloat(strings.TrimSpace(parts[1]), 64); err != nil || v.Lon < -180 || v.Lon > 180 {
		return nil, fmt.Errorf("longitude %q is not a number within ±180", parts[1])
	}
	if len(parts) > 2 {
		if v.RadiusM, err = strconv.ParseFloat(strings.TrimSpace(parts[2]), 64); err != nil || !(v.RadiusM > 0 && v.RadiusM <= 50_000) {
			return nil, fmt.Errorf("radius %q is not a number of metres between 0 and 50,000", parts[2])
		}
	}
	if len(parts) > 3 {
		v.Name = strings.TrimSpace(parts[3])
	}
	return v, nil
}

// importSink is where decoded items go. prepare runs on the decoding
// goroutine as a job is queued, so a sink's CPU work on one job overlaps
// the sending of the one before; send returns one error per post and per
// event (nil: accepted), and a non-nil error fails the import.
type importSink interface {
	prepare(job *importJob)
	send(ctx context.Context, job importJob) (perr, eerr []error, err error)
}

// storeSink writes through a pipeline in this process, one job at a time
// (the store serialises writes anyway) and in the file's order.
type storeSink struct{ pl *pipeline.Pipeline }

func (s *storeSink) prepare(job *importJob) {
	if len(job.posts) > 0 {
		job.batch = s.pl.Prepare(job.posts)
	}
}

func (s *storeSink) send(ctx context.Context, job importJob) ([]error, []error, error) {
	var perr, eerr []error
	var err error
	if job.batch != nil {
		if perr, err = s.pl.Store(ctx, job.batch); err != nil {
			return nil, nil, err
		}
	}
	if len(job.events) > 0 {
		if eerr, err = s.pl.Comply(ctx, job.events); err != nil {
			return nil, nil, err
		}
	}
	return perr, eerr, nil
}

// serverSink posts canonical NDJSON to POST /v1/posts and reads the
// per-item answers; a 429 is retried after the server's Retry-After.
type serverSink struct{ c *client }

func (s *serverSink) prepare(job *importJob) {
	job.body = make([]byte, 0, 700*len(job.posts)+200*len(job.events))
	for _, p := range job.posts {
		job.body = append(canonical.AppendJSON(job.body, p), '\n')
	}
	for _, ev := range job.events {
		job.body = append(canonical.AppendEventJSON(job.body, ev), '\n')
	}
}

func (s *serverSink) send(ctx context.Context, job importJob) ([]error, []error, error) {
	posts, events, body := job.posts, job.events, job.body
	var res struct {
		Items []struct {
			Index                 int
			Code, Reason, Message string
		}
	}
	for attempt := 0; ; attempt++ {
		wait, err := s.post(ctx, body, &res)
		if err == nil {
			break
		}
		if wait == 0 || attempt == 20 {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	perr, eerr := make([]error, len(posts)), make([]error, len(events))
	for _, it := range res.Items {
		e := &geopulse.Error{Code: it.Code, Reason: it.Reason, Message: it.Message}
		switch {
		case it.Index < len(posts):
			perr[it.Index] = e
		case it.Index-len(posts) < len(events):
			eerr[it.Index-len(posts)] = e
		}
	}
	return perr, eerr, nil
}

// post sends one body; on 429 or 503 it returns how long to wait.
func (s *serverSink) post(ctx context.Context, body []byte, out any) (time.Duration, error) {
	req, err := nethttp.NewRequestWithContext(ctx, "POST", s.c.base+"/v1/posts?quiet=1", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.c.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("send to %s: %w", s.c.base, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	switch {
	case resp.StatusCode == nethttp.StatusTooManyRequests || resp.StatusCode == nethttp.StatusServiceUnavailable:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(max(1, secs)) * time.Second, fmt.Errorf("server busy: %s", resp.Status)
	case resp.StatusCode >= 300:
		return 0, fmt.Errorf("POST /v1/posts: %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	return 0, json.Unmarshal(data, out)
}

// importer decodes files into batches, sends them with a few workers and
// keeps the counts.
type importer struct {
	sink     importSink
	stderr   io.Writer
	workers  int
	progress bool

	seen map[int64]struct{} // posts of this import, to count duplicates

	mu                          sync.Mutex
	items, accepted, duplicates int64
	events, eventsApplied       int64
	reasons                     map[string]int64
	firstErrs                   []string
	bytesRead                   atomic.Int64
}

type importJob struct {
	posts  []*geopulse.Post
	events []*geopulse.ComplianceEvent
	// pidx and eidx are the items' positions in the file, for messages.
	pidx, eidx []int
	// What the sink prepared: the pipeline's batch of the posts (store),
	// or the request body (server).
	batch *pipeline.Batch
	body  []byte
}

// countingReader counts the (compressed) bytes read from a file, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (im *importer) file(ctx context.Context, path string, fixed *source.Format, opts formats.Options) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	im.bytesRead.Store(0)
	br, compression, err := formats.Decompress(countingReader{f, &im.bytesRead})
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	var format source.Format
	if fixed != nil {
		format = *fixed
	} else {
		head, err := formats.Head(br)
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
		if format, err = formats.Detect(head, opts); err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
	}
	fmt.Fprintf(im.stderr, "import %s: format %s%s, %s\n", path, format.Name, ifThen(compression != "", ", "+compression, ""), byteSize(st.Size()))

	jobs := make(chan importJob, im.workers)
	var wg sync.WaitGroup
	var sendErr error
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range im.workers {
		wg.Go(func() {
			for job := range jobs {
				if err := im.send(ctx, job); err != nil {
					errOnce.Do(func() { sendErr = err; cancel() })
				}
			}
		})
	}
	stopProgress := im.showProgress(path, st.Size())

	job := importJob{}
	decodeErr := format.Decode(br, func(it source.Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		im.mu.Lock()
		im.items++
		switch {
		case it.Err != nil:
			im.reject(it.Index, it.Err)
		case it.Event != nil:
			im.events++
			job.events, job.eidx = append(job.events, it.Event), append(job.eidx, it.Index)
		case it.Post != nil:
			id := geopulse.PostID(it.Post.Source, it.Post.SourceID)
			if _, dup := im.seen[id]; dup {
				im.duplicates++
				break
			}
			im.seen[id] = struct{}{}
			job.posts, job.pidx = append(job.posts, it.Post), append(job.pidx, it.Index)
		}
		im.mu.Unlock()
		if len(job.posts)+len(job.events) >= importBatch {
			im.sink.prepare(&job)
			select {
			case jobs <- job:
			case <-ctx.Done():
				return ctx.Err()
			}
			job = importJob{}
		}
		return nil
	})
	if decodeErr == nil && len(job.posts)+len(job.events) > 0 {
		im.sink.prepare(&job)
		select {
		case jobs <- job:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	stopProgress()
	switch {
	case sendErr != nil:
		return fmt.Errorf("import %s: %w", path, sendErr)
	case decodeErr != nil:
		// The items before the failure are in; say where it stopped.
		return fmt.Errorf("import %s: stopped after %d items: %w", path, im.items, decodeErr)
	}
	return nil
}

func (im *importer) send(ctx context.Context, job importJob) error {
	perr, eerr, err := im.sink.send(ctx, job)
	if err != nil {
		return err
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	for i, err := range perr {
		if err != nil {
			im.reject(job.pidx[i], err)
			continue
		}
		im.accepted++
	}
	for i, err := range eerr {
		if err != nil {
			im.reject(job.eidx[i], err)
			continue
		}
		im.eventsApplied++
	}
	return nil
}

// reject counts a rejection by reason and keeps the first few messages.
// Called with mu held.
func (im *importer) reject(index int, err error) {
	reason := cmp.Or(geopulse.ErrorReason(err), geopulse.ErrorCode(err))
	im.reasons[reason]++
	if len(im.firstErrs) < 5 {
		where := ""
		if index >= 0 {
			where = fmt.Sprintf("item %d: ", index)
		}
		im.firstErrs = append(im.firstErrs, where+geopulse.ErrorMessage(err))
	}
}

// showProgress prints a progress line: redrawn in place on a terminal,
// every few seconds otherwise. It returns a stop function.
func (im *importer) showProgress(path string, size int64) func() {
	if !im.progress {
		return func() {}
	}
	tty := isTerminal(im.stderr)
	every := 5 * time.Second
	if tty {
		every = 200 * time.Millisecond
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	line := func(final bool) {
		im.mu.Lock()
		items, accepted := im.items, im.accepted
		im.mu.Unlock()
		read := im.bytesRead.Load()
		pct := 100.0
		if size > 0 && !final {
			pct = min(100, 100*float64(read)/float64(size))
		}
		rate := float64(items) / max(time.Since(start).Seconds(), 1e-3)
		bar := strings.Repeat("█", int(pct/5)) + strings.Repeat("░", 20-int(pct/5))
		msg := fmt.Sprintf("%s %3.0f%% %s/%s  %d items, %d accepted  %.0f items/s", bar, pct, byteSize(read), byteSize(size), items, accepted, rate)
		if tty {
			fmt.Fprintf(im.stderr, "\r\033[K%s", msg)
			if final {
				fmt.Fprintln(im.stderr)
			}
		} else {
			fmt.Fprintf(im.stderr, "import %s: %s\n", path, msg)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				line(true)
				return
			case <-t.C:
				line(false)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (im *importer) summary(w io.Writer, took time.Duration) {
	im.mu.Lock()
	defer im.mu.Unlock()
	var rejected int64
	for _, n := range im.reasons {
		rejected += n
	}
	fmt.Fprintf(w, "imported %d items in %s (%.0f items/s): %d posts accepted, %d duplicates, %d rejected",
		im.items, took.Round(time.Millisecond), float64(im.items)/max(took.Seconds(), 1e-3), im.accepted, im.duplicates, rejected)
	if im.events > 0 {
		fmt.Fprintf(w, ", %d compliance events applied", im.eventsApplied)
	}
	fmt.Fprintln(w)
	reasons := make([]string, 0, len(im.reasons))
	for r := range im.reasons {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(im.reasons[b], im.reasons[a]), cmp.Compare(a, b)) })
	for _, r := range reasons {
		fmt.Fprintf(w, "  rejected %-22s %d\n", r, im.reasons[r])
	}
	for _, m := range im.firstErrs {
		fmt.Fprintf(w, "  e.g. %s\n", m)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func ifThen(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
