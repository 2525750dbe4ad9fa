package canonical_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		post *geopulse.Post
	}{
		{"fully populated", fullPost()},
		{"minimal", func() *geopulse.Post {
			p := fullPost()
			*p = geopulse.Post{ID: p.ID, Source: p.Source, SourceID: p.SourceID, Kind: geopulse.KindPhoto, TakenAt: p.TakenAt, Lat: -90, Lon: 180,
				Author: geopulse.Author{ID: p.Author.ID, Source: p.Source, SourceID: p.Author.SourceID}}
			return p
		}()},
		{"extreme floats", func() *geopulse.Post {
			p := fullPost()
			p.Lat, p.Lon, p.AccuracyM = 1e-7, -5e-324, 1e21
			return p
		}()},
	}
	for i, p := range realisticPosts(100, 7) {
		tests = append(tests, struct {
			name string
			post *geopulse.Post
		}{"realistic " + string(rune('a'+i%26)), p})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := canonical.Encode(&b, tt.post); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(b.Bytes(), []byte("\n")) || bytes.Count(b.Bytes(), []byte("\n")) != 1 {
				t.Fatalf("not one NDJSON line: %q", b.Bytes())
			}
			got, err := canonical.DecodePost(b.Bytes(), canonical.Limits{})
			if err != nil {
				t.Fatalf("decode %s: %v", b.Bytes(), err)
			}
			if !reflect.DeepEqual(got, tt.post) {
				t.Errorf("round trip differs:\n got  %+v\n want %+v\n json %s", got, tt.post, b.Bytes())
			}
			if app := canonical.AppendJSON([]byte("prefix"), tt.post); string(app) != "prefix"+strings.TrimSuffix(b.String(), "\n") {
				t.Errorf("AppendJSON differs from Encode:\n %s\n %s", app, b.Bytes())
			}
		})
	}
}

// The reference schema, written with encoding/json, is an independent check
// of the hand-written encoder: field names, omission rules, float format and
// string escaping must all agree.
type refPost struct {
	V          int         `json:"v"`
	Source     string      `json:"source"`
	SourceID   string      `json:"source_id"`
	Kind       string      `json:"kind,omitempty"`
	TakenAt    string      `json:"taken_at"`
	ObservedAt string      `json:"observed_at,omitempty"`
	Location   refLocation `json:"location"`
	Author     refAuthor   `json:"author"`
	Caption    string      `json:"caption,omitempty"`
	Hashtags   []string    `json:"hashtags,omitempty"`
	Mentions   []string    `json:"mentions,omitempty"`
	Media      []string    `json:"media,omitempty"`
	Likes      int64       `json:"likes"`
	Comments   int64       `json:"comments"`
	Views      int64       `json:"views"`
	ExpiresAt  string      `json:"expires_at,omitempty"`
	Language   string      `json:"language,omitempty"`
}

type refLocation struct {
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	AccuracyM float64 `json:"accuracy_m,omitempty"`
	Name      string  `json:"name,omitempty"`
}

type refAuthor struct {
	SourceID    string `json:"source_id"`
	Handle      string `json:"handle,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
	Bio         string `json:"bio,omitempty"`
	Followers   int64  `json:"followers"`
	Following   int64  `json:"following"`
	Posts       int64  `json:"posts"`
	Verified    bool   `json:"verified"`
	Business    bool   `json:"business"`
	Private     bool   `json:"private"`
}

func refEncode(t *testing.T, p *geopulse.Post) []byte {
	t.Helper()
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	r := refPost{
		V: 1, Source: p.Source, SourceID: p.SourceID, Kind: string(p.Kind), TakenAt: p.TakenAt.UTC().Format(time.RFC3339Nano),
		ObservedAt: ts(p.ObservedAt),
		Location:   refLocation{p.Lat, p.Lon, p.AccuracyM, p.PlaceName},
		Author: refAuthor{p.Author.SourceID, p.Author.Handle, p.Author.DisplayName, p.Author.AvatarURL, p.Author.Bio,
			p.Author.Followers, p.Author.Following, p.Author.PostsCount, p.Author.Verified, p.Author.Business, p.Author.Private},
		Caption: p.Caption, Hashtags: p.Hashtags, Mentions: p.Mentions, Media: p.MediaURLs,
		Likes: p.Likes, Comments: p.Comments, Views: p.Views, Language: p.Language,
	}
	if p.ExpiresAt != nil {
		r.ExpiresAt = ts(*p.ExpiresAt)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		mod  func(p *geopulse.Post)
	}{
		{"full", func(*geopulse.Post) {}},
		{"control characters", func(p *geopulse.Post) { p.Caption = "a\x00b\x01c\x1fd\x7fe\b\f\n\r\t\"\\/" }},
		{"line separators", func(p *geopulse.Post) { p.Caption = "x\u2028y\u2029z" }},
		{"invalid UTF-8", func(p *geopulse.Post) { p.Caption, p.Author.Bio = "a\xffb\xc0\xafc", "\xed\xa0\x80" }},
		{"HTML is not escaped", func(p *geopulse.Post) { p.Caption = "<script>&</script>" }},
		{"empty optional fields", func(p *geopulse.Post) {
			p.Kind, p.ObservedAt, p.AccuracyM, p.PlaceName, p.Caption, p.Language = "", time.Time{}, 0, "", "", ""
			p.Hashtags, p.Mentions, p.MediaURLs, p.ExpiresAt = nil, []string{}, nil, nil
			p.Author = geopulse.Author{SourceID: "1"}
		}},
		{"tiny and huge floats", func(p *geopulse.Post) { p.Lat, p.Lon, p.AccuracyM = 1e-7, -1.5e-300, 1.2e21 }},
		{"negative zero", func(p *geopulse.Post) { p.Lat = math.Copysign(0, -1) }},
		{"non-UTC times", func(p *geopulse.Post) {
			p.TakenAt = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
		}},
		{"big counts", func(p *geopulse.Post) { p.Likes, p.Author.Followers = math.MaxInt64, math.MinInt64 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fullPost()
			tt.mod(p)
			var b bytes.Buffer
			if err := canonical.Encode(&b, p); err != nil {
				t.Fatal(err)
			}
			if want := refEncode(t, p); !bytes.Equal(b.Bytes(), want) {
				t.Errorf("Encode:\n got  %s want %s", b.Bytes(), want)
			}
			if !json.Valid(b.Bytes()) {
				t.Errorf("invalid JSON: %s", b.Bytes())
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		mod  func(p *geopulse.Post)
		msg  string
	}{
		{"NaN latitude", func(p *geopulse.Post) { p.Lat = math.NaN() }, "lat"},
		{"infinite longitude", func(p *geopulse.Post) { p.Lon = math.Inf(-1) }, "lon"},
		{"infinite accuracy", func(p *geopulse.Post) { p.AccuracyM = math.Inf(1) }, "accuracy_m"},
		{"year 10000", func(p *geopulse.Post) { p.TakenAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "taken_at"},
		{"negative year expiry", func(p *geopulse.Post) { e := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC); p.ExpiresAt = &e }, "expires_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fullPost()
			tt.mod(p)
			var b bytes.Buffer
			err := canonical.Encode(&b, p)
			if geopulse.ErrorCode(err) != geopulse.EINVALID || !strings.Contains(geopulse.ErrorMessage(err), tt.msg) {
				t.Errorf("error %v, want EINVALID naming %s", err, tt.msg)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q", b.Bytes())
			}
			// AppendJSON still writes valid JSON, with null for what JSON
			// cannot hold, and the decoder rejects that.
			if out := canonical.AppendJSON(nil, p); tt.msg != "taken_at" && tt.msg != "expires_at" && !json.Valid(out) {
				t.Errorf("AppendJSON wrote invalid JSON: %s", out)
			}
		})
	}
	err := canonical.Encode(failWriter{}, fullPost())
	if err == nil || !errors.Is(err, errWrite) {
		t.Errorf("write error: %v", err)
	}
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
