package text_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/text"
)

func TestLoadMissingAssets(t *testing.T) {
	_, err := text.Load(t.TempDir())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(empty dir) = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func names(ls []geopulse.Label, kind geopulse.LabelKind) []string {
	var out []string
	for _, l := range ls {
		if l.Kind == kind {
			out = append(out, l.Name)
		}
	}
	slices.Sort(out)
	return out
}

func TestAnalyze(t *testing.T) {
	a := analyzer(t)
	image := geopulse.Label{Kind: geopulse.LabelObject, Name: "dog", Score: 0.8, Origin: geopulse.OriginImage, Model: "nanodet-coco"}
	p := &geopulse.Post{
		Caption:   "Best flat white in town at Starbucks ☕️😍 not bad at all #coffeetime",
		Hashtags:  []string{"coffeetime", "Sunday"},
		PlaceName: "Starbucks",
		Labels:    []geopulse.Label{image},
	}
	a.Analyze(p, []string{"amenity=cafe"})
	if p.Language != "en" {
		t.Errorf("language %q, want en", p.Language)
	}
	if p.Sentiment < 0.5 || p.Sentiment > 1 {
		t.Errorf("sentiment %.2f, want clearly positive", p.Sentiment)
	}
	if got := names(p.Labels, geopulse.LabelBrand); !slices.Equal(got, []string{"starbucks"}) {
		t.Errorf("brands %q", got)
	}
	if got := names(p.Labels, geopulse.LabelInterest); !slices.Contains(got, "coffee") {
		t.Errorf("interests %q, want coffee", got)
	}
	if p.Labels[0] != image {
		t.Errorf("the image label was touched: %+v", p.Labels[0])
	}
	for _, l := range p.Labels[1:] {
		if l.Origin != geopulse.OriginText || l.Version == "" || (l.Model != "nsi" && l.Model != "interests") {
			t.Errorf("label %+v: want origin text, model nsi/interests, a version", l)
		}
		if l.Kind == geopulse.LabelBrand && l.Version != "8.0.20260918" {
			t.Errorf("brand label version %q", l.Version)
		}
	}

	// A second pass replaces its own labels instead of adding more.
	n := len(p.Labels)
	a.Analyze(p, []string{"amenity=cafe"})
	if len(p.Labels) != n {
		t.Errorf("second Analyze: %d labels, want %d", len(p.Labels), n)
	}

	// The source's language is kept; other languages get no English lexicon.
	q := &geopulse.Post{Caption: "Wir waren im Park und das Wetter war wunderbar", Language: "de"}
	a.Analyze(q, nil)
	if q.Language != "de" || q.Sentiment != 0 {
		t.Errorf("german post: language %q sentiment %.2f, want de and 0 (\"war\" is not war)", q.Language, q.Sentiment)
	}

	// Nothing to say: no labels, neutral, no language.
	r := &geopulse.Post{Caption: "ok"}
	a.Analyze(r, nil)
	if r.Language != "" || r.Sentiment != 0 || len(r.Labels) != 0 {
		t.Errorf("empty-ish post: %+v", r)
	}
}

var captions = []string{
	"Sunday brunch with the girls 🥞☕️ best pancakes in town! #brunch #sundayfunday",
	"Finally made it to the top of the mountain, what a view 😍 #hiking #nature",
	"Quick coffee at Starbucks before work",
	"Not impressed with the service tonight, waited 40 minutes for our food",
	"Hoy fuimos a la playa con los niños, qué día tan bonito",
	"New PR at the gym today 💪 #fitness #legday",
	"Our pup loves the beach 🐶 #dogsofinstagram",
	"Picked up a few things at Target and grabbed Chipotle for dinner",
}

func BenchmarkAnalyze(b *testing.B) {
	a := analyzer(b)
	posts := make([]geopulse.Post, len(captions))
	cats := []string{"amenity/cafe"}
	bytes := 0
	for _, c := range captions {
		bytes += len(c)
	}
	b.SetBytes(int64(bytes / len(captions)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &posts[i%len(posts)]
		p.Caption, p.Language, p.Labels = captions[i%len(captions)], "", p.Labels[:0]
		a.Analyze(p, cats)
		i++
	}
}

func BenchmarkBrands(b *testing.B) {
	br := analyzer(b).Brands()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		br.Find(captions[i%len(captions)], "", nil)
		i++
	}
}

func BenchmarkSentiment(b *testing.B) {
	lx := analyzer(b).Lexicon()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lx.Score(captions[i%len(captions)])
		i++
	}
}

func BenchmarkDetectLanguage(b *testing.B) {
	l := analyzer(b).Languages()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Detect(captions[i%len(captions)])
		i++
	}
}
