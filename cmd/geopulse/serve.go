package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/http"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/postgres"
	"github.com/geopulse/geopulse/privacy"
	"github.com/geopulse/geopulse/source/poll"
	"github.com/geopulse/geopulse/text"
	natsgo "github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Roles of the binary (see README "Scaling out").
const (
	roleServe  = "serve"  // everything in one process, embedded NATS by default
	roleAPI    = "api"    // HTTP API and intake (publisher)
	roleWorker = "worker" // pipeline workers and the janitor
)

// Main is the running program: store, pipeline, stream, HTTP server, workers
// and background jobs, wired from a Config for one role. End-to-end tests
// start it on ":0".
type Main struct {
	Config Config
	// Role is roleServe (the default when empty), roleAPI or roleWorker.
	Role   string
	Logger *slog.Logger
	Stdout io.Writer // where the demo prints its key

	// Store, if set before Open, is used instead of opening the configured
	// one, and is not closed by Close (tests run two roles on one store).
	Store     geopulse.Store
	Pipeline  *pipeline.Pipeline
	Registry  *prometheus.Registry
	Stream    *gpnats.Stream
	Publisher *gpnats.Publisher // serve and api roles
	Text      *text.Analyzer    // nil without `make ml-assets`

	// DemoKey is the API key of the demo workspace, set when demo mode starts.
	DemoKey string

	ownStore    bool
	natsServer  *gpnats.Server
	server      *nethttp.Server
	api         *http.Server // the API behind server; Close flushes its audit log
	ln          net.Listener
	cancel      context.CancelFunc // background jobs: demo, janitor
	wg          sync.WaitGroup
	stopWork    context.CancelFunc // workers
	stopNotices func()             // place-change notices (worker role)
	pollersMu   sync.Mutex
	pollers     []*poll.Poller // pollers of this process, for webhook mentions
	workers     sync.WaitGroup
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard}
}

func (m *Main) role() string {
	if m.Role == "" {
		return roleServe
	}
	return m.Role
}

// Open opens the store, builds the pipeline, connects to (or starts) NATS,
// starts listening and starts the workers and background jobs the role
// runs. It returns once the server accepts connections.
func (m *Main) Open(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	role := m.role()
	if role != roleServe && role != roleAPI && role != roleWorker {
		return fmt.Errorf("unknown role %q", role)
	}
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if m.Store == nil {
		if m.Store, err = openStore(ctx, m.Config, m.Logger); err != nil {
			return err
		}
		m.ownStore = true
	}
	if m.Text, err = loadText(m.Config, m.Logger); err != nil {
		return err
	}
	m.Pipeline, err = pipeline.New(ctx, m.Store, pipeline.Options{Logger: m.Logger, Registerer: m.Registry, Text: m.Text})
	if err != nil {
		return err
	}
	if err := m.openStream(ctx); err != nil {
		return err
	}
	m.Registry.MustRegister(m.Stream.Collector())

	var handler nethttp.Handler
	if role == roleWorker {
		handler = m.probes()
	} else {
		m.Publisher = gpnats.NewPublisher(m.Stream, gpnats.PublisherOptions{
			Gate: pipeline.IntakeCheck{Blocklist: m.Pipeline.Blocklist()}, MaxLag: m.Config.IntakeMaxLag, Logger: m.Logger, Registerer: m.Registry,
		})
		hooks, instagramHook, err := m.Config.Sources.hooks()
		if err != nil {
			return err
		}
		if instagramHook != nil {
			instagramHook.Mentioned = m.instagramMentioned
		}
		var places geopulse.PlaceService = m.Pipeline.Places()
		if role == roleAPI {
			places = notifyingPlaces{PlaceService: places, stream: m.Stream, logger: m.Logger}
		}
		srv := &http.Server{
			Logger:     m.Logger,
			Registerer: m.Registry,
			Workspaces: m.Store,
			Places:     places,
			Posts:      m.Store,
			Analytics:  m.Store,
			Audiences:  audienceService(m.Config, m.Store, m.Logger),
			Ingester:   m.Publisher,
			Complier:   m.Publisher,
			Hooks:      hooks,
			Compliance: m.Store,
			Audit:      m.Store,
			Subjects: &privacy.Subjects{Store: m.Store, Stream: m.Stream, Blocklist: m.Pipeline.Blocklist(),
				Logger: m.Logger},
			Instagram:   instagramHook,
			Ready:       m.ready,
			AdminToken:  m.Config.AdminToken,
			KeyRate:     m.Config.KeyRate,
			DeadLetters: deadLetterService{m.Stream},
			Dashboard:   m.Config.dashboard(),
		}
		m.api = srv
		m.server = srv.HTTPServer(m.Config.Addr)
		handler = m.server.Handler
	}
	if m.ln, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	if m.server == nil {
		m.server = &nethttp.Server{ReadHeaderTimeout: 10 * time.Second}
	}
	root := nethttp.NewServeMux()
	root.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	var media *demoMedia
	if role == roleServe && m.Config.Demo.Enabled && m.Config.Demo.MediaDir != "off" {
		if media = newDemoMedia(m.Config.Demo.MediaDir); media != nil {
			// The address the demo tells the user to open, so the dashboard
			// shows the photos as its own ('self' in its img-src policy).
			media.base = m.URL()
			root.Handle("GET /demo/media/{name}", media)
			// The vision workers refuse loopback (SSRF) unless told: this
			// one address, for the demo's own photos.
			m.Config.Vision.Fetch.AllowNets = append(m.Config.Vision.Fetch.AllowNets, "127.0.0.1/32", "::1/128")
			m.Logger.Info("demo photos for the vision workers", "dir", media.dir, "photos", len(media.files))
		}
	}
	root.Handle("/", handler)
	m.server.Handler = root

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.goRun(func() {
		if err := m.server.Serve(m.ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			m.Logger.Error("http server stopped", "error", err)
		}
	})
	// Other processes apply compliance events too; what they forbid
	// reaches this one's gate within the interval.
	m.goRun(func() { m.Pipeline.Blocklist().Run(bg, blocklistRefresh, m.Logger) })
	if role != roleAPI {
		if err := m.startWorkers(ctx); err != nil {
			return err
		}
		janitor := &privacy.Janitor{Posts: m.Store, Interval: m.Config.JanitorInterval, Logger: m.Logger}
		m.goRun(func() { janitor.Run(bg) })
		profiler := &pipeline.Profiler{Store: m.Store, Logger: m.Logger, Registerer: m.Registry}
		m.goRun(func() { profiler.Run(bg) })
		if err := m.startRetention(ctx, bg); err != nil {
			return err
		}
	}

	if role == roleServe || (role == roleAPI && m.Config.Sources.RunPollers) {
		if err := m.startPollers(ctx, bg); err != nil {
			return err
		}
	}

	if role == roleServe && m.Config.Demo.Enabled {
		demo := &demo{cfg: m.Config.Demo, store: m.Store, places: m.Pipeline.Places(), ingester: m.Publisher,
			drain: m.Stream.WaitDrained, logger: m.Logger, media: media}
		if m.DemoKey, err = demo.setup(ctx, m.Stdout, m.URL()); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		m.goRun(func() { demo.stream(bg) })
	}
	m.Logger.Info("geopulse serving", "role", role, "addr", m.ln.Addr().String(), "store", m.storeName(), "nats", m.natsName())
	return nil
}

// blocklistRefresh is how often a process reloads the suppression list and
// tombstones that other processes may have added.
const blocklistRefresh = 10 * time.Second

// openStream starts the embedded NATS server (serve without --nats) or
// dials the configured one, and sets up the streams.
func (m *Main) openStream(ctx context.Context) error {
	var nc *natsgo.Conn
	var err error
	name := "geopulse-" + m.role()
	if m.Config.NATS == "" {
		if m.role() != roleServe {
			return fmt.Errorf("%s: --nats URL is required (only serve runs an embedded NATS server)", m.role())
		}
		always, interval, err := m.Config.natsSync()
		if err != nil {
			return err
		}
		m.natsServer, err = gpnats.StartServer(gpnats.ServerOptions{
			Dir: m.Config.natsDir(), SyncAlways: always, SyncInterval: interval, Logger: m.Logger,
		})
		if err != nil {
			return err
		}
		if nc, err = m.natsServer.Connect(name); err != nil {
			return fmt.Errorf("connect to embedded nats: %w", err)
		}
	} else if nc, err = gpnats.Dial(m.Config.NATS, name, m.Logger); err != nil {
		return err
	}
	if m.Stream, err = gpnats.Open(ctx, nc, m.Config.streamConfig(), m.Logger); err != nil {
		nc.Close()
		return fmt.Errorf("open stream: %w", err)
	}
	return nil
}

// startWorkers runs the pipeline workers until Close stops them. In serve
// they share the API's pipeline, whose index every place write refreshes;
// a worker process reloads its pipeline when an api process says places
// changed.
func (m *Main) startWorkers(ctx context.Context) error {
	if m.role() == roleWorker {
		stop, err := m.Stream.OnPlacesChanged(func(c gpnats.PlaceChange) {
			placesChanged(context.Background(), m.Pipeline, c, m.Logger)
		})
		if err != nil {
			return err
		}
		m.stopNotices = stop
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopWork = stop
	vision, err := m.startVision(wctx)
	if err != nil {
		return err
	}
	w := gpnats.NewWorker(m.Stream, gpnats.WorkerOptions{
		Ingester: m.Pipeline, Complier: m.Pipeline, Concurrency: m.Config.WorkerConcurrency, Vision: vision,
		Logger: m.Logger, Registerer: m.Registry,
	})
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		if err := w.Run(wctx); err != nil {
			m.Logger.Error("workers stopped", "error", err)
		}
	}()
	return nil
}

// ready is /readyz: the store answers and the stream is reachable.
func (m *Main) ready(ctx context.Context) error {
	if _, err := m.Store.FindWorkspaceByID(ctx, 0); err != nil && geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
		return fmt.Errorf("store: %w", err)
	}
	return m.Stream.Ready(ctx)
}

// probes is the worker role's HTTP surface: health and readiness (metrics
// are mounted next to it, as for every role).
func (m *Main) probes() nethttp.Handler {
	mux := nethttp.NewServeMux()
	status := func(w nethttp.ResponseWriter, code int, s string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintf(w, "{\"status\":%q}\n", s)
	}
	mux.HandleFunc("GET /healthz", func(w nethttp.ResponseWriter, r *nethttp.Request) { status(w, 200, "ok") })
	mux.HandleFunc("GET /readyz", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if err := m.ready(r.Context()); err != nil {
			m.Logger.Warn("not ready", "error", err)
			status(w, nethttp.StatusServiceUnavailable, "unavailable")
			return
		}
		status(w, 200, "ready")
	})
	return mux
}

func (m *Main) goRun(f func()) {
	m.wg.Add(1)
	go func() { defer m.wg.Done(); f() }()
}

// URL is the base URL the server answers on.
func (m *Main) URL() string {
	if m.ln == nil {
		return ""
	}
	addr := m.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

func (m *Main) storeName() string {
	if m.Config.DB == "" {
		return m.Config.duckDBPath()
	}
	return redactDSN(m.Config.DB)
}

func (m *Main) natsName() string {
	if m.Config.NATS == "" {
		return "embedded:" + m.Config.natsDir()
	}
	return redactNATS(m.Config.NATS)
}

// Close shuts down in dependency order: stop accepting HTTP (in-flight
// requests finish, their publishes acknowledged), stop the demo and the
// janitor, let the publisher's last batches finish, stop the workers after
// their current batch is stored and acked, drain the NATS connection, shut
// the embedded server down, close the store. It is safe on a Main that
// failed to open or was closed before.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil && m.ln != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
		if m.api != nil {
			errs = append(errs, m.api.Close())
		}
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Publisher != nil {
		errs = append(errs, m.Publisher.Close())
	}
	if m.stopNotices != nil {
		m.stopNotices()
	}
	if m.stopWork != nil {
		m.stopWork()
	}
	m.workers.Wait()
	if m.Stream != nil {
		errs = append(errs, m.Stream.Close())
	}
	if m.natsServer != nil {
		errs = append(errs, m.natsServer.Shutdown())
	}
	if m.Store != nil && m.ownStore {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// openStore opens the store the configuration selects.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger) (geopulse.Store, error) {
	kind, err := cfg.storeKind()
	if err != nil {
		return nil, err
	}
	if kind == "postgres" {
		db, err := postgres.Open(ctx, cfg.DB, postgres.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", redactDSN(cfg.DB), err)
		}
		return db, nil
	}
	path := cfg.duckDBPath()
	if cfg.DB == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	db, err := duckdb.Open(ctx, path, duckdb.Options{Logger: logger, MemoryLimit: cfg.DBMemoryLimit})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w (is another geopulse process using it?)", path, err)
	}
	return db, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("serve", stderr)
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "HTTP listen address")
	cf.fs.BoolVar(&cf.cfg.Demo.Enabled, "demo", false, "create a demo workspace, seed places and history, stream simulated posts")
	cf.fs.Float64Var(&cf.cfg.Demo.Rate, "demo-rate", cf.cfg.Demo.Rate, "demo: live simulated posts per second (0: the simulated world's own pace)")
	cf.fs.BoolVar(&cf.cfg.Demo.Live, "demo-live", cf.cfg.Demo.Live, "demo: keep streaming live posts after seeding")
	cf.fs.Int64Var(&cf.cfg.Demo.Seed, "demo-seed", cf.cfg.Demo.Seed, "demo: simulator seed")
	cf.fs.IntVar(&cf.cfg.Demo.HistoryPosts, "demo-history", cf.cfg.Demo.HistoryPosts, "demo: posts of history seeded on first start")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	m := NewMain()
	m.Config = cfg
	m.Logger = newLogger(cfg, stderr)
	m.Stdout = stdout
	if err := m.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "geopulse is up on %s (health: %s/healthz, API: %s/v1/openapi.json)\n", m.URL(), m.URL(), m.URL())
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}
