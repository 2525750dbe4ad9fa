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
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/privacy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Main is the running program: store, pipeline, HTTP server and background
// jobs, wired from a Config. End-to-end tests start it on ":0".
type Main struct {
	Config Config
	Logger *slog.Logger
	Stdout io.Writer // where the demo prints its key

	Store    geopulse.Store
	Pipeline *pipeline.Pipeline
	Registry *prometheus.Registry

	// DemoKey is the API key of the demo workspace, set when demo mode starts.
	DemoKey string

	server *nethttp.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard}
}

// Open opens the store, builds the pipeline, starts listening and starts the
// background jobs. It returns once the server accepts connections.
func (m *Main) Open(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if m.Store, err = openStore(ctx, m.Config, m.Logger); err != nil {
		return err
	}
	m.Pipeline, err = pipeline.New(ctx, m.Store, pipeline.Options{Logger: m.Logger, Registerer: m.Registry})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Logger:     m.Logger,
		Registerer: m.Registry,
		Workspaces: m.Store,
		Places:     m.Pipeline.Places(),
		Posts:      m.Store,
		Analytics:  m.Store,
		Ingester:   m.Pipeline,
	}
	if m.ln, err = net.Listen("tcp", m.Config.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.server = srv.HTTPServer(m.Config.Addr)
	root := nethttp.NewServeMux()
	root.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	root.Handle("/", m.server.Handler)
	m.server.Handler = root

	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.goRun(func() {
		if err := m.server.Serve(m.ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			m.Logger.Error("http server stopped", "error", err)
		}
	})
	janitor := &privacy.Janitor{Posts: m.Store, Interval: m.Config.JanitorInterval, Logger: m.Logger}
	m.goRun(func() { janitor.Run(bg) })

	if m.Config.Demo.Enabled {
		demo := &demo{cfg: m.Config.Demo, store: m.Store, places: m.Pipeline.Places(), ingester: m.Pipeline, logger: m.Logger}
		if m.DemoKey, err = demo.setup(ctx, m.Stdout, m.URL()); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		m.goRun(func() { demo.stream(bg) })
	}
	m.Logger.Info("geopulse serving", "addr", m.ln.Addr().String(), "store", m.storeName())
	return nil
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

// Close stops intake first, lets in-flight requests and jobs finish, then
// closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.server.Shutdown(ctx))
		cancel()
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// openStore opens the store the configuration selects.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger) (geopulse.Store, error) {
	if _, err := cfg.storeKind(); err != nil {
		return nil, err
	}
	path := cfg.duckDBPath()
	if cfg.DB == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	db, err := duckdb.Open(ctx, path, duckdb.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w (is another geopulse process using it?)", path, err)
	}
	return db, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("serve", stderr)
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "HTTP listen address")
	cf.fs.BoolVar(&cf.cfg.Demo.Enabled, "demo", false, "create a demo workspace, seed places and history, stream simulated posts")
	cf.fs.Float64Var(&cf.cfg.Demo.Rate, "demo-rate", cf.cfg.Demo.Rate, "demo: simulated posts per second")
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
