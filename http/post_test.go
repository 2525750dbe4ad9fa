package http_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

func TestIngestMixedBatch(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	pl := e.createVenue(key, "Louvre", louvre)

	line := func(p *geopulse.Post) []byte { return canonical.AppendJSON(nil, p) }
	badLat := newPost("lat91", louvre, 1)
	badLat.Lat = 91
	badUTF8 := bytes.Replace(line(newPost("utf8", louvre, 1)), []byte("post utf8"), []byte("post \xff\xfe"), 1)
	noID := bytes.Replace(line(newPost("noid", louvre, 1)), []byte(`"source_id":"noid",`), nil, 1)
	private := newPost("private", louvre, 1)
	private.Author.Private = true
	long := newPost("long", louvre, 1)
	long.Caption = strings.Repeat("a", 100<<10)

	body := bytes.Join([][]byte{
		line(newPost("good1", louvre, 1)),
		[]byte(`{"source":"test","source_id":`),
		line(badLat),
		badUTF8,
		noID,
		line(private),
		line(long),
		line(newPost("good2", louvre, 2)),
	}, []byte("\n"))
	want := []struct{ status, code, reason string }{
		{"accepted", "", ""},
		{"rejected", geopulse.EINVALID, geopulse.ReasonMalformedJSON},
		{"rejected", geopulse.EINVALID, geopulse.ReasonInvalidCoordinates},
		{"rejected", geopulse.EINVALID, geopulse.ReasonInvalidUTF8},
		{"rejected", geopulse.EINVALID, geopulse.ReasonMissingField},
		{"rejected", geopulse.EINVALID, geopulse.ReasonPrivateAccount},
		{"rejected", geopulse.ETOOLARGE, geopulse.ReasonTooLarge},
		{"accepted", "", ""},
	}

	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			path := "/v1/posts"
			if quiet {
				path += "?quiet=1"
			}
			var res ingestResult
			e.do(request{method: http.MethodPost, path: path, key: key, body: body,
				header: map[string]string{"Content-Type": "application/x-ndjson"}}).decode(t, http.StatusOK, &res)
			if res.Accepted != 2 || res.Rejected != 6 {
				t.Errorf("accepted %d rejected %d, want 2 and 6", res.Accepted, res.Rejected)
			}
			var got []batchItem
			for i, w := range want {
				if !quiet || w.status == "rejected" {
					got = append(got, batchItem{Index: i, Status: w.status, Code: w.code, Reason: w.reason})
				}
			}
			if len(res.Items) != len(got) {
				t.Fatalf("%d items, want %d: %+v", len(res.Items), len(got), res.Items)
			}
			for i, it := range res.Items {
				w := got[i]
				if it.Index != w.Index || it.Status != w.Status || it.Code != w.Code || it.Reason != w.Reason {
					t.Errorf("item %d = %+v, want %+v", i, it, w)
				}
				switch {
				case it.Status == "accepted" && !bytes.HasPrefix(it.ID, []byte(`"`)):
					t.Errorf("item %d: post id %s is not a string", i, it.ID)
				case it.Status == "rejected" && it.Message == "":
					t.Errorf("item %d: no message", i)
				}
			}
		})
	}

	got := e.feedIDs(key, fmt.Sprintf("place=%d", pl.ID))
	if !slices.Equal(got, []string{"good1", "good2"}) {
		t.Errorf("feed = %v, want [good1 good2]", got)
	}
}

func TestIngestIdempotent(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	p := newPost("same", louvre, 1)
	p.Likes = 10
	e.ingest(key, p)
	p.Likes = 25
	e.ingest(key, p)

	var f feed
	e.get(key, "/v1/posts").decode(t, http.StatusOK, &f)
	if len(f.Posts) != 1 || f.Posts[0].Likes != 25 {
		t.Fatalf("feed = %+v, want one post with 25 likes", f.Posts)
	}
	want := fmt.Sprint(geopulse.PostID("test", "same"))
	if f.Posts[0].ID != want {
		t.Errorf("id = %s, want %s", f.Posts[0].ID, want)
	}
	var one post
	e.get(key, "/v1/posts/"+want).decode(t, http.StatusOK, &one)
	if one.SourceID != "same" || one.Likes != 25 || one.Author.Handle != "user_same" {
		t.Errorf("GET post = %+v", one)
	}
}

func TestIngestBodyForms(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	array := func(posts ...*geopulse.Post) []byte {
		b := []byte("[")
		for i, p := range posts {
			if i > 0 {
				b = append(b, ',')
			}
			b = canonical.AppendJSON(b, p)
		}
		return append(b, ']')
	}
	tests := []struct {
		name     string
		body     []byte
		header   map[string]string
		accepted int
		status   int
		reason   string // for an error answer
	}{
		{"ndjson", ndjson(newPost("n1", louvre, 1), newPost("n2", louvre, 1)), map[string]string{"Content-Type": "application/x-ndjson"}, 2, http.StatusOK, ""},
		{"array", array(newPost("a1", louvre, 1), newPost("a2", louvre, 1)), map[string]string{"Content-Type": "application/json"}, 2, http.StatusOK, ""},
		{"gzip ndjson", gz(ndjson(newPost("g1", louvre, 1))), map[string]string{"Content-Encoding": "gzip"}, 1, http.StatusOK, ""},
		{"gzip array", gz(array(newPost("g2", louvre, 1))), map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"}, 1, http.StatusOK, ""},
		{"empty body", nil, nil, 0, http.StatusOK, ""},
		{"array syntax error", []byte(`[{"source":"x"},`), map[string]string{"Content-Type": "application/json"}, 0, http.StatusBadRequest, geopulse.ReasonMalformedJSON},
		{"corrupt gzip", []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"}, 0, http.StatusBadRequest, "invalid_content_encoding"},
		{"unknown encoding", ndjson(newPost("b1", louvre, 1)), map[string]string{"Content-Encoding": "br"}, 0, http.StatusBadRequest, "invalid_content_encoding"},
		{"form body", ndjson(newPost("f1", louvre, 1)), map[string]string{"Content-Type": "multipart/form-data"}, 0, http.StatusBadRequest, "invalid_content_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(request{method: http.MethodPost, path: "/v1/posts", key: key, body: tt.body, header: tt.header})
			if tt.reason != "" {
				res.wantError(t, tt.status, geopulse.EINVALID, tt.reason)
				return
			}
			var r ingestResult
			res.decode(t, tt.status, &r)
			if r.Accepted != tt.accepted || r.Rejected != 0 || len(r.Items) != tt.accepted {
				t.Errorf("result %+v, want %d accepted", r, tt.accepted)
			}
		})
	}
	e.do(request{method: http.MethodPost, path: "/v1/posts?quiet=maybe", key: key}).wantError(t, http.StatusBadRequest, geopulse.EINVALID, "invalid_quiet")
}

// feedWorld stores posts at two places with varied kinds, tags, authors and
// times, and returns the key and the places' ids.
func feedWorld(t *testing.T, e *env) (key string, louvreID, eiffelID int64) {
	key = e.workspace("acme")
	louvreID = e.createVenue(key, "Louvre", louvre, "paris").ID
	eiffelID = e.createVenue(key, "Eiffel", eiffel, "paris", "towers").ID
	var posts []*geopulse.Post
	for i := range 10 {
		p := newPost(fmt.Sprintf("l%02d", i), louvre, 10*i+1)
		if i%2 == 1 {
			p.Kind = geopulse.KindReel
			p.Caption = "Mona Lisa smile #art"
			p.Author.Followers = 50_000
		}
		posts = append(posts, p)
	}
	for i := range 5 {
		p := newPost(fmt.Sprintf("e%02d", i), eiffel, 10*i+5)
		p.Kind = geopulse.KindVideo
		p.Hashtags = []string{"tower"}
		posts = append(posts, p)
	}
	e.ingest(key, posts...)
	return key, louvreID, eiffelID
}

func TestFeedFilters(t *testing.T) {
	e := newEnv(t)
	key, lID, eID := feedWorld(t, e)
	all := append(ids("l", 10), ids("e", 5)...)
	odd := []string{"l01", "l03", "l05", "l07", "l09"}
	from := url.QueryEscape(now.Add(-30 * 3600e9).Format("2006-01-02T15:04:05Z07:00")) // 30 h ago
	square := func(c geopulse.LatLon, d float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]}`,
			c.Lon-d, c.Lat-d, c.Lon+d, c.Lat+d)
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"everything", "", all},
		{"one place", fmt.Sprintf("place=%d", lID), ids("l", 10)},
		{"places comma-separated", fmt.Sprintf("place=%d,%d", lID, eID), all},
		{"places repeated", fmt.Sprintf("place=%d&place=%d", lID, eID), all},
		{"kind", "kind=reel", odd},
		{"kinds", "kind=reel,video", append(slices.Clone(odd), ids("e", 5)...)},
		{"hashtag", "hashtag=art", odd},
		{"hashtag with #", "hashtag=%23ART", odd},
		{"hashtag given by the source", "hashtag=tower", ids("e", 5)},
		{"text", "q=mona+lisa", odd},
		{"min_followers", "min_followers=1000", odd},
		{"from", "from=" + from, []string{"l00", "l01", "l02", "e00", "e01", "e02"}},
		{"to", "to=" + from, []string{"l03", "l04", "l05", "l06", "l07", "l08", "l09", "e03", "e04"}},
		{"bbox", fmt.Sprintf("bbox=%g,%g,%g,%g", eiffel.Lon-0.01, eiffel.Lat-0.01, eiffel.Lon+0.01, eiffel.Lat+0.01), ids("e", 5)},
		{"near", fmt.Sprintf("near=%g,%g&radius_m=500", louvre.Lat, louvre.Lon), ids("l", 10)},
		{"polygon", "polygon=" + url.QueryEscape(square(louvre, 0.01)), ids("l", 10)},
		{"combined", fmt.Sprintf("place=%d&kind=reel&min_followers=1000&from=%s", lID, from), []string{"l01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.feedIDs(key, tt.query)
			if !slices.Equal(sorted(got), sorted(tt.want)) {
				t.Errorf("feed(%s) = %v, want %v", tt.query, got, tt.want)
			}
		})
	}

	t.Run("search body", func(t *testing.T) {
		var f feed
		e.send(http.MethodPost, key, "/v1/posts/search", map[string]any{
			"polygon": json.RawMessage(square(louvre, 0.01)),
			"kind":    []string{"reel"},
			"limit":   100,
		}).decode(t, http.StatusOK, &f)
		var got []string
		for _, p := range f.Posts {
			got = append(got, p.SourceID)
		}
		if !slices.Equal(sorted(got), odd) || f.NextCursor != "" {
			t.Errorf("search = %v (cursor %q), want %v", got, f.NextCursor, odd)
		}
	})
	t.Run("newest first", func(t *testing.T) {
		var f feed
		e.get(key, "/v1/posts?limit=500").decode(t, http.StatusOK, &f)
		for i := 1; i < len(f.Posts); i++ {
			if f.Posts[i].TakenAt.After(f.Posts[i-1].TakenAt) {
				t.Fatalf("post %d is newer than post %d", i, i-1)
			}
		}
	})
}

func TestFeedPagination(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	var posts []*geopulse.Post
	for i := range 23 {
		posts = append(posts, newPost(fmt.Sprintf("p%02d", i), louvre, i/2+1)) // pairs share a time
	}
	e.ingest(key, posts...)

	for _, limit := range []int{1, 5, 23, 50} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			seen := map[string]bool{}
			var order []string
			cursor, pages := "", 0
			for {
				q := fmt.Sprintf("/v1/posts?limit=%d", limit)
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				var f feed
				e.get(key, q).decode(t, http.StatusOK, &f)
				pages++
				if len(f.Posts) > limit {
					t.Fatalf("page of %d posts, limit %d", len(f.Posts), limit)
				}
				for _, p := range f.Posts {
					if seen[p.SourceID] {
						t.Fatalf("%s on two pages", p.SourceID)
					}
					seen[p.SourceID] = true
					order = append(order, p.SourceID)
				}
				if f.NextCursor == "" {
					break
				}
				if pages > 30 {
					t.Fatal("too many pages")
				}
				cursor = f.NextCursor
			}
			if len(seen) != 23 {
				t.Errorf("saw %d posts in %d pages, want 23", len(seen), pages)
			}
			if want := ids("p", 23); !slices.Equal(sorted(order), want) {
				t.Errorf("posts %v", order)
			}
		})
	}
	t.Run("bad cursor", func(t *testing.T) {
		res := e.get(key, "/v1/posts?cursor=%21%21garbage")
		if res.status != http.StatusBadRequest {
			t.Errorf("status %d for a bad cursor: %s", res.status, res.body)
		}
	})
}

func TestBadParameters(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	tests := []struct {
		name, path, reason string
	}{
		{"bad from", "/v1/posts?from=yesterday", "invalid_from"},
		{"bad to", "/v1/posts?to=2025-13-01T00:00:00Z", "invalid_to"},
		{"to before from", "/v1/posts?from=2025-06-01T00:00:00Z&to=2025-05-01T00:00:00Z", "invalid_to"},
		{"unknown kind", "/v1/posts?kind=photo,hologram", "invalid_kind"},
		{"bad place", "/v1/posts?place=abc", "invalid_place"},
		{"negative place", "/v1/posts?place=-3", "invalid_place"},
		{"limit zero", "/v1/posts?limit=0", "invalid_limit"},
		{"limit too big", "/v1/posts?limit=501", "invalid_limit"},
		{"limit not a number", "/v1/posts?limit=ten", "invalid_limit"},
		{"negative min_followers", "/v1/posts?min_followers=-1", "invalid_min_followers"},
		{"bbox of 3", "/v1/posts?bbox=1,2,3", "invalid_bbox"},
		{"bbox not numbers", "/v1/posts?bbox=a,b,c,d", "invalid_bbox"},
		{"bbox NaN", "/v1/posts?bbox=NaN,1,2,3", "invalid_bbox"},
		{"bbox inverted", "/v1/posts?bbox=2.3,48.9,2.2,48.8", "invalid_bbox"},
		{"bbox out of range", "/v1/posts?bbox=2,48,200,49", "invalid_bbox"},
		{"two areas", "/v1/posts?bbox=2.2,48.8,2.3,48.9&near=48.85,2.29&radius_m=100", "invalid_area"},
		{"near without radius", "/v1/posts?near=48.85,2.29", "invalid_radius_m"},
		{"radius without near", "/v1/posts?radius_m=100", "invalid_radius_m"},
		{"near out of range", "/v1/posts?near=95,2.29&radius_m=100", "invalid_near"},
		{"bad polygon", "/v1/posts?polygon=" + url.QueryEscape(`{"type":"Point","coordinates":[2,48]}`), "invalid_polygon"},
		{"bad post id", "/v1/posts/abc", "invalid_id"},
		{"bad place id", "/v1/places/0", "invalid_id"},
		{"bad author id", "/v1/authors/x/stats", "invalid_id"},
		{"bad analytics interval", "/v1/analytics?interval=week", "invalid_interval"},
		{"bad analytics limit", "/v1/analytics?limit=1001", "invalid_limit"},
		{"bad analytics from", "/v1/analytics?from=2025", "invalid_from"},
		{"bad analytics kind", "/v1/analytics?kind=x", "invalid_kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.get(key, tt.path).wantError(t, http.StatusBadRequest, geopulse.EINVALID, tt.reason)
		})
	}

	search := []struct {
		name, body, reason string
	}{
		{"unknown member", `{"plce":[1]}`, geopulse.ReasonInvalidField},
		{"wrong type", `{"limit":"ten"}`, geopulse.ReasonInvalidField},
		{"malformed", `{"limit":`, geopulse.ReasonMalformedJSON},
		{"two values", `{} {}`, geopulse.ReasonMalformedJSON},
		{"empty", ``, geopulse.ReasonMalformedJSON},
		{"bad bbox", `{"bbox":[1,2]}`, "invalid_bbox"},
		{"two areas", `{"bbox":[2.2,48.8,2.3,48.9],"near":{"lat":48.85,"lon":2.29},"radius_m":100}`, "invalid_area"},
		{"negative limit", `{"limit":-1}`, "invalid_limit"},
	}
	for _, tt := range search {
		t.Run("search "+tt.name, func(t *testing.T) {
			e.send(http.MethodPost, key, "/v1/posts/search", []byte(tt.body)).wantError(t, http.StatusBadRequest, geopulse.EINVALID, tt.reason)
		})
	}
}

func TestAuthorStats(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	p := influencer(newPost("s1", louvre, 2))
	e.ingest(key, p)
	p2 := newPost("s2", louvre, 1)
	p2.Author = p.Author
	p2.Author.Followers = 25_150
	e.ingest(key, p2)
	small := newPost("s3", louvre, 3) // 100 followers: no history shown
	e.ingest(key, small)
	e.get(key, fmt.Sprintf("/v1/authors/%d/stats", geopulse.AuthorID("test", small.Author.SourceID))).
		wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "below_influencer_threshold")

	var f feed
	e.get(key, "/v1/posts").decode(t, http.StatusOK, &f)
	authorID := f.Posts[0].Author.ID
	if authorID != fmt.Sprint(geopulse.AuthorID("test", "author-s1")) {
		t.Fatalf("author id %s", authorID)
	}
	var st struct {
		AuthorID string `json:"author_id"`
		Stats    []struct {
			Followers int64 `json:"followers"`
		} `json:"stats"`
	}
	e.get(key, "/v1/authors/"+authorID+"/stats").decode(t, http.StatusOK, &st)
	if st.AuthorID != authorID || len(st.Stats) == 0 || st.Stats[len(st.Stats)-1].Followers != 25_150 {
		t.Errorf("stats = %+v", st)
	}
	e.get(key, "/v1/authors/12345/stats").wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
}
