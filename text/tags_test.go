package text_test

import (
	"slices"
	"testing"

	"github.com/geopulse/geopulse/text"
)

func TestHashtags(t *testing.T) {
	tests := []struct {
		name string
		in   string
		have []string
		want []string
	}{
		{"none", "just coffee", nil, nil},
		{"simple", "Morning #Coffee at #cafe", nil, []string{"coffee", "cafe"}},
		{"dedup with existing", "#latte #Latte", []string{"latte"}, []string{"latte"}},
		{"unicode", "#café #東京 #naïve", nil, []string{"café", "東京", "naïve"}},
		{"punctuation ends tag", "#sun, #sea! (#surf)", nil, []string{"sun", "sea", "surf"}},
		{"mark inside word ignored", "C# and a#b", nil, nil},
		{"lone marks", "# ## #", nil, nil},
		{"underscore and digits", "#new_york2026", nil, []string{"new_york2026"}},
		{"emoji ends tag", "#beach🏖️ time", nil, []string{"beach"}},
		{"invalid utf8 does not panic", "#ok\xff\xfe #fine", nil, []string{"ok", "fine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text.Hashtags(slices.Clone(tt.have), tt.in)
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Hashtags(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMentions(t *testing.T) {
	got := text.Mentions(nil, "with @Jane and @bob_99 — mail me at x@y.com")
	if want := []string{"jane", "bob_99"}; !slices.Equal(got, want) {
		t.Fatalf("Mentions = %q, want %q", got, want)
	}
}

func BenchmarkHashtags(b *testing.B) {
	s := "Sunday flat white at the corner place ☕️ #coffee #latteart #london @starbucks"
	dst := make([]string, 0, 8)
	for b.Loop() {
		dst = text.Hashtags(dst[:0], s)
	}
}
