package poll

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func seedFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(1106791534))
	}
}

// FuzzFlickrPage: reading a page never panics, and once the cursor has
// advanced over a page, every photo on it with an id and an upload time
// is a repeat — a page read twice is never sent twice.
func FuzzFlickrPage(f *testing.F) {
	seedFiles(f, "flickr/*.json")
	f.Add([]byte(`{"photos":{"page":"1","pages":2,"photo":[{"id":1,"dateupload":5},{"id":"1","dateupload":"5"},{"id":"","dateupload":7}]},"stat":"ok"}`), int64(5))
	f.Fuzz(func(t *testing.T, body []byte, minUpload int64) {
		page, err := parseFlickrPage(body)
		if err != nil {
			return
		}
		cur := flickrCursor{MinUpload: minUpload}
		if len(cur.repeats(page.Photos)) != len(page.Photos) {
			t.Fatal("repeats is not one flag per photo")
		}
		next := cur.advance(page.Photos)
		if next.MinUpload < cur.MinUpload {
			t.Fatalf("watermark went back from %d to %d", cur.MinUpload, next.MinUpload)
		}
		for i, r := range next.repeats(page.Photos) {
			p := page.Photos[i]
			if !r && p.Upload != 0 && p.ID != "" {
				t.Fatalf("photo %+v is new again after the cursor passed it", p)
			}
		}
	})
}

// FuzzGraphPage: as FuzzFlickrPage, for Graph edges and their marks.
func FuzzGraphPage(f *testing.F) {
	seedFiles(f, "instagram-graph/*/*.json")
	f.Add([]byte(`{"data":[{"id":1,"timestamp":"2021-08-13T08:25:28+0000"},{"id":"1","timestamp":"2021-08-13T08:25:28+0000"},{"timestamp":"x"}],"paging":{"cursors":{"after":"a"},"next":"n"}}`), int64(0))
	f.Fuzz(func(t *testing.T, body []byte, since int64) {
		page, err := parseGraphPage(body)
		if err != nil {
			return
		}
		m := mark{T: since}
		for _, md := range page.Media {
			if md.T != 0 {
				m = m.advance(md.T, md.ID)
			}
		}
		if m.T < since {
			t.Fatalf("mark went back from %d to %d", since, m.T)
		}
		for _, md := range page.Media {
			if md.T != 0 && m.after(md.T, md.ID) {
				t.Fatalf("media %+v is new again after the mark passed it", md)
			}
		}
	})
}

// FuzzXPage: reading a search page never panics.
func FuzzXPage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"1"}],"meta":{"newest_id":"1","oldest_id":"1","result_count":1,"next_token":"t"}}`), int64(0))
	f.Add([]byte(`{"meta":{"result_count":0}}`), int64(0))
	f.Add([]byte(`{"title":"Invalid Request","detail":"x"}`), int64(0))
	f.Fuzz(func(t *testing.T, body []byte, _ int64) {
		page, err := parseXPage(body)
		if err == nil && page.NewestID != "" {
			snowflakeTime(page.NewestID)
		}
	})
}

// FuzzHeaders: the rate-limit headers never make a negative wait.
func FuzzHeaders(f *testing.F) {
	f.Add("7", "0", "1436529720", `{"call_count":95}`, `{"1":[{"call_count":5,"estimated_time_to_regain_access":12}]}`)
	f.Add("Fri, 10 Jul 2015 12:01:00 GMT", "", "", "", "")
	f.Fuzz(func(t *testing.T, retry, remaining, reset, app, buc string) {
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("x-rate-limit-remaining", remaining)
		h.Set("x-rate-limit-reset", reset)
		h.Set("X-App-Usage", app)
		h.Set("X-Business-Use-Case-Usage", buc)
		if d, _ := retryAfter(h, t0); d < 0 {
			t.Fatalf("Retry-After %q: %v", retry, d)
		}
		if d, ok := xReset(h, t0); d < 0 || ok && d < time.Second {
			t.Fatalf("reset %q: %v", reset, d)
		}
		if _, regain := graphUsage(h); regain < 0 {
			t.Fatalf("regain %v", regain)
		}
	})
}

// FuzzMentionedMedia: unwrapping a mention lookup never panics, and what
// it returns is one JSON object with an id.
func FuzzMentionedMedia(f *testing.F) {
	seedFiles(f, "instagram-graph/users/mentioned_media.json")
	f.Add([]byte(`{"mentioned_media":{"caption":"@venue","media_type":"IMAGE"},"id":"1"}`), int64(7))
	f.Add([]byte(`{"mentioned_media":null}`), int64(7))
	f.Add([]byte(`{"error":{"message":"x","code":100}}`), int64(7))
	f.Fuzz(func(t *testing.T, body []byte, id int64) {
		media, err := mentionedMedia(body, strconv.FormatInt(id, 10))
		if err != nil {
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(media, &fields); err != nil || fields == nil {
			t.Fatalf("unwrapped %q is not an object: %v", media, err)
		}
		if _, ok := fields["id"]; !ok {
			t.Fatalf("unwrapped %q has no id", media)
		}
	})
}
