package instagram_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geopulse/geopulse/source/instagram"
)

// addSeeds seeds a fuzzer with the recorded payloads of dir and extra
// hand-made ones.
func addSeeds(f *testing.F, dir string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in %s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzDecodeV1 feeds arbitrary payloads to DecodeV1: nothing may panic,
// every rejection is coded and every post meets the invariants (decode
// checks both).
func FuzzDecodeV1(f *testing.F) {
	addSeeds(f, "v1",
		v1Page(v1Media(), v1Media("id", 7, "likes.count", "1e3", "location.latitude", "-90", "tags", []any{"#A", " a", "İ"})),
		"["+v1Media()+",3,null,{}]",
		`{"data":{"type":"video","videos":{"standard_resolution":{"url":"http://x"}}}}`,
		`{"meta":{"code":"500","error_message":"\ud800"}}`,
		v1Page(v1Media())+v1Page(),
		"\xef\xbb\xbf[",
		`{"data":[`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		decode(t, instagram.DecodeV1, data)
	})
}

// FuzzDecodeGraph does the same for the Graph format, with and without a
// venue.
func FuzzDecodeGraph(f *testing.F) {
	addSeeds(f, "graph",
		graphPage(graphMedia(), graphMedia("media_product_type", "STORY", "timestamp", "9999-12-30T23:59:59+0000")),
		`{"1":`+graphMedia()+`,"x":1}`,
		`{"business_discovery":{"id":"5","followers_count":"-1","media":{"data":[`+graphMedia("owner", del)+`,1]}}}`,
		`{"mentioned_media":{"media_type":"VIDEO","thumbnail_url":"https://a\u0085b"}}`,
		`{"error":{"code":1e400}}`,
		strings.Repeat("[", 50),
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		decode(t, instagram.Graph(cafe).Decode, data)
		decode(t, instagram.Graph(nil).Decode, data)
	})
}

// FuzzDecodeWebhook checks that webhook decoding and signature checks
// never panic and that accepted deliveries are well-formed.
func FuzzDecodeWebhook(f *testing.F) {
	addSeeds(f, "webhook",
		`{"object":"instagram","entry":[{"id":1,"time":1e12,"changes":[{"field":"mentions","value":{"media_id":2}}],"standby":[1,{}]}]}`,
		`{"object":"instagram","entry":[null]}`,
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		instagram.VerifySignature(data, string(data), "k")
		wh, err := instagram.DecodeWebhook(data)
		if err != nil {
			checkRejection(t, err)
			return
		}
		if wh.Object != "instagram" {
			t.Fatalf("object %q", wh.Object)
		}
		for _, e := range wh.Entries {
			if e.ID == "" || e.Time.Location().String() != "UTC" {
				t.Fatalf("entry %+v", e)
			}
			for _, c := range e.Changes {
				if c.Field == "" || c.Field == "mentions" && c.MediaID == "" {
					t.Fatalf("change %+v", c)
				}
			}
		}
	})
}
