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

	"github.com/goccy/go-yaml"
)

// Config is the whole configuration. It is filled in order: defaults, the
// file named by -config (YAML), GEOPULSE_* environment variables (with
// *_FILE variants for secrets), then flags.
type Config struct {
	Addr      string `yaml:"addr"`       // HTTP listen address
	DataDir   string `yaml:"data"`       // where the embedded store lives
	DB        string `yaml:"db"`         // store DSN; empty: DuckDB file in DataDir
	LogLevel  string `yaml:"log_level"`  // debug, info, warn, error
	LogFormat string `yaml:"log_format"` // text or json

	// JanitorInterval is how often expired stories are swept.
	JanitorInterval time.Duration `yaml:"janitor_interval"`

	Demo DemoConfig `yaml:"demo"`
}

// DemoConfig configures `serve --demo`.
type DemoConfig struct {
	Enabled      bool    `yaml:"enabled"`
	Workspace    string  `yaml:"workspace"`     // name of the demo workspace
	Seed         int64   `yaml:"seed"`          // simulator seed
	Rate         float64 `yaml:"rate"`          // live posts per second
	HistoryPosts int     `yaml:"history_posts"` // posts seeded over the past HistoryDays on first start
	HistoryDays  int     `yaml:"history_days"`
	Venues       int     `yaml:"venues"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		DataDir:         "./data",
		LogLevel:        "info",
		LogFormat:       "text",
		JanitorInterval: time.Minute,
		Demo: DemoConfig{
			Workspace:    "demo",
			Seed:         1,
			Rate:         20,
			HistoryPosts: 200_000,
			HistoryDays:  30,
			Venues:       400,
		},
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
		case "demo-seed":
			cfg.Demo.Seed = c.cfg.Demo.Seed
		case "demo-history":
			cfg.Demo.HistoryPosts = c.cfg.Demo.HistoryPosts
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
	str("GEOPULSE_LOG_LEVEL", &cfg.LogLevel)
	str("GEOPULSE_LOG_FORMAT", &cfg.LogFormat)
	num("GEOPULSE_JANITOR_INTERVAL", func(v string) (err error) { cfg.JanitorInterval, err = time.ParseDuration(v); return })
	num("GEOPULSE_DEMO_RATE", func(v string) (err error) { cfg.Demo.Rate, err = strconv.ParseFloat(v, 64); return })
	num("GEOPULSE_DEMO_SEED", func(v string) (err error) { cfg.Demo.Seed, err = strconv.ParseInt(v, 10, 64); return })
	num("GEOPULSE_DEMO_HISTORY_POSTS", func(v string) (err error) { cfg.Demo.HistoryPosts, err = strconv.Atoi(v); return })
	return errors.Join(errs...)
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: must not be empty"))
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
	return errors.Join(errs...)
}

// storeKind tells which store the DSN selects, and the DuckDB path if that.
// This is the one place that branches on the driver.
func (c Config) storeKind() (kind string, err error) {
	switch {
	case c.DB == "":
		return "duckdb", nil
	case strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
		return "", errors.New("db: the PostgreSQL store is not part of this build yet; use the embedded DuckDB store (leave db empty)")
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

// Redacted returns a copy with secrets replaced, for printing.
func (c Config) Redacted() Config {
	c.DB = redactDSN(c.DB)
	return c
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
