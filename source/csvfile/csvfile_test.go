package csvfile_test

import (
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
	"github.com/geopulse/geopulse/source/csvfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const mappedMapping = "source_id=ID,author.source_id=User,taken_at=When,lat=Latitude,lon=Lng,caption=Text,hashtags=Tags,likes=Likes"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func format(t testing.TB, mapping, defaultSource string) source.Format {
	t.Helper()
	m, err := csvfile.ParseMapping(mapping)
	if err != nil {
		t.Fatal(err)
	}
	return csvfile.Format(m, defaultSource)
}

// TestGolden decodes every fixture and compares the items with the golden
// file beside it.
func TestGolden(t *testing.T) {
	tests := []struct{ file, mapping, source string }{
		{"posts.csv", "", ""},
		{"mapped.csv", mappedMapping, "museum"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			items, err := decodeAll(t, format(t, tt.mapping, tt.source).Decode, readFile(t, tt.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var b strings.Builder
			for _, it := range items {
				b.WriteString(describe(it) + "\n")
			}
			golden := filepath.Join("testdata", tt.file+".golden")
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

func TestPostsFile(t *testing.T) {
	items, err := decodeAll(t, format(t, "", "").Decode, readFile(t, "posts.csv"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := make([]string, len(items))
	for i, it := range items {
		reasons[i] = geopulse.ErrorReason(it.Err)
	}
	if want := []string{"", "", "no_location", "", "invalid_coordinates"}; !reflect.DeepEqual(reasons, want) {
		t.Fatalf("reasons %q, want %q", reasons, want)
	}
	p := items[0].Post
	exp := time.Date(2024, 11, 27, 9, 12, 30, 0, time.UTC)
	if p.Kind != geopulse.KindStory || p.Caption != "Morning coffee, then the market\n— back tomorrow" ||
		!reflect.DeepEqual(p.Hashtags, []string{"coffee", "latte"}) || !reflect.DeepEqual(p.Mentions, []string{"naschmarkt_wien"}) ||
		len(p.MediaURLs) != 2 || p.ExpiresAt == nil || !p.ExpiresAt.Equal(exp) || p.AccuracyM != 15 ||
		p.Author.DisplayName != `Ana "Sketch" M.` || p.Author.Followers != 1523 || p.Author.Private || p.Likes != 41 || p.Views != 1893 {
		t.Errorf("row 1: %s", describe(items[0]))
	}
	q := items[1].Post
	if !q.TakenAt.Equal(time.Unix(1732612800, 0)) || q.LocationFrom != geopulse.LocationCentroid || !q.Author.Verified || q.Source != "museum" {
		t.Errorf("row 2: %s", describe(items[1]))
	}
	if items[3].Post.ID != p.ID {
		t.Errorf("the repeated row is a different post")
	}
	if msg := geopulse.ErrorMessage(items[4].Err); !strings.HasPrefix(msg, "row 5 (line 9)") {
		t.Errorf("row 5 message %q", msg)
	}
}

func TestParseMapping(t *testing.T) {
	tests := []struct {
		in         string
		want       csvfile.Mapping
		wantReason string
	}{
		{in: "", want: csvfile.Mapping{}},
		{in: "lat=latitude,lon=lng,source_id=id", want: csvfile.Mapping{"lat": "latitude", "lon": "lng", "source_id": "id"}},
		{in: " lat = Latitude (deg) , author.handle=User Name ", want: csvfile.Mapping{"lat": "Latitude (deg)", "author.handle": "User Name"}},
		{in: "lat", wantReason: geopulse.ReasonInvalidField},
		{in: "lat=", wantReason: geopulse.ReasonInvalidField},
		{in: "latitude=lat", wantReason: geopulse.ReasonInvalidField},
		{in: "lat=a,lat=b", wantReason: geopulse.ReasonInvalidField},
		{in: "lat=a,,lon=b", wantReason: geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		m, err := csvfile.ParseMapping(tt.in)
		if geopulse.ErrorReason(err) != tt.wantReason || (tt.wantReason == "" && !reflect.DeepEqual(m, tt.want)) {
			t.Errorf("ParseMapping(%q) = %v, %v", tt.in, m, err)
		}
		if err != nil && geopulse.ErrorCode(err) != geopulse.EINVALID {
			t.Errorf("ParseMapping(%q): code %q", tt.in, geopulse.ErrorCode(err))
		}
	}
}

// TestHeader checks the whole-file errors of a header that does not fit
// the mapping.
func TestHeader(t *testing.T) {
	const row = "\n1,2,3,4,5,6\n"
	tests := []struct {
		name, mapping, source, header string
		wantErr, mention              string
	}{
		{name: "canonical names", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,x"},
		{name: "case and spaces", source: "s", header: " Source_ID ,TAKEN_AT,Lat,Lon,Author.Source_ID,x"},
		{name: "missing required", source: "s", header: "source_id,taken_at,lat,lng,author.source_id,x", wantErr: "invalid/missing_field", mention: `"lon"`},
		{name: "mapped header missing", mapping: "lon=lng", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,x", wantErr: "invalid/missing_field", mention: `"lng"`},
		{name: "optional mapped header missing", mapping: "caption=text", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,x", wantErr: "invalid/missing_field", mention: `"text"`},
		{name: "no source column and no default", header: "source_id,taken_at,lat,lon,author.source_id,x", wantErr: "invalid/missing_field", mention: `"source"`},
		{name: "used header twice", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,LAT", wantErr: "invalid/invalid_field", mention: `"lat"`},
		{name: "unused header twice is fine", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,x,x"},
		{name: "wrong format: JSON", source: "s", header: `{"data":[{"id":"1"}]}`, wantErr: "invalid/malformed_json"},
		{name: "invalid UTF-8 header", source: "s", header: "source_id,taken_at,lat,lon,author.source_id,\xff", wantErr: "invalid/invalid_utf8"},
		{name: "malformed header", source: "s", header: `source_id,"taken_at,lat`, wantErr: "invalid/malformed_json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := format(t, tt.mapping, tt.source).Decode(strings.NewReader(tt.header+row), func(source.Item) error { return nil })
			got := ""
			if err != nil {
				checkRejection(t, err)
				got = geopulse.ErrorCode(err) + "/" + geopulse.ErrorReason(err)
			}
			if got != tt.wantErr || !strings.Contains(geopulse.ErrorMessage(err), tt.mention) {
				t.Fatalf("got %v, want %s naming %s", err, tt.wantErr, tt.mention)
			}
		})
	}
	bad := csvfile.Format(csvfile.Mapping{"latitude": "lat"}, "s")
	if err := bad.Decode(strings.NewReader("lat\n"), func(source.Item) error { return nil }); geopulse.ErrorReason(err) != geopulse.ReasonInvalidField {
		t.Errorf("unknown field in a hand-made mapping: %v", err)
	}
}

// endless repeats a string forever, for bounded-memory tests.
type endless struct {
	s   string
	off int
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.s[e.off%len(e.s)]
		e.off++
	}
	return len(p), nil
}

const hdr = "source,source_id,taken_at,lat,lon,author.source_id,likes,caption,author.private,kind\n"

// TestBadInput runs broken and hostile rows; each case names the error
// Decode must return (code/reason), or the reasons of the items ("" for a
// post).
func TestBadInput(t *testing.T) {
	good := "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,hello,false,photo\n"
	posts := readFile(t, "posts.csv")
	tests := []struct {
		name    string
		input   string
		reader  io.Reader
		wantErr string
		items   []string
	}{
		{name: "empty", input: ""},
		{name: "header only", input: hdr},
		{name: "truncated inside a quoted field", input: hdr + good + `x,2,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,"hel`, items: []string{"", "malformed_json"}},
		{name: "truncated mid row", input: hdr + good + "x,2,2024-11-26T08:00:00Z,51.5", items: []string{"", "invalid_field"}},
		{name: "truncated file", input: string(posts[:len(posts)-60]), items: []string{"", "", "no_location", "", "invalid_field"}},
		{name: "wrong format: JSON lines", input: hdr + `{"source":"x","source_id":"1"}` + "\n" + good, items: []string{"malformed_json", ""}},
		{name: "numbers with units", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3k,hello,false,photo\n", items: []string{"invalid_field"}},
		{name: "negative count", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,-3,hello,false,photo\n", items: []string{"invalid_field"}},
		{name: "quoted numbers", input: hdr + `"x","1","1732612800","51.5","-0.12","u1","3","hello","0","PHOTO"` + "\n", items: []string{""}},
		{name: "coordinates not numbers", input: hdr + "x,1,2024-11-26T08:00:00Z,north,-0.12,u1,3,hello,false,photo\n", items: []string{"invalid_coordinates"}},
		{name: "coordinates out of range", input: hdr + "x,1,2024-11-26T08:00:00Z,95,-0.12,u1,3,hello,false,photo\nx,1,2024-11-26T08:00:00Z,45,NaN,u1,3,hello,false,photo\n", items: []string{"invalid_coordinates", "invalid_coordinates"}},
		{name: "zero coordinates mean none", input: hdr + "x,1,2024-11-26T08:00:00Z,0,0,u1,3,hello,false,photo\nx,1,2024-11-26T08:00:00Z,0.0,-0,u1,3,hello,false,photo\nx,1,2024-11-26T08:00:00Z,,,u1,3,hello,false,photo\n", items: []string{"no_location", "no_location", "no_location"}},
		{name: "one zero coordinate is a place", input: hdr + "x,1,2024-11-26T08:00:00Z,51.48,0,u1,3,hello,false,photo\n", items: []string{""}},
		{name: "duplicates", input: hdr + good + good, items: []string{"", ""}},
		{name: "invalid UTF-8 in a row", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,h\xffllo,false,photo\n" + good, items: []string{"invalid_utf8", ""}},
		{name: "huge row: an unclosed quote", reader: io.MultiReader(strings.NewReader(hdr+good+`x,2,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,"`), &endless{s: "abc,def\n"}), wantErr: "too_large/too_large"},
		{name: "huge header", reader: &endless{s: "a,"}, wantErr: "too_large/too_large"},
		{name: "long row under the limit", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3," + strings.Repeat("a", 9000) + ",false,photo\n", items: []string{""}},
		{name: "caption over the canonical limit", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3," + strings.Repeat("a", 10_001) + ",false,photo\n", items: []string{"too_large"}},
		{name: "ragged rows", input: hdr + good + "x,1,2024-11-26T08:00:00Z\n" + strings.TrimSuffix(good, "\n") + ",extra\n" + good, items: []string{"", "invalid_field", "invalid_field", ""}},
		{name: "bare quote", input: hdr + `x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,say "hi",false,photo` + "\n" + good, items: []string{"malformed_json", ""}},
		{name: "quoted line breaks and commas", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,\"a,\nb\r\nc\",false,photo\n" + good, items: []string{"", ""}},
		{name: "CRLF and blank lines", input: strings.ReplaceAll(hdr+"\n"+good+"\n\n"+good, "\n", "\r\n"), items: []string{"", ""}},
		{name: "byte order mark", input: "\xef\xbb\xbf" + hdr + good, items: []string{""}},
		{name: "bad times", input: hdr + "x,1,yesterday,51.5,-0.12,u1,3,a,false,photo\nx,1,99999999999999,51.5,-0.12,u1,3,a,false,photo\nx,1,,51.5,-0.12,u1,3,a,false,photo\n", items: []string{"invalid_field", "invalid_field", "missing_field"}},
		{name: "bad booleans and kinds", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,maybe,photo\nx,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,false,selfie\n", items: []string{"invalid_field", "invalid_field"}},
		{name: "missing ids", input: hdr + ",1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,,\nx,,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,,\nx,1,2024-11-26T08:00:00Z,51.5,-0.12,,3,a,,\n", items: []string{"missing_field", "missing_field", "missing_field"}},
		{name: "control character in an id", input: hdr + "x,\"1\x07\",2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,,\n", items: []string{"invalid_field"}},
		{name: "private is passed on for the gate", input: hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,a,TRUE,\n", items: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = strings.NewReader(tt.input)
			}
			var got []string
			err := format(t, "", "").Decode(r, func(it source.Item) error {
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

// TestRowNumbers checks that messages point at the right row and line
// when quoted fields span lines.
func TestRowNumbers(t *testing.T) {
	in := hdr + "x,1,2024-11-26T08:00:00Z,51.5,-0.12,u1,3,\"two\nlines\",false,photo\n\nx,2,2024-11-26T08:00:00Z,0,0,u1,3,a,false,photo\n"
	items, err := decodeAll(t, format(t, "", "").Decode, []byte(in))
	if err != nil || len(items) != 2 || items[1].Index != 1 {
		t.Fatalf("%v %v", items, err)
	}
	if msg := geopulse.ErrorMessage(items[1].Err); !strings.HasPrefix(msg, "row 2 (line 5):") {
		t.Errorf("message %q", msg)
	}
}

func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := format(t, "", "").Decode(strings.NewReader(string(readFile(t, "posts.csv"))), func(source.Item) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d items", err, n)
	}
}

func TestFormat(t *testing.T) {
	f := format(t, "lat=Breite", "")
	if f.Name != "csv" || f.Decode == nil || f.Doc == "" {
		t.Fatalf("Format = %+v", f)
	}
	tests := []struct {
		head string
		want bool
	}{
		{string(readFile(t, "posts.csv")), true},
		{"id,Latitude,Longitude\n1,2,3", true},
		{`id,"lat",lon`, true},
		{"id,breite,länge\n", true}, // the mapping's header
		{"id,lon\n", false},
		{"lat\n", false},
		{`{"lat":1,"lon":2}`, false},
	}
	for _, tt := range tests {
		if got := f.Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%.40q) = %v", tt.head, got)
		}
	}
}
