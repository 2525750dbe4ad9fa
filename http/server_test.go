package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/audience"
	"github.com/geopulse/geopulse/duckdb"
	gphttp "github.com/geopulse/geopulse/http"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/source/canonical"
	"github.com/prometheus/client_golang/prometheus"
)

// now is the clock of every test: posts are taken in the days before it.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// Test places: two venues in Paris about 3 km apart.
var (
	louvre = geopulse.LatLon{Lat: 48.8606, Lon: 2.3376}
	eiffel = geopulse.LatLon{Lat: 48.8584, Lon: 2.2945}
)

// env is a real API over a real DuckDB store and pipeline.
type env struct {
	t        testing.TB
	url      string
	store    *duckdb.DB
	server   *gphttp.Server
	registry *prometheus.Registry
	logs     *syncBuffer
}

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newEnv starts the API; configure, if given, adjusts the Server before it
// is served.
func newEnv(t testing.TB, configure ...func(*gphttp.Server)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "geopulse.duckdb"), duckdb.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pl, err := pipeline.New(ctx, db, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: db, registry: prometheus.NewRegistry(), logs: &syncBuffer{}}
	e.server = &gphttp.Server{
		Logger:     slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: e.registry,
		Now:        clock,
		Workspaces: db,
		Places:     pl.Places(),
		Posts:      db,
		Analytics:  db,
		Audiences:  &audience.Service{Store: db, Now: clock},
		Ingester:   pl,
		// The test clock stands still, so a rate limit would never
		// refill: tests of the limit set their own.
		KeyRate: -1,
	}
	for _, f := range configure {
		f(e.server)
	}
	ts := httptest.NewServer(e.server.Handler())
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// workspace creates a workspace and returns an API key for it.
func (e *env) workspace(name string) string {
	e.t.Helper()
	ctx := context.Background()
	ws := &geopulse.Workspace{Name: name}
	if err := e.store.CreateWorkspace(ctx, ws); err != nil {
		e.t.Fatal(err)
	}
	key := geopulse.NewAPIKey()
	if err := e.store.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		e.t.Fatal(err)
	}
	return key
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// request is what do sends; zero fields are left out.
type request struct {
	method, path, key string
	body              []byte
	header            map[string]string
	chunked           bool // send the body without Content-Length
}

func (e *env) do(req request) response {
	e.t.Helper()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
		if req.chunked {
			body = io.MultiReader(body) // hides the length from net/http
		}
	}
	r, err := http.NewRequest(req.method, e.url+req.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if req.key != "" {
		r.Header.Set("Authorization", "Bearer "+req.key)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(key, path string) response {
	e.t.Helper()
	return e.do(request{method: http.MethodGet, path: path, key: key})
}

// send sends v (raw bytes, or a value encoded as JSON).
func (e *env) send(method, key, path string, v any) response {
	e.t.Helper()
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(request{method: method, path: path, key: key, body: b, header: map[string]string{"Content-Type": "application/json"}})
}

// decode decodes the body into v after checking the status.
func (r response) decode(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// apiError is the error envelope.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks an error answer.
func (r response) wantError(t testing.TB, status int, code, reason string) apiError {
	t.Helper()
	var e apiError
	r.decode(t, status, &e)
	if e.Error.Code != code || e.Error.Reason != reason || e.Error.Message == "" {
		t.Fatalf("error = %+v, want code %q reason %q and a message", e.Error, code, reason)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	return e
}

// Response shapes, as a client would declare them.
type (
	place struct {
		ID        int64            `json:"id"`
		Name      string           `json:"name"`
		Category  string           `json:"category"`
		Brand     string           `json:"brand"`
		Groups    []string         `json:"groups"`
		Center    *geopulse.LatLon `json:"center"`
		RadiusM   *float64         `json:"radius_m"`
		Geometry  json.RawMessage  `json:"geometry"`
		BBox      []float64        `json:"bbox"`
		CreatedAt time.Time        `json:"created_at"`
		UpdatedAt time.Time        `json:"updated_at"`
	}
	post struct {
		ID       string `json:"id"`
		Source   string `json:"source"`
		SourceID string `json:"source_id"`
		Kind     string `json:"kind"`
		TakenAt  time.Time
		Location struct {
			Lat, Lon float64
		} `json:"location"`
		Caption  string   `json:"caption"`
		Hashtags []string `json:"hashtags"`
		Likes    int64    `json:"likes"`
		PlaceIDs []int64  `json:"place_ids"`
		Author   struct {
			ID        string `json:"id"`
			Handle    string `json:"handle"`
			Followers int64  `json:"followers"`
		} `json:"author"`
	}
	feed struct {
		Posts      []post `json:"posts"`
		NextCursor string `json:"next_cursor"`
	}
	batchItem struct {
		Index   int             `json:"index"`
		Status  string          `json:"status"`
		ID      json.RawMessage `json:"id"`
		Code    string          `json:"code"`
		Reason  string          `json:"reason"`
		Message string          `json:"message"`
	}
	ingestResult struct {
		Accepted int         `json:"accepted"`
		Rejected int         `json:"rejected"`
		Items    []batchItem `json:"items"`
	}
)

// createVenue creates a venue of radius 200 m and returns it.
// createAudience saves an audience and returns its id.
func (e *env) createAudience(key, name string) string {
	e.t.Helper()
	var a struct{ ID int64 }
	e.send(http.MethodPost, key, "/v1/audiences", map[string]any{"name": name, "criteria": map[string]any{"within_days": 30}}).
		decode(e.t, http.StatusCreated, &a)
	return strconv.FormatInt(a.ID, 10)
}

func (e *env) createVenue(key, name string, c geopulse.LatLon, groups ...string) place {
	e.t.Helper()
	var p place
	e.send(http.MethodPost, key, "/v1/places", map[string]any{
		"name": name, "category": "museum", "groups": groups, "center": c, "radius_m": 200,
	}).decode(e.t, http.StatusCreated, &p)
	return p
}

// influencer returns p with its author above the default influencer
// threshold: only such authors' follower history is shown.
func influencer(p *geopulse.Post) *geopulse.Post {
	p.Author.Followers = 25_000
	return p
}

// newPost returns a valid post at c, taken hoursAgo hours before now.
func newPost(id string, c geopulse.LatLon, hoursAgo int) *geopulse.Post {
	return &geopulse.Post{
		Source:   "test",
		SourceID: id,
		Kind:     geopulse.KindPhoto,
		TakenAt:  now.Add(-time.Duration(hoursAgo) * time.Hour),
		Lat:      c.Lat,
		Lon:      c.Lon,
		Caption:  "post " + id,
		Author:   geopulse.Author{SourceID: "author-" + id, Handle: "user_" + id, Followers: 100},
	}
}

// ndjson encodes posts in the canonical schema, one per line.
func ndjson(posts ...*geopulse.Post) []byte {
	var b []byte
	for _, p := range posts {
		b = canonical.AppendJSON(b, p)
		b = append(b, '\n')
	}
	return b
}

// ingest posts them and requires every one to be accepted.
func (e *env) ingest(key string, posts ...*geopulse.Post) {
	e.t.Helper()
	var res ingestResult
	e.do(request{method: http.MethodPost, path: "/v1/posts", key: key, body: ndjson(posts...),
		header: map[string]string{"Content-Type": "application/x-ndjson"}}).decode(e.t, http.StatusOK, &res)
	if res.Accepted != len(posts) {
		e.t.Fatalf("accepted %d of %d posts: %+v", res.Accepted, len(posts), res.Items)
	}
}

// feedIDs returns the source ids of the whole feed for a query, following
// cursors, in order.
func (e *env) feedIDs(key, query string) []string {
	e.t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var f feed
		e.get(key, "/v1/posts?"+q).decode(e.t, http.StatusOK, &f)
		for _, p := range f.Posts {
			ids = append(ids, p.SourceID)
		}
		if f.NextCursor == "" {
			return ids
		}
		cursor = f.NextCursor
	}
	e.t.Fatal("feed does not end")
	return nil
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}
