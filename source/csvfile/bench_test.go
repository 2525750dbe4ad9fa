package csvfile_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/geopulse/geopulse/source"
)

var benchSink int

// BenchmarkDecode decodes a file of 10,000 rows (the fixture's first two
// rows with fresh ids) and reports items/s on one goroutine.
func BenchmarkDecode(b *testing.B) {
	lines := bytes.SplitN(readFile(b, "posts.csv"), []byte("\n"), 5)
	header, rows := lines[0], [][]byte{append(append(lines[1], '\n'), lines[2]...), lines[3]}
	var body bytes.Buffer
	body.Write(header)
	body.WriteByte('\n')
	for i := range 10_000 {
		row := rows[i%2]
		// Give every row its own source_id (the second field).
		first := bytes.IndexByte(row, ',')
		second := first + 1 + bytes.IndexByte(row[first+1:], ',')
		fmt.Fprintf(&body, "%s,id-%d%s\n", row[:first], i, row[second:])
	}
	dec := format(b, "", "").Decode
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		err := dec(bytes.NewReader(body.Bytes()), func(it source.Item) error {
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
