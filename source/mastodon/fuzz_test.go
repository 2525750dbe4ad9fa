package mastodon_test

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary input to Decode. Nothing may panic; every item
// must be a well-formed outcome (checkItem: posts meet the canonical
// invariants, rejections are coded); Decode's own error must be coded.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "[", "{", "[]", "null", "[null]",
		`{"uri":"u","created_at":"2024-01-01T00:00:00Z","visibility":"public","account":{"acct":"a@b"},"content":"<a href=geo:90,180;u=1e308>x</a>"}`,
		`{"uri":"u","created_at":"2024-01-01T00:00:00Z","account":{"url":"http://h/@a"},"content":"openstreetmap.org/#map=22/-90/-180 <a href='x' href=\"y\">"}`,
		`{"uri":"u","created_at":"2024-01-01T00:00:00Z","account":{"acct":"@"},"card":{"url":"https://www.openstreetmap.org/?mlat=1&mlon=2"},"tags":[{"name":"#"}],"mentions":[{"acct":"@X","url":"::"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAll(t, data)
	})
}
