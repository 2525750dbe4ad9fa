package canonical_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/geopulse/geopulse/source/canonical"
)

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // what encoding/json decodes; "" means the input itself
	}{
		{"empty", "", ""},
		{"ascii", "hello world", ""},
		{"quotes and backslash", `say "hi" \o/`, ""},
		{"controls", "a\nb\rc\td\x00e\x1f\x7f", ""},
		{"unicode", "Zoë 🌸 東京 עברית \u2028\u2029 \uFEFF", ""},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"html", "<script>&</script>", ""},
		{"long", strings.Repeat("é🏖x\"", 3000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			var got string
			if err := json.Unmarshal(canonical.AppendJSONString(nil, tt.in), &got); err != nil {
				t.Fatalf("not JSON: %v: %q", err, canonical.AppendJSONString(nil, tt.in))
			}
			if got != want {
				t.Fatalf("round trip = %q, want %q", got, want)
			}
		})
	}
}
