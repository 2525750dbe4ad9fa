package interest

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/geopulse/geopulse"
)

// Model is the Model of every interest label.
const Model = "interests"

// Signal weights: how much one piece of evidence says about an interest on
// its own. A place's or brand's category is the venue itself; a detected
// object is seen but may be incidental (a cup on a desk); a hashtag is a
// deliberate topic; a caption word may be passing; text read in a picture
// is the weakest (signs, menus, packaging).
const (
	WeightObject   = 0.9 // times the detector's score
	WeightPlace    = 0.8
	WeightBrand    = 0.8 // times the brand match's score
	WeightHashtag  = 0.7
	WeightTagPart  = 0.5 // a keyword at the start or end of a hashtag: #sundaycoffee
	WeightWord     = 0.5
	WeightOCR      = 0.35
	MinScore       = 0.45 // below this an interest is not reported
	minPartKeyword = 5    // shorter keywords hide inside unrelated tags (#cathedral ⊃ "cat")
)

// Signals is everything known about a post that can point at an interest.
// Words, hashtags and keywords are compared lower-cased; callers fold
// diacritics the same way for both sides (text.Fold) when they can.
type Signals struct {
	Objects         []geopulse.Label // detector classes ("dog"), with their scores
	Texts           []geopulse.Label // words read in the pictures (OCR)
	Brands          []Brand          // brands named in the post
	Hashtags        []string         // without '#'
	Words           []string         // the caption's words
	PlaceCategories []string         // preset ids of the post's places: "amenity/cafe"
	Origin          geopulse.LabelOrigin
}

// Brand is a brand found in a post, by its OSM category.
type Brand struct {
	Name     string
	Category string  // preset id: "amenity/cafe"
	Score    float32 // how sure the match is
}

// Interest is one entry of the taxonomy.
type Interest struct {
	ID         string   `json:"id"`   // the label name: "coffee"
	Name       string   `json:"name"` // for people: "Coffee & drinks"
	Objects    []string `json:"objects"`
	Categories []string `json:"categories"`
	Hashtags   []string `json:"hashtags"`
	Keywords   []string `json:"keywords"`
}

// Taxonomy is a parsed, indexed taxonomy.
type Taxonomy struct {
	Version   string     `json:"version"`
	Interests []Interest `json:"interests"`

	objects    map[string][]int
	categories map[string][]int
	tags       map[string][]int // hashtags and keywords, exactly
	words      map[string][]int // keywords and their plurals
	parts      map[string][]int // keywords long enough to look for inside tags
}

//go:embed taxonomy.json
var taxonomyJSON []byte

// Default is the embedded taxonomy, parsed once.
var Default = sync.OnceValue(func() *Taxonomy {
	t, err := Parse(taxonomyJSON)
	if err != nil {
		panic(fmt.Sprintf("interest: embedded taxonomy: %v", err)) // a build with a broken file
	}
	return t
})

// Of returns the interests of the default taxonomy that signals point at.
func Of(s Signals) []geopulse.Label { return Default().Of(s) }

// Parse reads and indexes a taxonomy.
func Parse(data []byte) (*Taxonomy, error) {
	t := &Taxonomy{}
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("parse taxonomy: %w", err)
	}
	if t.Version == "" || len(t.Interests) == 0 {
		return nil, errors.New("parse taxonomy: no version or no interests")
	}
	t.objects, t.categories = map[string][]int{}, map[string][]int{}
	t.tags, t.words, t.parts = map[string][]int{}, map[string][]int{}, map[string][]int{}
	seen := map[string]bool{}
	for i, in := range t.Interests {
		if in.ID == "" || seen[in.ID] || in.ID != strings.ToLower(in.ID) {
			return nil, fmt.Errorf("parse taxonomy: bad or repeated id %q", in.ID)
		}
		seen[in.ID] = true
		for _, o := range in.Objects {
			index(t.objects, o, i)
		}
		for _, c := range in.Categories {
			index(t.categories, c, i)
		}
		for _, h := range in.Hashtags {
			index(t.tags, h, i)
		}
		for _, k := range in.Keywords {
			index(t.tags, k, i)
			index(t.words, k, i)
			index(t.words, k+"s", i)
			if len(k) >= minPartKeyword {
				index(t.parts, k, i)
			}
		}
	}
	return t, nil
}

func index(m map[string][]int, key string, i int) {
	key = strings.ToLower(key)
	if !slices.Contains(m[key], i) {
		m[key] = append(m[key], i)
	}
}

// Of returns the interests signals point at, best first, as labels of kind
// interest with Model "interests" and the taxonomy's version.
//
// An interest's score combines its evidence as a noisy-OR over signal
// kinds, 1 − Π(1 − w_k), where w_k is the strongest evidence of kind k
// (object, place, brand, hashtag, word, OCR) weighted as the Weight
// constants say. Independent kinds that agree raise the score; repeating
// one kind (three coffee hashtags) does not. Interests under MinScore are
// dropped.
func (t *Taxonomy) Of(s Signals) []geopulse.Label {
	const kinds = 6
	var best [32][kinds]float32 // per interest, per kind
	ev := best[:0]
	if len(t.Interests) > len(best) {
		ev = make([][kinds]float32, len(t.Interests))
	} else {
		ev = best[:len(t.Interests)]
	}
	note := func(ids []int, kind int, w float32) {
		for _, i := range ids {
			ev[i][kind] = max(ev[i][kind], w)
		}
	}
	for _, o := range s.Objects {
		note(t.objects[o.Name], 0, WeightObject*clamp(o.Score))
	}
	for _, c := range s.PlaceCategories {
		t.category(c, func(ids []int) { note(ids, 1, WeightPlace) })
	}
	for _, b := range s.Brands {
		t.category(b.Category, func(ids []int) { note(ids, 2, WeightBrand*clamp(b.Score)) })
	}
	for _, h := range s.Hashtags {
		if ids, ok := t.tags[h]; ok {
			note(ids, 3, WeightHashtag)
			continue
		}
		// A keyword that starts or ends the tag.
		for n := minPartKeyword; n < len(h); n++ {
			note(t.parts[h[:n]], 3, WeightTagPart)
			note(t.parts[h[len(h)-n:]], 3, WeightTagPart)
		}
	}
	for _, w := range s.Words {
		note(t.words[w], 4, WeightWord)
	}
	for _, l := range s.Texts {
		for w := range strings.FieldsFuncSeq(strings.ToLower(l.Name), notLetter) {
			note(t.words[w], 5, WeightOCR*clamp(l.Score))
		}
	}
	var out []geopulse.Label
	for i, e := range ev {
		miss := float32(1)
		for _, w := range e {
			miss *= 1 - w
		}
		if score := 1 - miss; score >= MinScore {
			out = append(out, geopulse.Label{
				Kind: geopulse.LabelInterest, Name: t.Interests[i].ID, Score: score,
				Origin: s.Origin, Model: Model, Version: t.Version,
			})
		}
	}
	slices.SortFunc(out, func(a, b geopulse.Label) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// category calls fn with the interests of a preset id and of each preset
// above it: "amenity/cafe/coffee_shop" is also an "amenity/cafe".
func (t *Taxonomy) category(id string, fn func([]int)) {
	for id != "" {
		if ids, ok := t.categories[id]; ok {
			fn(ids)
		}
		i := strings.LastIndexByte(id, '/')
		if i < 0 {
			return
		}
		id = id[:i]
	}
}

func clamp(s float32) float32 {
	if s <= 0 || s > 1 {
		return 1 // an unscored signal counts fully
	}
	return s
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }
