package http_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestAnalytics(t *testing.T) {
	e := newEnv(t)
	key, lID, eID := feedWorld(t, e)

	type result struct {
		Posts   int64 `json:"posts"`
		Authors int64 `json:"authors"`
		Volume  []struct {
			Start time.Time `json:"start"`
			Kind  string    `json:"kind"`
			Posts int64     `json:"posts"`
		} `json:"volume"`
		TopHashtags []struct {
			Term  string `json:"term"`
			Posts int64  `json:"posts"`
		} `json:"top_hashtags"`
		TopAuthors []struct {
			Author struct {
				ID        string `json:"id"`
				Handle    string `json:"handle"`
				Followers int64  `json:"followers"`
			} `json:"author"`
			Posts int64 `json:"posts"`
		} `json:"top_authors"`
		HourOfWeek [][]int64 `json:"hour_of_week"`
		Places     []struct {
			PlaceID int64  `json:"place_id"`
			Name    string `json:"name"`
			Posts   int64  `json:"posts"`
			Authors int64  `json:"authors"`
		} `json:"places"`
	}

	tests := []struct {
		name       string
		query      string
		posts      int64
		places     map[int64]int64 // place id → posts
		topHashtag string
		// influencers: whether any author is named; only those with
		// 10,000 followers or more (the default threshold) are.
		influencers bool
	}{
		{"all", "", 15, map[int64]int64{lID: 10, eID: 5}, "", true},
		{"one place", fmt.Sprintf("?place=%d", lID), 10, map[int64]int64{lID: 10}, "art", true},
		{"kind", "?kind=video&interval=hour&limit=3", 5, map[int64]int64{eID: 5}, "tower", false},
		{"range", "?from=" + now.Add(-30*time.Hour).Format(time.RFC3339) + "&to=" + now.Format(time.RFC3339), 6, map[int64]int64{lID: 3, eID: 3}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a result
			e.get(key, "/v1/analytics"+tt.query).decode(t, http.StatusOK, &a)
			if a.Posts != tt.posts || a.Authors != tt.posts { // one author per post
				t.Errorf("posts %d authors %d, want %d", a.Posts, a.Authors, tt.posts)
			}
			if len(a.HourOfWeek) != 7 {
				t.Fatalf("hour_of_week has %d rows", len(a.HourOfWeek))
			}
			var hw, vol int64
			for _, day := range a.HourOfWeek {
				if len(day) != 24 {
					t.Fatalf("hour_of_week row of %d hours", len(day))
				}
				for _, n := range day {
					hw += n
				}
			}
			for _, v := range a.Volume {
				vol += v.Posts
				if v.Start.IsZero() || v.Kind == "" {
					t.Errorf("volume bucket %+v", v)
				}
			}
			if hw != tt.posts || vol != tt.posts {
				t.Errorf("hour_of_week sums to %d, volume to %d, want %d", hw, vol, tt.posts)
			}
			got := map[int64]int64{}
			for _, p := range a.Places {
				got[p.PlaceID] = p.Posts
				if p.Name == "" {
					t.Errorf("place %d without a name", p.PlaceID)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.places) {
				t.Errorf("places = %v, want %v", got, tt.places)
			}
			if tt.topHashtag != "" && (len(a.TopHashtags) == 0 || a.TopHashtags[0].Term != tt.topHashtag) {
				t.Errorf("top hashtags = %+v, want %q first", a.TopHashtags, tt.topHashtag)
			}
			if (len(a.TopAuthors) > 0) != tt.influencers || (tt.influencers && (a.TopAuthors[0].Author.ID == "" || a.TopAuthors[0].Posts == 0)) {
				t.Errorf("top authors = %+v, want some: %v", a.TopAuthors, tt.influencers)
			}
			for _, au := range a.TopAuthors {
				if au.Author.Followers < 10_000 {
					t.Errorf("author %s with %d followers named", au.Author.Handle, au.Author.Followers)
				}
			}
		})
	}
}
