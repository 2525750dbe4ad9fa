package text

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Brand is a brand of the name-suggestion index.
type Brand struct {
	Name        string // matching key: Fold of the display name ("mcdonalds")
	DisplayName string // "McDonald's"
	Wikidata    string // "Q38076"
	Category    string // OSM preset id of its venues: "amenity/fast_food"
}

// Brand evidence scores: how sure a match is, by where the name was seen.
const (
	scoreTagged    = 1.0 // #starbucks, @starbucks, or the name of the post's place
	scorePlain     = 0.9 // a distinctive name in running text
	scoreCorrobor  = 0.8 // an ambiguous name with a second signal (the place's category)
	scoreCapital   = 0.7 // an ambiguous name written with a capital mid-sentence
	maxBrandTokens = 4
	// ambiguousRank: a one-word name among this many most frequent words
	// of a common language is ambiguous ("Target", "Next", "Coach", "Dia").
	ambiguousRank = 10000 // the whole lists: "cheers" (7,787th) made a top brand of the demo
	// phraseRank: a name made only of words this frequent is ambiguous
	// too ("Best One", "The Store").
	phraseRank = 300
	// compoundRank: a hashtag made only of English words this frequent is
	// a topic (#coffeetime, #bestbuy), whatever brand shares the name.
	compoundRank = 2500
	// functionRank: words this frequent are function words ("the", "la").
	functionRank = 60
)

// extraAmbiguous are everyday words the frequency lists rank low but that
// brands share, found by reading false matches on captions.
var extraAmbiguous = set("subway", "boots", "shell", "gap", "coach", "bp", "total", "target", "next",
	"lush", "apple", "orange", "mango", "express", "guess", "converse", "vans", "crocs", "sport", "spar",
	"bench", "selected", "only", "pieces", "pull", "bear", "jet", "carrefour express")

// Brands finds brand names in text. Build it once with LoadBrands; it is
// read-only afterwards and safe for concurrent use.
type Brands struct {
	Version   string // the index's version ("8.0.20260918")
	list      []Brand
	ambiguous []bool
	byName    map[string]int32 // folded name → brand
	compact   map[string]int32 // folded name without spaces → brand, for #tags and @mentions
	compound  map[string]bool  // compact names made of everyday words: #coffeetime is no brand
	starts    map[string]uint8 // first word of a multi-word name → most words of such a name
}

type nsiFile struct {
	Meta struct {
		Version string `json:"version"`
	} `json:"_meta"`
	NSI map[string]struct {
		Items []struct {
			DisplayName string            `json:"displayName"`
			MatchNames  []string          `json:"matchNames"`
			Tags        map[string]string `json:"tags"`
			LocationSet struct {
				Include []json.RawMessage `json:"include"`
			} `json:"locationSet"`
		} `json:"items"`
	} `json:"nsi"`
}

// LoadBrands reads the brands tree of the name-suggestion index (nsi.json).
// Operators, transit networks and flags are not brands a post talks about.
// langs, when not nil, marks names that are everyday words as ambiguous;
// so are topics, the words of the interest taxonomy ("cappuccino", "yoga"):
// a café chain named Cappuccino does not make every #cappuccino its own.
func LoadBrands(r io.Reader, langs *Languages, topics ...string) (*Brands, error) {
	topic := make(map[string]bool, len(topics))
	for _, t := range topics {
		topic[strings.ReplaceAll(Fold(t), " ", "")] = true
	}
	var f nsiFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("decode nsi: %w", err)
	}
	// One name may belong to several brands (in different countries or
	// categories). The brand with most entries in the index wins: it is
	// the bigger one; ties go to the one present worldwide.
	type cand struct {
		brand    Brand
		items    int
		global   bool
		displays map[string]int      // brand tag → items using it
		paths    map[string][]string // folded display name → categories
	}
	byQID := map[string]*cand{}
	names := map[string][]string{} // folded name → QIDs claiming it
	paths := make([]string, 0, len(f.NSI))
	for p := range f.NSI {
		if strings.HasPrefix(p, "brands/") {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths) // deterministic choice among equals
	for _, p := range paths {
		category := strings.TrimPrefix(p, "brands/")
		for _, it := range f.NSI[p].Items {
			qid := it.Tags["brand:wikidata"]
			display := it.Tags["brand"]
			if display == "" {
				display = it.DisplayName
			}
			if qid == "" {
				qid = "name:" + display
			}
			c := byQID[qid]
			if c == nil {
				c = &cand{brand: Brand{Wikidata: it.Tags["brand:wikidata"]}, displays: map[string]int{}, paths: map[string][]string{}}
				byQID[qid] = c
			}
			c.items++
			c.displays[display]++
			if en := it.Tags["brand:en"]; en != "" {
				c.displays[en] += 2 // the name the world knows it by
			}
			df := Fold(it.DisplayName)
			c.paths[df] = append(c.paths[df], category)
			for _, inc := range it.LocationSet.Include {
				if string(inc) == `"001"` {
					c.global = true
				}
			}
			for _, n := range append([]string{display, it.DisplayName, it.Tags["brand:en"], it.Tags["name:en"]}, it.MatchNames...) {
				key := Fold(n)
				if !usableName(key) || slices.Contains(names[key], qid) {
					continue
				}
				names[key] = append(names[key], qid)
			}
		}
	}
	// A brand is known by its most used name; its category is that of the
	// venues carrying that name ("Marks & Spencer" the department store,
	// not "M&S Café").
	for _, c := range byQID {
		best, n := "", 0
		for d, k := range c.displays {
			if k > n || k == n && d < best {
				best, n = d, k
			}
		}
		c.brand.DisplayName, c.brand.Name = best, Fold(best)
		if ps := c.paths[c.brand.Name]; len(ps) > 0 {
			c.brand.Category = ps[0]
		} else {
			for _, ps := range c.paths {
				if c.brand.Category == "" || ps[0] < c.brand.Category {
					c.brand.Category = ps[0]
				}
			}
		}
	}
	b := &Brands{
		Version:  f.Meta.Version,
		byName:   make(map[string]int32, len(names)),
		compact:  make(map[string]int32, len(names)),
		compound: map[string]bool{},
		starts:   map[string]uint8{},
	}
	index := map[string]int32{}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		qids := names[key]
		best := qids[0]
		for _, q := range qids[1:] {
			c, bc := byQID[q], byQID[best]
			if c.items > bc.items || c.items == bc.items && c.global && !bc.global {
				best = q
			}
		}
		id, ok := index[best]
		if !ok {
			id = int32(len(b.list))
			index[best] = id
			b.list = append(b.list, byQID[best].brand)
			b.ambiguous = append(b.ambiguous, false)
		}
		n := strings.Count(key, " ") + 1
		if n > maxBrandTokens {
			continue
		}
		b.byName[key] = id
		if isAmbiguous(key, langs) || topic[strings.ReplaceAll(key, " ", "")] {
			// Remembered per name: "Apple Store" is clear, "Apple" is not.
			b.byName[key] = -id - 1
		}
		if n > 1 {
			first, _, _ := strings.Cut(key, " ")
			b.starts[first] = max(b.starts[first], uint8(n))
		}
		ck := strings.ReplaceAll(key, " ", "")
		if _, taken := b.compact[ck]; !taken || n == 1 {
			b.compact[ck] = b.byName[key]
			b.compound[ck] = n > 1 && allCommon(key, langs)
		}
	}
	if len(b.list) < 1000 {
		return nil, fmt.Errorf("nsi: only %d brands: not the name-suggestion index", len(b.list))
	}
	return b, nil
}

// usableName drops names that cannot be told from noise: a single
// character, or digits only ("365").
func usableName(key string) bool {
	if len(key) < 2 {
		return false
	}
	for _, r := range key {
		if r != ' ' && (r < '0' || r > '9') {
			return true
		}
	}
	return false
}

func isAmbiguous(key string, langs *Languages) bool {
	if extraAmbiguous[key] {
		return true
	}
	words := strings.Fields(key)
	if len(words) == 1 && len(key) <= 3 {
		return true
	}
	// Function words ("the", "de", "and") say nothing: "The Range" is as
	// ambiguous as "Range".
	content := words[:0:0]
	for _, w := range words {
		if !isCommonWord(w, functionRank, langs) {
			content = append(content, w)
		}
	}
	switch len(content) {
	case 0:
		return true
	case 1:
		return isCommonWord(content[0], ambiguousRank, langs)
	}
	for _, w := range content {
		if !isCommonWord(w, phraseRank, langs) {
			return false
		}
	}
	return true
}

// allCommon reports whether every word of a name is a frequent English
// word: hashtags are mostly English compounds.
func allCommon(key string, langs *Languages) bool {
	if langs == nil {
		return false
	}
	for _, w := range strings.Fields(key) {
		if r := langs.rank(w, "en"); r == 0 || r > compoundRank {
			return false
		}
	}
	return true
}

func isCommonWord(w string, within int, langs *Languages) bool {
	if langs == nil {
		return false
	}
	for _, h := range langs.words[w] {
		if commonLanguages[langs.codes[h.lang]] && int(h.rank) <= within {
			return true
		}
	}
	return false
}

// Len is the number of brands.
func (b *Brands) Len() int { return len(b.list) }

// Find returns the brands named in s, with the score of their best evidence.
// placeName is the name of the place the post is at ("" if none): a brand
// named there counts as tagged. placeCategories (preset ids) corroborate an
// ambiguous name whose brand has that category.
func (b *Brands) Find(s, placeName string, placeCategories []string) []BrandMatch {
	var ts tokens
	ts.read(s, nil)
	ms := b.find(nil, &ts, false, placeCategories)
	if placeName != "" {
		ts.read(placeName, nil)
		ms = b.find(ms, &ts, true, placeCategories)
	}
	return ms
}

// BrandMatch is a brand found in a text.
type BrandMatch struct {
	Brand
	Score float32
}

// find appends to dst the brands in a read text. In a place's name
// (place) a brand is tagged evidence, but an ambiguous name only when it is
// the whole name: "Target" is the store, "Central Park" is no brand "Central".
func (b *Brands) find(dst []BrandMatch, ts *tokens, place bool, categories []string) []BrandMatch {
	toks := ts.tok
	capsMean := ts.scripts.lower > ts.scripts.upper // in an all-caps text, capitals say nothing
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.is(flagHashtag | flagMention) {
			dst = b.tag(dst, t.fold, t.is(flagMention))
			continue
		}
		n := 1
		if m := int(b.starts[t.fold]); m > 1 {
			n = min(m, len(toks)-i)
		}
		for ; n >= 1; n-- {
			last := i + n - 1
			if n > 1 && (toks[last].is(flagBreak|flagHashtag|flagMention) || breaksWithin(toks[i+1:last])) {
				continue
			}
			key := ts.folds[ts.foldAt[i] : int(ts.foldAt[last])+len(toks[last].fold)]
			id, ok := b.byName[key]
			if !ok {
				continue
			}
			var score float32
			switch {
			case id >= 0 && place:
				score = scoreTagged
			case id >= 0:
				score = scorePlain
			default:
				id = -id - 1
				if place && n == len(toks) {
					score = scoreTagged
				} else if hasCategory(categories, b.list[id].Category) {
					score = scoreCorrobor
				} else if !place && capsMean && allCapitalised(toks[i:last+1]) && (n > 1 || !t.is(flagSentence)) {
					score = scoreCapital
				}
			}
			if score > 0 {
				dst = b.add(dst, id, score)
				i = last
				break
			}
		}
	}
	return dst
}

// tag looks up a hashtag or mention (folded, without its mark). A hashtag
// of an ambiguous name (#style, #cheers, #apple) or one that only strings
// everyday words together (#coffeetime, #goodlife) is a topic, not a brand:
// measured on the demo's captions, counting them made "cheers", "style"
// and "cappuccino" top brands. An @mention is an account, so it counts,
// an ambiguous one with less weight.
func (b *Brands) tag(dst []BrandMatch, fold string, mention bool) []BrandMatch {
	if strings.IndexByte(fold, '_') >= 0 {
		fold = strings.ReplaceAll(fold, "_", "")
	}
	id, ok := b.compact[fold]
	if !ok || !mention && b.compound[fold] {
		return dst
	}
	if id < 0 {
		if !mention {
			return dst
		}
		return b.add(dst, -id-1, scoreCapital)
	}
	return b.add(dst, id, scoreTagged)
}

func breaksWithin(toks []token) bool {
	for _, t := range toks {
		if t.is(flagBreak | flagHashtag | flagMention) {
			return true
		}
	}
	return false
}

func allCapitalised(toks []token) bool {
	for _, t := range toks {
		if !t.is(flagCapital) {
			return false
		}
	}
	return true
}

// hasCategory reports whether one of ids is cat or a preset below it
// ("amenity/cafe/coffee_shop" is a kind of "amenity/cafe").
func hasCategory(ids []string, cat string) bool {
	for _, id := range ids {
		if id == cat || strings.HasPrefix(id, cat) && len(id) > len(cat) && id[len(cat)] == '/' {
			return true
		}
	}
	return false
}

func (b *Brands) add(dst []BrandMatch, id int32, score float32) []BrandMatch {
	for i := range dst {
		if dst[i].Name == b.list[id].Name {
			dst[i].Score = max(dst[i].Score, score)
			return dst
		}
	}
	return append(dst, BrandMatch{Brand: b.list[id], Score: score})
}
