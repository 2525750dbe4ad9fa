package instagram_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
)

// TestDecodeV1Fixtures decodes every recorded v1 response and checks the
// outcome of each element.
func TestDecodeV1Fixtures(t *testing.T) {
	tests := []struct {
		file string
		want map[string]int // reason → items ("" = posts)
	}{
		{"location_recent_media.json", map[string]int{"": 20}},
		// 5 located media; 24 without location and 3 whose place has
		// null coordinates ("My aquarium", "At Home", "Southville").
		{"media_popular.json", map[string]int{"": 5, geopulse.ReasonNoLocation: 27}},
		{"media.json", map[string]int{"": 1}},
		{"tag_recent_media.json", map[string]int{geopulse.ReasonNoLocation: 3}},
		{"user_recent_media.json", map[string]int{"": 1, geopulse.ReasonNoLocation: 1}},
		{"location.json", map[string]int{geopulse.ReasonUnsupported: 1}},
		{"location_search.json", map[string]int{geopulse.ReasonUnsupported: 4}},
		{"user.json", map[string]int{geopulse.ReasonUnsupported: 1}},
		{"user_search.json", map[string]int{geopulse.ReasonUnsupported: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := decode(t, instagram.DecodeV1, readFile(t, "v1/"+tt.file))
			if res.err != nil {
				t.Fatalf("error %v", res.err)
			}
			if got := countReasons(res.reasons()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("outcomes %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDecodeV1Post checks every field of posts from recorded media.
func TestDecodeV1Post(t *testing.T) {
	tests := []struct {
		file  string
		index int
		want  geopulse.Post
	}{{
		file: "location_recent_media.json", index: 0,
		want: geopulse.Post{
			SourceID: "22998901", Kind: geopulse.KindPhoto,
			Author: geopulse.Author{
				SourceID: "214995", Handle: "sanfrancisco", DisplayName: "_Sasha Zvereva",
				AvatarURL: "http://distillery.s3.amazonaws.com/profiles/profile_214995_75sq_1294290728.jpg",
			},
			TakenAt: time.Unix(1296751743, 0).UTC(),
			Lat:     37.78164992591033, Lon: -122.3938992619514, AccuracyM: 50,
			LocationFrom: geopulse.LocationCentroid, PlaceName: "South Park",
			Caption:   "Breakfast in the park and then off to the office",
			MediaURLs: []string{"http://distillery.s3.amazonaws.com/media/2011/02/03/93212f777adc49a0a33892e31af49465_7.jpg"},
			Likes:     15, Comments: 3,
		},
	}, {
		// Explicit tags become hashtags; a null caption is no caption.
		file: "location_recent_media.json", index: 19,
		want: geopulse.Post{SourceID: "18730645", PlaceName: "South Park", Hashtags: []string{"instagram", "walden"}},
	}, {
		// A place without id or name still has coordinates.
		file: "media.json", index: 0,
		want: geopulse.Post{SourceID: "315", Lat: 37.78218, Lon: -122.3885, PlaceName: "", Caption: "", Likes: 3, Comments: 6},
	}, {
		// Non-Latin place names arrive as \u escapes.
		file: "media_popular.json", index: 2,
		want: geopulse.Post{SourceID: "3281493", PlaceName: "田子坊"},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := decode(t, instagram.DecodeV1, readFile(t, "v1/"+tt.file))
			p := res.items[tt.index].Post
			if p == nil {
				t.Fatalf("item %d: %v", tt.index, res.items[tt.index].Err)
			}
			comparePost(t, p, &tt.want)
		})
	}
}

// comparePost compares the fields of want that are set (and Caption,
// PlaceName, Likes and Comments whenever SourceID is).
func comparePost(t *testing.T, got, want *geopulse.Post) {
	t.Helper()
	check := func(name string, g, w any, set bool) {
		if set && !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", name, g, w)
		}
	}
	check("SourceID", got.SourceID, want.SourceID, true)
	check("Kind", got.Kind, want.Kind, want.Kind != "")
	check("Author", got.Author.SourceID, want.Author.SourceID, want.Author.SourceID != "")
	check("Handle", got.Author.Handle, want.Author.Handle, want.Author.Handle != "")
	check("DisplayName", got.Author.DisplayName, want.Author.DisplayName, want.Author.DisplayName != "")
	check("AvatarURL", got.Author.AvatarURL, want.Author.AvatarURL, want.Author.AvatarURL != "")
	check("TakenAt", got.TakenAt, want.TakenAt, !want.TakenAt.IsZero())
	check("Lat", got.Lat, want.Lat, want.Lat != 0)
	check("Lon", got.Lon, want.Lon, want.Lon != 0)
	check("AccuracyM", got.AccuracyM, want.AccuracyM, want.AccuracyM != 0)
	check("LocationFrom", got.LocationFrom, want.LocationFrom, want.LocationFrom != "")
	check("PlaceName", got.PlaceName, want.PlaceName, true)
	check("Caption", got.Caption, want.Caption, want.Caption != "" || want.Likes != 0)
	check("Hashtags", got.Hashtags, want.Hashtags, want.Hashtags != nil)
	check("MediaURLs", got.MediaURLs, want.MediaURLs, want.MediaURLs != nil)
	check("Likes", got.Likes, want.Likes, want.Likes != 0)
	check("Comments", got.Comments, want.Comments, want.Comments != 0)
}

// v1Media returns a valid v1 media object, as JSON, with the member at each
// dotted path set to a value (del removes it; json.RawMessage is inserted
// verbatim).
func v1Media(kv ...any) string {
	m := map[string]any{
		"id": "1234567890_42", "type": "image", "created_time": "1296751743",
		"caption": map[string]any{"text": "Flat white #coffee"},
		"tags":    []any{"Coffee", "#LATTE", "coffee"},
		"likes":   map[string]any{"count": 12}, "comments": map[string]any{"count": 3},
		"images":   map[string]any{"standard_resolution": map[string]any{"url": "https://cdn.example.com/1.jpg"}},
		"location": map[string]any{"id": "114", "name": "South Park", "latitude": 37.7816, "longitude": -122.3939},
		"user":     map[string]any{"id": "42", "username": "jane", "full_name": "Jane", "profile_picture": "https://cdn.example.com/42.jpg"},
	}
	return setPaths(m, kv...)
}

type delMarker struct{}

var del = delMarker{}

func setPaths(m map[string]any, kv ...any) string {
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
		panic(err)
	}
	return string(b)
}

func v1Page(media ...string) string {
	return `{"pagination":{},"meta":{"code":200},"data":[` + strings.Join(media, ",") + `]}`
}

// TestDecodeV1Bad covers broken and hostile input: each case says what the
// whole decoding returns and what each element becomes.
func TestDecodeV1Bad(t *testing.T) {
	recorded := readFile(t, "v1/location_recent_media.json")
	huge := []byte(v1Page(strings.Repeat(v1Media()+",", 200) + v1Media()))
	tests := []struct {
		name    string
		in      string
		limit   int    // payload limit; 0: MaxPayloadBytes
		wantErr string // reason of the whole-payload error, "" for none
		errHas  string // substring of its message
		want    []string
	}{
		{name: "valid", in: v1Page(v1Media()), want: []string{""}},
		{name: "bare array", in: "[" + v1Media() + "]", want: []string{""}},
		{name: "single media response", in: `{"meta":{"code":200},"data":` + v1Media() + `}`, want: []string{""}},
		{name: "two pages in one file", in: v1Page(v1Media()) + "\n" + v1Page(v1Media("id", "2"), v1Media("id", "3")), want: []string{"", "", ""}},
		{name: "byte order mark", in: "\xef\xbb\xbf" + v1Page(v1Media()), want: []string{""}},
		{
			name: "truncated file", in: string(recorded[:len(recorded)/2]),
			// The 12 media before the cut are handed out.
			wantErr: geopulse.ReasonMalformedJSON, errHas: "truncated", want: make([]string, 12),
		},
		{name: "syntax error after an element", in: v1Page(v1Media()) + "x", wantErr: geopulse.ReasonMalformedJSON, errHas: "byte", want: []string{""}},
		{name: "syntax error inside the list", in: `{"data":[` + v1Media() + ` ` + v1Media() + `]}`, wantErr: geopulse.ReasonMalformedJSON, errHas: "byte", want: []string{""}},
		{name: "flickr page", in: string(readFile(t, "flickr/photos_search_page1.json")), wantErr: geopulse.ReasonMissingField, errHas: `"photos"`},
		{name: "empty", in: "  \n", wantErr: geopulse.ReasonMissingField, errHas: "empty"},
		{name: "a string", in: `"data"`, wantErr: geopulse.ReasonMissingField, errHas: "not a string"},
		{
			name: "API error response", in: `{"meta":{"error_type":"OAuthAccessTokenException","code":400,"error_message":"The access_token provided is invalid."}}`,
			wantErr: geopulse.ReasonUnsupported, errHas: "access_token provided is invalid",
		},
		{name: "too large", in: string(huge), limit: len(huge) - 1, wantErr: geopulse.ReasonTooLarge},
		{name: "just under the limit", in: string(huge), limit: len(huge), want: make([]string, 201)},
		{
			name: "numbers as strings and strings as numbers",
			in: v1Page(v1Media("likes.count", "12", "comments.count", 3.0, "created_time", 1296751743, "user.id", 42,
				"location.latitude", "37.7816", "location.longitude", " -122.3939")),
			want: []string{""},
		},
		{name: "count not a number", in: v1Page(v1Media("likes.count", "many")), want: []string{geopulse.ReasonInvalidField}},
		{name: "negative count", in: v1Page(v1Media("comments.count", -1)), want: []string{geopulse.ReasonInvalidField}},
		{name: "time not a number", in: v1Page(v1Media("created_time", "yesterday")), want: []string{geopulse.ReasonInvalidField}},
		{name: "time beyond year 9999", in: v1Page(v1Media("created_time", "999999999999")), want: []string{geopulse.ReasonInvalidField}},
		{name: "0,0", in: v1Page(v1Media("location.latitude", 0, "location.longitude", 0)), want: []string{geopulse.ReasonNoLocation}},
		{name: "0,0 as strings", in: v1Page(v1Media("location.latitude", "0", "location.longitude", "0.0")), want: []string{geopulse.ReasonNoLocation}},
		{name: "latitude 91", in: v1Page(v1Media("location.latitude", 91)), want: []string{geopulse.ReasonInvalidCoordinates}},
		{name: "longitude -180.5", in: v1Page(v1Media("location.longitude", -180.5)), want: []string{geopulse.ReasonInvalidCoordinates}},
		{name: "latitude NaN", in: v1Page(v1Media("location.latitude", "NaN")), want: []string{geopulse.ReasonInvalidCoordinates}},
		{name: "latitude a word", in: v1Page(v1Media("location.latitude", "north")), want: []string{geopulse.ReasonInvalidField}},
		{name: "latitude an object", in: v1Page(v1Media("location.latitude", map[string]any{})), want: []string{geopulse.ReasonInvalidField}},
		{name: "no longitude", in: v1Page(v1Media("location.longitude", nil)), want: []string{geopulse.ReasonNoLocation}},
		{name: "location null", in: v1Page(v1Media("location", nil)), want: []string{geopulse.ReasonNoLocation}},
		{
			name: "invalid UTF-8 in a caption", in: v1Page(strings.Replace(v1Media(), "Flat", "Fl\xffat", 1), v1Media("id", "2")),
			want: []string{geopulse.ReasonInvalidUTF8, ""},
		},
		{name: "NUL in a caption", in: v1Page(v1Media("caption.text", "a\x00b")), want: []string{geopulse.ReasonInvalidField}},
		{name: "lone surrogate in a caption", in: v1Page(strings.Replace(v1Media(), "Flat", `\ud800`, 1)), want: []string{""}},
		{name: "caption too long", in: v1Page(v1Media("caption.text", strings.Repeat("é", 10_001))), want: []string{geopulse.ReasonTooLarge}},
		{name: "caption a string", in: v1Page(v1Media("caption", "hello")), want: []string{geopulse.ReasonInvalidField}},
		{name: "caption null", in: v1Page(v1Media("caption", nil)), want: []string{""}},
		{name: "tag not a string", in: v1Page(v1Media("tags", []any{"a", 1})), want: []string{geopulse.ReasonInvalidField}},
		{name: "tag with a control character", in: v1Page(v1Media("tags", []any{"a\x01b"})), want: []string{geopulse.ReasonInvalidField}},
		{name: "too many tags", in: v1Page(v1Media("tags", manyTags(101))), want: []string{geopulse.ReasonTooLarge}},
		{name: "no id", in: v1Page(v1Media("id", del)), want: []string{geopulse.ReasonMissingField}},
		{name: "id an object", in: v1Page(v1Media("id", map[string]any{})), want: []string{geopulse.ReasonInvalidField}},
		{name: "id with a newline", in: v1Page(v1Media("id", "1\n2")), want: []string{geopulse.ReasonInvalidField}},
		{name: "id too long", in: v1Page(v1Media("id", strings.Repeat("9", 257))), want: []string{geopulse.ReasonInvalidField}},
		{name: "no time", in: v1Page(v1Media("created_time", del)), want: []string{geopulse.ReasonMissingField}},
		{name: "no user", in: v1Page(v1Media("user", del)), want: []string{geopulse.ReasonMissingField}},
		{name: "no user id", in: v1Page(v1Media("user.id", "")), want: []string{geopulse.ReasonMissingField}},
		{name: "handle with a tab", in: v1Page(v1Media("user.username", "ja\tne")), want: []string{geopulse.ReasonInvalidField}},
		{name: "unknown type", in: v1Page(v1Media("type", "hologram")), want: []string{geopulse.ReasonInvalidField}},
		{name: "element not an object", in: v1Page("3", "null", v1Media()), want: []string{geopulse.ReasonMalformedJSON, geopulse.ReasonMalformedJSON, ""}},
		{name: "a user in a media list", in: v1Page(`{"id":"4","username":"mikeyk"}`), want: []string{geopulse.ReasonUnsupported}},
		{
			name: "duplicate media within a page", in: v1Page(v1Media(), v1Media("likes.count", 13)),
			want: []string{"", ""}, // both passed on; the store's upsert keeps one
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := instagram.DecodeV1
			if tt.limit > 0 {
				dec = instagram.DecodeV1Limit(tt.limit)
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

func manyTags(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "tag" + strings.Repeat("x", i)
	}
	return out
}

// TestDecodeV1Values checks what lenient input decodes to.
func TestDecodeV1Values(t *testing.T) {
	res := decode(t, instagram.DecodeV1, []byte(v1Page(
		v1Media("likes.count", "12", "comments.count", 3.0, "created_time", 1296751743, "user.id", 42,
			"location.latitude", "37.7816", "location.longitude", "-122.3939", "user.username", "@Jane",
			"user.profile_picture", "...", "type", "video",
			"videos", map[string]any{"standard_resolution": map[string]any{"url": "https://cdn.example.com/1.mp4"}}),
		v1Media("images.standard_resolution.url", "/relative.jpg"),
	)))
	p := res.items[0].Post
	if p == nil {
		t.Fatal(res.items[0].Err)
	}
	want := geopulse.Post{
		ID: geopulse.PostID("instagram", "1234567890"), Source: "instagram", SourceID: "1234567890", Kind: geopulse.KindVideo,
		Author: geopulse.Author{
			ID: geopulse.AuthorID("instagram", "42"), Source: "instagram", SourceID: "42", Handle: "Jane", DisplayName: "Jane",
		},
		TakenAt: time.Unix(1296751743, 0).UTC(), Lat: 37.7816, Lon: -122.3939, AccuracyM: 50,
		LocationFrom: geopulse.LocationCentroid, PlaceName: "South Park",
		Caption: "Flat white #coffee", Hashtags: []string{"coffee", "latte"},
		MediaURLs: []string{"https://cdn.example.com/1.jpg", "https://cdn.example.com/1.mp4"},
		Likes:     12, Comments: 3,
	}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("post\n got  %+v\n want %+v", *p, want)
	}
	if p := res.items[1].Post; p == nil || p.MediaURLs != nil {
		t.Errorf("a relative media URL must be dropped, not kept or fatal: %+v", res.items[1])
	}
}

// TestDecodeV1Stops checks that an error from fn ends the decoding and is
// returned as is.
func TestDecodeV1Stops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := instagram.DecodeV1(bytes.NewReader(readFile(t, "v1/location_recent_media.json")), func(source.Item) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Errorf("error %v after %d items, want stop after 3", err, n)
	}
}

func TestSniff(t *testing.T) {
	v1, graph := instagram.V1.Sniff, instagram.Graph(nil).Sniff
	tests := []struct {
		file      string
		v1, graph bool
	}{
		{"v1/location_recent_media.json", true, false},
		{"v1/media.json", true, false},
		{"v1/media_popular.json", true, false},
		{"graph/users_medias_p1.json", false, true},
		{"graph/discovery_medias_p1.json", false, true},
		{"graph/stories_story_info.json", false, true},
		{"flickr/photos_search_page1.json", false, false},
		{"webhook/mentions.json", false, false},
	}
	for _, tt := range tests {
		head := readFile(t, tt.file)
		if len(head) > 4096 {
			head = head[:4096]
		}
		if v1(head) != tt.v1 || graph(head) != tt.graph {
			t.Errorf("%s: v1 %v graph %v, want %v %v", tt.file, v1(head), graph(head), tt.v1, tt.graph)
		}
	}
}
