package text

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Category is a kind of place of the OpenStreetMap tagging schema (iD's
// presets): ID is the preset id ("amenity/cafe"), Name its English name
// ("Cafe").
type Category struct {
	ID   string
	Name string
}

// Categories normalises the ways people and sources write a place's kind
// to one preset. Read-only after LoadCategories; safe for concurrent use.
type Categories struct {
	list   []Category // sorted by ID
	byID   map[string]int
	byTag  map[string]int // "amenity=cafe"
	byName map[string]int // Fold of the English name: "cafe"
}

type presetJSON struct {
	Tags       map[string]string `json:"tags"`
	Searchable *bool             `json:"searchable"`
}

type presetNamesJSON map[string]struct {
	Presets struct {
		Presets map[string]struct {
			Name string `json:"name"`
		} `json:"presets"`
	} `json:"presets"`
}

// LoadCategories reads id-tagging-schema's dist/presets.min.json and the
// English names from dist/translations/en.min.json.
func LoadCategories(presets, english io.Reader) (*Categories, error) {
	var ps map[string]presetJSON
	if err := json.NewDecoder(presets).Decode(&ps); err != nil {
		return nil, fmt.Errorf("decode presets: %w", err)
	}
	var names presetNamesJSON
	if err := json.NewDecoder(english).Decode(&names); err != nil {
		return nil, fmt.Errorf("decode preset names: %w", err)
	}
	en := names["en"].Presets.Presets
	ids := make([]string, 0, len(ps))
	for id := range ps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	c := &Categories{byID: map[string]int{}, byTag: map[string]int{}, byName: map[string]int{}}
	for _, id := range ids {
		name := en[id].Name
		if name == "" || strings.HasPrefix(name, "{") {
			name = id
		}
		c.byID[id] = len(c.list)
		c.list = append(c.list, Category{ID: id, Name: name})
	}
	// Tags and names that several presets share go to the preferred one:
	// searchable before hidden, then the shorter (more general) id.
	better := func(a, b string) bool {
		sa, sb := ps[a].Searchable == nil || *ps[a].Searchable, ps[b].Searchable == nil || *ps[b].Searchable
		if sa != sb {
			return sa
		}
		return len(a) < len(b)
	}
	claim := func(m map[string]int, key, id string) {
		if key == "" {
			return
		}
		if cur, ok := m[key]; !ok || better(id, c.list[cur].ID) {
			m[key] = c.byID[id]
		}
	}
	for _, id := range ids {
		if tags := ps[id].Tags; len(tags) == 1 {
			for k, v := range tags {
				if v != "*" {
					claim(c.byTag, k+"="+v, id)
				}
			}
		}
		claim(c.byName, Fold(c.list[c.byID[id]].Name), id)
	}
	if len(c.list) < 100 {
		return nil, fmt.Errorf("presets: only %d: not the id-tagging-schema", len(c.list))
	}
	return c, nil
}

// Lookup normalises a place category written as a preset id
// ("amenity/cafe"), an OSM tag ("amenity=cafe", "cuisine" and other extra
// tags ignored) or an English preset name ("Cafe", "coffee shop" only when
// it is a preset's name). ok is false when nothing fits.
func (c *Categories) Lookup(s string) (Category, bool) {
	s = strings.TrimSpace(s)
	if i, ok := c.byID[s]; ok {
		return c.list[i], true
	}
	if k, v, ok := strings.Cut(s, "="); ok {
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
		if i, ok := c.byTag[k+"="+v]; ok {
			return c.list[i], true
		}
		if i, ok := c.byID[k+"/"+v]; ok {
			return c.list[i], true
		}
		return Category{}, false
	}
	if i, ok := c.byID[strings.ToLower(s)]; ok {
		return c.list[i], true
	}
	if i, ok := c.byName[Fold(s)]; ok {
		return c.list[i], true
	}
	return Category{}, false
}

// All lists every category, sorted by ID. The slice is shared: do not
// modify it.
func (c *Categories) All() []Category { return c.list }
