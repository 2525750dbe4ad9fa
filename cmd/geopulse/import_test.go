package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// TestImport imports real recorded payloads of several formats, compressed
// and not, into a store directly, and checks the summary: every item has
// an outcome, bad ones are counted by reason, the rest landed.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	canonicalLines := strings.Join([]string{
		`{"source":"test","source_id":"1","taken_at":"2025-06-01T10:00:00Z","location":{"lat":48.86,"lon":2.33},"author":{"source_id":"a1","handle":"ann"}}`,
		`{"source":"test","source_id":"1","taken_at":"2025-06-01T10:00:00Z","location":{"lat":48.86,"lon":2.33},"author":{"source_id":"a1","handle":"ann"}}`,
		`{"source":"test","source_id":"2","taken_at":"2025-06-01T10:00:00Z","location":{"lat":95,"lon":2.33},"author":{"source_id":"a1"}}`,
		`{"source":"test","source_id":"3",`,
		"{\"source\":\"test\",\"source_id\":\"4\",\"caption\":\"\xff\"}",
		`{"source":"test","source_id":"5","taken_at":"2025-06-01T10:00:00Z","location":{"lat":48.86,"lon":2.33},"author":{"source_id":"a2","private":true}}`,
		`{"v":1,"event":"delete","source":"test","source_id":"1"}`,
	}, "\n") + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(canonicalLines))
	zw.Close()
	var xzBuf bytes.Buffer
	xw, err := xz.NewWriter(&xzBuf)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(read("../../source/flickr/testdata/photos_search_page63.json"))
	xw.Close()

	files := []string{
		write("posts.ndjson.gz", gz.Bytes()),
		write("flickr-page.bin", xzBuf.Bytes()), // named for nothing: detected by content
		write("x.json", read("../../source/x/testdata/search_page.json")),
		write("mastodon.json", read("../../source/mastodon/testdata/statuses.json")),
	}
	var stdout, stderr bytes.Buffer
	args := append([]string{"import", "-quiet", "-db", filepath.Join(dir, "store.duckdb")}, files...)
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"format canonical, gzip", "format flickr, xz", "format x", "format mastodon",
		"1 duplicates", "1 compliance events applied",
		"rejected malformed_json", "rejected invalid_coordinates", "rejected invalid_utf8", "rejected private_account", "rejected no_location",
	} {
		if !strings.Contains(out+stderr.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, stderr.String())
		}
	}
	if t.Failed() {
		return
	}

	// A file in no known format is refused with a clear message; the
	// files before it are in.
	bad := write("notes.txt", []byte("dear diary, today I went to the beach\n"))
	err = run(t.Context(), []string{"import", "-quiet", "-db", filepath.Join(dir, "store.duckdb"), bad}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "Cannot tell the format") {
		t.Fatalf("unknown format: %v", err)
	}
}
