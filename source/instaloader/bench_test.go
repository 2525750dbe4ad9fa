package instaloader_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instaloader"
)

const benchItems = 10_000

// BenchmarkDecode decodes an NDJSON file of 10,000 exports (the built
// fixtures, compact, with distinct ids; about 2 KB each) per operation and
// reports posts/s.
func BenchmarkDecode(b *testing.B) {
	fixtures := []string{"post_location.json", "sidecar.json", "reel.json", "post_private_owner.json"}
	var sb strings.Builder
	for i := range benchItems {
		sb.WriteString(edit(b, fixtures[i%len(fixtures)], "node.id", strconv.Itoa(2643000000000000000+i)))
		sb.WriteByte('\n')
	}
	file := []byte(sb.String())
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	r := bytes.NewReader(file)
	for b.Loop() {
		r.Reset(file)
		n := 0
		err := instaloader.Decode(r, func(it source.Item) error {
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
