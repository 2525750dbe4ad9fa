package flickr_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/source/flickr"
)

// FuzzDecode feeds arbitrary input to Decode and Pages. Nothing may panic;
// every item must be a well-formed outcome (checkItem: posts meet the
// canonical invariants, rejections are coded); Decode's own error must be
// coded.
func FuzzDecode(f *testing.F) {
	for _, name := range fixtures {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{", "[]", "null", `{"photos":null}`, `{"photos":{"photo":null}}`, `{"stat":"fail","code":{},"message":7}`,
		`{"photos":{"photo":[{"id":"1","owner":"o","latitude":"90","longitude":"-180","accuracy":"1","datetaken":"9999-12-31 23:59:59","tags":"a A #a :=","iconserver":"1","iconfarm":"x"}]}}`,
		`{"photos":{"photo":[{"id":1e400,"owner":0,"latitude":1e-320,"longitude":"-0","accuracy":"16","dateupload":"-62135596801"}]}}`,
		"\xef\xbb\xbf{\"photos\":{\"photo\":[{\"id\":\"\\u0000\"}]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAll(t, data)
		flickr.Pages(data)
	})
}
