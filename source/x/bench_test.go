package x_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/x"
)

var benchSink int

// BenchmarkDecode decodes NDJSON of 100 search pages of 100 tweets each
// (10,000 items; the fixture's located tweets with fresh ids) and reports
// items/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	body := benchPages(b, 100, 100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		err := x.Decode(bytes.NewReader(body), func(it source.Item) error {
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

// benchPages returns NDJSON of pages made of the fixture's located tweets
// (point, city bbox, POI video) with fresh ids, and the fixture's includes.
func benchPages(b *testing.B, pages, perPage int) []byte {
	var fixture struct {
		Data     []map[string]any `json:"data"`
		Includes json.RawMessage  `json:"includes"`
	}
	if err := json.Unmarshal(readFile(b, "search_page.json"), &fixture); err != nil {
		b.Fatal(err)
	}
	located := []map[string]any{fixture.Data[0], fixture.Data[1], fixture.Data[3]}
	var out bytes.Buffer
	id := 1861395781384011899
	for range pages {
		data := make([]map[string]any, perPage)
		for i := range data {
			tw := map[string]any{}
			for k, v := range located[i%len(located)] {
				tw[k] = v
			}
			id++
			tw["id"] = strconv.Itoa(id)
			data[i] = tw
		}
		line, err := json.Marshal(map[string]any{"data": data, "includes": fixture.Includes, "meta": map[string]any{"result_count": perPage}})
		if err != nil {
			b.Fatal(err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
