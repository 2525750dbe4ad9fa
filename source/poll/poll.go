package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/prometheus/client_golang/prometheus"
)

// Sink is where decoded items go; the caller wires it to intake. Items
// whose Err is set are sent too, so that every page entry gets an outcome.
type Sink interface {
	// Submit returns nil only once every item is durably accepted (or
	// durably rejected with its own error); only then does a poller move
	// its cursor past them. Any error means "not taken": the page is
	// fetched again in a later round.
	Submit(ctx context.Context, items []source.Item) error
}

// CursorStore keeps each target's position between rounds and restarts.
type CursorStore interface {
	// Load returns the value saved under key, or a *geopulse.Error with
	// code ENOTFOUND when there is none.
	Load(ctx context.Context, key string) (string, error)
	// Save stores value under key durably before it returns.
	Save(ctx context.Context, key, value string) error
}

// Target is one place a poller asks about. A bounding box (MinLat <
// MaxLat) takes precedence over a circle (Lat, Lon, RadiusM).
// Targets come from the workspace's places, not from configuration files.
type Target struct {
	PlaceID                        int64
	Name                           string
	MinLat, MinLon, MaxLat, MaxLon float64
	Lat, Lon, RadiusM              float64
}

// haversineKM is the great-circle distance between two points.
func haversineKM(lat1, lon1, lat2, lon2 float64) float64 {
	const earthKM = 6371.0088
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKM * math.Asin(math.Sqrt(min(a, 1)))
}

func (t Target) hasBox() bool    { return t.MinLat < t.MaxLat && t.MinLon < t.MaxLon }
func (t Target) hasCircle() bool { return t.RadiusM > 0 }

// Schedule is how often and how far a poller goes.
type Schedule struct {
	// Interval is the pause between the end of one round over all targets
	// and the start of the next.
	Interval time.Duration `yaml:"interval"`
	// RequestGap is the least time between two requests of this poller.
	RequestGap time.Duration `yaml:"request_gap"`
	// Backfill is how far back a target's first round reaches.
	Backfill time.Duration `yaml:"backfill"`
	// MaxPages bounds the pages one target fetches per round, so that a
	// busy target cannot starve the others; the cursor resumes the rest in
	// the next round.
	MaxPages int `yaml:"max_pages"`
}

func (s *Schedule) defaults(interval time.Duration) {
	if s.Interval <= 0 {
		s.Interval = interval
	}
	if s.RequestGap <= 0 {
		s.RequestGap = time.Second
	}
	if s.Backfill <= 0 {
		s.Backfill = 24 * time.Hour
	}
	if s.MaxPages <= 0 {
		s.MaxPages = 10
	}
}

// secret returns a credential given inline (value) or, better, as the
// path of a file that holds it (read once, when the poller is built).
// Errors name the setting and the path, never the content.
func secret(name, value, file string) (string, error) {
	switch {
	case value != "" && file != "":
		return "", geopulse.Errorf(geopulse.EINVALID, "%s: set %s or %s_file, not both", name, name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", geopulse.Errorf(geopulse.EINVALID, "%s_file: %v", name, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", geopulse.Errorf(geopulse.EINVALID, "%s_file: %s is empty", name, file)
		}
		return v, nil
	case value != "":
		return value, nil
	}
	return "", geopulse.Errorf(geopulse.EINVALID, "%s: missing (set %s or %s_file)", name, name, name)
}

// Config is what one workspace polls. A nil platform is not polled.
type Config struct {
	// Workspace namespaces the cursors: two workspaces that poll the same
	// place keep positions of their own.
	Workspace int64            `yaml:"-"`
	Flickr    *FlickrConfig    `yaml:"flickr"`
	X         *XConfig         `yaml:"x"`
	Instagram *InstagramConfig `yaml:"instagram"`
}

// Decoders turn a platform's page into items. They are injected so that
// this package depends on no platform decoder; cmd/geopulse wires
// source/flickr, source/x and source/instagram.
type Decoders struct {
	Flickr source.DecodeFunc
	X      source.DecodeFunc
	// Instagram returns the decoder that attributes media to venue: the
	// Graph API reports no location of its own.
	Instagram func(venue Target) source.DecodeFunc
}

// Options are a Poller's dependencies.
type Options struct {
	Sink     Sink
	Cursors  CursorStore
	Decoders Decoders
	// Client sends the requests; nil: a client with a 60 s timeout.
	Client     *http.Client
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics kept but not exported

	// Now and Sleep are the clock; defaults time.Now and a timer that ends
	// early, with ctx's error, when ctx does. Tests inject both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d); default math/rand/v2.
	Jitter func(d time.Duration) time.Duration

	// MaxRetries is how often one request is retried after a 429, a 5xx or
	// a transport error before the target is skipped for the round;
	// default 5.
	MaxRetries int
	// Backoff is the first retry's ceiling, doubling per retry up to
	// MaxBackoff (full jitter: the wait is uniform below the ceiling);
	// defaults 2 s and 5 min.
	Backoff, MaxBackoff time.Duration
	// MaxWait caps any wait a server asks for (Retry-After, a rate-limit
	// reset), so a bogus header cannot park a poller for days; default 1 h.
	MaxWait time.Duration
}

func (o *Options) defaults() {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: time.Minute}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Hour
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Poller polls every configured platform of one workspace.
type Poller struct {
	runners []*runner
	// mentions is the Instagram runner's mention queue; nil without
	// Instagram, when every mention is for an unknown account.
	mentions *mentionQueue
	log      *slog.Logger
	m        *metrics
}

// New checks cfg, reads its secret files and returns a Poller. Errors are
// EINVALID, all of them joined.
func New(cfg Config, opts Options) (*Poller, error) {
	opts.defaults()
	var errs []error
	if opts.Sink == nil {
		errs = append(errs, geopulse.Errorf(geopulse.EINVALID, "poll: no sink"))
	}
	if opts.Cursors == nil {
		errs = append(errs, geopulse.Errorf(geopulse.EINVALID, "poll: no cursor store"))
	}
	m := newMetrics(opts.Registerer)
	p := &Poller{log: opts.Logger.With(keyPoller, "instagram"), m: m}
	add := func(r *runner, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		p.runners = append(p.runners, r)
	}
	base := func(name string, s Schedule, secret string) *runner {
		return &runner{
			name:     name,
			prefix:   fmt.Sprintf("%d/%s/", cfg.Workspace, name),
			schedule: s,
			sink:     opts.Sink,
			cursors:  opts.Cursors,
			log:      opts.Logger.With(keyPoller, name),
			m:        m,
			now:      opts.Now,
			sleep:    opts.Sleep,
			client:   newClient(name, s.RequestGap, secret, &opts, m),
		}
	}
	if cfg.Flickr != nil {
		add(newFlickr(*cfg.Flickr, opts.Decoders.Flickr, base))
	}
	if cfg.X != nil {
		add(newX(*cfg.X, opts.Decoders.X, base))
	}
	if cfg.Instagram != nil {
		r, err := newInstagram(*cfg.Instagram, opts.Decoders.Instagram, base)
		add(r, err)
		if r != nil {
			p.mentions = r.mentions
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Run polls every platform concurrently, each in rounds over its targets
// with its Interval between rounds, until ctx is done; then it returns nil.
// Errors are logged and counted per target: a poller never stops on its
// own. Instagram mentions (see Mentioned) are fetched as they come, between
// targets and between rounds; when Run stops, the mentions still queued
// are saved with the cursors and the next Run fetches them.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, r := range p.runners {
		wg.Go(func() { r.run(ctx) })
	}
	wg.Wait()
	return nil
}

// Poll runs one round of every platform, one after the other, and returns
// the targets' errors joined. The round fetches the Instagram mentions
// queued before it and those held for a retry, too. It must not run while
// Run does: each platform's politeness state belongs to one caller at a
// time.
func (p *Poller) Poll(ctx context.Context) error {
	var errs []error
	for _, r := range p.runners {
		errs = append(errs, r.round(ctx))
	}
	return errors.Join(errs...)
}

// target is one cursor's worth of polling: a place, a query, a venue edge.
type target struct {
	key  string // the cursor key, without the workspace prefix; logged
	poll func(ctx context.Context) error
}

// runner is the part every platform shares: the round loop, cursors,
// submission and accounting.
type runner struct {
	name     string
	prefix   string
	schedule Schedule
	targets  []target
	client   *client
	sink     Sink
	cursors  CursorStore
	log      *slog.Logger
	m        *metrics
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	// mentions, when set, is work pushed from outside the rounds
	// (Instagram mentions). This goroutine does it, between targets and
	// while idle, so that the client keeps a single user.
	mentions *mentionQueue
}

func (r *runner) run(ctx context.Context) {
	if q := r.mentions; q != nil {
		q.restore(ctx)
		defer q.stop(ctx)
	}
	for {
		_ = r.round(ctx) // logged per target
		if r.idle(ctx, r.schedule.Interval) != nil {
			return
		}
	}
}

// idle waits d for the next round. With a mention queue it fetches
// mentions as they arrive meanwhile (unless the sink just refused one:
// then the queue waits for the round too).
func (r *runner) idle(ctx context.Context, d time.Duration) error {
	q := r.mentions
	if q == nil {
		return r.sleep(ctx, d)
	}
	end := r.now().Add(d)
	for {
		left := end.Sub(r.now())
		if left <= 0 {
			return ctx.Err()
		}
		if q.stalled {
			return r.sleep(ctx, left)
		}
		// The injected Sleep cannot be selected on; it runs aside, and a
		// mention cancels it.
		sctx, cancel := context.WithCancel(ctx)
		slept := make(chan error, 1)
		go func() { slept <- r.sleep(sctx, left) }()
		select {
		case err := <-slept:
			cancel()
			return err
		case m := <-q.queue:
			cancel()
			<-slept
			_ = q.handle(ctx, m) // logged there
			_ = q.drain(ctx)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

// round polls every target once. A target's failure skips that target; a
// sink or cursor failure ends the round, since every further page would
// be fetched (spending quota) only to be fetched again. Mentions are
// fetched first (those held from earlier rounds too) and before each
// target, so that a long round does not keep them waiting.
func (r *runner) round(ctx context.Context) error {
	var errs []error
	if q := r.mentions; q != nil {
		q.stalled = false
		errs = append(errs, q.retryHeld(ctx))
	}
	for _, t := range r.targets {
		if r.mentions != nil {
			errs = append(errs, r.mentions.drain(ctx))
		}
		if ctx.Err() != nil {
			break
		}
		err := t.poll(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		reason := reasonOf(err)
		r.m.errors.WithLabelValues(r.name, reason).Inc()
		r.log.Warn("poll target skipped this round", slog.String(keyTarget, t.key), slog.Any(keyError, err))
		errs = append(errs, fmt.Errorf("%s %s: %w", r.name, t.key, err))
		if reason == reasonSink || reason == reasonCursor {
			break
		}
	}
	return errors.Join(errs...)
}

// targetError tags an error with the reason label it is counted under.
type targetError struct {
	reason string
	err    error
}

func (e *targetError) Error() string { return e.err.Error() }
func (e *targetError) Unwrap() error { return e.err }

func fail(reason string, err error) error { return &targetError{reason: reason, err: err} }

func reasonOf(err error) string {
	var te *targetError
	if errors.As(err, &te) {
		return te.reason
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return reasonAPI
	}
	return reasonTransport
}

// load reads key's cursor into v and reports whether there was one.
func (r *runner) load(ctx context.Context, key string, v any) (bool, error) {
	s, err := r.cursors.Load(ctx, r.prefix+key)
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, fail(reasonCursor, fmt.Errorf("load cursor: %w", err))
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		// A cursor this package cannot read was not written by it; starting
		// over from the backfill window repeats posts but loses none.
		r.log.Warn("poll cursor unreadable; starting over", slog.String(keyTarget, key), slog.Any(keyError, err))
		return false, nil
	}
	return true, nil
}

// save stores v under key. It runs even when ctx has just been cancelled:
// the items it covers were accepted, and forgetting that would repeat them.
func (r *runner) save(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(reasonCursor, fmt.Errorf("encode cursor: %w", err))
	}
	if err := r.cursors.Save(context.WithoutCancel(ctx), r.prefix+key, string(b)); err != nil {
		return fail(reasonCursor, fmt.Errorf("save cursor: %w", err))
	}
	return nil
}

// submit decodes a page, drops the entries seen before (repeat reports
// them by their index in the page) and hands the rest to the sink. It
// returns the decoder's own error for the page, which callers only log:
// whether a page can be resumed from is decided by its envelope.
func (r *runner) submit(ctx context.Context, decode source.DecodeFunc, page []byte, repeat func(i int) bool) (decodeErr, err error) {
	var items []source.Item
	var repeats int
	decodeErr = decode(bytes.NewReader(page), func(it source.Item) error {
		if repeat != nil && repeat(it.Index) {
			repeats++
			return nil
		}
		items = append(items, it)
		return nil
	})
	if len(items) > 0 {
		if err := r.sink.Submit(ctx, items); err != nil {
			return decodeErr, fail(reasonSink, fmt.Errorf("submit %d items: %w", len(items), err))
		}
		r.log.Debug("poll page submitted", slog.Int(keyItems, len(items)))
	}
	r.count(items, repeats) // only once taken: a refused page is counted when it is taken
	return decodeErr, nil
}

func (r *runner) count(items []source.Item, repeats int) {
	var posts, events, invalid int
	for _, it := range items {
		switch {
		case it.Err != nil:
			invalid++
		case it.Event != nil:
			events++
		default:
			posts++
		}
	}
	for result, n := range map[string]int{"post": posts, "event": events, "invalid": invalid, "repeat": repeats} {
		if n > 0 {
			r.m.items.WithLabelValues(r.name, result).Add(float64(n))
		}
	}
}

// malformed reports a page whose envelope could not be read. The items the
// decoder delimited were sent; the cursor stays where it was, so the page
// is fetched again next round: a truncated answer heals, and a page that
// stays broken shows as a steady error rather than as a silent gap.
func malformed(err error) error {
	return fail(reasonMalformed, fmt.Errorf("malformed page: %w", err))
}
