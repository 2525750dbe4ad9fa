package canonical_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// baseItem is a valid, fully populated item as a generic JSON value.
func baseItem() map[string]any {
	return map[string]any{
		"v":           1,
		"source":      "instagram",
		"source_id":   "3141592",
		"kind":        "photo",
		"taken_at":    "2026-11-28T10:00:00Z",
		"observed_at": "2026-11-28T10:00:05Z",
		"location":    map[string]any{"lat": 51.5074, "lon": -0.1278, "accuracy_m": 10, "name": "Starbucks Soho"},
		"author": map[string]any{
			"source_id": "42", "handle": "jane", "display_name": "Jane", "avatar_url": "https://cdn.example.com/42.jpg",
			"bio": "coffee", "followers": 1200, "following": 300, "posts": 87, "verified": false, "business": false, "private": false,
		},
		"caption":    "Flat white #coffee @starbucks",
		"hashtags":   []any{"coffee"},
		"mentions":   []any{"starbucks"},
		"media":      []any{"https://cdn.example.com/1.jpg"},
		"likes":      10,
		"comments":   2,
		"views":      0,
		"expires_at": nil,
		"language":   "en",
	}
}

// del as a value removes the member.
type delMarker struct{}

var del = delMarker{}

// with returns baseItem as JSON with the member at a dotted path set to v.
// A json.RawMessage is inserted verbatim.
func with(kv ...any) string {
	m := baseItem()
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

func repeat(s string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", s, i)
	}
	return out
}

func TestDecodePostRejects(t *testing.T) {
	valid := with()
	tests := []struct {
		name   string
		in     string
		code   string // default EINVALID
		reason string
		msg    string // substring of the message
	}{
		// Syntax.
		{"truncated", valid[:len(valid)-10], "", geopulse.ReasonMalformedJSON, "at byte"},
		{"empty", "", "", geopulse.ReasonMalformedJSON, "end of input"},
		{"trailing comma", `{"source":"x",}`, "", geopulse.ReasonMalformedJSON, "string key"},
		{"single quotes", `{'source':'x'}`, "", geopulse.ReasonMalformedJSON, "byte 1"},
		{"raw newline in string", strings.Replace(valid, "Flat white", "Flat\nwhite", 1), "", geopulse.ReasonMalformedJSON, "control character"},
		{"data after object", valid + ` {}`, "", geopulse.ReasonMalformedJSON, "after the object"},
		{"bad escape", strings.Replace(valid, "Flat white", `Flat\qwhite`, 1), "", geopulse.ReasonMalformedJSON, "escape"},
		{"bad escape in unknown field", strings.Replace(with("extra", "XX"), `"XX"`, `"a\qb"`, 1), "", geopulse.ReasonMalformedJSON, "escape"},
		{"unterminated unknown string", `{"extra":"abc`, "", geopulse.ReasonMalformedJSON, "unterminated"},
		{"bad unicode escape", strings.Replace(valid, "Flat white", `Flat\u12G4white`, 1), "", geopulse.ReasonMalformedJSON, `\u escape`},
		{"leading zero", strings.Replace(valid, `"likes":10`, `"likes":010`, 1), "", geopulse.ReasonMalformedJSON, "expected ',' or '}'"},
		{"NaN literal", strings.Replace(valid, `"lat":51.5074`, `"lat":NaN`, 1), "", geopulse.ReasonMalformedJSON, "'N'"},
		{"dangling exponent", strings.Replace(valid, `"lat":51.5074`, `"lat":5e`, 1), "", geopulse.ReasonMalformedJSON, "exponent"},
		{"bad literal", strings.Replace(valid, `"verified":false`, `"verified":fals`, 1), "", geopulse.ReasonMalformedJSON, "false"},
		{"array item", `[` + valid + `]`, "", geopulse.ReasonMalformedJSON, "must be a JSON object, not an array"},
		{"string item", `"post"`, "", geopulse.ReasonMalformedJSON, "not a string"},
		{"too deep", with("extra", json.RawMessage(strings.Repeat("[", 70)+strings.Repeat("]", 70))), "", geopulse.ReasonMalformedJSON, "nesting"},
		{"malformed beats wrong type", `{"location":{"lat":"x"},`, "", geopulse.ReasonMalformedJSON, "end of input"},

		// Wrong types.
		{"lat as string", with("location.lat", "51.5"), "", geopulse.ReasonInvalidField, "location.lat must be a number, not a string"},
		{"source as number", with("source", 7), "", geopulse.ReasonInvalidField, "source must be a string"},
		{"location as array", with("location", []any{1, 2}), "", geopulse.ReasonInvalidField, "location must be an object, not an array"},
		{"author as string", with("author", "jane"), "", geopulse.ReasonInvalidField, "author must be an object"},
		{"hashtags as string", with("hashtags", "coffee"), "", geopulse.ReasonInvalidField, "hashtags must be an array"},
		{"hashtag as number", with("hashtags", []any{"a", 2}), "", geopulse.ReasonInvalidField, "hashtags[1] must be a string"},
		{"likes as string", with("likes", "10"), "", geopulse.ReasonInvalidField, "likes must be a number"},
		{"verified as string", with("author.verified", "yes"), "", geopulse.ReasonInvalidField, "author.verified must be a boolean"},
		{"caption as object", with("caption", map[string]any{}), "", geopulse.ReasonInvalidField, "caption must be a string, not an object"},
		{"v as string", with("v", "1"), "", geopulse.ReasonInvalidField, "v must be a number"},
		{"taken_at as number", with("taken_at", 1764324000), "", geopulse.ReasonInvalidField, "taken_at must be a string"},
		{"likes fractional", with("likes", 1.5), "", geopulse.ReasonInvalidField, "likes must be an integer"},
		{"likes beyond int64", with("likes", json.RawMessage("1e30")), "", geopulse.ReasonInvalidField, "likes must be an integer"},

		// Missing.
		{"no source", with("source", del), "", geopulse.ReasonMissingField, "source is required"},
		{"empty source", with("source", ""), "", geopulse.ReasonMissingField, "source is required"},
		{"null source", with("source", nil), "", geopulse.ReasonMissingField, "source is required"},
		{"no source_id", with("source_id", del), "", geopulse.ReasonMissingField, "source_id is required"},
		{"no taken_at", with("taken_at", del), "", geopulse.ReasonMissingField, "taken_at is required"},
		{"no location", with("location", del), "", geopulse.ReasonMissingField, "location is required"},
		{"null location", with("location", nil), "", geopulse.ReasonMissingField, "location is required"},
		{"no lat", with("location.lat", del), "", geopulse.ReasonMissingField, "location.lat is required"},
		{"no lon", with("location.lon", del), "", geopulse.ReasonMissingField, "location.lon is required"},
		{"no author", with("author", del), "", geopulse.ReasonMissingField, "author is required"},
		{"no author source_id", with("author.source_id", del), "", geopulse.ReasonMissingField, "author.source_id is required"},

		// Values.
		{"unknown kind", with("kind", "selfie"), "", geopulse.ReasonInvalidField, "kind must be one of"},
		{"empty kind", with("kind", ""), "", geopulse.ReasonInvalidField, "kind must be one of"},
		{"kind wrong case", with("kind", "Photo"), "", geopulse.ReasonInvalidField, "kind"},
		{"lat above 90", with("location.lat", 90.0001), "", geopulse.ReasonInvalidCoordinates, "location.lat 90.0001 is outside ±90"},
		{"lat below -90", with("location.lat", -91), "", geopulse.ReasonInvalidCoordinates, "location.lat"},
		{"lon above 180", with("location.lon", 180.5), "", geopulse.ReasonInvalidCoordinates, "location.lon"},
		{"lon below -180", with("location.lon", -181), "", geopulse.ReasonInvalidCoordinates, "location.lon"},
		{"lat overflows float64", with("location.lat", json.RawMessage("1e400")), "", geopulse.ReasonInvalidCoordinates, "location.lat"},
		{"negative accuracy", with("location.accuracy_m", -1), "", geopulse.ReasonInvalidField, "location.accuracy_m"},
		{"infinite accuracy", with("location.accuracy_m", json.RawMessage("1e999")), "", geopulse.ReasonInvalidField, "location.accuracy_m"},
		{"timestamp with space", with("taken_at", "2026-11-28 10:00:00Z"), "", geopulse.ReasonInvalidField, "taken_at must be an RFC 3339"},
		{"timestamp without zone", with("taken_at", "2026-11-28T10:00:00"), "", geopulse.ReasonInvalidField, "taken_at"},
		{"timestamp words", with("taken_at", "yesterday"), "", geopulse.ReasonInvalidField, "taken_at"},
		{"timestamp month 13", with("taken_at", "2026-13-28T10:00:00Z"), "", geopulse.ReasonInvalidField, "taken_at"},
		{"bad observed_at", with("observed_at", "2026-11-28"), "", geopulse.ReasonInvalidField, "observed_at"},
		{"bad expires_at", with("expires_at", "tomorrow"), "", geopulse.ReasonInvalidField, "expires_at"},
		{"negative likes", with("likes", -1), "", geopulse.ReasonInvalidField, "likes must not be negative"},
		{"negative comments", with("comments", -2), "", geopulse.ReasonInvalidField, "comments"},
		{"negative views", with("views", -3), "", geopulse.ReasonInvalidField, "views"},
		{"negative followers", with("author.followers", -1), "", geopulse.ReasonInvalidField, "author.followers"},
		{"negative following", with("author.following", -1), "", geopulse.ReasonInvalidField, "author.following"},
		{"negative posts", with("author.posts", -1), "", geopulse.ReasonInvalidField, "author.posts"},
		{"long source", with("source", strings.Repeat("s", 257)), "", geopulse.ReasonInvalidField, "source is 257 bytes"},
		{"long source_id", with("source_id", strings.Repeat("1", 257)), "", geopulse.ReasonInvalidField, "source_id is 257 bytes"},
		{"long author source_id", with("author.source_id", strings.Repeat("1", 300)), "", geopulse.ReasonInvalidField, "author.source_id"},
		{"control char in source_id", with("source_id", "31\n41"), "", geopulse.ReasonInvalidField, "source_id must not contain control"},
		{"C1 control in source", with("source", "insta\u0085gram"), "", geopulse.ReasonInvalidField, "source must not contain control"},
		{"control char in handle", with("author.handle", "ja\x01ne"), "", geopulse.ReasonInvalidField, "author.handle"},
		{"control char in hashtag", with("hashtags", []any{"cof\x7ffee"}), "", geopulse.ReasonInvalidField, "hashtags[0]"},
		{"NUL in caption", with("caption", "a\x00b"), "", geopulse.ReasonInvalidField, "caption must not contain NUL"},
		{"media not http", with("media", []any{"https://ok/1.jpg", "ftp://cdn/1.jpg"}), "", geopulse.ReasonInvalidField, "media[1]"},
		{"media javascript", with("media", []any{"javascript:alert(1)"}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"media without host", with("media", []any{"https:///etc/passwd"}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"media with space", with("media", []any{"https://cdn/a b.jpg"}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"empty media entry", with("media", []any{""}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"media with no-break space", with("media", []any{"https://cdn/a\u00a0b.jpg"}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"media with C1 control", with("media", []any{"https://cdn/ü\u0085.jpg"}), "", geopulse.ReasonInvalidField, "media[0]"},
		{"avatar file url", with("author.avatar_url", "file:///etc/passwd"), "", geopulse.ReasonInvalidField, "author.avatar_url"},
		{"language with space", with("language", "en GB"), "", geopulse.ReasonInvalidField, "language"},
		{"language too long", with("language", strings.Repeat("a", 36)), "", geopulse.ReasonInvalidField, "language"},

		// Encoding.
		{"invalid UTF-8 byte", strings.Replace(valid, "Flat white", "Flat \xff white", 1), "", geopulse.ReasonInvalidUTF8, "not valid UTF-8"},
		{"overlong UTF-8", strings.Replace(valid, "Flat white", "Flat \xc0\xaf white", 1), "", geopulse.ReasonInvalidUTF8, "UTF-8"},
		{"encoded surrogate in unknown field", strings.Replace(with("extra", "XX"), "XX", "\xed\xa0\x80", 1), "", geopulse.ReasonInvalidUTF8, "UTF-8"},
		{"lone high surrogate", strings.Replace(valid, "Flat white", `Flat \ud800 white`, 1), "", geopulse.ReasonInvalidUTF8, "caption contains an unpaired"},
		{"lone low surrogate in hashtag", with("hashtags", json.RawMessage(`["\udc00x"]`)), "", geopulse.ReasonInvalidUTF8, "hashtags[0]"},
		{"reversed surrogates", strings.Replace(valid, "Flat white", `\ude00\ud83d`, 1), "", geopulse.ReasonInvalidUTF8, "caption"},

		// Size.
		{"item too large", with("caption", strings.Repeat("x", 70_000)), geopulse.ETOOLARGE, geopulse.ReasonTooLarge, "more than the limit of 65536"},
		{"caption too long", with("caption", strings.Repeat("é", 10_001)), geopulse.ETOOLARGE, geopulse.ReasonTooLarge, "caption is 10001 characters"},
		{"too many hashtags", with("hashtags", repeat("t", 101)), geopulse.ETOOLARGE, geopulse.ReasonTooLarge, "hashtags has more than 100"},
		{"too many mentions", with("mentions", repeat("m", 101)), geopulse.ETOOLARGE, geopulse.ReasonTooLarge, "mentions"},
		{"too many media", with("media", repeat("https://cdn/", 101)), geopulse.ETOOLARGE, geopulse.ReasonTooLarge, "media"},

		// Version.
		{"version 2", with("v", 2), "", geopulse.ReasonUnsupportedVersion, "version 2 is not supported"},
		{"version 0", with("v", 0), "", geopulse.ReasonUnsupportedVersion, "version 0"},
		{"version beats field errors", with("v", 2, "location.lat", "north"), "", geopulse.ReasonUnsupportedVersion, "version 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := canonical.DecodePost([]byte(tt.in), canonical.Limits{})
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if p != nil {
				t.Errorf("post %+v returned with error", p)
			}
			var ge *geopulse.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *geopulse.Error", err)
			}
			code := tt.code
			if code == "" {
				code = geopulse.EINVALID
			}
			if ge.Code != code || ge.Reason != tt.reason {
				t.Errorf("got code=%s reason=%s (%s), want code=%s reason=%s", ge.Code, ge.Reason, ge.Message, code, tt.reason)
			}
			if !strings.Contains(ge.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", ge.Message, tt.msg)
			}
		})
	}
}

func TestDecodePostAccepts(t *testing.T) {
	minimal := `{"source":"x","source_id":"1","taken_at":"2026-11-28T10:00:00Z","location":{"lat":1,"lon":2},"author":{"source_id":"a"}}`
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, p *geopulse.Post)
	}{
		{"minimal", minimal, func(t *testing.T, p *geopulse.Post) {
			want := &geopulse.Post{
				ID: geopulse.PostID("x", "1"), Source: "x", SourceID: "1", Kind: geopulse.KindPhoto,
				TakenAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Lat: 1, Lon: 2,
				Author: geopulse.Author{ID: geopulse.AuthorID("x", "a"), Source: "x", SourceID: "a"},
			}
			if !reflect.DeepEqual(p, want) {
				t.Errorf("got  %+v\nwant %+v", p, want)
			}
		}},
		{"full example", with(), func(t *testing.T, p *geopulse.Post) {
			if p.Source != "instagram" || p.SourceID != "3141592" || p.Lat != 51.5074 || p.Lon != -0.1278 || p.AccuracyM != 10 ||
				p.PlaceName != "Starbucks Soho" || p.Author.Handle != "jane" || p.Author.Followers != 1200 || p.Author.PostsCount != 87 ||
				p.Likes != 10 || p.Comments != 2 || p.Language != "en" || p.ExpiresAt != nil || p.Author.AvatarURL == "" ||
				!reflect.DeepEqual(p.MediaURLs, []string{"https://cdn.example.com/1.jpg"}) {
				t.Errorf("fields not mapped: %+v", p)
			}
			if p.ID != geopulse.PostID("instagram", "3141592") || p.Author.ID != geopulse.AuthorID("instagram", "42") || p.Author.Source != "instagram" {
				t.Errorf("ids not derived: %+v", p)
			}
		}},
		{"unknown fields ignored", with("future_field", map[string]any{"deep": []any{1, "x", nil, true, map[string]any{}}},
			"location.altitude_m", 35, "author.pronouns", "she/her"), func(t *testing.T, p *geopulse.Post) {
			if p.Author.Handle != "jane" {
				t.Errorf("post not decoded: %+v", p)
			}
		}},
		{"upper-case member names are unknown", strings.Replace(with(), `"caption"`, `"Caption"`, 1), func(t *testing.T, p *geopulse.Post) {
			if p.Caption != "" {
				t.Errorf("Caption matched caption: %q", p.Caption)
			}
		}},
		{"no version", with("v", del), nil},
		{"version as 1.0", with("v", json.RawMessage("1.0")), nil},
		{"version null", with("v", nil), nil},
		{"no kind means photo", with("kind", del), func(t *testing.T, p *geopulse.Post) {
			if p.Kind != geopulse.KindPhoto {
				t.Errorf("kind %q", p.Kind)
			}
		}},
		{"null kind means photo", with("kind", nil), func(t *testing.T, p *geopulse.Post) {
			if p.Kind != geopulse.KindPhoto {
				t.Errorf("kind %q", p.Kind)
			}
		}},
		{"every kind", with("kind", "reel"), func(t *testing.T, p *geopulse.Post) {
			if p.Kind != geopulse.KindReel {
				t.Errorf("kind %q", p.Kind)
			}
		}},
		{"times to UTC", with("taken_at", "2026-11-28T11:30:00.25+01:30", "observed_at", "2026-11-28T05:00:00-05:00", "expires_at", "2026-11-29T10:00:00+00:00"),
			func(t *testing.T, p *geopulse.Post) {
				if want := time.Date(2026, 11, 28, 10, 0, 0, 250_000_000, time.UTC); !p.TakenAt.Equal(want) || p.TakenAt.Location() != time.UTC {
					t.Errorf("taken_at %v", p.TakenAt)
				}
				if p.ObservedAt != time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC) {
					t.Errorf("observed_at %v", p.ObservedAt)
				}
				if p.ExpiresAt == nil || *p.ExpiresAt != time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC) {
					t.Errorf("expires_at %v", p.ExpiresAt)
				}
			}},
		{"tags normalised", with("hashtags", []any{"#Coffee", "coffee", " #LONDON ", "##x", "", "#", "Café"}, "mentions", []any{"@Starbucks", "starbucks", "@@Jane"}),
			func(t *testing.T, p *geopulse.Post) {
				if want := []string{"coffee", "london", "x", "café"}; !reflect.DeepEqual(p.Hashtags, want) {
					t.Errorf("hashtags %q, want %q", p.Hashtags, want)
				}
				if want := []string{"starbucks", "jane"}; !reflect.DeepEqual(p.Mentions, want) {
					t.Errorf("mentions %q, want %q", p.Mentions, want)
				}
			}},
		{"empty lists are nil", with("hashtags", []any{}, "mentions", nil, "media", []any{}), func(t *testing.T, p *geopulse.Post) {
			if p.Hashtags != nil || p.Mentions != nil || p.MediaURLs != nil {
				t.Errorf("lists %#v %#v %#v", p.Hashtags, p.Mentions, p.MediaURLs)
			}
		}},
		{"nulls are absent", with("caption", nil, "expires_at", nil, "language", nil, "location.accuracy_m", nil, "author.verified", nil, "likes", nil),
			func(t *testing.T, p *geopulse.Post) {
				if p.Caption != "" || p.ExpiresAt != nil || p.Language != "" || p.AccuracyM != 0 || p.Likes != 0 {
					t.Errorf("nulls not absent: %+v", p)
				}
			}},
		{"escapes decoded", strings.Replace(with(), "Flat white", `a\u00e9\ud83d\ude00\n\"\\\/\ufffd`, 1), func(t *testing.T, p *geopulse.Post) {
			if want := "a\u00e9\U0001F600\n\"\\/\ufffd #coffee @starbucks"; p.Caption != want {
				t.Errorf("caption %q, want %q", p.Caption, want)
			}
		}},
		{"integral floats as counts", with("likes", json.RawMessage("1e3"), "author.followers", json.RawMessage("12.0")), func(t *testing.T, p *geopulse.Post) {
			if p.Likes != 1000 || p.Author.Followers != 12 {
				t.Errorf("likes %d followers %d", p.Likes, p.Author.Followers)
			}
		}},
		{"caption at the limit", with("caption", strings.Repeat("é", 10_000)), nil},
		{"lists at the limit", with("hashtags", repeat("t", 100), "media", repeat("https://cdn/", 100)), func(t *testing.T, p *geopulse.Post) {
			if len(p.Hashtags) != 100 || len(p.MediaURLs) != 100 {
				t.Errorf("got %d hashtags %d media", len(p.Hashtags), len(p.MediaURLs))
			}
		}},
		{"coordinate bounds", with("location.lat", -90, "location.lon", 180), nil},
		{"source at 256 bytes", with("source", strings.Repeat("s", 256)), nil},
		{"white space around", " \t\r\n" + with() + "\n ", nil},
		{"handle without @", with("author.handle", "@Jane"), func(t *testing.T, p *geopulse.Post) {
			if p.Author.Handle != "Jane" {
				t.Errorf("handle %q", p.Author.Handle)
			}
		}},
		{"private account is the gate's business", with("author.private", true), func(t *testing.T, p *geopulse.Post) {
			if !p.Author.Private {
				t.Error("private flag lost")
			}
		}},
		{"future timestamp is the gate's business", with("taken_at", "2999-01-01T00:00:00Z"), nil},
		{"escapes in unknown fields are not judged", strings.Replace(with("extra", "XX"), `"XX"`, `"\ud83d\ude00\n\u0000\ud800\/"`, 1), nil},
		{"non-ASCII URL", with("media", []any{"https://例え.jp/ü.jpg"}), nil},
		{"http URLs", with("media", []any{"HTTP://cdn/1.jpg"}, "author.avatar_url", ""), nil},
		{"last duplicate member wins", strings.Replace(with(), `{`, `{"likes":5,`, 1), func(t *testing.T, p *geopulse.Post) {
			if p.Likes != 10 {
				t.Errorf("likes %d", p.Likes)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := canonical.DecodePost([]byte(tt.in), canonical.Limits{})
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestLimitsOverride(t *testing.T) {
	lim := canonical.Limits{MaxCaption: 5, MaxListLen: 2, MaxItemBytes: 2000}
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"caption", with("caption", "123456"), geopulse.ReasonTooLarge},
		{"list", with("hashtags", []any{"a", "b", "c"}), geopulse.ReasonTooLarge},
		{"item", with("author.bio", strings.Repeat("b", 2000)), geopulse.ReasonTooLarge},
		{"within", with("caption", "12345", "hashtags", []any{"a", "b"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := canonical.DecodePost([]byte(tt.in), lim)
			if got := geopulse.ErrorReason(err); got != tt.reason {
				t.Errorf("reason %q (%v), want %q", got, err, tt.reason)
			}
		})
	}
	if canonical.DefaultLimits != (canonical.Limits{MaxItemBytes: 64 << 10, MaxCaption: 10_000, MaxItems: 10_000, MaxListLen: 100}) {
		t.Errorf("DefaultLimits changed: %+v", canonical.DefaultLimits)
	}
}

// result is what a test keeps of an Item.
type result struct {
	index  int
	id     string // source_id of an accepted post
	reason string // of a rejected one
}

func collect(t *testing.T, body string, lim canonical.Limits) ([]result, error) {
	t.Helper()
	var got []result
	err := canonical.Decode(strings.NewReader(body), lim, func(it canonical.Item) error {
		if (it.Post == nil) == (it.Err == nil) {
			t.Fatalf("item %d: exactly one of Post and Err must be set: %+v", it.Index, it)
		}
		r := result{index: it.Index}
		if it.Post != nil {
			r.id = it.Post.SourceID
		} else {
			r.reason = geopulse.ErrorReason(it.Err)
		}
		got = append(got, r)
		return nil
	})
	return got, err
}

func TestDecodeBodies(t *testing.T) {
	a, b, c := with("source_id", "a"), with("source_id", "b"), with("source_id", "c")
	bad := with("location.lat", 95)
	badUTF8 := strings.Replace(with("source_id", "XY"), "XY", "x\xffy", 1) // json.Marshal would sanitise it
	tests := []struct {
		name    string
		body    string
		lim     canonical.Limits
		want    []result
		wantErr string // reason of the returned error
		errMsg  string
	}{
		{"empty body", "", canonical.Limits{}, nil, "", ""},
		{"blank body", " \n\r\n\t\n", canonical.Limits{}, nil, "", ""},
		{"ndjson mixed", a + "\n" + bad + "\n\n   \n{oops\n" + b + "\r\n" + `[1]` + "\n" + badUTF8 + "\n" + c,
			canonical.Limits{}, []result{
				{0, "a", ""}, {1, "", geopulse.ReasonInvalidCoordinates}, {2, "", geopulse.ReasonMalformedJSON},
				{3, "b", ""}, {4, "", geopulse.ReasonMalformedJSON}, {5, "", geopulse.ReasonInvalidUTF8}, {6, "c", ""},
			}, "", ""},
		{"ndjson with BOM and trailing newline", "\xef\xbb\xbf" + a + "\n" + b + "\n", canonical.Limits{}, []result{{0, "a", ""}, {1, "b", ""}}, "", ""},
		{"array", " [" + a + ",\n" + bad + ", 17, " + b + "]\n", canonical.Limits{}, []result{
			{0, "a", ""}, {1, "", geopulse.ReasonInvalidCoordinates}, {2, "", geopulse.ReasonMalformedJSON}, {3, "b", ""},
		}, "", ""},
		{"array with BOM", "\xef\xbb\xbf[" + a + "]", canonical.Limits{}, []result{{0, "a", ""}}, "", ""},
		{"empty array", "[ ]", canonical.Limits{}, nil, "", ""},
		{"array with bad UTF-8 item", "[" + a + "," + badUTF8 + "]", canonical.Limits{}, []result{
			{0, "a", ""}, {1, "", geopulse.ReasonInvalidUTF8},
		}, "", ""},
		{"array syntax error", "[" + a + ",\n" + b + "," + "{\"source\":}]", canonical.Limits{}, nil, geopulse.ReasonMalformedJSON,
			fmt.Sprintf("at byte %d", 1+len(a)+2+len(b)+1+10)},
		{"array syntax error offset counts the prefix", "\xef\xbb\xbf  [,]", canonical.Limits{}, nil, geopulse.ReasonMalformedJSON, "at byte 6"},
		{"array unterminated", "[" + a, canonical.Limits{}, nil, geopulse.ReasonMalformedJSON, "end of input"},
		{"array trailing data", "[" + a + "] x", canonical.Limits{}, nil, geopulse.ReasonMalformedJSON, "after the array"},
		{"array trailing comma", "[" + a + ",]", canonical.Limits{}, nil, geopulse.ReasonMalformedJSON, "a value"},
		{"array too many", "[" + a + "," + b + "," + c + "]", canonical.Limits{MaxItems: 2}, nil, geopulse.ReasonTooLarge, "more than 2 items"},
		{"ndjson too many", a + "\n" + b + "\n\n" + c + "\n", canonical.Limits{MaxItems: 2}, []result{{0, "a", ""}, {1, "b", ""}},
			geopulse.ReasonTooLarge, "more than 2 items"},
		{"ndjson exactly max", a + "\n" + b + "\n\n", canonical.Limits{MaxItems: 2}, []result{{0, "a", ""}, {1, "b", ""}}, "", ""},
		{"array item too large", "[" + with("source_id", "a", "caption", strings.Repeat("x", 3000)) + "," + b + "]",
			canonical.Limits{MaxItemBytes: 2048}, []result{{0, "", geopulse.ReasonTooLarge}, {1, "b", ""}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.body, tt.lim)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tt.wantErr != "" {
				if geopulse.ErrorReason(err) != tt.wantErr || !strings.Contains(geopulse.ErrorMessage(err), tt.errMsg) {
					t.Fatalf("error %v, want reason %s with %q", err, tt.wantErr, tt.errMsg)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestDecodeOversizeLine checks that lines longer than the read buffer are
// assembled when within MaxItemBytes and skipped, without stopping the
// stream, when beyond it.
func TestDecodeOversizeLine(t *testing.T) {
	a, b := with("source_id", "a"), with("source_id", "b")
	big := with("source_id", "big", "author.bio", strings.Repeat("b", 100_000))     // 100 KB: beyond the 64 KiB buffer
	huge := with("source_id", "huge", "author.bio", strings.Repeat("h", 3_000_000)) // never held whole
	tests := []struct {
		name string
		body string
		lim  canonical.Limits
		want []result
	}{
		{"over the limit", a + "\n" + big + "\n" + b + "\n", canonical.Limits{}, []result{{0, "a", ""}, {1, "", geopulse.ReasonTooLarge}, {2, "b", ""}}},
		{"far over the limit", huge + "\r\n" + a + "\n" + huge, canonical.Limits{}, []result{{0, "", geopulse.ReasonTooLarge}, {1, "a", ""}, {2, "", geopulse.ReasonTooLarge}}},
		{"longer than the buffer but within the limit", a + "\n" + big + "\r\n" + b, canonical.Limits{MaxItemBytes: 200_000},
			[]result{{0, "a", ""}, {1, "big", ""}, {2, "b", ""}}},
		{"exactly at the limit", big + "\r\n" + a, canonical.Limits{MaxItemBytes: len(big)}, []result{{0, "big", ""}, {1, "a", ""}}},
		{"one byte over the limit", big + "\r\n" + a, canonical.Limits{MaxItemBytes: len(big) - 1}, []result{{0, "", geopulse.ReasonTooLarge}, {1, "a", ""}}},
		{"small limit inside the buffer", a + "\n" + with("source_id", "c", "caption", strings.Repeat("x", 1100)) + "\n" + b,
			canonical.Limits{MaxItemBytes: 1000}, []result{{0, "a", ""}, {1, "", geopulse.ReasonTooLarge}, {2, "b", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.body, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDecodeTenThousand(t *testing.T) {
	posts := realisticPosts(10_000, 1)
	body := ndjson(posts)
	var arr bytes.Buffer
	arr.WriteByte('[')
	for i, p := range posts {
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.Write(canonical.AppendJSON(nil, p))
	}
	arr.WriteByte(']')
	tests := []struct {
		name string
		body []byte
	}{
		{"ndjson", body},
		{"array", arr.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := canonical.Decode(bytes.NewReader(tt.body), canonical.Limits{}, func(it canonical.Item) error {
				if it.Err != nil {
					t.Fatalf("item %d rejected: %v", it.Index, it.Err)
				}
				if it.Index != n || !reflect.DeepEqual(it.Post, posts[n]) {
					t.Fatalf("item %d differs:\n got  %+v\n want %+v", it.Index, it.Post, posts[n])
				}
				n++
				return nil
			})
			if err != nil || n != len(posts) {
				t.Fatalf("decoded %d of %d, error %v", n, len(posts), err)
			}
			// One more item is one too many.
			more := append(bytes.TrimSuffix(bytes.Clone(tt.body), []byte("]")), []byte("\n"+with())...)
			if tt.name == "array" {
				more = append(bytes.TrimSuffix(bytes.Clone(tt.body), []byte("]")), []byte(","+with()+"]")...)
			}
			err = canonical.Decode(bytes.NewReader(more), canonical.Limits{}, func(canonical.Item) error { return nil })
			if geopulse.ErrorCode(err) != geopulse.ETOOLARGE {
				t.Errorf("10,001 items: error %v, want ETOOLARGE", err)
			}
		})
	}
}

func TestDecodeStops(t *testing.T) {
	body := with("source_id", "a") + "\n" + with("source_id", "b") + "\n"
	stop := errors.New("stop")
	tests := []struct {
		name    string
		r       io.Reader
		wantErr error
		calls   int
	}{
		{"fn error", strings.NewReader(body), stop, 1},
		{"fn error in array", strings.NewReader("[" + with() + "," + with() + "]"), stop, 1},
		{"read error", io.MultiReader(strings.NewReader(body), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF, 2},
		{"read error in array", io.MultiReader(strings.NewReader("["+with()), iotest.ErrReader(io.ErrUnexpectedEOF)), io.ErrUnexpectedEOF, 0},
		{"read error at once", iotest.ErrReader(io.ErrClosedPipe), io.ErrClosedPipe, 0},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(body)), nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := canonical.Decode(tt.r, canonical.Limits{}, func(canonical.Item) error {
				calls++
				if tt.wantErr == stop {
					return stop
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == stop && err != stop) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if calls != tt.calls {
				t.Errorf("fn called %d times, want %d", calls, tt.calls)
			}
		})
	}
}
