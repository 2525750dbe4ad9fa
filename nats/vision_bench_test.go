package nats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/vision"
	"github.com/geopulse/geopulse/vision/detect"
	"github.com/geopulse/geopulse/vision/fetch"
	"github.com/geopulse/geopulse/vision/ocr"
	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

// BenchmarkEndToEndVision is BenchmarkEndToEnd with every post's picture a
// real photo (served on loopback) and, in "on", a vision worker labelling
// them as serve runs it (one job, one thread, nice 19, waiting while the
// pipeline lags): how much intake and the pipeline lose to vision.
func BenchmarkEndToEndVision(b *testing.B) {
	photo, err := os.ReadFile("/usr/share/darknet/data/dog.jpg")
	if err != nil {
		b.Skip("dog.jpg missing (Debian package darknet)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(photo)
	}))
	defer srv.Close()
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "vision=off", true: "vision=on"}[on]
		b.Run(name, func(b *testing.B) {
			st, world := benchStore(b)
			s := benchStream(b, "inprocess", false)
			pub := gpnats.NewPublisher(s, gpnats.PublisherOptions{MaxLag: -1})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() {
				gpnats.NewWorker(s, gpnats.WorkerOptions{Ingester: st.pl, Concurrency: 2, Vision: on}).Run(ctx)
			})
			labelled := 0
			if on {
				l := benchLabeller(b)
				counting := &countingLabels{next: st.store}
				vw := gpnats.NewVisionWorker(s, gpnats.VisionOptions{Labeller: l, Store: counting, Now: clock,
					Start: func() { vision.Background(19) }, Busy: s.PipelineBusy(5000)})
				wg.Go(func() { vw.Run(ctx) })
				defer func() { labelled = counting.n }()
			}
			defer func() { cancel(); wg.Wait(); b.ReportMetric(float64(labelled), "labelled") }()
			n := 0
			start := time.Now()
			for b.Loop() {
				var pw sync.WaitGroup
				for range 2 {
					batch := make([]*geopulse.Post, 1000)
					for i := range batch {
						batch[i] = world.Next()
						if len(batch[i].MediaURLs) > 0 {
							batch[i].MediaURLs = []string{srv.URL + "/dog.jpg"}
						}
					}
					pw.Go(func() {
						if _, err := pub.Ingest(context.Background(), batch); err != nil {
							b.Error(err)
						}
					})
					n += len(batch)
				}
				pw.Wait()
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer wcancel()
			if err := s.WaitDrained(wctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "posts/s")
		})
	}
}

type countingLabels struct {
	next geopulse.LabelStore
	mu   sync.Mutex
	n    int
}

func (c *countingLabels) ReplaceLabels(ctx context.Context, id int64, o geopulse.LabelOrigin, ls []geopulse.Label, at time.Time) error {
	err := c.next.ReplaceLabels(ctx, id, o, ls, at)
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return err
}

func benchLabeller(b *testing.B) *vision.Labeller {
	onnxtest.Require(b)
	dir := onnx.AssetsDir()
	det, err := detect.Open(detect.Config{Model: filepath.Join(dir, "nanodet", "nanodet.onnx")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { det.Close() })
	rd, err := ocr.Open(filepath.Join(dir, "ocr"), onnx.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rd.Close() })
	rd.MaxSide = vision.OCRMaxSide
	return &vision.Labeller{Detector: det, OCR: rd,
		Fetch: fetch.New(fetch.Config{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})}
}
