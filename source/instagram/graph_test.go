package instagram_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/instagram"
)

var cafe = &instagram.Venue{Lat: 51.5136, Lon: -0.1365, RadiusM: 40, Name: "Bar Italia"}

// TestDecodeGraphFixtures decodes every recorded Graph response, with and
// without a venue.
func TestDecodeGraphFixtures(t *testing.T) {
	const (
		post        = ""
		noLocation  = geopulse.ReasonNoLocation
		missing     = geopulse.ReasonMissingField
		unsupported = geopulse.ReasonUnsupported
	)
	tests := []struct {
		file    string
		want    map[string]int // with a venue
		noVenue map[string]int // without
	}{
		// Business discovery names the account: a full post.
		{"discovery_medias_p1.json", map[string]int{post: 2}, map[string]int{noLocation: 2}},
		{"discovery_user_fields.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
		// Hashtag media have neither timestamp nor author here.
		{"hashtags_hashtag_top_medias_p1.json", map[string]int{missing: 25}, map[string]int{noLocation: 25}},
		{"hashtags_hashtag_recent_medias_p1.json", map[string]int{missing: 5}, map[string]int{noLocation: 5}},
		// Stories with owner and username; /stories/ permalinks.
		{"stories_stories_default.json", map[string]int{post: 3}, map[string]int{noLocation: 3}},
		{"stories_story_info.json", map[string]int{post: 1}, map[string]int{noLocation: 1}},
		{"stories_stories_fields_p1.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		// Requested without owner or username fields.
		{"users_medias_p1.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		{"users_medias_p2.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		{"users_stories.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		{"users_tagged_medias.json", map[string]int{missing: 5}, map[string]int{noLocation: 5}},
		{"users_mentioned_media.json", map[string]int{missing: 1}, map[string]int{noLocation: 1}},
		{"medias_media_default.json", map[string]int{missing: 1}, map[string]int{noLocation: 1}},
		{"medias_medias_fields.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		{"medias_children.json", map[string]int{missing: 2}, map[string]int{noLocation: 2}},
		// Not media at all.
		{"users_mentioned_comment.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
		{"users_live_medias.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
		{"medias_comments_p1.json", map[string]int{unsupported: 2}, map[string]int{unsupported: 2}},
		{"medias_insights.json", map[string]int{unsupported: 3}, map[string]int{unsupported: 3}},
		{"publish_container_info.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
		{"publish_create_photo.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
		{"users_user_fields.json", map[string]int{unsupported: 1}, map[string]int{unsupported: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readFile(t, "graph/"+tt.file)
			for _, c := range []struct {
				venue *instagram.Venue
				want  map[string]int
			}{{cafe, tt.want}, {nil, tt.noVenue}} {
				res := decode(t, instagram.Graph(c.venue).Decode, data)
				if res.err != nil {
					t.Fatalf("venue %v: error %v", c.venue, res.err)
				}
				if got := countReasons(res.reasons()); !reflect.DeepEqual(got, c.want) {
					t.Errorf("venue %v: outcomes %v, want %v", c.venue, got, c.want)
				}
			}
		})
	}
}

// TestDecodeGraphPost checks every field of posts from recorded payloads.
func TestDecodeGraphPost(t *testing.T) {
	res := decode(t, instagram.Graph(cafe).Decode, readFile(t, "graph/discovery_medias_p1.json"))
	p := res.items[1].Post
	want := geopulse.Post{
		ID: geopulse.PostID("instagram", "17886271043461692"), Source: "instagram", SourceID: "17886271043461692",
		Kind: geopulse.KindPhoto,
		Author: geopulse.Author{
			ID: geopulse.AuthorID("instagram", "17841407673135339"), Source: "instagram", SourceID: "17841407673135339",
			Business: true,
		},
		TakenAt: time.Date(2021, 8, 16, 17, 35, 10, 0, time.UTC),
		Lat:     51.5136, Lon: -0.1365, AccuracyM: 40, LocationFrom: geopulse.LocationVenue, PlaceName: "Bar Italia",
		Caption:   "Today, we are excited to announce that developers can now build Instagram messaging experiences for all business accounts! Read more on how to get started and help businesses drive meaningful conversations, increase customer satisfaction, and grow sales. Learn more, link in bio.",
		MediaURLs: []string{"https://scontent-nrt1-1.cdninstagram.com/v/t51.29350-15/237157668_879283769657716_750906017898335050_n.jpg?_nc_cat=102&ccb=1-5&_nc_sid=8ae9d6&_nc_ohc=5MAPD06CY34AX_rUoPy&_nc_ht=scontent-nrt1-1.cdninstagram.com&edm=AL-3X8kEAAAA&oh=a6c5934c78849024c9003f8f3b8a056a&oe=6121DB24"},
		Likes:     186, Comments: 16,
	}
	if p == nil || !reflect.DeepEqual(*p, want) {
		t.Errorf("business discovery post\n got  %+v\n want %+v", p, want)
	}

	res = decode(t, instagram.Graph(cafe).Decode, readFile(t, "graph/stories_story_info.json"))
	p = res.items[0].Post
	taken := time.Date(2020, 10, 16, 12, 48, 2, 0, time.UTC)
	switch {
	case p == nil:
		t.Fatal(res.items[0].Err)
	case p.Kind != geopulse.KindStory || p.ExpiresAt == nil || !p.ExpiresAt.Equal(taken.Add(24*time.Hour)) || !p.TakenAt.Equal(taken):
		t.Errorf("story: kind %s taken %v expires %v", p.Kind, p.TakenAt, p.ExpiresAt)
	case p.Author.SourceID != "17841406338772941" || p.Author.Handle != "ikroskun" || p.Caption != "Nice":
		t.Errorf("story author %+v caption %q", p.Author, p.Caption)
	}
}

// graphMedia returns a valid Graph media object, as JSON, with the member
// at each dotted path set to a value (del removes it).
func graphMedia(kv ...any) string {
	m := map[string]any{
		"id": "17895731045244887", "caption": "Espresso at the bar #coffee", "media_type": "IMAGE",
		"media_product_type": "FEED", "media_url": "https://scontent.cdninstagram.com/v/1.jpg",
		"permalink": "https://www.instagram.com/p/CSgf9BChwVq/", "timestamp": "2021-08-13T08:25:28+0000",
		"username": "baritalia", "like_count": 12, "comments_count": 2, "owner": map[string]any{"id": "17841405822304914"},
	}
	return setPaths(m, kv...)
}

func graphPage(media ...string) string {
	return `{"data":[` + strings.Join(media, ",") + `],"paging":{"cursors":{"after":"QVFI"}}}`
}

// TestDecodeGraphValues checks how each Graph field maps onto the post.
func TestDecodeGraphValues(t *testing.T) {
	ts := time.Date(2021, 8, 13, 8, 25, 28, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want func(p *geopulse.Post) bool
	}{
		{"feed image", graphMedia(), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindPhoto && p.TakenAt.Equal(ts) && p.ExpiresAt == nil && p.Likes == 12 && p.Comments == 2 &&
				p.Author.SourceID == "17841405822304914" && p.Author.Handle == "baritalia" && p.Caption == "Espresso at the bar #coffee" &&
				p.Hashtags == nil && reflect.DeepEqual(p.MediaURLs, []string{"https://scontent.cdninstagram.com/v/1.jpg"})
		}},
		{"video: cover first", graphMedia("media_type", "VIDEO", "media_url", "https://v.example.com/1.mp4", "thumbnail_url", "https://v.example.com/1.jpg"), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindVideo && reflect.DeepEqual(p.MediaURLs, []string{"https://v.example.com/1.jpg", "https://v.example.com/1.mp4"})
		}},
		{"reel", graphMedia("media_type", "VIDEO", "media_product_type", "REELS"), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindReel }},
		{"story", graphMedia("media_product_type", "STORY"), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindStory && p.ExpiresAt != nil && p.ExpiresAt.Equal(ts.Add(24*time.Hour))
		}},
		{"story told by its permalink", graphMedia("media_product_type", del, "permalink", "https://instagram.com/stories/baritalia/2643655939345226184"), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindStory
		}},
		{"ad", graphMedia("media_product_type", "AD"), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindPhoto }},
		{"carousel: children's media, deduplicated", graphMedia("media_type", "CAROUSEL_ALBUM", "children", map[string]any{"data": []any{
			map[string]any{"id": "1", "media_type": "IMAGE", "media_url": "https://scontent.cdninstagram.com/v/1.jpg"},
			map[string]any{"id": "2", "media_type": "VIDEO", "media_url": "https://v.example.com/2.mp4", "thumbnail_url": "https://v.example.com/2.jpg"},
		}}), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindPhoto && reflect.DeepEqual(p.MediaURLs, []string{
				"https://scontent.cdninstagram.com/v/1.jpg", "https://v.example.com/2.jpg", "https://v.example.com/2.mp4"})
		}},
		{"no owner: the username stands in", graphMedia("owner", del, "username", "BarItalia"), func(p *geopulse.Post) bool {
			return p.Author.SourceID == "@baritalia" && p.Author.Handle == "BarItalia" &&
				p.Author.ID == geopulse.HandleKey("instagram", "BarItalia")
		}},
		{"owner without username", graphMedia("username", del), func(p *geopulse.Post) bool {
			return p.Author.SourceID == "17841405822304914" && p.Author.Handle == ""
		}},
		{"RFC 3339 timestamp", graphMedia("timestamp", "2021-08-13T10:25:28+02:00"), func(p *geopulse.Post) bool { return p.TakenAt.Equal(ts) }},
		{"counts as strings", graphMedia("like_count", "12", "comments_count", "2"), func(p *geopulse.Post) bool { return p.Likes == 12 && p.Comments == 2 }},
		{"id as a number", graphMedia("id", 17895731045244887), func(p *geopulse.Post) bool { return p.SourceID == "17895731045244887" }},
		{"lower-case media type", graphMedia("media_type", "video"), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindVideo }},
		{"no caption, no media URL (copyrighted music)", graphMedia("caption", del, "media_url", del), func(p *geopulse.Post) bool {
			return p.Caption == "" && p.MediaURLs == nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decode(t, instagram.Graph(cafe).Decode, []byte(graphPage(tt.in)))
			if res.err != nil || len(res.items) != 1 {
				t.Fatalf("error %v, %d items", res.err, len(res.items))
			}
			p := res.items[0].Post
			if p == nil {
				t.Fatal(res.items[0].Err)
			}
			if p.Lat != cafe.Lat || p.Lon != cafe.Lon || p.AccuracyM != cafe.RadiusM || p.PlaceName != cafe.Name || p.LocationFrom != geopulse.LocationVenue {
				t.Errorf("not attributed to the venue: %+v", p)
			}
			if !tt.want(p) {
				t.Errorf("post %+v", p)
			}
		})
	}
}

// TestDecodeGraphBad covers broken and hostile input.
func TestDecodeGraphBad(t *testing.T) {
	recorded := readFile(t, "graph/stories_stories_default.json")
	huge := []byte(graphPage(strings.Repeat(graphMedia()+",", 100) + graphMedia()))
	tests := []struct {
		name    string
		in      string
		venue   *instagram.Venue
		limit   int
		wantErr string
		errHas  string
		want    []string
	}{
		{name: "list", in: graphPage(graphMedia()), venue: cafe, want: []string{""}},
		{name: "single media", in: graphMedia(), venue: cafe, want: []string{""}},
		{name: "map by id", in: `{"1":` + graphMedia("id", "1") + `,"2":` + graphMedia("id", "2") + `}`, venue: cafe, want: []string{"", ""}},
		{name: "mentioned media", in: `{"mentioned_media":` + graphMedia() + `,"id":"17841406338772941"}`, venue: cafe, want: []string{""}},
		{name: "bare array", in: "[" + graphMedia() + "]", venue: cafe, want: []string{""}},
		{name: "two pages", in: graphPage(graphMedia()) + graphPage(graphMedia("id", "2")), venue: cafe, want: []string{"", ""}},
		{name: "no venue", in: graphPage(graphMedia(), `{"id":"1","text":"nice"}`), want: []string{geopulse.ReasonNoLocation, geopulse.ReasonUnsupported}},
		{name: "no venue, element not an object", in: graphPage("[]", graphMedia()), want: []string{geopulse.ReasonMalformedJSON, geopulse.ReasonNoLocation}},
		{name: "no venue, invalid UTF-8", in: graphPage(strings.Replace(graphMedia(), "Espresso", "Esp\xc3resso", 1)), want: []string{geopulse.ReasonInvalidUTF8}},
		{
			name: "truncated file", in: string(recorded[:len(recorded)*2/3]), venue: cafe,
			wantErr: geopulse.ReasonMalformedJSON, errHas: "truncated", want: []string{"", ""},
		},
		{name: "flickr page", in: string(readFile(t, "flickr/photos_search_page1.json")), venue: cafe, wantErr: geopulse.ReasonMissingField, errHas: `"photos"`},
		{name: "empty", in: "", venue: cafe, wantErr: geopulse.ReasonMissingField},
		{name: "a number", in: "42", venue: cafe, wantErr: geopulse.ReasonMissingField},
		{
			name: "API error response", in: `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"A"}}`, venue: cafe,
			wantErr: geopulse.ReasonUnsupported, errHas: "Invalid OAuth access token",
		},
		{name: "too large", in: string(huge), venue: cafe, limit: len(huge) - 1, wantErr: geopulse.ReasonTooLarge},
		{name: "venue off the globe", in: graphPage(graphMedia()), venue: &instagram.Venue{Lat: 91, Lon: 0, RadiusM: 10}, wantErr: geopulse.ReasonInvalidCoordinates},
		{name: "venue at 0,0", in: graphPage(graphMedia()), venue: &instagram.Venue{RadiusM: 10}, wantErr: geopulse.ReasonInvalidCoordinates},
		{name: "venue radius negative", in: graphPage(graphMedia()), venue: &instagram.Venue{Lat: 1, Lon: 1, RadiusM: -1}, wantErr: geopulse.ReasonInvalidField},
		{name: "venue name not UTF-8", in: graphPage(graphMedia()), venue: &instagram.Venue{Lat: 1, Lon: 1, Name: "\xff"}, wantErr: geopulse.ReasonInvalidUTF8},
		{name: "count not a number", in: graphPage(graphMedia("like_count", "lots")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "caption a number", in: graphPage(graphMedia("caption", 5)), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "timestamp garbled", in: graphPage(graphMedia("timestamp", "13/08/2021")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "no timestamp", in: graphPage(graphMedia("timestamp", del)), venue: cafe, want: []string{geopulse.ReasonMissingField}},
		{name: "no id", in: graphPage(graphMedia("id", del)), venue: cafe, want: []string{geopulse.ReasonMissingField}},
		{name: "no author", in: graphPage(graphMedia("owner", del, "username", del)), venue: cafe, want: []string{geopulse.ReasonMissingField}},
		{name: "username with a newline", in: graphPage(graphMedia("owner", del, "username", "a\nb")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "unknown media type", in: graphPage(graphMedia("media_type", "HOLOGRAM")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "unknown product type", in: graphPage(graphMedia("media_product_type", "SPACES")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "media type a number", in: graphPage(graphMedia("media_type", 1)), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "live broadcast, even without venue", in: graphPage(graphMedia("media_type", "BROADCAST", "media_product_type", "LIVE")), want: []string{geopulse.ReasonUnsupported}},
		{name: "NUL in a caption", in: graphPage(graphMedia("caption", "a\x00")), venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "mentioned comment", in: `{"mentioned_comment":{"id":"1","text":"@bar hi"},"id":"2"}`, venue: cafe, want: []string{geopulse.ReasonUnsupported}},
		{name: "business discovery with a bad account card", in: `{"business_discovery":{"id":"5","username":7,"media":{"data":[` + graphMedia("owner", del) + `]}}}`, venue: cafe, want: []string{geopulse.ReasonInvalidField}},
		{name: "duplicate media within a page", in: graphPage(graphMedia(), graphMedia()), venue: cafe, want: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := instagram.Graph(tt.venue).Decode
			if tt.limit > 0 {
				dec = instagram.DecodeGraphLimit(tt.venue, tt.limit)
			}
			res := decode(t, dec, []byte(tt.in))
			if got := geopulse.ErrorReason(res.err); got != tt.wantErr {
				t.Fatalf("error %v, want reason %q", res.err, tt.wantErr)
			}
			if tt.errHas != "" && !strings.Contains(geopulse.ErrorMessage(res.err), tt.errHas) {
				t.Errorf("error message %q does not mention %q", geopulse.ErrorMessage(res.err), tt.errHas)
			}
			if got := res.reasons(); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("outcomes %q, want %q", got, tt.want)
				for _, it := range res.items {
					t.Log(it.Err)
				}
			}
		})
	}
}

// TestGraphCopiesVenue checks that the format does not see later changes
// to the caller's venue.
func TestGraphCopiesVenue(t *testing.T) {
	v := *cafe
	f := instagram.Graph(&v)
	v.Lat = 10
	res := decode(t, f.Decode, []byte(graphMedia()))
	if p := res.items[0].Post; p == nil || p.Lat != cafe.Lat {
		t.Errorf("post %+v, want it at the venue as it was given", res.items[0])
	}
}
