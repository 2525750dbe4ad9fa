package flickr_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/flickr"
)

var benchSink int

// BenchmarkDecode decodes one response of 10,000 photos (the recorded
// geotagged photos with fresh ids) and reports items/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	var rec struct {
		Photos struct {
			Photo []map[string]any `json:"photo"`
		} `json:"photos"`
	}
	if err := json.Unmarshal(readFile(b, fixtures[1]), &rec); err != nil {
		b.Fatal(err)
	}
	photos := make([]map[string]any, 10_000)
	for i := range photos {
		ph := map[string]any{}
		for k, v := range rec.Photos.Photo[i%len(rec.Photos.Photo)] {
			ph[k] = v
		}
		ph["id"] = strconv.Itoa(3850183 + i)
		photos[i] = ph
	}
	body, err := json.Marshal(map[string]any{"photos": map[string]any{"page": 1, "pages": 1, "perpage": len(photos), "total": len(photos), "photo": photos}, "stat": "ok"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		err := flickr.Decode(bytes.NewReader(body), func(it source.Item) error {
			if it.Post == nil {
				b.Fatalf("item %d: %v", it.Index, it.Err)
			}
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	benchSink = n
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}
