package instaloader_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
	"github.com/geopulse/geopulse/source/instaloader"
)

func TestSourceMatchesInstagram(t *testing.T) {
	if instaloader.Source != instagram.Source {
		t.Fatalf("source %q, want package instagram's %q so that the same media dedups", instaloader.Source, instagram.Source)
	}
}

// TestDecodeFixtures decodes each built export and checks every field of
// the posts.
func TestDecodeFixtures(t *testing.T) {
	jane := geopulse.Author{
		ID: geopulse.AuthorID("instagram", "5617083621"), Source: "instagram", SourceID: "5617083621",
		Handle: "soho.coffee.diary", DisplayName: "Jane Marlow", Bio: "Coffee, bars and corners of Soho.",
		AvatarURL: "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-19/s150x150/5617083621_n.jpg",
		Followers: 1843, Following: 412, PostsCount: 236,
	}
	cdn := "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-15/e35/"
	post := func(id string, kind geopulse.Kind, taken int64, caption string, author geopulse.Author, lat, lon float64, place string, media ...string) *geopulse.Post {
		return &geopulse.Post{
			ID: geopulse.PostID("instagram", id), Source: "instagram", SourceID: id, Kind: kind, Author: author,
			TakenAt: time.Unix(taken, 0).UTC(), Lat: lat, Lon: lon, AccuracyM: 50, LocationFrom: geopulse.LocationCentroid,
			PlaceName: place, Caption: caption, MediaURLs: media, Likes: 87, Comments: 5,
		}
	}
	baritalia := geopulse.Author{
		ID: geopulse.AuthorID("instagram", "1497392510"), Source: "instagram", SourceID: "1497392510",
		Handle: "baritalia", DisplayName: "Bar Italia", Bio: "Coffee, bars and corners of Soho.",
		AvatarURL: "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-19/s150x150/1497392510_n.jpg",
		Followers: 48210, Following: 310, PostsCount: 1290, Verified: true, Business: true,
	}
	reel := post("2643600000000000000", geopulse.KindReel, 1629350000, "How a cortado is made", baritalia, 51.51363, -0.13161, "Bar Italia",
		cdn+"2643600000000000000_n.jpg?_nc_ht=scontent-lhr8-1.cdninstagram.com&oh=00_AT&oe=63A1B2C3",
		"https://scontent-lhr8-1.cdninstagram.com/v/t50.2886-16/2643600000000000000_n.mp4")
	reel.Views = 10432
	private := post("2643500000000000000", geopulse.KindPhoto, 1629340000, "Sunday", geopulse.Author{
		ID: geopulse.AuthorID("instagram", "48213390027"), Source: "instagram", SourceID: "48213390027",
		Handle: "private.person", DisplayName: "Private Person", Bio: "Coffee, bars and corners of Soho.",
		AvatarURL: "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-19/s150x150/48213390027_n.jpg",
		Followers: 1843, Following: 412, PostsCount: 236, Private: true,
	}, 51.51363, -0.13161, "Bar Italia", cdn+"2643500000000000000_n.jpg?_nc_ht=scontent-lhr8-1.cdninstagram.com&oh=00_AT&oe=63A1B2C3")
	compact := post("2643655939345226185", geopulse.KindPhoto, 1629364800, "Compact form", geopulse.Author{
		ID: geopulse.AuthorID("instagram", "5617083621"), Source: "instagram", SourceID: "5617083621", Handle: "soho.coffee.diary",
	}, 51.51363, -0.13161, "Bar Italia", cdn+"2643655939345226185_n.jpg?_nc_ht=scontent-lhr8-1.cdninstagram.com&oh=00_AT&oe=63A1B2C3")

	tests := []struct {
		file   string
		want   *geopulse.Post
		reason string
	}{
		{file: "post_location.json", want: post("2643655939345226184", geopulse.KindPhoto, 1629364763,
			"Ristretto before the rain ☔️ #soho #coffee @baritalia", jane, 51.51363, -0.13161, "Bar Italia",
			cdn+"2643655939345226184_n.jpg?_nc_ht=scontent-lhr8-1.cdninstagram.com&oh=00_AT&oe=63A1B2C3")},
		{file: "sidecar.json", want: post("2643640000000000000", geopulse.KindPhoto, 1629360000,
			"Three coffees, one street. #sohocoffee #flatwhite", jane, 51.5134, -0.1318, "Frith Street",
			cdn+"2643640000000000000_n.jpg?_nc_ht=scontent-lhr8-1.cdninstagram.com&oh=00_AT&oe=63A1B2C3",
			cdn+"2643640000000000001_n.jpg", cdn+"2643640000000000002_n.jpg",
			"https://scontent-lhr8-1.cdninstagram.com/v/t50.2886-16/2643640000000000002_n.mp4")},
		{file: "reel.json", want: reel},
		{file: "post_private_owner.json", want: private},
		{file: "post_compact.json", want: compact},
		{file: "post_location_nocoords.json", reason: geopulse.ReasonNoLocation},
		{file: "story.json", reason: geopulse.ReasonNoLocation},
		{file: "profile.json", reason: geopulse.ReasonUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := decode(t, instaloader.Decode, readFile(t, tt.file))
			if res.err != nil || len(res.items) != 1 {
				t.Fatalf("error %v, %d items", res.err, len(res.items))
			}
			it := res.items[0]
			if got := geopulse.ErrorReason(it.Err); got != tt.reason {
				t.Fatalf("outcome %v, want reason %q", it.Err, tt.reason)
			}
			if tt.want != nil && !reflect.DeepEqual(it.Post, tt.want) {
				t.Errorf("post\n got  %+v\n want %+v", it.Post, tt.want)
			}
		})
	}
}

// edit returns the export in file with the members at dotted paths under
// "node" set (del removes them).
func edit(t testing.TB, file string, kv ...any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, file), &m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		obj := m
		for _, k := range path[:len(path)-1] {
			obj = obj[k].(map[string]any)
		}
		if kv[i+1] == del {
			delete(obj, path[len(path)-1])
		} else {
			obj[path[len(path)-1]] = kv[i+1]
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type delMarker struct{}

var del = delMarker{}

// TestDecodeValues checks mappings that the fixtures do not show.
func TestDecodeValues(t *testing.T) {
	loc := map[string]any{"id": "1", "name": "Bar Italia", "lat": 51.51363, "lng": -0.13161}
	tests := []struct {
		name string
		in   string
		want func(p *geopulse.Post) bool
	}{
		{"story with a location expires at expiring_at", edit(t, "story.json", "node.location", loc), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindStory && p.ExpiresAt.Equal(time.Unix(1629451163, 0)) && p.ExpiresAt.Location() == time.UTC &&
				p.MediaURLs[0] == "https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-15/e35/2644000000000000000_n.jpg" && p.Author.Handle == "baritalia"
		}},
		{"story without expiring_at lives 24 h", edit(t, "story.json", "node.location", loc, "node.expiring_at_timestamp", del), func(p *geopulse.Post) bool {
			return p.ExpiresAt.Equal(time.Unix(1629364763, 0).Add(24 * time.Hour))
		}},
		{"story told by node_type only", edit(t, "story.json", "node.location", loc, "node.__typename", del), func(p *geopulse.Post) bool {
			return p.Kind == geopulse.KindStory
		}},
		{"XDT type names", edit(t, "post_location.json", "node.__typename", "XDTGraphVideo"), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindVideo }},
		{"no type name: is_video decides", edit(t, "post_location.json", "node.__typename", del, "node.is_video", true), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindVideo }},
		{"no node_type", edit(t, "post_location.json", "instaloader", del), func(p *geopulse.Post) bool { return p.Kind == geopulse.KindPhoto }},
		{"older member names", edit(t, "post_location.json", "node.taken_at_timestamp", del, "node.date", 1629364763,
			"node.edge_media_to_caption", del, "node.caption", "old caption", "node.display_url", del, "node.display_src", "https://example.com/a.jpg",
			"node.edge_media_preview_like", del), func(p *geopulse.Post) bool {
			return p.TakenAt.Equal(time.Unix(1629364763, 0)) && p.Caption == "old caption" &&
				reflect.DeepEqual(p.MediaURLs, []string{"https://example.com/a.jpg"}) && p.Likes == 87
		}},
		{"caption as an object", edit(t, "post_location.json", "node.edge_media_to_caption", del, "node.caption", map[string]any{"text": "obj"}), func(p *geopulse.Post) bool {
			return p.Caption == "obj"
		}},
		{"no caption", edit(t, "post_location.json", "node.edge_media_to_caption.edges", []any{}), func(p *geopulse.Post) bool { return p.Caption == "" }},
		{"numbers as strings", edit(t, "post_location.json", "node.id", 2643655939345226184, "node.owner.id", 5617083621,
			"node.taken_at_timestamp", "1629364763", "node.edge_media_to_comment.count", "5", "node.location.lat", "51.51363", "node.location.lng", "-0.13161"),
			func(p *geopulse.Post) bool {
				return p.SourceID == "2643655939345226184" && p.Author.SourceID == "5617083621" && p.TakenAt.Equal(time.Unix(1629364763, 0)) &&
					p.Comments == 5 && p.Lat == 51.51363 && p.Lon == -0.13161
			}},
		{"owner without id: the username stands in", edit(t, "post_location.json", "node.owner.id", del), func(p *geopulse.Post) bool {
			return p.Author.SourceID == "@soho.coffee.diary" && p.Author.ID == geopulse.HandleKey("instagram", "soho.coffee.diary")
		}},
		{"broken avatar URL is dropped", edit(t, "post_location.json", "node.owner.profile_pic_url", "..."), func(p *geopulse.Post) bool {
			return p.Author.AvatarURL == ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decode(t, instaloader.Decode, []byte(tt.in))
			if res.err != nil || len(res.items) != 1 {
				t.Fatalf("error %v, %d items", res.err, len(res.items))
			}
			p := res.items[0].Post
			if p == nil {
				t.Fatal(res.items[0].Err)
			}
			if !tt.want(p) {
				t.Errorf("post %+v", p)
			}
		})
	}
}

// TestDecodeBad covers broken and hostile input.
func TestDecodeBad(t *testing.T) {
	good := edit(t, "post_location.json")
	compact := string(readFile(t, "post_compact.json"))
	pretty := string(readFile(t, "post_location.json"))
	ndjson := good + "\n" + compact + "\n" + edit(t, "post_location.json", "node.id", "2") + "\n"
	huge := strings.Repeat(good+"\n", 50)
	tests := []struct {
		name    string
		in      string
		limit   int
		wantErr string
		errHas  string
		want    []string
	}{
		{name: "one object", in: pretty, want: []string{""}},
		{name: "NDJSON", in: ndjson, want: []string{"", "", ""}},
		{name: "NDJSON with CRLF and blank lines", in: good + "\r\n\r\n" + compact + "\r\n", want: []string{"", ""}},
		{name: "JSON array", in: "[" + good + ",\n" + compact + "]", want: []string{"", ""}},
		{name: "byte order mark", in: "\xef\xbb\xbf" + pretty, want: []string{""}},
		{name: "truncated file", in: pretty[:len(pretty)/2], wantErr: geopulse.ReasonMalformedJSON, errHas: "truncated"},
		{name: "truncated NDJSON keeps the lines before", in: ndjson[:len(ndjson)-40], wantErr: geopulse.ReasonMalformedJSON, want: []string{"", ""}},
		{name: "garbage line", in: good + "\nnot json\n" + good, wantErr: geopulse.ReasonMalformedJSON, errHas: "byte", want: []string{""}},
		{name: "flickr page", in: string(readFile(t, "flickr/photos_search_page1.json")), want: []string{geopulse.ReasonMissingField}},
		{name: "empty", in: "\n", wantErr: geopulse.ReasonMissingField},
		{name: "not an object", in: `[3, "x", null]`, want: []string{geopulse.ReasonMalformedJSON, geopulse.ReasonMalformedJSON, geopulse.ReasonMalformedJSON}},
		{name: "too large", in: huge, limit: len(huge) - 1, wantErr: geopulse.ReasonTooLarge},
		{name: "just under the limit", in: huge, limit: len(huge), want: make([]string, 50)},
		{name: "0,0", in: edit(t, "post_location.json", "node.location.lat", 0, "node.location.lng", 0), want: []string{geopulse.ReasonNoLocation}},
		{name: "latitude 91", in: edit(t, "post_location.json", "node.location.lat", 91), want: []string{geopulse.ReasonInvalidCoordinates}},
		{name: "longitude a word", in: edit(t, "post_location.json", "node.location.lng", "west"), want: []string{geopulse.ReasonInvalidField}},
		{name: "location null", in: edit(t, "post_location.json", "node.location", nil), want: []string{geopulse.ReasonNoLocation}},
		{name: "invalid UTF-8 in a caption", in: strings.Replace(good, "Ristretto", "Ris\xfftretto", 1) + "\n" + good, want: []string{geopulse.ReasonInvalidUTF8, ""}},
		{name: "NUL in a caption", in: edit(t, "post_location.json", "node.edge_media_to_caption.edges", []any{map[string]any{"node": map[string]any{"text": "a\x00"}}}), want: []string{geopulse.ReasonInvalidField}},
		{name: "caption too long", in: edit(t, "post_location.json", "node.edge_media_to_caption.edges", []any{map[string]any{"node": map[string]any{"text": strings.Repeat("x", 10_001)}}}), want: []string{geopulse.ReasonTooLarge}},
		{name: "caption a number", in: edit(t, "post_location.json", "node.edge_media_to_caption", del, "node.caption", 5), want: []string{geopulse.ReasonInvalidField}},
		{name: "count not a number", in: edit(t, "post_location.json", "node.edge_media_preview_like.count", "many"), want: []string{geopulse.ReasonInvalidField}},
		{name: "negative followers", in: edit(t, "post_location.json", "node.owner.edge_followed_by.count", -3), want: []string{geopulse.ReasonInvalidField}},
		{name: "is_private a string", in: edit(t, "post_location.json", "node.owner.is_private", "yes"), want: []string{geopulse.ReasonInvalidField}},
		{name: "no node", in: `{"instaloader":{"node_type":"Post","version":"4.9.5"}}`, want: []string{geopulse.ReasonMissingField}},
		{name: "node not an object", in: `{"node":[],"instaloader":{"node_type":"Post"}}`, want: []string{geopulse.ReasonInvalidField}},
		{name: "no id", in: edit(t, "post_location.json", "node.id", del), want: []string{geopulse.ReasonMissingField}},
		{name: "id with a control character", in: edit(t, "post_location.json", "node.id", "1\u0085"), want: []string{geopulse.ReasonInvalidField}},
		{name: "no time", in: edit(t, "post_location.json", "node.taken_at_timestamp", del), want: []string{geopulse.ReasonMissingField}},
		{name: "time negative", in: edit(t, "post_location.json", "node.taken_at_timestamp", -1), want: []string{geopulse.ReasonInvalidField}},
		{name: "no owner", in: edit(t, "post_location.json", "node.owner", del), want: []string{geopulse.ReasonMissingField}},
		{name: "owner without id or username", in: edit(t, "post_location.json", "node.owner.id", del, "node.owner.username", del), want: []string{geopulse.ReasonMissingField}},
		{name: "unknown type name", in: edit(t, "post_location.json", "node.__typename", "GraphHologram"), want: []string{geopulse.ReasonInvalidField}},
		{name: "hashtag export", in: edit(t, "profile.json", "instaloader.node_type", "Hashtag"), want: []string{geopulse.ReasonUnsupported}},
		{name: "duplicate posts", in: good + "\n" + good, want: []string{"", ""}}, // passed on; the store dedups
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := instaloader.Decode
			if tt.limit > 0 {
				dec = instaloader.DecodeLimit(tt.limit)
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

func TestDecodeStops(t *testing.T) {
	stop := errors.New("stop")
	in := strings.Repeat(edit(t, "post_location.json")+"\n", 5)
	n := 0
	err := instaloader.Decode(strings.NewReader(in), func(source.Item) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("error %v after %d items, want stop after 2", err, n)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{string(readFile(t, "post_location.json")), true},
		{string(readFile(t, "post_compact.json"))[:300], true},
		{string(readFile(t, "story.json")), true},
		{string(readFile(t, "flickr/photos_search_page1.json")), false},
		{`{"data":[{"id":"1","media_type":"IMAGE"}]}`, false},
		{`{"node":{"id":"1"}}`, false},
	}
	for _, tt := range tests {
		if got := instaloader.Format.Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%.40q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}
