// Package onnxtest lets tests that need ONNX Runtime run where it is and skip
// (outside CI) where it is not.
package onnxtest

import (
	"errors"
	"os"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
)

// Require initialises the runtime for a test, or skips the test when the
// library is missing on a developer machine. With GEOPULSE_ML_REQUIRED set
// (CI sets it after `make ml-assets`) a missing runtime fails the test.
func Require(t testing.TB) {
	t.Helper()
	err := onnx.Init()
	if err == nil {
		return
	}
	if errors.Is(err, onnx.ErrNoRuntime) && os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
		t.Skipf("%v; set GEOPULSE_ML_REQUIRED=1 to make this a failure", err)
	}
	t.Fatal(err)
}
