package canonical_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// fullPost returns a post with every schema field set to a value the decoder
// would produce itself (normalised tags, UTC times, derived ids).
func fullPost() *geopulse.Post {
	exp := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	p := &geopulse.Post{
		Source:     "instagram",
		SourceID:   "3141592",
		Kind:       geopulse.KindStory,
		TakenAt:    time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC),
		ObservedAt: time.Date(2026, 11, 28, 10, 0, 5, 0, time.UTC),
		Lat:        51.5074,
		Lon:        -0.1278,
		AccuracyM:  10.5,
		PlaceName:  "Starbucks Soho \"Old Compton St\"",
		Author: geopulse.Author{
			SourceID:    "42",
			Handle:      "jane",
			DisplayName: "Jane Ünïcødé 🙂",
			AvatarURL:   "https://cdn.example.com/a/42.jpg",
			Bio:         "coffee\tand\nlondon \u2028 <b>&</b>",
			Followers:   1200,
			Following:   300,
			PostsCount:  87,
			Verified:    true,
			Business:    true,
			Private:     false,
		},
		Caption:   "Flat white ☕ at #Soho with @starbucks\n\"best\" \\ 😀",
		Hashtags:  []string{"coffee", "soho", "café"},
		Mentions:  []string{"starbucks"},
		MediaURLs: []string{"https://cdn.example.com/m/1.jpg", "https://cdn.example.com/m/2.mp4?x=1&y=2"},
		Likes:     10,
		Comments:  2,
		Views:     9_000_000_000,
		ExpiresAt: &exp,
		Language:  "en-GB",
	}
	p.ID = geopulse.PostID(p.Source, p.SourceID)
	p.Author.Source = p.Source
	p.Author.ID = geopulse.AuthorID(p.Source, p.Author.SourceID)
	return p
}

// realisticPosts returns n varied posts, deterministic for a seed: cities
// around the world, captions of typical length with tags and mentions, a
// fifth of them stories.
func realisticPosts(n int, seed uint64) []*geopulse.Post {
	rng := rand.New(rand.NewPCG(seed, 1))
	sources := []string{"instagram", "tiktok", "x", "flickr", "mastodon"}
	words := strings.Fields("coffee brunch sunset beach city night food friends love travel music art fashion football concert weekend summer rooftop view market")
	kinds := []geopulse.Kind{geopulse.KindPhoto, geopulse.KindPhoto, geopulse.KindVideo, geopulse.KindStory, geopulse.KindReel}
	cities := [][2]float64{{51.5074, -0.1278}, {40.7128, -74.006}, {35.6762, 139.6503}, {-33.8688, 151.2093}, {48.8566, 2.3522}, {-23.5505, -46.6333}}
	base := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	posts := make([]*geopulse.Post, n)
	for i := range posts {
		c := cities[rng.IntN(len(cities))]
		src := sources[rng.IntN(len(sources))]
		taken := base.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))).Truncate(time.Second)
		var caption strings.Builder
		var tags, mentions []string
		for range 8 + rng.IntN(25) {
			w := words[rng.IntN(len(words))]
			switch rng.IntN(6) {
			case 0:
				caption.WriteString("#" + w + " ")
				if !contains(tags, w) {
					tags = append(tags, w)
				}
			case 1:
				m := fmt.Sprintf("%s_%d", w, rng.IntN(100))
				caption.WriteString("@" + m + " ")
				if !contains(mentions, m) {
					mentions = append(mentions, m)
				}
			default:
				caption.WriteString(w + " ")
			}
		}
		authorID := fmt.Sprint(rng.IntN(1_000_000))
		p := &geopulse.Post{
			Source:     src,
			SourceID:   fmt.Sprint(rng.Int64()),
			Kind:       kinds[rng.IntN(len(kinds))],
			TakenAt:    taken,
			ObservedAt: taken.Add(time.Duration(rng.IntN(600)) * time.Second),
			Lat:        c[0] + rng.NormFloat64()*0.05,
			Lon:        c[1] + rng.NormFloat64()*0.05,
			AccuracyM:  float64(5 + rng.IntN(50)),
			// Mostly exact points, as in real feeds.
			LocationFrom: geopulse.LocationFroms[max(0, rng.IntN(8)-4)],
			Author: geopulse.Author{
				SourceID:    authorID,
				Handle:      "user" + authorID,
				DisplayName: "User " + authorID,
				AvatarURL:   "https://cdn.example.com/avatars/" + authorID + ".jpg",
				Bio:         "Living in the city, loving coffee and sunsets.",
				Followers:   rng.Int64N(100_000),
				Following:   rng.Int64N(2_000),
				PostsCount:  rng.Int64N(5_000),
				Verified:    rng.IntN(50) == 0,
			},
			Caption:   strings.TrimSpace(caption.String()),
			Hashtags:  tags,
			Mentions:  mentions,
			MediaURLs: []string{fmt.Sprintf("https://cdn.example.com/media/%d.jpg", rng.Int64())},
			Likes:     rng.Int64N(5_000),
			Comments:  rng.Int64N(200),
			Views:     rng.Int64N(50_000),
			Language:  "en",
		}
		if rng.IntN(3) == 0 {
			p.PlaceName = "Cafe " + words[rng.IntN(len(words))]
		}
		if p.Kind == geopulse.KindStory {
			exp := p.TakenAt.Add(geopulse.StoryTTL)
			p.ExpiresAt = &exp
		}
		p.ID = geopulse.PostID(p.Source, p.SourceID)
		p.Author.Source = p.Source
		p.Author.ID = geopulse.AuthorID(p.Source, p.Author.SourceID)
		posts[i] = p
	}
	return posts
}

// ndjson encodes posts as an NDJSON body.
func ndjson(posts []*geopulse.Post) []byte {
	var b bytes.Buffer
	for _, p := range posts {
		if err := canonical.Encode(&b, p); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
