package instagram_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
)

const benchItems = 10_000

// benchDecode decodes page once per operation and reports posts/s.
func benchDecode(b *testing.B, dec source.DecodeFunc, page []byte) {
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	r := bytes.NewReader(page)
	for b.Loop() {
		r.Reset(page)
		n := 0
		err := dec(r, func(it source.Item) error {
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

// BenchmarkDecodeV1 decodes the 20 recorded media of a location's recent
// media page, replicated into one page of 10,000 (about 4 KB each: v1 media
// embed comment and like lists).
func BenchmarkDecodeV1(b *testing.B) {
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(readFile(b, "v1/location_recent_media.json"), &page); err != nil {
		b.Fatal(err)
	}
	media := make([]string, benchItems)
	for i := range media {
		media[i] = string(page.Data[i%len(page.Data)])
	}
	benchDecode(b, instagram.DecodeV1, []byte(v1Page(media...)))
}

// BenchmarkDecodeGraph decodes a page of 10,000 Graph media with the
// fields a venue poller requests (about 500 bytes each).
func BenchmarkDecodeGraph(b *testing.B) {
	media := make([]string, benchItems)
	for i := range media {
		media[i] = graphMedia("id", strconv.Itoa(17895731045244887+i), "caption", strings.Repeat("Espresso at the bar #coffee ", 1+i%4))
	}
	benchDecode(b, instagram.Graph(cafe).Decode, []byte(graphPage(media...)))
}
