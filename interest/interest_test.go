package interest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/interest"
	"github.com/geopulse/geopulse/text"
	"github.com/geopulse/geopulse/vision/onnx"
)

func ids(ls []geopulse.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func obj(name string, score float32) geopulse.Label {
	return geopulse.Label{Kind: geopulse.LabelObject, Name: name, Score: score}
}

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		in   interest.Signals
		want []string // interests, best first
	}{
		{"object", interest.Signals{Objects: []geopulse.Label{obj("dog", 0.9)}}, []string{"pets"}},
		{"weak object dropped", interest.Signals{Objects: []geopulse.Label{obj("dog", 0.3)}}, nil},
		{"object to two interests", interest.Signals{Objects: []geopulse.Label{obj("skis", 0.8)}}, []string{"outdoors", "sports"}},
		{"place category", interest.Signals{PlaceCategories: []string{"amenity/cafe"}}, []string{"coffee"}},
		{"place subcategory", interest.Signals{PlaceCategories: []string{"amenity/cafe/coffee_shop"}}, []string{"coffee"}},
		{"brand category", interest.Signals{Brands: []interest.Brand{{Name: "zara", Category: "shop/clothes", Score: 0.9}}}, []string{"fashion"}},
		{"hashtag", interest.Signals{Hashtags: []string{"ootd"}}, []string{"fashion"}},
		{"keyword inside hashtag", interest.Signals{Hashtags: []string{"sundaycoffee"}}, []string{"coffee"}},
		{"short keyword not inside hashtag", interest.Signals{Hashtags: []string{"carnivalnight"}}, nil},
		{"long keyword inside hashtag", interest.Signals{Hashtags: []string{"cathedralview"}}, []string{"art"}},
		{"caption word and plural", interest.Signals{Words: []string{"we", "loved", "the", "tacos"}}, []string{"food"}},
		{"ocr text alone is too weak", interest.Signals{Texts: []geopulse.Label{{Kind: geopulse.LabelText, Name: "espresso bar", Score: 0.9}}}, nil},
		{"agreeing kinds rank first", interest.Signals{
			Objects:  []geopulse.Label{obj("cup", 0.6), obj("laptop", 0.9)},
			Texts:    []geopulse.Label{{Kind: geopulse.LabelText, Name: "ESPRESSO", Score: 1}},
			Hashtags: []string{"coffeetime"},
		}, []string{"coffee", "tech"}},
		{"nothing relevant", interest.Signals{
			Objects:  []geopulse.Label{obj("person", 0.99), obj("traffic light", 0.8)},
			Words:    []string{"just", "another", "tuesday"},
			Hashtags: []string{"mood"},
		}, nil},
		{"empty", interest.Signals{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interest.Of(tt.in)
			if !slices.Equal(ids(got), tt.want) {
				t.Fatalf("Of = %v, want %q", got, tt.want)
			}
			for _, l := range got {
				if l.Kind != geopulse.LabelInterest || l.Model != "interests" || l.Version != interest.Default().Version ||
					l.Score < interest.MinScore || l.Score > 1 {
					t.Errorf("bad label %+v", l)
				}
			}
		})
	}
}

func TestNoisyOr(t *testing.T) {
	one := interest.Of(interest.Signals{Words: []string{"coffee"}})
	repeated := interest.Of(interest.Signals{Words: []string{"coffee", "coffee", "latte"}})
	two := interest.Of(interest.Signals{Words: []string{"coffee"}, PlaceCategories: []string{"amenity/cafe"}})
	if len(one) != 1 || len(repeated) != 1 || len(two) != 1 {
		t.Fatalf("one %v repeated %v two %v", one, repeated, two)
	}
	if repeated[0].Score != one[0].Score {
		t.Errorf("repeating a kind raised the score: %.3f → %.3f", one[0].Score, repeated[0].Score)
	}
	// 1 − (1 − 0.5)(1 − 0.8) = 0.9
	if two[0].Score < 0.899 || two[0].Score > 0.901 {
		t.Errorf("word + place = %.3f, want 0.9", two[0].Score)
	}
}

// The taxonomy's keywords and hashtags must be written as text.Fold writes
// words, or captions never match them; its categories must be real presets
// and its objects real COCO classes.
func TestTaxonomyIsConsistent(t *testing.T) {
	tx := interest.Default()
	if tx.Version == "" || len(tx.Interests) < 15 {
		t.Fatalf("taxonomy %q with %d interests", tx.Version, len(tx.Interests))
	}
	for _, in := range tx.Interests {
		for _, w := range slices.Concat(in.Keywords, in.Hashtags) {
			if text.Fold(w) != w {
				t.Errorf("%s: %q is not folded (%q)", in.ID, w, text.Fold(w))
			}
		}
		for _, o := range in.Objects {
			if !slices.Contains(coco, o) {
				t.Errorf("%s: %q is not a COCO class", in.ID, o)
			}
		}
	}
	path := filepath.Join(onnx.AssetsDir(), "text", "presets.min.json")
	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			t.Skipf("presets: %v", err)
		}
		t.Fatal(err)
	}
	var presets map[string]json.RawMessage
	if err := json.Unmarshal(data, &presets); err != nil {
		t.Fatal(err)
	}
	for _, in := range tx.Interests {
		for _, c := range in.Categories {
			if _, ok := presets[c]; !ok {
				t.Errorf("%s: %q is not a preset id", in.ID, c)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{`{}`, `{"version":"1","interests":[{"id":"a"},{"id":"a"}]}`, `{"version":"1","interests":[{"id":"Food"}]}`, `nope`} {
		if _, err := interest.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

var coco = []string{"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
	"traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep",
	"cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
	"skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
	"tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
	"sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
	"potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
	"microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
	"hair drier", "toothbrush"}

func BenchmarkOf(b *testing.B) {
	s := interest.Signals{
		Objects:         []geopulse.Label{obj("cup", 0.7), obj("person", 0.9)},
		Hashtags:        []string{"brunch", "sundayfunday"},
		Words:           []string{"sunday", "brunch", "with", "the", "girls", "best", "pancakes", "in", "town"},
		PlaceCategories: []string{"amenity/cafe"},
	}
	b.ReportAllocs()
	for b.Loop() {
		interest.Of(s)
	}
}
