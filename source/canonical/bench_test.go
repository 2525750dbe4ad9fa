package canonical_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/geopulse/geopulse/source/canonical"
)

const benchItems = 1000

// BenchmarkDecode decodes an NDJSON body of 1,000 realistic posts per
// operation (about 1 KB each) and reports posts/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	body := ndjson(realisticPosts(benchItems, 42))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	r := bytes.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		n := 0
		err := canonical.Decode(r, canonical.Limits{}, func(it canonical.Item) error {
			if it.Err != nil {
				return it.Err
			}
			n++
			return nil
		})
		if err != nil || n != benchItems {
			b.Fatalf("decoded %d, error %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkAppendJSON encodes 1,000 realistic posts per operation into a
// reused buffer, as a simulator does.
func BenchmarkAppendJSON(b *testing.B) {
	posts := realisticPosts(benchItems, 42)
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(ndjson(posts))))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range posts {
			buf = canonical.AppendJSON(buf[:0], p)
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkEncode writes 1,000 realistic posts per operation as NDJSON.
func BenchmarkEncode(b *testing.B) {
	posts := realisticPosts(benchItems, 42)
	b.SetBytes(int64(len(ndjson(posts))))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range posts {
			if err := canonical.Encode(io.Discard, p); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/b.Elapsed().Seconds(), "posts/s")
}
