package flickr_test

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
	"github.com/geopulse/geopulse/source/flickr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var decode = flickr.Decode

var fixtures = []string{"photos_search_page1.json", "photos_search_page63.json"}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGolden decodes the recorded responses and compares the items with
// the golden file beside each.
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

// TestRecordedPages checks the meaning of the recorded photos.
func TestRecordedPages(t *testing.T) {
	type want struct {
		reason   string
		id       string
		lat, lon float64
		acc      float64
		taken    time.Time
		views    int64
		tags     []string
	}
	tests := []struct {
		file string
		want []want
	}{
		{"photos_search_page1.json", []want{
			{id: "00007283018", lat: -37.899166, lon: 145.090277, acc: 50, taken: time.Date(2015, 7, 4, 11, 50, 6, 0, time.UTC),
				tags: []string{"square", "squareformat", "juno", "iphoneography", "instagramapp"}},
			{reason: geopulse.ReasonNoLocation}, // latitude set, longitude "0", accuracy 0
			{reason: geopulse.ReasonNoLocation}, // the same photo again, at 0, 0
		}},
		{"photos_search_page63.json", []want{
			{id: "0000084", lat: -37.895717, lon: 145.099933, acc: 100, taken: time.Date(2005, 1, 26, 7, 47, 33, 0, time.UTC), views: 145,
				tags: []string{"australia", "melbourne", "victoria", "machinery", "oakleigh", "pc3166", "auspctagged", "3166", "brickmakerspark"}},
			{id: "3850183", lat: -37.895717, lon: 145.099933, acc: 100, taken: time.Date(2005, 1, 26, 7, 50, 58, 0, time.UTC), views: 204,
				tags: []string{"australia", "melbourne", "victoria", "machinery", "oakleigh", "pc3166", "auspctagged", "3166", "brickmakerspark"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			items, err := decodeAll(t, readFile(t, tt.file))
			if err != nil || len(items) != len(tt.want) {
				t.Fatalf("%d items, error %v", len(items), err)
			}
			for i, w := range tt.want {
				it := items[i]
				if w.reason != "" {
					if geopulse.ErrorReason(it.Err) != w.reason {
						t.Errorf("got %s, want %s", describe(it), w.reason)
					}
					continue
				}
				p := it.Post
				if p == nil || p.SourceID != w.id || p.Lat != w.lat || p.Lon != w.lon || p.AccuracyM != w.acc ||
					p.LocationFrom != geopulse.LocationPoint || !p.TakenAt.Equal(w.taken) || p.Views != w.views ||
					!reflect.DeepEqual(p.Hashtags, w.tags) || p.Author.Private || len(p.MediaURLs) != 1 {
					t.Errorf("got %s", describe(it))
				}
			}
		})
	}
}

func TestPages(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		page, pages int
		wantReason  string
	}{
		{name: "first", body: string(readFile(t, fixtures[0])), page: 1, pages: 63},
		{name: "last", body: string(readFile(t, fixtures[1])), page: 63, pages: 63},
		{name: "as strings", body: `{"photos":{"page":"2","pages":"5","photo":[]},"stat":"ok"}`, page: 2, pages: 5},
		{name: "fail", body: `{"stat":"fail","code":100,"message":"Invalid API Key (Key has invalid format)"}`, wantReason: geopulse.ReasonUnsupported},
		{name: "garbage", body: `{"photos":`, wantReason: geopulse.ReasonMalformedJSON},
		{name: "empty", body: ``, wantReason: geopulse.ReasonMalformedJSON},
		{name: "page not a number", body: `{"photos":{"page":"one","pages":1}}`, wantReason: geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, pages, err := flickr.Pages([]byte(tt.body))
			if geopulse.ErrorReason(err) != tt.wantReason || page != tt.page || pages != tt.pages {
				t.Errorf("Pages = %d, %d, %v", page, pages, err)
			}
		})
	}
}

// photo returns a geotagged photo object with members replaced (nil
// deletes a member).
func photo(members map[string]any) map[string]any {
	ph := map[string]any{
		"id": "5123456789", "owner": "12345678@N00", "secret": "a1b2c3d4e5", "server": "65535", "farm": 66,
		"title": "Harbour at dawn", "ispublic": 1, "latitude": "-33.856784", "longitude": "151.215297", "accuracy": "16",
		"context": 0, "place_id": "uMpDLnpQUL_0", "woeid": "1105779", "geo_is_public": 1,
		"tags": "sydney harbour dawn", "machine_tags": "", "datetaken": "2024-03-01 06:12:00", "dateupload": "1709280000",
		"ownername": "Jo Harbour", "iconserver": "7372", "iconfarm": 8, "views": "12", "media": "photo",
	}
	for k, v := range members {
		if v == nil {
			delete(ph, k)
		} else {
			ph[k] = v
		}
	}
	return ph
}

func page(t testing.TB, photos ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"photos": map[string]any{"page": 1, "pages": 1, "perpage": 100, "total": len(photos), "photo": photos}, "stat": "ok"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAccuracy checks the zoom level → metres table and the point/centroid
// threshold.
func TestAccuracy(t *testing.T) {
	tests := []struct {
		accuracy any
		from     geopulse.LocationFrom
		metres   float64
	}{
		{nil, geopulse.LocationPoint, 50}, // absent: Flickr's default, 16
		{"16", geopulse.LocationPoint, 50},
		{15, geopulse.LocationPoint, 100},
		{"14", geopulse.LocationCentroid, 200},
		{11, geopulse.LocationCentroid, 2_000},
		{"6", geopulse.LocationCentroid, 60_000},
		{3, geopulse.LocationCentroid, 500_000},
		{"1", geopulse.LocationCentroid, 9_000_000},
	}
	for _, tt := range tests {
		items, err := decodeAll(t, []byte(page(t, photo(map[string]any{"accuracy": tt.accuracy}))))
		if err != nil || len(items) != 1 || items[0].Post == nil {
			t.Fatalf("accuracy %v: %v %v", tt.accuracy, items, err)
		}
		if p := items[0].Post; p.LocationFrom != tt.from || p.AccuracyM != tt.metres {
			t.Errorf("accuracy %v: got %s", tt.accuracy, describe(items[0]))
		}
	}
}

func TestPhotoFields(t *testing.T) {
	items, err := decodeAll(t, []byte(page(t,
		photo(map[string]any{"description": map[string]any{"_content": "From the ferry."}, "count_faves": "7", "count_comments": 2,
			"tags": "sydney geo:country=australia Harbour", "machine_tags": "geo:country=australia"}),
		photo(map[string]any{"id": 5123456790, "ispublic": "0", "media": "video", "iconserver": "0", "datetaken": "0000-00-00 00:00:00", "farm": "0"}),
	)))
	if err != nil || len(items) != 2 || items[0].Post == nil || items[1].Post == nil {
		t.Fatalf("%v %v", items, err)
	}
	p := items[0].Post
	if p.Caption != "Harbour at dawn\n\nFrom the ferry." || p.Likes != 7 || p.Comments != 2 || p.Views != 12 ||
		!reflect.DeepEqual(p.Hashtags, []string{"sydney", "harbour"}) || p.Kind != geopulse.KindPhoto || p.Author.Private ||
		p.Author.Handle != "Jo Harbour" || p.Author.AvatarURL != "https://farm8.staticflickr.com/7372/buddyicons/12345678@N00.jpg" ||
		!reflect.DeepEqual(p.MediaURLs, []string{"https://farm66.staticflickr.com/65535/5123456789_a1b2c3d4e5.jpg"}) {
		t.Errorf("got %s", describe(items[0]))
	}
	q := items[1].Post
	if q.SourceID != "5123456790" || !q.Author.Private || q.Kind != geopulse.KindVideo || q.Author.AvatarURL != "" ||
		!q.TakenAt.Equal(time.Unix(1709280000, 0)) || q.MediaURLs[0] != "https://live.staticflickr.com/65535/5123456790_a1b2c3d4e5.jpg" {
		t.Errorf("got %s", describe(items[1]))
	}
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
	rec := readFile(t, fixtures[0])
	good := photo(nil)
	badTitle := strings.Replace(page(t, photo(map[string]any{"title": "MARK"}), good), "MARK", "caf\xe9", 1)
	tests := []struct {
		name    string
		input   string
		reader  io.Reader
		wantErr string
		items   []string
	}{
		{name: "empty", input: ""},
		{name: "truncated", input: string(rec[:len(rec)-40]), wantErr: "invalid/malformed_json"},
		{name: "wrong format: X page", input: `{"data":[{"id":"1","text":"hi"}],"meta":{"result_count":1}}`, wantErr: "invalid/malformed_json"},
		{name: "wrong format: array", input: `[{"id":"1"}]`, wantErr: "invalid/malformed_json"},
		{name: "wrong format: CSV", input: "id,lat,lon\n1,2,3\n", wantErr: "invalid/malformed_json"},
		{name: "wrong format: photos not an object", input: `{"photos":[1]}`, wantErr: "invalid/malformed_json"},
		{name: "wrong format: photo not an array", input: `{"photos":{"photo":{}}}`, wantErr: "invalid/malformed_json"},
		{name: "stat fail", input: `{"stat":"fail","code":100,"message":"Invalid API Key (Key has invalid format)"}`, wantErr: "invalid/unsupported"},
		{name: "no photos", input: `{"photos":{"page":1,"pages":0,"perpage":100,"total":0,"photo":[]},"stat":"ok"}`},
		{name: "numbers as strings and numbers", input: page(t,
			photo(map[string]any{"latitude": -33.85, "longitude": "151.2", "accuracy": 16, "views": 3, "ispublic": "1", "id": 77}),
			photo(map[string]any{"latitude": "-33.85", "longitude": 151.2, "accuracy": "11", "views": "3", "ispublic": 1})), items: []string{"", ""}},
		{name: "coordinates not numbers", input: page(t, photo(map[string]any{"latitude": "south"}), photo(map[string]any{"longitude": true})), items: []string{"invalid_coordinates", "invalid_coordinates"}},
		{name: "coordinates out of range", input: page(t, photo(map[string]any{"latitude": "91"}), photo(map[string]any{"longitude": "NaN"})), items: []string{"invalid_coordinates", "invalid_coordinates"}},
		{name: "zero coordinates mean none", input: page(t, photo(map[string]any{"latitude": 0, "longitude": "0"}), photo(map[string]any{"latitude": "0", "longitude": 0, "accuracy": 0})), items: []string{"no_location", "no_location"}},
		{name: "accuracy 0 means none", input: page(t, photo(map[string]any{"accuracy": "0"})), items: []string{"no_location"}},
		{name: "missing coordinate", input: page(t, photo(map[string]any{"longitude": nil}), photo(map[string]any{"latitude": ""})), items: []string{"no_location", "no_location"}},
		{name: "location not public", input: page(t, photo(map[string]any{"geo_is_public": "0"})), items: []string{"no_location"}},
		{name: "accuracy out of range", input: page(t, photo(map[string]any{"accuracy": 17}), photo(map[string]any{"accuracy": "-1"}), photo(map[string]any{"accuracy": "street"})), items: []string{"invalid_field", "invalid_field", "invalid_field"}},
		{name: "duplicates within a page", input: page(t, good, good), items: []string{"", ""}},
		{name: "invalid UTF-8 in one photo", input: badTitle, items: []string{"invalid_utf8", ""}},
		{name: "huge payload", reader: io.MultiReader(strings.NewReader(`{"photos":{"photo":[`), spaces{}), wantErr: "too_large/too_large"},
		{name: "id of the wrong type", input: page(t, photo(map[string]any{"id": map[string]any{}}), photo(map[string]any{"id": nil})), items: []string{"invalid_field", "missing_field"}},
		{name: "title of the wrong type", input: page(t, photo(map[string]any{"title": 5})), items: []string{"invalid_field"}},
		{name: "missing owner", input: page(t, photo(map[string]any{"owner": ""})), items: []string{"missing_field"}},
		{name: "bad datetaken", input: page(t, photo(map[string]any{"datetaken": "last summer"})), items: []string{"invalid_field"}},
		{name: "no dates", input: page(t, photo(map[string]any{"datetaken": nil, "dateupload": nil})), items: []string{"missing_field"}},
		{name: "views not a number", input: page(t, photo(map[string]any{"views": "many"})), items: []string{"invalid_field"}},
		{name: "negative views", input: page(t, photo(map[string]any{"views": -1})), items: []string{"invalid_field"}},
		{name: "url_o not http", input: page(t, photo(map[string]any{"url_o": "javascript:alert(1)"})), items: []string{"invalid_field"}},
		{name: "odd ids are not put in URLs", input: page(t, photo(map[string]any{"secret": "../../x", "iconserver": "1/../2"})), items: []string{""}},
		{name: "control character in owner", input: page(t, photo(map[string]any{"owner": "a\u0007b"})), items: []string{"invalid_field"}},
		{name: "photo not an object", input: `{"photos":{"photo":[1,"x",null]}}`, items: []string{"invalid_field", "invalid_field", "missing_field"}},
		{name: "byte order mark", input: "\xef\xbb\xbf" + page(t, good), items: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = strings.NewReader(tt.input)
			}
			var got []string
			err := flickr.Decode(r, func(it source.Item) error {
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

func TestStatFailMessage(t *testing.T) {
	err := flickr.Decode(strings.NewReader(`{"stat":"fail","code":100,"message":"Invalid API Key (Key has invalid format)"}`), func(source.Item) error { return nil })
	if msg := geopulse.ErrorMessage(err); !strings.Contains(msg, "code 100") || !strings.Contains(msg, "Invalid API Key") {
		t.Fatalf("message %q", msg)
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := flickr.Decode(bytes.NewReader(readFile(t, fixtures[1])), func(source.Item) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d items", err, n)
	}
}

func TestFormat(t *testing.T) {
	if flickr.Format.Name != "flickr" || flickr.Format.Decode == nil || flickr.Format.Doc == "" {
		t.Fatalf("Format = %+v", flickr.Format)
	}
	tests := []struct {
		head string
		want bool
	}{
		{string(readFile(t, fixtures[0])[:300]), true},
		{`{"stat":"fail","code":100,"message":"Invalid API Key"}`, true},
		{`{"data":[{"author_id":"1"}]}`, false},
		{"latitude,longitude\n", false},
	}
	for _, tt := range tests {
		if got := flickr.Format.Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%.40q) = %v", tt.head, got)
		}
	}
}
