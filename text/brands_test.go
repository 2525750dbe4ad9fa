package text_test

import (
	"slices"
	"testing"
)

func TestBrands(t *testing.T) {
	b := analyzer(t).Brands()
	if b.Version != "8.0.20260918" {
		t.Errorf("version %q", b.Version)
	}
	tests := []struct {
		name       string
		caption    string
		place      string
		categories []string
		want       []string // brand names, in order found
	}{
		{"distinctive name", "Morning latte at starbucks", "", nil, []string{"starbucks"}},
		{"apostrophe and case", "Late night MCDONALD'S run", "", nil, []string{"mcdonalds"}},
		{"ampersand and words", "Marks and Spencer food hall, then H&M", "", nil, []string{"marks and spencer", "h and m"}},
		{"two brands, longest match", "Burger King vs Five Guys", "", nil, []string{"burger king", "five guys"}},
		{"hashtag", "so good #chipotle", "", nil, []string{"chipotle"}},
		{"compound hashtag", "#marksandspencer haul", "", nil, []string{"marks and spencer"}},
		{"hashtag of everyday words is a topic", "#coffeetime #goodlife", "", nil, nil},
		{"mention of everyday words is an account", "thanks @coffeetime", "", nil, []string{"coffee time"}},
		{"mention", "thanks @ikea for the meatballs", "", nil, []string{"ikea"}},
		{"common word lower-case is no brand", "target practice at the range", "", nil, nil},
		{"common word capitalised mid-sentence", "Picked up a few things at Target today", "", nil, []string{"target"}},
		{"common word at sentence start is not enough", "Next time we bring snacks", "", nil, nil},
		{"common word tagged is a topic", "new look #style #cheers #cappuccino", "", nil, nil},
		{"common word mentioned", "shopping at @target", "", nil, []string{"target"}},
		{"common word with the place's category", "quick stop at target", "", []string{"shop/department_store"}, []string{"target"}},
		{"all caps says nothing", "GOING TO TARGET NEXT WEEK", "", nil, nil},
		{"subway the train", "took the subway downtown", "", nil, nil},
		{"coach the person", "thanks coach for the session", "", nil, nil},
		{"place name, longest name wins", "great day", "Starbucks Reserve Roastery", nil, []string{"starbucks reserve"}},
		{"place name", "great day", "Starbucks Times Square", nil, []string{"starbucks"}},
		{"ambiguous place name must be the whole name", "nice walk", "Central Park", nil, nil},
		{"ambiguous place name", "", "Target", nil, []string{"target"}},
		{"no brand", "a walk by the river with the dog", "", nil, nil},
		{"clause break splits names", "burger, king of sandwiches", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range b.Find(tt.caption, tt.place, tt.categories) {
				got = append(got, m.Name)
				if m.Score <= 0 || m.Score > 1 || m.Category == "" || m.DisplayName == "" {
					t.Errorf("bad match %+v", m)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q, %q) = %q, want %q", tt.caption, tt.place, got, tt.want)
			}
		})
	}
	ms := b.Find("coffee at Starbucks", "", nil)
	if len(ms) != 1 || ms[0].Wikidata != "Q37158" || ms[0].Category != "amenity/cafe" || ms[0].DisplayName != "Starbucks" {
		t.Errorf("starbucks = %+v, want Q37158 amenity/cafe", ms)
	}
}

func TestCategories(t *testing.T) {
	c := analyzer(t).Categories()
	tests := []struct{ in, want string }{
		{"amenity/cafe", "amenity/cafe"},
		{"amenity=cafe", "amenity/cafe"},
		{" Amenity = Cafe ", "amenity/cafe"},
		{"Cafe", "amenity/cafe"},
		{"café", "amenity/cafe"},
		{"shop=clothes", "shop/clothes"},
		{"Clothing Store", "shop/clothes"},
		{"amenity/cafe/coffee_shop", "amenity/cafe/coffee_shop"},
		{"leisure=fitness_centre", "leisure/fitness_centre"},
		{"no such thing", ""},
		{"amenity=nonsense", ""},
	}
	for _, tt := range tests {
		got, ok := c.Lookup(tt.in)
		if got.ID != tt.want || ok != (tt.want != "") {
			t.Errorf("Lookup(%q) = %+v, %v; want %q", tt.in, got, ok, tt.want)
		}
		if ok && got.Name == "" {
			t.Errorf("Lookup(%q): no name", tt.in)
		}
	}
	if n := len(c.All()); n < 1000 {
		t.Errorf("All: %d categories", n)
	}
	if cafe, _ := c.Lookup("amenity/cafe"); cafe.Name != "Cafe" {
		t.Errorf("amenity/cafe named %q", cafe.Name)
	}
}
