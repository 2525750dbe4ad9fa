package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/nats-io/nats.go/jetstream"
)

// externalNATS starts a NATS server listening on loopback, standing in for
// an external cluster.
func externalNATS(t *testing.T) string {
	t.Helper()
	srv, err := gpnats.StartServer(gpnats.ServerOptions{Dir: t.TempDir(), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	return srv.ClientURL()
}

// startRole runs Main in a role against an external NATS, on store.
func startRole(t *testing.T, role, natsURL string, store geopulse.Store, mutate func(*Config)) *Main {
	t.Helper()
	m := NewMain()
	m.Role = role
	m.Store = store
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DataDir = t.TempDir()
	m.Config.NATS = natsURL
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
			t.Errorf("close %s: %v", role, err)
		}
	})
	return m
}

// TestRoles: an api process publishes, a worker process stores (here in
// one test process, sharing the DuckDB store that would be a server store
// in production); both answer health, readiness and metrics, and the
// admin API lists and redrives dead letters.
func TestRoles(t *testing.T) {
	url := externalNATS(t)
	store, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "geopulse.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const admin = "admin-token-for-tests"
	api := startRole(t, roleAPI, url, store, func(c *Config) { c.AdminToken = admin })
	worker := startRole(t, roleWorker, url, store, nil)

	ws := &geopulse.Workspace{Name: "roles"}
	if err := store.CreateWorkspace(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
	key := geopulse.NewAPIKey()
	if err := store.CreateAPIKey(t.Context(), ws.ID, geopulse.HashAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	if code := callJSON(t, api, "POST", "/v1/places", key, `{"name":"Spot","center":{"lat":48.85,"lon":2.35},"radius_m":500}`, nil); code != 201 {
		t.Fatalf("create place = %d", code)
	}
	var body strings.Builder
	taken := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for i := range 20 {
		fmt.Fprintf(&body, `{"source":"roles","source_id":"r%d","taken_at":%q,"location":{"lat":48.85,"lon":2.35},"author":{"source_id":"a%d"}}`+"\n", i, taken, i)
	}
	var res struct{ Accepted int }
	if code := call(t, api, "POST", "/v1/posts", key, body.String(), &res); code != 200 || res.Accepted != 20 {
		t.Fatalf("ingest = %d, %d accepted", code, res.Accepted)
	}
	var an struct{ Posts int64 }
	deadline := time.Now().Add(30 * time.Second)
	for an.Posts < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("worker stored %d of 20 posts", an.Posts)
		}
		time.Sleep(20 * time.Millisecond)
		call(t, api, "GET", "/v1/analytics", key, "", &an)
	}

	for _, m := range []*Main{api, worker} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code := call(t, m, "GET", path, "", "", nil); code != 200 {
				t.Errorf("%s %s = %d", m.Role, path, code)
			}
		}
		metrics := get(t, m.URL()+"/metrics")
		for _, want := range []string{"geopulse_stream_messages", "geopulse_consumer_pending", "geopulse_dead_letters"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("%s /metrics lacks %s", m.Role, want)
			}
		}
	}
	// The worker counts a message after the store's commit, which the
	// analytics above may see first.
	for !strings.Contains(get(t, worker.URL()+"/metrics"), `geopulse_worker_messages_total{result="stored"} 20`) {
		if time.Now().After(deadline) {
			t.Fatalf("worker metrics do not count 20 stored posts")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(get(t, api.URL()+"/metrics"), `geopulse_intake_posts_total{result="accepted"} 20`) {
		t.Errorf("api metrics do not count 20 accepted posts")
	}

	// An undecodable message lands in DEADLETTERS, visible to the admin API
	// (and only with the admin token); redriving it sends it round again.
	js, err := jetstream.New(api.Stream.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(t.Context(), "geopulse.posts.roles", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	var page struct {
		DeadLetters []struct {
			Seq     uint64
			Reason  string
			Payload string
		} `json:"dead_letters"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for len(page.DeadLetters) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter appeared")
		}
		time.Sleep(20 * time.Millisecond)
		call(t, api, "GET", "/v1/admin/deadletters", admin, "", &page)
	}
	if d := page.DeadLetters[0]; d.Reason != "undecodable" || d.Payload != "not json" {
		t.Fatalf("dead letter = %+v", d)
	}
	if code := call(t, api, "GET", "/v1/admin/deadletters", key, "", nil); code != 401 {
		t.Fatalf("dead letters with a workspace key = %d, want 401", code)
	}
	var rd struct{ Redriven int }
	req := fmt.Sprintf(`{"seqs":[%d]}`, page.DeadLetters[0].Seq)
	if code := callJSON(t, api, "POST", "/v1/admin/deadletters/redrive", admin, req, &rd); code != 200 || rd.Redriven != 1 {
		t.Fatalf("redrive = %d, %+v", code, rd)
	}
	if code := callJSON(t, api, "POST", "/v1/admin/deadletters/redrive", admin, req, nil); code != 404 {
		t.Fatalf("redrive of a redriven letter = %d, want 404", code)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := nethttp.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func callJSON(t *testing.T, m *Main, method, path, key, body string, out any) int {
	t.Helper()
	req, _ := nethttp.NewRequest(method, m.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// TestReplayAndDeadLettersCLI: with serve stopped, `replay` runs the
// embedded stream into a fresh store whose place did not exist when the
// posts came in, and `deadletters` lists, redrives and deletes.
func TestReplayAndDeadLettersCLI(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, func(c *Config) { c.DataDir = dir })
	ws := &geopulse.Workspace{Name: "replay"}
	if err := m.Store.CreateWorkspace(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
	key := geopulse.NewAPIKey()
	if err := m.Store.CreateAPIKey(t.Context(), ws.ID, geopulse.HashAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	taken := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for i := range 30 {
		fmt.Fprintf(&body, `{"source":"replay","source_id":"p%d","taken_at":%q,"location":{"lat":40.0,"lon":-3.7},"author":{"source_id":"a%d"}}`+"\n", i, taken, i)
	}
	if code := call(t, m, "POST", "/v1/posts", key, body.String(), nil); code != 200 {
		t.Fatalf("ingest = %d", code)
	}
	js, err := jetstream.New(m.Stream.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(t.Context(), "geopulse.posts.replay", []byte("{broken")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := m.Stream.WaitDrained(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	*m = Main{}

	// A fresh store with a place over the posts.
	fresh := filepath.Join(t.TempDir(), "fresh.duckdb")
	db, err := duckdb.Open(t.Context(), fresh, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws2 := &geopulse.Workspace{Name: "fresh"}
	if err := db.CreateWorkspace(t.Context(), ws2); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePlace(t.Context(), &geopulse.Place{WorkspaceID: ws2.ID, Name: "Madrid", Center: &geopulse.LatLon{Lat: 40, Lon: -3.7}, RadiusM: 1000}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"replay", []string{"replay", "--data", dir, "--db", fresh, "--since", "1h"}, "30 stored"},
		{"list", []string{"deadletters", "list", "--data", dir}, "undecodable"},
		{"redrive", []string{"deadletters", "redrive", "--data", dir, "-all"}, "re-drove 1"},
		{"delete unknown", []string{"deadletters", "delete", "--data", dir, "999"}, "No dead letter 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			got := stdout.String() + stderr.String()
			if err != nil {
				got += err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("%v: %q lacks %q (err %v)", tt.args, got, tt.want, err)
			}
		})
	}
	db, err = duckdb.Open(t.Context(), fresh, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	an, err := db.Analytics(t.Context(), geopulse.AnalyticsFilter{WorkspaceID: ws2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if an.Posts != 30 {
		t.Fatalf("replayed store sees %d posts in its place, want 30", an.Posts)
	}
}
