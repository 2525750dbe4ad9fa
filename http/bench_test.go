package http_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/geopulse/geopulse"
)

// BenchmarkIngest posts NDJSON batches of 1,000 new posts through the whole
// stack (HTTP, decode, pipeline, DuckDB); posts/s is the figure to watch.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b)
	key := e.workspace("bench")
	e.createVenue(key, "Louvre", louvre)
	const batch = 1000
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		posts := make([]*geopulse.Post, batch)
		for i := range posts {
			posts[i] = newPost(fmt.Sprintf("b%09d", n), louvre, 1+n%500)
			n++
		}
		body := ndjson(posts...)
		b.SetBytes(int64(len(body)))
		res := e.do(request{method: http.MethodPost, path: "/v1/posts?quiet=1", key: key, body: body})
		if res.status != http.StatusOK {
			b.Fatalf("status %d: %s", res.status, res.body)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkFeedPage reads a 50-post feed page of one place over HTTP.
func BenchmarkFeedPage(b *testing.B) {
	e := newEnv(b)
	key := e.workspace("bench")
	p := e.createVenue(key, "Louvre", louvre)
	posts := make([]*geopulse.Post, 5000)
	for i := range posts {
		posts[i] = newPost(fmt.Sprintf("f%06d", i), louvre, 1+i%700)
	}
	e.ingest(key, posts...)
	path := fmt.Sprintf("/v1/posts?place=%d&limit=50", p.ID)
	for b.Loop() {
		if res := e.get(key, path); res.status != http.StatusOK {
			b.Fatalf("status %d", res.status)
		}
	}
}

// BenchmarkAuthFloor is the cost every authenticated request pays: key
// lookup plus a trivial query.
func BenchmarkAuthFloor(b *testing.B) {
	e := newEnv(b)
	key := e.workspace("bench")
	for b.Loop() {
		if res := e.get(key, "/v1/places?group=none"); res.status != http.StatusOK {
			b.Fatalf("status %d", res.status)
		}
	}
}
