package csvfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/source/csvfile"
)

// FuzzDecode feeds arbitrary files, and mappings, to Decode. Nothing may
// panic; every item must be a well-formed outcome (checkItem: posts meet
// the canonical invariants, rejections are coded); Decode's own error must
// be coded.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"posts.csv", "mapped.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "", "")
		f.Add(b, mappedMapping, "museum")
	}
	for _, s := range []string{
		"", "\xef\xbb\xbf", "a\n", hdr, hdr + `"`, hdr + "\"\n\"\n",
		hdr + "x,1,-62167219200,-90,180,u,9223372036854775807,\"\u2028\",yes,REEL\n",
		hdr + "x,1,2024-01-01T00:00:00+14:00,1e-320,-1e-320,u,0,#,1,story\n",
	} {
		f.Add([]byte(s), "", "s")
	}
	f.Fuzz(func(t *testing.T, data []byte, mapping, defaultSource string) {
		m, err := csvfile.ParseMapping(mapping)
		if err != nil {
			checkRejection(t, err)
			return
		}
		decodeAll(t, csvfile.Format(m, defaultSource).Decode, data)
	})
}
