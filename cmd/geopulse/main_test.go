package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startMain runs the whole product in process on a free port with a
// temporary data directory, as a user's `geopulse serve --demo` would.
func startMain(t *testing.T, mutate func(*Config)) *Main {
	t.Helper()
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = t.TempDir()
	m.Config.Demo.HistoryPosts = 3_000
	m.Config.Demo.Venues = 60
	if mutate != nil {
		mutate(&m.Config)
	}
	if err := m.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := m.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

func call(t *testing.T, m *Main, method, path, key, body string, out any) int {
	t.Helper()
	req, err := nethttp.NewRequest(method, m.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func TestServeDemo(t *testing.T) {
	m := startMain(t, func(c *Config) { c.Demo.Enabled = true; c.Demo.Rate = 500 })
	if m.DemoKey == "" {
		t.Fatal("demo printed no key")
	}
	if code := call(t, m, "GET", "/healthz", "", "", nil); code != 200 {
		t.Fatalf("healthz = %d", code)
	}
	if code := call(t, m, "GET", "/v1/places", "", "", nil); code != 401 {
		t.Fatalf("places without key = %d, want 401", code)
	}

	var places struct{ Places []struct{ ID int64 } }
	if code := call(t, m, "GET", "/v1/places", m.DemoKey, "", &places); code != 200 || len(places.Places) != 60 {
		t.Fatalf("places = %d, %d places; want 200 and 60", code, len(places.Places))
	}
	var an struct{ Posts int64 }
	if code := call(t, m, "GET", "/v1/analytics", m.DemoKey, "", &an); code != 200 || an.Posts == 0 {
		t.Fatalf("analytics = %d, %d posts; want history", code, an.Posts)
	}
	var feed struct {
		Posts []struct {
			ID     string
			Author struct{ Handle string }
		}
	}
	if code := call(t, m, "GET", "/v1/posts?limit=20", m.DemoKey, "", &feed); code != 200 || len(feed.Posts) == 0 || feed.Posts[0].Author.Handle == "" {
		t.Fatalf("feed = %d, %+v", code, feed.Posts)
	}

	// The live stream keeps adding posts: wait (bounded) for the count to grow.
	before := an.Posts
	deadline := time.Now().Add(30 * time.Second)
	for an.Posts <= before {
		if time.Now().After(deadline) {
			t.Fatalf("no live posts arrived: still %d", an.Posts)
		}
		time.Sleep(200 * time.Millisecond)
		call(t, m, "GET", "/v1/analytics", m.DemoKey, "", &an)
	}

	if code := call(t, m, "GET", "/metrics", "", "", nil); code != 200 {
		t.Fatalf("metrics = %d", code)
	}
}

func TestServeRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, func(c *Config) { c.DataDir = dir; c.Demo.Enabled = true; c.Demo.Live = false })
	var an1 struct{ Posts int64 }
	call(t, m, "GET", "/v1/analytics", m.DemoKey, "", &an1)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	*m = Main{} // Cleanup's Close must be harmless on a closed Main

	m2 := startMain(t, func(c *Config) { c.DataDir = dir; c.Demo.Enabled = true; c.Demo.Live = false })
	var an2 struct{ Posts int64 }
	call(t, m2, "GET", "/v1/analytics", m2.DemoKey, "", &an2)
	if an1.Posts == 0 || an2.Posts != an1.Posts {
		t.Fatalf("posts before restart %d, after %d: want equal and non-zero (history is seeded once)", an1.Posts, an2.Posts)
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, "Usage"},
		{"admin without name", []string{"admin", "create-workspace"}, "takes 1 argument"},
		{"admin rotate without id", []string{"admin", "rotate-key", "acme"}, "takes 2 argument"},
		{"bad log level", []string{"serve", "-log-level", "loud"}, "log_level"},
		{"unknown store", []string{"serve", "-db", "mysql://x@localhost/db"}, "unrecognised DSN"},
		{"bad flag", []string{"serve", "-nope"}, "flag provided but not defined"},
		{"api without nats", []string{"api"}, "--nats"},
		{"worker without nats", []string{"worker"}, "--nats"},
		{"replay without since", []string{"replay"}, "--since"},
		{"replay with a bad time", []string{"replay", "--since", "yesterday"}, "not RFC 3339"},
		{"deadletters without command", []string{"deadletters"}, "Usage"},
		{"deadletters unknown command", []string{"deadletters", "purge"}, "unknown deadletters command"},
		{"redrive needs a target", []string{"deadletters", "redrive"}, "-all or SEQ"},
		{"bad sequence", []string{"deadletters", "redrive", "x1"}, "not a sequence number"},
		{"bad nats_sync", []string{"serve", "-config", writeConfig(t, "nats_sync: sometimes\n")}, "nats_sync"},
		{"bad stream_discard", []string{"serve", "-config", writeConfig(t, "stream_discard: maybe\n")}, "stream_discard"},
		{"import without files", []string{"import"}, "no files"},
		{"import with an unknown format", []string{"import", "-format", "myspace", "f.json"}, "Unknown format"},
		{"import with a bad venue", []string{"import", "-at", "91,0", "f.json"}, "latitude"},
		{"import without a key", []string{"import", "f.json"}, "--key"},
		{"tiny stream", []string{"serve", "-config", writeConfig(t, "stream_max_bytes: 10\n")}, "stream_max_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			if err == nil {
				t.Fatal("want an error")
			}
			if got := err.Error() + stderr.String(); !strings.Contains(got, tt.want) {
				t.Fatalf("error %q / stderr %q does not mention %q", err, stderr.String(), tt.want)
			}
		})
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "geopulse.yaml")
	os.WriteFile(file, []byte("addr: \":9000\"\ndata: /from/file\nlog_level: warn\ndemo:\n  rate: 5\n"), 0o600)
	secret := filepath.Join(dir, "dsn")
	os.WriteFile(secret, []byte("duckdb:/secret/path.duckdb\n"), 0o600)
	env := map[string]string{"GEOPULSE_DATA": "/from/env", "GEOPULSE_DB_FILE": secret, "GEOPULSE_DEMO_RATE": "7"}
	cf := newConfigFlags("serve", io.Discard)
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "")
	cf.fs.Float64Var(&cf.cfg.Demo.Rate, "demo-rate", cf.cfg.Demo.Rate, "")
	cfg, err := cf.load([]string{"-config", file, "-demo-rate", "9"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s %s %s %s %v", ":9000", "/from/env", "duckdb:/secret/path.duckdb", "warn", 9.0)
	if got := fmt.Sprintf("%s %s %s %s %v", cfg.Addr, cfg.DataDir, cfg.DB, cfg.LogLevel, cfg.Demo.Rate); got != want {
		t.Fatalf("config = %s, want %s (file < env < flags)", got, want)
	}
	if cfg.duckDBPath() != "/secret/path.duckdb" {
		t.Fatalf("duckdb path = %s", cfg.duckDBPath())
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DB = "postgres://geo:hunter2@db.internal:5432/geopulse"
	cfg.NATS = "nats://tok3n@n1:4222,nats://u:pa55@n2:4222"
	cfg.AdminToken = "adm1n"
	r := cfg.Redacted()
	if strings.Contains(r.DB, "hunter2") || !strings.Contains(r.DB, "REDACTED") {
		t.Fatalf("redacted DSN = %s", r.DB)
	}
	if strings.Contains(r.NATS, "tok3n") || strings.Contains(r.NATS, "pa55") || !strings.Contains(r.NATS, "n2:4222") {
		t.Fatalf("redacted NATS = %s", r.NATS)
	}
	if r.AdminToken != "REDACTED" {
		t.Fatalf("redacted admin token = %s", r.AdminToken)
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "geopulse.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBinary builds the real binary and runs the README's first command the
// way a user does, reading the key it prints and calling the API with it.
func TestBinary(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--demo", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo-history", "2000")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve did not shut down cleanly: %v\n%s", err, stderr.String())
		}
	}()
	keyRe := regexp.MustCompile(`^\s+(gp_[A-Za-z0-9_-]+)\s*$`)
	upRe := regexp.MustCompile(`up on (http://\S+) `)
	var key, url string
	sc := bufio.NewScanner(stdout)
	for url == "" && sc.Scan() {
		if m := keyRe.FindStringSubmatch(sc.Text()); m != nil {
			key = m[1]
		}
		if m := upRe.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if key == "" || url == "" {
		t.Fatalf("serve printed no key/url; stderr:\n%s", stderr.String())
	}
	req, _ := nethttp.NewRequest("GET", url+"/v1/analytics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var an struct{ Posts int64 }
	json.NewDecoder(resp.Body).Decode(&an)
	resp.Body.Close()
	if resp.StatusCode != 200 || an.Posts == 0 {
		t.Fatalf("analytics with printed key: %s, %d posts", resp.Status, an.Posts)
	}
}
