package x_test

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
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/x"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var decode = x.Decode

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
	for _, name := range []string{"search_page.json", "search_pages.ndjson", "compliance.ndjson"} {
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

// TestSearchPage checks the meaning of each tweet of the fixture page.
func TestSearchPage(t *testing.T) {
	items, err := decodeAll(t, readFile(t, "search_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		wantReason    string
		kind          geopulse.Kind
		from          geopulse.LocationFrom
		lat, lon      float64
		minAcc, maxAc float64
		place         string
		private       bool
		media         int
	}{
		{name: "point at a venue", kind: geopulse.KindPhoto, from: geopulse.LocationPoint, lat: 38.70697, lon: -9.14583, place: "Time Out Market Lisboa", media: 1},
		// Lisbon's bbox is about 12 km × 11.6 km: half the diagonal ≈ 8 km.
		{name: "city bbox only", kind: geopulse.KindText, from: geopulse.LocationBBox, lat: 38.7436266, lon: -9.16016335, minAcc: 7000, maxAc: 9000, place: "Lisboa, Portugal"},
		{name: "no geo", wantReason: geopulse.ReasonNoLocation},
		{name: "video at a POI from a protected account", kind: geopulse.KindVideo, from: geopulse.LocationBBox, lat: 38.70697, lon: -9.14583, place: "Time Out Market Lisboa", private: true, media: 1},
		{name: "retweet", wantReason: geopulse.ReasonUnsupported},
		{name: "null island point", wantReason: geopulse.ReasonNoLocation},
	}
	if len(items) != len(tests) {
		t.Fatalf("%d items, want %d", len(items), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := items[i]
			if tt.wantReason != "" {
				if geopulse.ErrorReason(it.Err) != tt.wantReason {
					t.Fatalf("got %s, want reason %s", describe(it), tt.wantReason)
				}
				return
			}
			p := it.Post
			if p == nil {
				t.Fatalf("got %s", describe(it))
			}
			if p.Kind != tt.kind || p.LocationFrom != tt.from || !near(p.Lat, tt.lat, 1e-6) || !near(p.Lon, tt.lon, 1e-6) ||
				p.AccuracyM < tt.minAcc || p.AccuracyM > tt.maxAc || p.PlaceName != tt.place ||
				p.Author.Private != tt.private || len(p.MediaURLs) != tt.media {
				t.Errorf("got %s", describe(it))
			}
		})
	}
	p := items[0].Post
	want := geopulse.Post{Caption: "Pastéis still warm at the market & the queue is worth it #Lisboa #PastelDeNata @TimeOutMarketLX",
		Hashtags: []string{"lisboa", "pasteldenata"}, Mentions: []string{"timeoutmarketlx"}, Likes: 41, Comments: 2, Views: 1893, Language: "en"}
	if p.Caption != want.Caption || !reflect.DeepEqual(p.Hashtags, want.Hashtags) || !reflect.DeepEqual(p.Mentions, want.Mentions) ||
		p.Likes != want.Likes || p.Comments != want.Comments || p.Views != want.Views || p.Language != want.Language {
		t.Errorf("tweet 0 content: %s", describe(items[0]))
	}
	a := p.Author
	if a.SourceID != "1400000000000000001" || a.Handle != "lisbon_eats" || a.Followers != 15230 || a.Following != 310 ||
		a.PostsCount != 4821 || a.Verified || a.Business || !p.TakenAt.Equal(time.Date(2024, 11, 26, 13, 5, 12, 0, time.UTC)) {
		t.Errorf("tweet 0 author/time: %+v %v", a, p.TakenAt)
	}
	if a := items[3].Post.Author; !a.Verified || !a.Business {
		t.Errorf("business account: %+v", a)
	}
}

// TestBBox checks the centre and accuracy of place boxes.
func TestBBox(t *testing.T) {
	tests := []struct {
		name           string
		bbox           []float64
		lat, lon       float64
		minAcc, maxAcc float64
	}{
		{"point-sized POI", []float64{2.2945, 48.8584, 2.2945, 48.8584}, 48.8584, 2.2945, 0, 0},
		{"neighbourhood", []float64{-0.1420, 51.5090, -0.1280, 51.5160}, 51.5125, -0.135, 550, 650},
		{"across the antimeridian", []float64{177.0, -19.2, -178.2, -16.0}, -17.6, 179.4, 280e3, 320e3},
		{"the whole world is capped", []float64{-180, -90, 180, 90}, 0, 0, 9e6, 9.99e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"place_id": "p"}}),
				map[string]any{"places": []any{map[string]any{"id": "p", "full_name": "P", "geo": map[string]any{"type": "Feature", "bbox": tt.bbox}}}})
			items, err := decodeAll(t, page)
			if err != nil || len(items) != 1 || items[0].Post == nil {
				t.Fatalf("got %v, %v", items, err)
			}
			p := items[0].Post
			if p.LocationFrom != geopulse.LocationBBox || !near(p.Lat, tt.lat, 1e-9) || !near(p.Lon, tt.lon, 1e-9) ||
				p.AccuracyM < tt.minAcc || p.AccuracyM > tt.maxAcc {
				t.Errorf("got %s", describe(items[0]))
			}
		})
	}
}

func TestCompliance(t *testing.T) {
	items, err := decodeAll(t, readFile(t, "compliance.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm.UTC() }
	ev := func(kind geopulse.ComplianceKind, post, author, upTo, when string) *geopulse.ComplianceEvent {
		e := &geopulse.ComplianceEvent{Kind: kind, Source: "x", SourceID: post, AuthorSourceID: author, At: at(when)}
		if upTo != "" {
			e.UpTo = at(upTo)
		}
		return e
	}
	want := []*geopulse.ComplianceEvent{
		ev(geopulse.ComplianceDeletePost, "1861395781384011899", "1400000000000000001", "", "2024-11-28T08:00:00Z"),
		ev(geopulse.ComplianceDeletePost, "1861399673698123899", "1400000000000000002", "", "2024-11-28T08:00:01Z"),
		ev(geopulse.ComplianceDeleteAuthor, "", "1400000000000000002", "", "2024-11-28T08:01:00Z"),
		ev(geopulse.ComplianceProtectAuthor, "", "1400000000000000003", "", "2024-11-28T08:02:00Z"),
		ev(geopulse.ComplianceUnprotectAuthor, "", "1400000000000000003", "", "2024-11-28T09:02:00Z"),
		// The snowflake 1861715337017163899 was minted at 2024-11-27T10:15:00Z.
		ev(geopulse.ComplianceScrubGeo, "", "1400000000000000004", "2024-11-27T10:15:00Z", "2024-11-28T10:00:00Z"),
		ev(geopulse.ComplianceProtectAuthor, "", "1400000000000000005", "", "2024-11-28T10:05:00Z"),
		ev(geopulse.ComplianceUnprotectAuthor, "", "1400000000000000005", "", "2024-11-29T10:05:00Z"),
		nil, // withheld: unsupported
		ev(geopulse.ComplianceDeletePost, "1861436243834699899", "", "", "2024-11-28T12:00:00Z"),
		ev(geopulse.ComplianceDeletePost, "1861447446820683899", "", "", "2024-11-28T12:00:05Z"),
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		if w == nil {
			if geopulse.ErrorReason(items[i].Err) != geopulse.ReasonUnsupported {
				t.Errorf("item %d: %s, want unsupported", i, describe(items[i]))
			}
			continue
		}
		if !reflect.DeepEqual(items[i].Event, w) {
			t.Errorf("item %d: %s\nwant %+v", i, describe(items[i]), w)
		}
	}
}

// tweetJSON returns a minimal valid tweet with the given members replaced
// (a nil value deletes the member).
func tweetJSON(id, author string, members map[string]any) map[string]any {
	tw := map[string]any{
		"id": id, "text": "hello #World", "created_at": "2024-11-26T13:05:12.000Z", "author_id": author,
		"geo":            map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []any{-9.1, 38.7}}},
		"public_metrics": map[string]any{"like_count": 1, "reply_count": 0, "impression_count": 10},
	}
	for k, v := range members {
		if v == nil {
			delete(tw, k)
		} else {
			tw[k] = v
		}
	}
	return tw
}

// pageJSON returns a compact page of tweets with the given includes and
// one user per distinct author.
func pageJSON(t testing.TB, tweets ...any) []byte {
	t.Helper()
	inc := map[string]any{}
	var data []any
	for _, tw := range tweets {
		if m, ok := tw.(map[string]any); ok && m["id"] == nil && m["text"] == nil {
			inc = m // an includes object
			continue
		}
		data = append(data, tw)
	}
	if _, ok := inc["users"]; !ok {
		var users []any
		seen := map[any]bool{}
		for _, tw := range data {
			if m, ok := tw.(map[string]any); ok && !seen[m["author_id"]] {
				seen[m["author_id"]] = true
				users = append(users, map[string]any{"id": m["author_id"], "username": "user_" + toString(m["author_id"]), "name": "User"})
			}
		}
		inc["users"] = users
	}
	b, err := json.Marshal(map[string]any{"data": data, "includes": inc, "meta": map[string]any{"result_count": len(data)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toString(v any) string {
	s, _ := v.(string)
	return s
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
// post or event).
func TestBadInput(t *testing.T) {
	page := readFile(t, "search_page.json")
	flickr := `{"photos":{"page":1,"pages":1,"perpage":100,"total":"1","photo":[{"id":"1","latitude":"1","longitude":"2"}]},"stat":"ok"}`
	good := string(pageJSON(t, tweetJSON("1", "u1", nil)))
	badUTF8Text := strings.Replace(string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"text": "caf\u00e9 MARK"}), tweetJSON("2", "u1", nil))), "MARK", "\xff", 1)
	badUTF8User := strings.Replace(string(pageJSON(t, tweetJSON("1", "u1", nil), tweetJSON("2", "u2", nil))), `"name":"User","username":"user_u2"`, "\"name\":\"Us\xc3\x28r\",\"username\":\"user_u2\"", 1)
	tests := []struct {
		name    string
		input   string
		reader  io.Reader // instead of input
		wantErr string
		items   []string
	}{
		{name: "empty", input: ""},
		{name: "white space only", input: " \n\r\n\t"},
		{name: "truncated document", input: string(page[:len(page)/2]), wantErr: "invalid/malformed_json"},
		{name: "truncated NDJSON", input: good + "\n" + good[:len(good)-7], items: []string{"", "malformed_json"}},
		{name: "wrong format: flickr page", input: flickr, wantErr: "invalid/malformed_json"},
		{name: "wrong format: JSON array", input: `[{"id":"1"}]`, wantErr: "invalid/malformed_json"},
		{name: "wrong format: CSV", input: "id,lat,lon\n1,2,3\n", wantErr: "invalid/malformed_json"},
		{name: "wrong format: line of another shape", input: good + "\n" + `{"foo":1}` + "\n" + good, items: []string{"", "malformed_json", ""}},
		{name: "X error response", input: `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`, wantErr: "invalid/unsupported"},
		{name: "X errors without data", input: `{"errors":[{"message":"Rate limit exceeded"}]}`, wantErr: "invalid/unsupported"},
		{name: "data of the wrong type", input: `{"data":"1"}`, wantErr: "invalid/malformed_json"},
		{name: "numbers as strings: like_count", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"public_metrics": map[string]any{"like_count": "5"}}))), items: []string{"invalid_field"}},
		{name: "numbers as strings: coordinates", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []any{"-9.1", "38.7"}}}}))), items: []string{"invalid_field"}},
		{name: "number as id", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"id": 1861395781384011899}))), items: []string{"invalid_field"}},
		{name: "zero coordinates mean none", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []any{0, 0}}}}))), items: []string{"no_location"}},
		{name: "zero coordinates fall back to the place", input: string(pageJSON(t,
			tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []any{0.0, 0.0}}, "place_id": "p"}}),
			map[string]any{"places": []any{map[string]any{"id": "p", "geo": map[string]any{"bbox": []any{1, 1, 2, 2}}}}})), items: []string{""}},
		{name: "duplicates within a page", input: string(pageJSON(t, tweetJSON("1", "u1", nil), tweetJSON("1", "u1", nil))), items: []string{"", ""}},
		{name: "invalid UTF-8 in a tweet", input: badUTF8Text, items: []string{"invalid_utf8", ""}},
		{name: "invalid UTF-8 in a user", input: badUTF8User, items: []string{"", "invalid_utf8"}},
		{name: "invalid UTF-8 in an event", input: "{\"user_delete\":{\"user\":{\"id\":\"1\xff\"}}}\n", items: []string{"invalid_utf8"}},
		{name: "huge document", reader: io.MultiReader(strings.NewReader("{\n\"data\": ["), spaces{}), wantErr: "too_large/too_large"},
		{name: "huge line", input: `{"data":[` + strings.Repeat(" ", x.MaxPageBytes) + "]}\n" + good, items: []string{"too_large", ""}},
		{name: "coordinates out of range", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []any{-200, 38.7}}}}))), items: []string{"invalid_coordinates"}},
		{name: "coordinates overflow", input: strings.Replace(good, "-9.1", "1e999", 1), items: []string{"invalid_field"}},
		{name: "bbox upside down", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"place_id": "p"}}),
			map[string]any{"places": []any{map[string]any{"id": "p", "geo": map[string]any{"bbox": []any{1, 2, 2, 1}}}}})), items: []string{"invalid_coordinates"}},
		{name: "place missing from includes", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"geo": map[string]any{"place_id": "p"}}))), items: []string{"no_location"}},
		{name: "media URL not http", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"attachments": map[string]any{"media_keys": []any{"m"}}}),
			map[string]any{"media": []any{map[string]any{"media_key": "m", "type": "photo", "url": "file:///etc/passwd"}}})), items: []string{"invalid_field"}},
		{name: "control character in id", input: string(pageJSON(t, tweetJSON("1\n2", "u1", nil))), items: []string{"invalid_field"}},
		{name: "missing created_at", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"created_at": nil}))), items: []string{"missing_field"}},
		{name: "bad created_at", input: string(pageJSON(t, tweetJSON("1", "u1", map[string]any{"created_at": "yesterday"}))), items: []string{"invalid_field"}},
		{name: "tweet not an object", input: `{"data":[1,null,"x"]}`, items: []string{"invalid_field", "missing_field", "invalid_field"}},
		{name: "includes of the wrong type", input: `{"data":[{"id":"1"},{"id":"2"}],"includes":{"users":{}}}`, items: []string{"invalid_field", "invalid_field"}},
		{name: "scrub_geo with a bad id", input: `{"scrub_geo":{"user":{"id":"1"},"up_to_tweet_id":"abc"}}`, items: []string{"invalid_field"}},
		{name: "event without ids", input: `{"delete":{"tweet":{}}}` + "\n" + `{"user_protect":{}}`, items: []string{"missing_field", "missing_field"}},
		{name: "batch result of another action", input: `{"id":"1","action":"update"}`, items: []string{"unsupported"}},
		{name: "broken NDJSON line in the middle", input: good + "\n{\"data\":[\n" + good + "\n", items: []string{"", "malformed_json", ""}},
		{name: "byte order mark", input: "\xef\xbb\xbf" + good, items: []string{""}},
		{name: "CRLF lines", input: good + "\r\n" + good + "\r\n", items: []string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = strings.NewReader(tt.input)
			}
			var got []string
			err := x.Decode(r, func(it source.Item) error {
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

// TestMalformedOffset checks that a broken document names the byte where
// it breaks, counted from the start of the input.
func TestMalformedOffset(t *testing.T) {
	in := "\n\n{\n  \"data\": [ }\n"
	err := x.Decode(strings.NewReader(in), func(source.Item) error { t.Fatal("no item expected"); return nil })
	if geopulse.ErrorReason(err) != geopulse.ReasonMalformedJSON || !strings.Contains(geopulse.ErrorMessage(err), "byte 16") {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := x.Decode(bytes.NewReader(readFile(t, "compliance.ndjson")), func(source.Item) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d items", err, n)
	}
}

func TestNextTokenNewestID(t *testing.T) {
	page := readFile(t, "search_page.json")
	tests := []struct {
		name          string
		page          string
		token, newest string
		wantReason    string
	}{
		{name: "fixture", page: string(page), token: "b26v89c19zqg8o3fpzbkk8eewkd0q3qwtqdydwm7o57ul", newest: "1861447446820683899"},
		{name: "last page", page: `{"data":[],"meta":{"result_count":0}}`},
		{name: "not JSON", page: `{"meta":`, wantReason: geopulse.ReasonMalformedJSON},
		{name: "token of the wrong type", page: `{"meta":{"next_token":5}}`, wantReason: geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := x.NextToken([]byte(tt.page))
			if geopulse.ErrorReason(err) != tt.wantReason || token != tt.token {
				t.Errorf("NextToken = %q, %v", token, err)
			}
			if tt.wantReason == "" {
				if id := x.NewestID([]byte(tt.page)); id != tt.newest {
					t.Errorf("NewestID = %q, want %q", id, tt.newest)
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	if x.Format.Name != "x" || x.Format.Decode == nil || x.Format.Doc == "" {
		t.Fatalf("Format = %+v", x.Format)
	}
	tests := []struct {
		head string
		want bool
	}{
		{string(readFile(t, "search_page.json")[:512]), true},
		{string(readFile(t, "compliance.ndjson")[:200]), true},
		{`{"id":"1","action":"delete","created_at":"2024-11-26T15:45:59.000Z","redacted_at":"2024-11-28T12:00:00.000Z"}`, true},
		{`{"photos":{"page":1},"stat":"ok"}`, false},
		{`{"data":[{"id":"1","caption":"x","media_type":"IMAGE"}]}`, false}, // Instagram Graph
		{"id,lat,lon\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := x.Format.Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%.40q) = %v", tt.head, got)
		}
	}
}
