package text_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/geopulse/geopulse/text"
	"github.com/geopulse/geopulse/vision/onnx"
)

// assetsDir is <ml-assets>/text, as `make ml-assets` lays it out.
func assetsDir() string { return filepath.Join(onnx.AssetsDir(), "text") }

var loaded = sync.OnceValues(func() (*text.Analyzer, error) { return text.Load(assetsDir()) })

// analyzer returns the analyzer over the real assets. Like onnxtest, it
// skips on a developer machine without them and fails in CI
// (GEOPULSE_ML_REQUIRED=1), where `make ml-assets` has run.
func analyzer(tb testing.TB) *text.Analyzer {
	tb.Helper()
	a, err := loaded()
	if err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			tb.Skipf("text assets: %v; run `make ml-assets` (GEOPULSE_ML_REQUIRED=1 makes this a failure)", err)
		}
		tb.Fatal(err)
	}
	return a
}
