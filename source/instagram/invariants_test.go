package instagram_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/sourcetest"
)

// The checks are sourcetest's, shared by every connector.

func checkRejection(t testing.TB, err error) {
	t.Helper()
	sourcetest.CheckRejection(t, err)
}

func checkInvariants(t testing.TB, p *geopulse.Post) {
	t.Helper()
	sourcetest.CheckInvariants(t, p, "instagram")
}

// result is what a decoding produced.
type result struct {
	items []source.Item
	err   error
}

// posts returns the decoded posts.
func (r result) posts() []*geopulse.Post {
	var out []*geopulse.Post
	for _, it := range r.items {
		if it.Post != nil {
			out = append(out, it.Post)
		}
	}
	return out
}

// reasons returns each item's outcome: "" for a post, else the reason.
func (r result) reasons() []string {
	out := make([]string, len(r.items))
	for i, it := range r.items {
		out[i] = geopulse.ErrorReason(it.Err)
	}
	return out
}

// decode runs dec on data and checks what every decoding must satisfy:
// one outcome per item, indexes in order, posts that meet the invariants,
// rejections that are coded.
func decode(t testing.TB, dec source.DecodeFunc, data []byte) result {
	t.Helper()
	var res result
	res.err = dec(bytes.NewReader(data), func(it source.Item) error {
		if it.Index != len(res.items) {
			t.Fatalf("item index %d, want %d", it.Index, len(res.items))
		}
		sourcetest.CheckItem(t, it, "instagram")
		res.items = append(res.items, it)
		return nil
	})
	if res.err != nil {
		checkRejection(t, res.err)
	}
	return res
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countReasons summarises outcomes as reason → count ("" counts posts).
func countReasons(rs []string) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r]++
	}
	return m
}
