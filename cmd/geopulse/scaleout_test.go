package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/postgres"
	"github.com/geopulse/geopulse/postgres/pgtest"
)

// TestScaleOutPostgres is the documented scale-out deployment in one test:
// two api and two worker processes' worth of Main, one NATS server standing
// in for the cluster, one PostgreSQL database. Posts go in through both api
// nodes; both answer feed and analytics identically. Skipped without
// GEOPULSE_TEST_POSTGRES (.ci/run sets it).
func TestScaleOutPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	if _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	// A stale schema is refused until `geopulse migrate` ran; it has now.
	var out strings.Builder
	if err := run(ctx, []string{"migrate", "-db", dsn}, &out, &out); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %v, %s", err, out.String())
	}

	url := externalNATS(t)
	node := func(role string) *Main {
		store, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return startRole(t, role, url, store, func(c *Config) { c.DB = dsn })
	}
	api1, api2 := node(roleAPI), node(roleAPI)
	node(roleWorker)
	node(roleWorker)

	ws := &geopulse.Workspace{Name: "scale"}
	if err := api1.Store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	key := geopulse.NewAPIKey()
	if err := api1.Store.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	if code := callJSON(t, api1, "POST", "/v1/places", key, `{"name":"Plaza","center":{"lat":40.4168,"lon":-3.7038},"radius_m":800}`, nil); code != 201 {
		t.Fatalf("create place = %d", code)
	}

	const n = 400
	taken := time.Now().UTC().Add(-2 * time.Hour)
	for i, api := range []*Main{api1, api2} {
		var body strings.Builder
		for j := range n / 2 {
			k := i*n/2 + j
			fmt.Fprintf(&body, `{"source":"scale","source_id":"p%d","taken_at":%q,"location":{"lat":40.4168,"lon":-3.7038},"caption":"#plaza %d","author":{"source_id":"a%d","handle":"h%d","followers":%d}}`+"\n",
				k, taken.Add(time.Duration(k)*time.Second).Format(time.RFC3339), k, k%37, k%37, k*10)
		}
		var res struct{ Accepted int }
		if code := call(t, api, "POST", "/v1/posts", key, body.String(), &res); code != 200 || res.Accepted != n/2 {
			t.Fatalf("ingest via api%d = %d, %d accepted", i+1, code, res.Accepted)
		}
	}

	// Wait (bounded) until the workers have stored everything, seen from both nodes.
	for _, api := range []*Main{api1, api2} {
		var an struct{ Posts int64 }
		deadline := time.Now().Add(60 * time.Second)
		for an.Posts < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s sees %d of %d posts", api.URL(), an.Posts, n)
			}
			time.Sleep(50 * time.Millisecond)
			call(t, api, "GET", "/v1/analytics", key, "", &an)
		}
		if an.Posts != n {
			t.Fatalf("%d posts stored, want exactly %d", an.Posts, n)
		}
	}
	for _, path := range []string{"/v1/analytics?interval=hour", "/v1/posts?limit=100", "/v1/posts?limit=50&hashtag=plaza&min_followers=100"} {
		var a, b json.RawMessage
		call(t, api1, "GET", path, key, "", &a)
		call(t, api2, "GET", path, key, "", &b)
		if string(a) != string(b) {
			t.Errorf("GET %s differs between api nodes:\n%s\n%s", path, a, b)
		}
	}
}
