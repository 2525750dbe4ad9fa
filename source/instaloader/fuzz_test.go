package instaloader_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/source/instaloader"
)

// FuzzDecode feeds arbitrary files to Decode: nothing may panic, every
// rejection is coded and every post meets the invariants (decode checks
// both).
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`[{"node":{"id":1,"__typename":"XDTGraphStoryVideo","taken_at_timestamp":"253402214399","expiring_at_timestamp":1e3,"owner":{"username":"@A"},"location":{"lat":"-90","lng":180},"video_resources":[{"src":"http://v"}]}}]`,
		`{"node":{"caption":{"text":"\ud800"},"edge_media_to_caption":{"edges":[]}}}` + "\n" + `{"node":null}`,
		`{"instaloader":{"node_type":"\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff"}}`,
		"[", "{", "", "\xef\xbb\xbf",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decode(t, instaloader.Decode, data)
	})
}
