package text

import "testing"

// The fold table must cover exactly U+00C0..U+017F, or letters shift.
func TestLatinFoldTable(t *testing.T) {
	if len(latinFold) != 0x180-0xC0 {
		t.Fatalf("latinFold has %d entries, want %d", len(latinFold), 0x180-0xC0)
	}
	for _, c := range []struct {
		r    rune
		want string
	}{{'é', "e"}, {'Ñ', "n"}, {'ø', "o"}, {'ł', "l"}, {'ž', "z"}, {'ő', "o"}, {'ű', "u"}, {'ğ', "g"}, {'ı', "i"}, {'ſ', "s"}} {
		if got := string(appendFolded(nil, c.r)); got != c.want {
			t.Errorf("fold %q = %q, want %q", c.r, got, c.want)
		}
	}
}
