package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/audience"
	"github.com/geopulse/geopulse/geo/city"
)

// audienceService builds the audience service; without the cities
// reference data, homes are reported as grid squares (with a warning).
func audienceService(c Config, store geopulse.Store, logger *slog.Logger) *audience.Service {
	svc := &audience.Service{Store: store}
	path := city.Path(c.mlAssets())
	g, err := city.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		logger.Warn("audience homes by grid square: city data missing; run `make ml-assets`", "path", path)
	case err != nil:
		logger.Warn("audience homes by grid square: city data unreadable", "path", path, "error", err)
	default:
		svc.Cities = g
	}
	return svc
}

const profilesUsage = `usage: geopulse profiles rebuild|refresh [flags]

rebuild   recompute every author's profile from the stored posts
refresh   recompute the profiles the pipeline queued (serve and worker do this every few seconds)

`

// runProfiles is `geopulse profiles rebuild|refresh`.
func runProfiles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("profiles", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, profilesUsage); cf.fs.PrintDefaults() }
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "refresh") {
		cf.fs.Usage()
		return errUsage
	}
	op := args[0]
	cfg, err := cf.load(args[1:], os.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	n, err := store.RefreshProfiles(ctx, time.Now(), 0, op == "rebuild")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d author profiles recomputed in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
