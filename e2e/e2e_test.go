package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBrowser runs the browser tests (run.mjs) against a freshly built
// binary. It fails when any browser test fails; run.mjs prints each
// test's outcome and where the screenshots are.
func TestBrowser(t *testing.T) {
	if os.Getenv("GEOPULSE_E2E") != "1" {
		t.Skip("browser tests skipped: set GEOPULSE_E2E=1 (needs /usr/bin/chromium and `npm ci` in e2e/; .ci/run does both)")
	}
	for _, tool := range []string{"node", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("GEOPULSE_E2E=1 but %s is not installed: %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		t.Fatal("GEOPULSE_E2E=1 but playwright-core is missing: run `npm ci` in e2e/")
	}
	bin := filepath.Join(t.TempDir(), "geopulse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/geopulse")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build geopulse: %v\n%s", err, out)
	}
	run := exec.Command("node", "run.mjs")
	run.Env = append(os.Environ(), "GEOPULSE_BIN="+bin)
	out, err := run.CombinedOutput()
	t.Logf("run.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}
