package vision_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/vision"
	"github.com/geopulse/geopulse/vision/detect"
	"github.com/geopulse/geopulse/vision/fetch"
	"github.com/geopulse/geopulse/vision/ocr"
	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

func labeller(t *testing.T, allowLoopback bool) *vision.Labeller {
	t.Helper()
	onnxtest.Require(t)
	model := filepath.Join(onnx.AssetsDir(), "nanodet", "nanodet.onnx")
	if _, err := os.Stat(model); err != nil && os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
		t.Skipf("%s missing: run make ml-assets", model)
	}
	det, err := detect.Open(detect.Config{Model: model, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { det.Close() })
	rd, err := ocr.Open(filepath.Join(onnx.AssetsDir(), "ocr"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	cfg := fetch.Config{}
	if allowLoopback {
		cfg.AllowNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	return &vision.Labeller{Fetch: fetch.New(cfg), Detector: det, OCR: rd,
		Derive: func(found []geopulse.Label) []geopulse.Label {
			for _, l := range found {
				if l.Name == "dog" {
					return []geopulse.Label{{Kind: geopulse.LabelInterest, Name: "pets", Score: l.Score, Origin: geopulse.OriginImage}}
				}
			}
			return nil
		}}
}

func media(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	dog, err := os.ReadFile("/usr/share/darknet/data/dog.jpg")
	if err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			t.Skip("dog.jpg missing (Debian package darknet)")
		}
		t.Fatal(err)
	}
	var busy atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/dog.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(dog)
	})
	mux.HandleFunc("/page.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte("<html>not a picture</html>"))
	})
	mux.HandleFunc("/busy.jpg", func(w http.ResponseWriter, r *http.Request) {
		busy.Add(1)
		http.Error(w, "try later", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &busy
}

func TestLabelMedia(t *testing.T) {
	l := labeller(t, true)
	srv, _ := media(t)
	ctx := context.Background()
	labels, err := l.LabelMedia(ctx, &geopulse.Post{MediaURLs: []string{srv.URL + "/page.jpg", srv.URL + "/dog.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, lb := range labels {
		has[string(lb.Kind)+":"+lb.Name] = true
		if lb.Origin != geopulse.OriginImage {
			t.Errorf("label %+v not of image origin", lb)
		}
	}
	for _, want := range []string{"object:dog", "object:bicycle", "interest:pets"} {
		if !has[want] {
			t.Errorf("no %s in %v", want, labels)
		}
	}
}

func TestLabelMediaFailures(t *testing.T) {
	srv, busy := media(t)
	ctx := context.Background()

	// Loopback is refused unless allowed: final, a domain error.
	_, err := labeller(t, false).LabelMedia(ctx, &geopulse.Post{MediaURLs: []string{srv.URL + "/dog.jpg"}})
	if code := geopulse.ErrorCode(err); code == "" || code == geopulse.EINTERNAL {
		t.Errorf("loopback media: %v, want a final domain error", err)
	}

	l := labeller(t, true)
	_, err = l.LabelMedia(ctx, &geopulse.Post{MediaURLs: []string{srv.URL + "/page.jpg"}})
	if code := geopulse.ErrorCode(err); code == "" || code == geopulse.EINTERNAL {
		t.Errorf("HTML as a picture: %v, want a final domain error", err)
	}
	// A 503 is worth retrying: a plain error, whatever else the post has.
	_, err = l.LabelMedia(ctx, &geopulse.Post{MediaURLs: []string{srv.URL + "/dog.jpg", srv.URL + "/busy.jpg"}})
	if err == nil || geopulse.ErrorCode(err) != geopulse.EINTERNAL {
		t.Errorf("busy media: %v, want a retryable (non-domain) error", err)
	}
	if busy.Load() == 0 {
		t.Error("the busy picture was never asked for")
	}
}
