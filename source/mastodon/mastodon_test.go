package mastodon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/mastodon"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var decode = mastodon.Decode

var fixtures = []string{"statuses.json", "statuses.ndjson"}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGolden decodes every fixture and compares the items with the golden
// file beside it.
func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			items, err := decodeAll(t, readFile(t, name))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var b strings.Builder
			for _, it := range items {
				b.WriteString(describe(it) + "\n")
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("items differ from %s (run with -update and review the diff):\n got:\n%s\nwant:\n%s", golden, b.String(), want)
			}
		})
	}
}

// TestStatuses checks the meaning of each status of the fixture array.
func TestStatuses(t *testing.T) {
	items, err := decodeAll(t, readFile(t, "statuses.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		wantReason     string
		kind           geopulse.Kind
		from           geopulse.LocationFrom
		lat, lon       float64
		minAcc, maxAcc float64
		private        bool
	}{
		{name: "OSM marker", kind: geopulse.KindPhoto, from: geopulse.LocationPoint, lat: 48.19822, lon: 16.36271},
		{name: "OSM view in the card", kind: geopulse.KindText, from: geopulse.LocationCentroid, lat: 48.20199, lon: 16.36876, minAcc: 611, maxAcc: 612},
		{name: "geo URI with uncertainty", kind: geopulse.KindVideo, from: geopulse.LocationPoint, lat: 48.2033, lon: 16.3696, minAcc: 25, maxAcc: 25},
		{name: "no location", wantReason: geopulse.ReasonNoLocation},
		{name: "private visibility", kind: geopulse.KindText, from: geopulse.LocationPoint, lat: 48.21, lon: 16.37, private: true},
		{name: "reblog", wantReason: geopulse.ReasonUnsupported},
		{name: "locked account", kind: geopulse.KindText, from: geopulse.LocationPoint, lat: 48.2085, lon: 16.3721, private: true},
	}
	if len(items) != len(tests) {
		t.Fatalf("%d items, want %d", len(items), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := items[i]
			if tt.wantReason != "" {
				if geopulse.ErrorReason(it.Err) != tt.wantReason {
					t.Fatalf("got %s, want %s", describe(it), tt.wantReason)
				}
				return
			}
			p := it.Post
			if p == nil || p.Kind != tt.kind || p.LocationFrom != tt.from || p.Lat != tt.lat || p.Lon != tt.lon ||
				p.AccuracyM < tt.minAcc || p.AccuracyM > tt.maxAcc || p.Author.Private != tt.private {
				t.Errorf("got %s", describe(it))
			}
		})
	}
	p := items[0].Post
	wantCaption := "Sketching at the Naschmarkt this morning #UrbanSketchers with @cleo and @bruno\n\nSpot: https://www.openstreetmap.org/?mlat=48.19822&mlon=16.36271#map=19/48.19822/16.36271"
	if p.SourceID != "https://social.example.org/users/ana/statuses/113530123456789001" || p.Caption != wantCaption ||
		!reflect.DeepEqual(p.Hashtags, []string{"urbansketchers"}) ||
		!reflect.DeepEqual(p.Mentions, []string{"cleo@social.example.org", "bruno@fedi.example.net"}) ||
		p.Likes != 41 || p.Comments != 2 || len(p.MediaURLs) != 1 {
		t.Errorf("status 0: %s", describe(items[0]))
	}
	a := p.Author
	if a.SourceID != "https://social.example.org/@ana" || a.Handle != "ana@social.example.org" || a.DisplayName != "Ana 🌿" ||
		a.Bio != "Urban sketcher in Vienna. Coffee & trams." || a.Followers != 1523 || a.PostsCount != 4821 {
		t.Errorf("status 0 author: %+v", a)
	}
	q := items[1].Post
	if q.Caption != "Food\n\nBest schnitzel I have had in years, tiny place round the corner from the opera." ||
		q.Author.Handle != "bruno@fedi.example.net" || q.Author.Bio != "Cook.\nOpinions my own." {
		t.Errorf("status 1: %s", describe(items[1]))
	}
}

func TestLocationInText(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		card     string
		from     geopulse.LocationFrom
		lat, lon float64
		acc      float64
	}{
		{name: "geo URI", content: "here geo:51.5,-0.12", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "geo URI with altitude and params", content: "GEO:51.5,-0.12,30;crs=wgs84;u=12.5", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12, acc: 12.5},
		{name: "geo URI at the end of a sentence", content: "meet at geo:51.5,-0.12.", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "geo URI in a link", content: `<a href="geo:51.5,-0.12">map</a>`, from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "other reference system is skipped", content: "geo:1,2;crs=moon geo:51.5,-0.12", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "android 0,0 query is skipped", content: "geo:0,0?q=Big+Ben geo:51.5,-0.12", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "marker", content: "https://www.openstreetmap.org/?mlat=51.5&amp;mlon=-0.12", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "view zoom 12", content: "openstreetmap.org/#map=12/51.5/-0.12", from: geopulse.LocationCentroid, lat: 51.5, lon: -0.12, acc: 2 * 40_075_016.686 / 4096},
		{name: "view zoom 0 is capped", content: "https://openstreetmap.org/#map=0/51.5/-0.12", from: geopulse.LocationCentroid, lat: 51.5, lon: -0.12, acc: 9_990_000},
		{name: "view with layers", content: "https://www.openstreetmap.org/#map=18/51.5/-0.12&amp;layers=C", from: geopulse.LocationCentroid, lat: 51.5, lon: -0.12, acc: 2 * 40_075_016.686 / 262144},
		{name: "old permalink", content: "https://www.openstreetmap.org/?lat=51.5&amp;lon=-0.12&amp;zoom=12", from: geopulse.LocationCentroid, lat: 51.5, lon: -0.12, acc: 2 * 40_075_016.686 / 4096},
		{name: "card only", content: "nice place", card: "https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12", from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "content before card", content: "geo:1.5,2.5", card: "https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12", from: geopulse.LocationPoint, lat: 1.5, lon: 2.5},
		{name: "link target before text", content: `see geo:1.5,2.5 or <a href="https://www.openstreetmap.org/?mlat=51.5&amp;mlon=-0.12">this</a>`, from: geopulse.LocationPoint, lat: 51.5, lon: -0.12},
		{name: "look-alike host", content: "https://notopenstreetmap.org/?mlat=1&mlon=2 geo:3,4", from: geopulse.LocationPoint, lat: 3, lon: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := statusJSON(map[string]any{"content": "<p>" + tt.content + "</p>"})
			if tt.card != "" {
				st["card"] = map[string]any{"url": tt.card}
			}
			items, err := decodeAll(t, arrayJSON(t, st))
			if err != nil || len(items) != 1 || items[0].Post == nil {
				t.Fatalf("got %v %v", items, err)
			}
			p := items[0].Post
			if p.LocationFrom != tt.from || p.Lat != tt.lat || p.Lon != tt.lon || !near(p.AccuracyM, tt.acc, 1e-6) {
				t.Errorf("got %s", describe(items[0]))
			}
		})
	}
}

func TestNoLocation(t *testing.T) {
	for _, content := range []string{
		"no place at all", "geo:0,0", "geo:91,0", "geo:abc", "ageo:1,2", "geo:1", "geo:1,2,3,4",
		"https://www.openstreetmap.org/", "https://www.openstreetmap.org/#map=99/1/2", "https://www.openstreetmap.org/?mlat=0&mlon=0",
		"https://www.openstreetmap.org/way/123", "https://maps.example.com/?mlat=1&mlon=2", "openstreetmap.org",
	} {
		items, err := decodeAll(t, arrayJSON(t, statusJSON(map[string]any{"content": content})))
		if err != nil || len(items) != 1 || geopulse.ErrorReason(items[0].Err) != geopulse.ReasonNoLocation {
			t.Errorf("%q: got %v %v", content, items, err)
		}
	}
}

func TestHTMLText(t *testing.T) {
	tests := []struct{ content, caption string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"<p>line<br>break<br/>twice<BR /></p>", "line\nbreak\ntwice"},
		{"<p>&lt;3 &amp; &quot;quotes&quot; &#x1F600; &nbsp;x</p>", "<3 & \"quotes\" 😀 \u00a0x"},
		{"<p>2 < 3 and 5 > 4</p>", "2 < 3 and 5 > 4"},
		{"<p>unclosed <a href='x'", "unclosed <a href='x'"},
		{`<p><span class="invisible">https://</span><span class="ellipsis">example.com/long</span><span class="invisible">/path</span></p>`, "https://example.com/long/path"},
	}
	for _, tt := range tests {
		st := statusJSON(map[string]any{"content": tt.content, "card": map[string]any{"url": "geo:1,2"}})
		items, err := decodeAll(t, arrayJSON(t, st))
		if err != nil || len(items) != 1 || items[0].Post == nil || items[0].Post.Caption != tt.caption {
			t.Errorf("%q: got %v %v, want caption %q", tt.content, items, err, tt.caption)
		}
	}
}

// statusJSON returns a minimal located public status with members replaced
// (nil deletes a member).
func statusJSON(members map[string]any) map[string]any {
	st := map[string]any{
		"id": "1", "uri": "https://social.example.org/users/ana/statuses/1", "url": "https://social.example.org/@ana/1",
		"created_at": "2024-11-26T09:12:30.512Z", "visibility": "public", "language": "en", "spoiler_text": "",
		"content": "<p>hello geo:48.2,16.37</p>", "reblog": nil, "favourites_count": 1, "replies_count": 0,
		"account": map[string]any{"id": "9", "username": "ana", "acct": "ana", "display_name": "Ana", "url": "https://social.example.org/@ana",
			"avatar": "https://social.example.org/avatars/9.png", "note": "", "locked": false, "followers_count": 3, "following_count": 4, "statuses_count": 5},
		"media_attachments": []any{}, "tags": []any{}, "mentions": []any{},
	}
	for k, v := range members {
		if v == nil {
			delete(st, k)
		} else {
			st[k] = v
		}
	}
	return st
}

func arrayJSON(t testing.TB, statuses ...any) []byte {
	t.Helper()
	b, err := json.Marshal(statuses)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lineJSON(t testing.TB, st any) string {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spaces is an endless reader of white space, for bounded-memory tests.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestBadInput runs broken and hostile inputs; each case names the error
// Decode must return (code/reason), or the reasons of the items ("" for a
// post).
func TestBadInput(t *testing.T) {
	arr := readFile(t, "statuses.json")
	good := lineJSON(t, statusJSON(nil))
	tests := []struct {
		name    string
		input   string
		reader  io.Reader
		wantErr string
		items   []string
	}{
		{name: "empty", input: ""},
		{name: "truncated array", input: string(arr[:len(arr)/2]), wantErr: "invalid/malformed_json"},
		{name: "truncated NDJSON", input: good + "\n" + good[:len(good)/2], items: []string{"", "malformed_json"}},
		{name: "truncated single object", input: "{\n  \"uri\": \"x\",\n", wantErr: "invalid/malformed_json"},
		{name: "wrong format: X page", input: `{"data":[{"id":"1","text":"hi"}]}`, items: []string{"missing_field"}},
		{name: "wrong format: flickr page", input: `{"photos":{"photo":[]},"stat":"ok"}`, items: []string{"missing_field"}},
		{name: "wrong format: CSV", input: "id,lat,lon\n1,2,3\n", wantErr: "invalid/malformed_json"},
		{name: "wrong format: array of numbers", input: `[1, "x", null]`, items: []string{"invalid_field", "invalid_field", "missing_field"}},
		{name: "numbers as strings: counts", input: lineJSON(t, statusJSON(map[string]any{"favourites_count": "5"})), items: []string{"invalid_field"}},
		{name: "numbers as strings: account counts", input: lineJSON(t, statusJSON(map[string]any{"account": map[string]any{"url": "https://a.example/@b", "followers_count": "5"}})), items: []string{"invalid_field"}},
		{name: "number as id is ignored, uri is the key", input: lineJSON(t, statusJSON(map[string]any{"id": nil})), items: []string{""}},
		{name: "zero coordinates mean none", input: lineJSON(t, statusJSON(map[string]any{"content": "geo:0,0 https://www.openstreetmap.org/#map=5/0/0"})), items: []string{"no_location"}},
		{name: "duplicates", input: good + "\n" + good + "\n", items: []string{"", ""}},
		{name: "invalid UTF-8 in one status", input: strings.Replace(good, "hello", "h\xffllo", 1) + "\n" + good, items: []string{"invalid_utf8", ""}},
		{name: "invalid UTF-8 in an array element", input: "[" + strings.Replace(good, "hello", "h\xc0llo", 1) + "," + good + "]", items: []string{"invalid_utf8", ""}},
		{name: "huge array", reader: io.MultiReader(strings.NewReader("["), spaces{}), wantErr: "too_large/too_large"},
		{name: "huge single object", reader: io.MultiReader(strings.NewReader("{\n"), spaces{}), wantErr: "too_large/too_large"},
		{name: "huge line", input: `{"uri":"` + strings.Repeat("a", mastodon.MaxStatusBytes) + "\"}\n" + good, items: []string{"too_large", ""}},
		{name: "reblog", input: lineJSON(t, statusJSON(map[string]any{"reblog": statusJSON(nil)})), items: []string{"unsupported"}},
		{name: "direct and private are private", input: lineJSON(t, statusJSON(map[string]any{"visibility": "direct"})) + "\n" + lineJSON(t, statusJSON(map[string]any{"visibility": "private"})), items: []string{"", ""}},
		{name: "missing uri", input: lineJSON(t, statusJSON(map[string]any{"uri": nil})), items: []string{"missing_field"}},
		{name: "missing account", input: lineJSON(t, statusJSON(map[string]any{"account": nil})), items: []string{"missing_field"}},
		{name: "account without url or acct", input: lineJSON(t, statusJSON(map[string]any{"account": map[string]any{"username": "x"}})), items: []string{"missing_field"}},
		{name: "bad created_at", input: lineJSON(t, statusJSON(map[string]any{"created_at": "Tuesday"})), items: []string{"invalid_field"}},
		{name: "avatar not http", input: lineJSON(t, statusJSON(map[string]any{"account": map[string]any{"url": "https://a.example/@b", "avatar": "data:image/png;base64,AAAA"}})), items: []string{"invalid_field"}},
		{name: "uri too long", input: lineJSON(t, statusJSON(map[string]any{"uri": "https://a.example/" + strings.Repeat("s", 300)})), items: []string{"invalid_field"}},
		{name: "control character in acct", input: lineJSON(t, statusJSON(map[string]any{"account": map[string]any{"acct": "a\u0085b", "url": ""}})), items: []string{"invalid_field"}},
		{name: "broken line in the middle", input: good + "\n{\"uri\":\n" + good, items: []string{"", "malformed_json", ""}},
		{name: "byte order mark and CRLF", input: "\xef\xbb\xbf" + good + "\r\n" + good + "\r\n", items: []string{"", ""}},
		{name: "single pretty object", input: "{\n" + good[1:], items: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = strings.NewReader(tt.input)
			}
			var got []string
			err := mastodon.Decode(r, func(it source.Item) error {
				checkItem(t, it)
				got = append(got, geopulse.ErrorReason(it.Err))
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || geopulse.ErrorCode(err)+"/"+geopulse.ErrorReason(err) != tt.wantErr {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				checkRejection(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.items) && !(len(got) == 0 && len(tt.items) == 0) {
				t.Fatalf("item reasons %q, want %q", got, tt.items)
			}
		})
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := mastodon.Decode(bytes.NewReader(readFile(t, "statuses.ndjson")), func(source.Item) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d items", err, n)
	}
}

func TestFormat(t *testing.T) {
	if mastodon.Format.Name != "mastodon" || mastodon.Format.Decode == nil || mastodon.Format.Doc == "" {
		t.Fatalf("Format = %+v", mastodon.Format)
	}
	tests := []struct {
		head string
		want bool
	}{
		{string(readFile(t, "statuses.json")[:512]), true},
		{string(readFile(t, "statuses.ndjson")[:512]), true},
		{`{"data":[{"author_id":"1"}]}`, false},
		{`{"photos":{"photo":[]}}`, false},
		{"lat,lon\n", false},
	}
	for _, tt := range tests {
		if got := mastodon.Format.Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%.40q) = %v", tt.head, got)
		}
	}
}
