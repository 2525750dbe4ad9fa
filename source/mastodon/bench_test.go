package mastodon_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/mastodon"
)

var benchSink int

// BenchmarkDecode decodes NDJSON of 10,000 statuses (the fixture's located
// public statuses with fresh uris) and reports items/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	var fixture []map[string]any
	if err := json.Unmarshal(readFile(b, "statuses.json"), &fixture); err != nil {
		b.Fatal(err)
	}
	located := []map[string]any{fixture[0], fixture[1], fixture[2]}
	var body bytes.Buffer
	for i := range 10_000 {
		st := map[string]any{}
		for k, v := range located[i%len(located)] {
			st[k] = v
		}
		st["uri"] = "https://social.example.org/users/ana/statuses/" + strconv.Itoa(113530123456789001+i)
		line, err := json.Marshal(st)
		if err != nil {
			b.Fatal(err)
		}
		body.Write(line)
		body.WriteByte('\n')
	}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		err := mastodon.Decode(bytes.NewReader(body.Bytes()), func(it source.Item) error {
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
