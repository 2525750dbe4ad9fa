package x_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/source/x"
)

// FuzzDecode feeds arbitrary input to Decode, NextToken and NewestID.
// Nothing may panic; every item must be a well-formed outcome (checkItem:
// posts meet the canonical invariants, events are valid, rejections are
// coded); indexes must count up from 0; Decode's own error must be coded.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"search_page.json", "search_pages.ndjson", "compliance.ndjson"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{", "[]", "null", `{"data":null}`, `{"data":{}}`, `{"data":[{}]}`,
		`{"data":[{"id":"1","created_at":"2024-01-01T00:00:00Z","author_id":"2","geo":{"place_id":"p"}}],"includes":{"places":[{"id":"p","geo":{"bbox":[170,-10,-170,10]}}]}}`,
		`{"data":[{"id":"1","created_at":"2024-01-01T00:00:00Z","author_id":"2","geo":{"coordinates":{"type":"Point","coordinates":[-180,90]}},"entities":{"hashtags":[{"tag":"#A"},{"tag":"a"},{"tag":" "}]}}]}`,
		`{"scrub_geo":{"user":{"id":"1"},"up_to_tweet_id":"18446744073709551615"}}`,
		`{"data":{"delete":{"tweet":{"id":"\u0000"}}}}`,
		`{"id":"1","action":"delete","redacted_at":"0000-01-01T00:00:00Z"}`,
		"{\"title\":\"\xff\"}",
		"\xef\xbb\xbf\n\n{\"meta\":{}}\n{\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAll(t, data)
		x.NextToken(data)
		x.NewestID(data)
	})
}
