package text_test

import (
	"testing"

	"github.com/geopulse/geopulse/text"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Marks & Spencer", "marks and spencer"},
		{"McDonald’s", "mcdonalds"},
		{"Coca-Cola", "coca cola"},
		{"Café Zürich", "cafe zurich"},
		{"ŁÓDŹ straße ŒUVRE", "lodz strasse oeuvre"},
		{"Ștefan țară", "stefan tara"},
		{"  lots   of\tspace  ", "lots of space"},
		{"#Brunch with @Anna!", "brunch with anna"},
		{"see https://example.org/x?y=1 now", "see now"},
		{"東京 カフェ", "東京 カフェ"},
		{"❤️🔥", ""},
		{"e\u0301te\u0301", "ete"},  // combining accents
		{"bad\xffutf8", "bad utf8"}, // an invalid byte separates words
	}
	for _, tt := range tests {
		if got := text.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
