package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse/http"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/goccy/go-yaml"
)

// Config is the whole configuration. It is filled in order: defaults, the
// file named by -config (YAML), GEOPULSE_* environment variables (with
// *_FILE variants for secrets), then flags.
type Config struct {
	Addr    string `yaml:"addr"` // HTTP listen address
	DataDir string `yaml:"data"` // where the embedded store lives
	DB      string `yaml:"db"`   // store DSN; empty: DuckDB file in DataDir
	// DBMemoryLimit caps the embedded store's memory (DuckDB's own default
	// is 80 % of RAM, which a 10M-post load reaches).
	DBMemoryLimit string `yaml:"db_memory_limit"`
	LogLevel      string `yaml:"log_level"`  // debug, info, warn, error
	LogFormat     string `yaml:"log_format"` // text or json

	// JanitorInterval is how often expired stories are swept.
	JanitorInterval time.Duration `yaml:"janitor_interval"`

	// NATS is the external NATS URL (comma-separated for a cluster); empty:
	// serve runs an embedded server in <data>/nats.
	NATS string `yaml:"nats"`
	// NATSSync is the fsync policy of the embedded server: a duration
	// (default 2m, NATS's own) or "always".
	NATSSync string `yaml:"nats_sync"`
	// NATSReplicas of the streams: 1 embedded, 3 in a cluster.
	NATSReplicas int `yaml:"nats_replicas"`
	// StreamMaxAge is the replay window of the posts stream.
	StreamMaxAge time.Duration `yaml:"stream_max_age"`
	// StreamMaxBytes bounds the posts stream; at it intake answers 429.
	StreamMaxBytes int64 `yaml:"stream_max_bytes"`
	// StreamDiscard is what a full stream does: "new" refuses new posts
	// (429), "old" drops the oldest (shortening the replay window).
	StreamDiscard string `yaml:"stream_discard"`
	// IntakeMaxLag is the workers' backlog (posts) beyond which intake
	// answers 429; -1: no limit.
	IntakeMaxLag int64 `yaml:"intake_max_lag"`
	// WorkerConcurrency is the number of pipeline loops per process.
	WorkerConcurrency int `yaml:"worker_concurrency"`
	// AdminToken opens the operator API (/v1/admin/…); empty: closed.
	AdminToken string `yaml:"admin_token"`
	// KeyRate limits requests per API key (per second, bursts of twice as
	// many); 0: the default (100), -1: no limit.
	KeyRate float64 `yaml:"key_rate"`

	Dashboard DashboardConfig `yaml:"dashboard"`
	Demo      DemoConfig      `yaml:"demo"`
	Sources   SourcesConfig   `yaml:"sources"`
	Retention RetentionConfig `yaml:"retention"`
	Vision    VisionConfig    `yaml:"vision"`
	// MLAssets is the folder `make ml-assets` fills (models, reference
	// data); default $GEOPULSE_ML_ASSETS, else ./ml-assets.
	MLAssets string `yaml:"ml_assets"`
}

// DashboardConfig configures the web dashboard.
type DashboardConfig struct {
	Disabled        bool          `yaml:"disabled"`         // serve the API alone
	TileURL         string        `yaml:"tile_url"`         // optional XYZ tiles under the offline basemap
	TileAttribution string        `yaml:"tile_attribution"` // the credit line the tile service requires
	SecureCookies   bool          `yaml:"secure_cookies"`   // always mark the session cookie Secure
	SessionTTL      time.Duration `yaml:"session_ttl"`      // how long a sign-in lasts
}

// DemoConfig configures `serve --demo`.
type DemoConfig struct {
	Enabled      bool    `yaml:"enabled"`
	Workspace    string  `yaml:"workspace"`     // name of the demo workspace
	Seed         int64   `yaml:"seed"`          // simulator seed
	Rate         float64 `yaml:"rate"`          // live posts per second; 0: the world's own pace
	Live         bool    `yaml:"live"`          // stream live posts after seeding
	HistoryPosts int     `yaml:"history_posts"` // posts seeded over the past HistoryDays on first start
	HistoryDays  int     `yaml:"history_days"`
	Venues       int     `yaml:"venues"`
	// MediaDir holds sample photos served to the demo's vision workers
	// (auto: Debian's darknet or skimage photos when installed; off: none).
	MediaDir string `yaml:"media_dir"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		DataDir:         "./data",
		LogLevel:        "info",
		DBMemoryLimit:   "1GB",
		LogFormat:       "text",
		JanitorInterval: time.Minute,

		NATSReplicas:      1,
		StreamMaxAge:      7 * 24 * time.Hour,
		StreamMaxBytes:    10 << 30,
		StreamDiscard:     "new",
		IntakeMaxLag:      1_000_000,
		WorkerConcurrency: 2,
		Demo: DemoConfig{
			Workspace:    "demo",
			Seed:         1,
			Live:         true,
			HistoryPosts: 200_000,
			HistoryDays:  7,
			Venues:       400,
		},
		Vision: VisionConfig{Mode: "auto", OCR: true},
	}
}

// configFlags binds the flags common to commands that open the store.
type configFlags struct {
	fs   *flag.FlagSet
	file string
	cfg  Config // flag values; applied only for flags actually set
}

func newConfigFlags(name string, stderr io.Writer) *configFlags {
	c := &configFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), cfg: DefaultConfig()}
	c.fs.SetOutput(stderr)
	c.fs.StringVar(&c.file, "config", "", "configuration file (YAML)")
	c.fs.StringVar(&c.cfg.DataDir, "data", c.cfg.DataDir, "data directory of the embedded store")
	c.fs.StringVar(&c.cfg.DB, "db", "", "store DSN (default: DuckDB file in the data directory)")
	c.fs.StringVar(&c.cfg.LogLevel, "log-level", c.cfg.LogLevel, "log level: debug, info, warn, error")
	c.fs.StringVar(&c.cfg.NATS, "nats", "", "external NATS URL(s), comma-separated (default: the embedded server in the data directory)")
	return c
}

// load parses args and returns the effective, validated configuration.
func (c *configFlags) load(args []string, getenv func(string) string) (Config, error) {
	if err := c.fs.Parse(args); err != nil {
		return Config{}, err
	}
	cfg := DefaultConfig()
	if c.file != "" {
		data, err := os.ReadFile(c.file)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
			return Config{}, fmt.Errorf("parse config %s: %w", c.file, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return Config{}, err
	}
	c.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = c.cfg.Addr
		case "data":
			cfg.DataDir = c.cfg.DataDir
		case "db":
			cfg.DB = c.cfg.DB
		case "log-level":
			cfg.LogLevel = c.cfg.LogLevel
		case "demo":
			cfg.Demo.Enabled = c.cfg.Demo.Enabled
		case "demo-rate":
			cfg.Demo.Rate = c.cfg.Demo.Rate
		case "demo-live":
			cfg.Demo.Live = c.cfg.Demo.Live
		case "demo-seed":
			cfg.Demo.Seed = c.cfg.Demo.Seed
		case "demo-history":
			cfg.Demo.HistoryPosts = c.cfg.Demo.HistoryPosts
		case "nats":
			cfg.NATS = c.cfg.NATS
		case "concurrency":
			cfg.WorkerConcurrency = c.cfg.WorkerConcurrency
		}
	})
	return cfg, cfg.Validate()
}

// applyEnv applies GEOPULSE_* variables. A secret may come from a file named
// by the *_FILE variant, so it never has to sit in the environment.
func applyEnv(cfg *Config, getenv func(string) string) error {
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
		if path := getenv(name + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
				return
			}
			*dst = strings.TrimSpace(string(b))
		}
	}
	num := func(name string, set func(string) error) {
		if v := getenv(name); v != "" {
			if err := set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	str("GEOPULSE_ADDR", &cfg.Addr)
	str("GEOPULSE_DATA", &cfg.DataDir)
	str("GEOPULSE_DB", &cfg.DB)
	str("GEOPULSE_DB_MEMORY_LIMIT", &cfg.DBMemoryLimit)
	str("GEOPULSE_LOG_LEVEL", &cfg.LogLevel)
	str("GEOPULSE_LOG_FORMAT", &cfg.LogFormat)
	num("GEOPULSE_JANITOR_INTERVAL", func(v string) (err error) { cfg.JanitorInterval, err = time.ParseDuration(v); return })
	str("GEOPULSE_NATS", &cfg.NATS)
	str("GEOPULSE_NATS_SYNC", &cfg.NATSSync)
	num("GEOPULSE_NATS_REPLICAS", func(v string) (err error) { cfg.NATSReplicas, err = strconv.Atoi(v); return })
	num("GEOPULSE_STREAM_MAX_AGE", func(v string) (err error) { cfg.StreamMaxAge, err = time.ParseDuration(v); return })
	num("GEOPULSE_STREAM_MAX_BYTES", func(v string) (err error) { cfg.StreamMaxBytes, err = strconv.ParseInt(v, 10, 64); return })
	str("GEOPULSE_STREAM_DISCARD", &cfg.StreamDiscard)
	num("GEOPULSE_INTAKE_MAX_LAG", func(v string) (err error) { cfg.IntakeMaxLag, err = strconv.ParseInt(v, 10, 64); return })
	num("GEOPULSE_KEY_RATE", func(v string) (err error) { cfg.KeyRate, err = strconv.ParseFloat(v, 64); return })
	num("GEOPULSE_WORKER_CONCURRENCY", func(v string) (err error) { cfg.WorkerConcurrency, err = strconv.Atoi(v); return })
	str("GEOPULSE_ADMIN_TOKEN", &cfg.AdminToken)
	str("GEOPULSE_TILE_URL", &cfg.Dashboard.TileURL)
	str("GEOPULSE_TILE_ATTRIBUTION", &cfg.Dashboard.TileAttribution)
	num("GEOPULSE_SECURE_COOKIES", func(v string) (err error) { cfg.Dashboard.SecureCookies, err = strconv.ParseBool(v); return })
	num("GEOPULSE_DEMO_RATE", func(v string) (err error) { cfg.Demo.Rate, err = strconv.ParseFloat(v, 64); return })
	num("GEOPULSE_DEMO_SEED", func(v string) (err error) { cfg.Demo.Seed, err = strconv.ParseInt(v, 10, 64); return })
	num("GEOPULSE_DEMO_HISTORY_POSTS", func(v string) (err error) { cfg.Demo.HistoryPosts, err = strconv.Atoi(v); return })
	str("GEOPULSE_ML_ASSETS", &cfg.MLAssets)
	str("GEOPULSE_VISION_MODE", &cfg.Vision.Mode)
	num("GEOPULSE_VISION_CONCURRENCY", func(v string) (err error) { cfg.Vision.Concurrency, err = strconv.Atoi(v); return })
	return errors.Join(errs...)
}

// dashboard is the HTTP layer's view of the dashboard settings.
func (c Config) dashboard() http.DashboardConfig {
	d := c.Dashboard
	return http.DashboardConfig{Disabled: d.Disabled, TileURL: d.TileURL, TileAttribution: d.TileAttribution,
		SecureCookies: d.SecureCookies, SessionTTL: d.SessionTTL}
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.dashboard().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("dashboard: %w", err))
	}
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: must not be empty"))
	}
	if err := c.Sources.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Vision.validate(); err != nil {
		return err
	}
	if err := c.Retention.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.DB == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data: must not be empty when no db DSN is given"))
	}
	if _, err := c.storeKind(); err != nil {
		errs = append(errs, err)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format: %q is not text or json", c.LogFormat))
	}
	if c.JanitorInterval < time.Second {
		errs = append(errs, errors.New("janitor_interval: must be at least 1s"))
	}
	if c.Demo.Rate < 0 || c.Demo.Rate > 100_000 {
		errs = append(errs, errors.New("demo.rate: must be between 0 and 100000 posts/s"))
	}
	if c.Demo.HistoryPosts < 0 || c.Demo.HistoryDays < 1 {
		errs = append(errs, errors.New("demo.history_posts must be ≥ 0 and demo.history_days ≥ 1"))
	}
	if c.Demo.Venues < 1 {
		errs = append(errs, errors.New("demo.venues must be ≥ 1"))
	}
	if _, _, err := c.natsSync(); err != nil {
		errs = append(errs, err)
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		errs = append(errs, errors.New("nats_replicas: must be from 1 to 5"))
	}
	if c.StreamMaxAge < time.Minute {
		errs = append(errs, errors.New("stream_max_age: must be at least 1m"))
	}
	if c.StreamMaxBytes < 1<<20 {
		errs = append(errs, errors.New("stream_max_bytes: must be at least 1 MiB (1048576)"))
	}
	if c.StreamDiscard != "new" && c.StreamDiscard != "old" {
		errs = append(errs, fmt.Errorf("stream_discard: %q is not new or old", c.StreamDiscard))
	}
	if c.IntakeMaxLag < -1 || c.IntakeMaxLag == 0 {
		errs = append(errs, errors.New("intake_max_lag: must be ≥ 1 (or -1 for no limit)"))
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > 64 {
		errs = append(errs, errors.New("worker_concurrency: must be from 1 to 64"))
	}
	return errors.Join(errs...)
}

// storeKind tells which store the DSN selects, and the DuckDB path if that.
// This is the one place that branches on the driver.
func (c Config) storeKind() (kind string, err error) {
	switch {
	case c.DB == "":
		return "duckdb", nil
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "postgres", nil
	case strings.HasPrefix(c.DB, "duckdb:"), strings.HasSuffix(c.DB, ".duckdb"), strings.HasSuffix(c.DB, ".db"):
		return "duckdb", nil
	}
	return "", fmt.Errorf("db: unrecognised DSN %q (want duckdb:PATH, PATH.duckdb or postgres://…)", redactDSN(c.DB))
}

// duckDBPath is the DuckDB file the configuration selects.
func (c Config) duckDBPath() string {
	switch {
	case c.DB == "":
		return filepath.Join(c.DataDir, "geopulse.duckdb")
	case strings.HasPrefix(c.DB, "duckdb:"):
		return strings.TrimPrefix(c.DB, "duckdb:")
	}
	return c.DB
}

// natsSync is the embedded server's fsync policy: always, or an interval
// (0: NATS's default of 2 min).
func (c Config) natsSync() (always bool, interval time.Duration, err error) {
	switch c.NATSSync {
	case "":
		return false, 0, nil
	case "always":
		return true, 0, nil
	}
	d, err := time.ParseDuration(c.NATSSync)
	if err != nil || d < time.Second {
		return false, 0, fmt.Errorf("nats_sync: %q is not \"always\" or a duration of at least 1s", c.NATSSync)
	}
	return false, d, nil
}

// streamConfig is the shape of the streams this configuration asks for.
func (c Config) streamConfig() gpnats.Config {
	return gpnats.Config{
		Replicas:   c.NATSReplicas,
		MaxAge:     c.StreamMaxAge,
		MaxBytes:   c.StreamMaxBytes,
		DiscardOld: c.StreamDiscard == "old",
	}
}

// natsDir is where the embedded NATS server keeps its files.
func (c Config) natsDir() string { return filepath.Join(c.DataDir, "nats") }

// Redacted returns a copy with secrets replaced, for printing.
func (c Config) Redacted() Config {
	c.DB = redactDSN(c.DB)
	c.NATS = redactNATS(c.NATS)
	if c.AdminToken != "" {
		c.AdminToken = "REDACTED"
	}
	c.Sources = c.Sources.redacted()
	return c
}

// redactNATS hides credentials (user:password or a token) in each of a
// comma-separated list of NATS URLs.
func redactNATS(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("REDACTED")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}

func runConfig(args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("config", stderr)
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "HTTP listen address")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	out, err := yaml.Marshal(cfg.Redacted())
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = stdout.Write(out)
	return err
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
