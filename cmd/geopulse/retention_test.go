package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetentionCommand: a dry run reports what the configured policy would
// remove and removes nothing; the real run removes exactly that; a second
// dry run finds nothing left.
func TestRetentionCommand(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i, age := range []time.Duration{time.Hour, 2 * time.Hour, 10 * 24 * time.Hour, 40 * 24 * time.Hour} {
		kind := "photo"
		if i%2 == 1 {
			kind = "video"
		}
		lines = append(lines, fmt.Sprintf(`{"source":"flickr","source_id":"%d","kind":%q,"taken_at":%q,"location":{"lat":1,"lon":1},"author":{"source_id":"a"}}`,
			i, kind, time.Now().UTC().Add(-age).Format(time.RFC3339)))
	}
	posts := filepath.Join(dir, "posts.ndjson")
	os.WriteFile(posts, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	data := filepath.Join(dir, "data")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"import", "-quiet", "-data", data, posts}, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	config := writeConfig(t, "retention:\n  system:\n    rules:\n      - {source: flickr, keep: 168h}\n      - {source: flickr, kind: video, keep: 720h}\n")

	retention := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(t.Context(), append([]string{"retention", "-data", data, "-config", config}, args...), &out, &errOut); err != nil {
			t.Fatalf("retention %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	// rows returns the table's rows as fields, without the header.
	rows := func(table string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
		return out
	}
	// The 10-day photo is past 168h; the 40-day video is past 720h; the
	// 2-hour video and the 1-hour photo stay.
	dry := retention("-dry-run")
	want := []string{"system flickr photo 1 0 " + time.Now().UTC().Add(-10*24*time.Hour).Format(time.DateOnly),
		"system flickr video 1 0 " + time.Now().UTC().Add(-40*24*time.Hour).Format(time.DateOnly)}
	if !strings.Contains(dry, "would remove") || strings.Join(rows(dry), "|") != strings.Join(want, "|") {
		t.Fatalf("dry run:\n%s\nwant rows %q", dry, want)
	}
	if again := retention("-dry-run"); again != dry {
		t.Fatalf("a dry run changed something:\n%s\nthen\n%s", dry, again)
	}
	if real := retention(); !strings.Contains(real, "posts removed") || strings.Join(rows(real), "|") != strings.Join(want, "|") {
		t.Fatalf("real run:\n%s", real)
	}
	if after := rows(retention("-dry-run")); len(after) != 1 || after[0] != "system - - 0 0 -" {
		t.Fatalf("after the run: %q", after)
	}
}
