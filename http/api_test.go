package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

func TestAuth(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")

	tests := []struct {
		name   string
		path   string
		header string // Authorization
		status int
	}{
		{"no key", "/v1/places", "", http.StatusUnauthorized},
		{"unknown key", "/v1/places", "Bearer gp_unknown", http.StatusUnauthorized},
		{"wrong scheme", "/v1/places", "Basic " + key, http.StatusUnauthorized},
		{"empty bearer", "/v1/places", "Bearer ", http.StatusUnauthorized},
		{"no key on a missing post", "/v1/posts/1", "", http.StatusUnauthorized},
		{"good key", "/v1/places", "Bearer " + key, http.StatusOK},
		{"scheme is case-insensitive", "/v1/places", "bearer " + key, http.StatusOK},
		{"health is public", "/healthz", "", http.StatusOK},
		{"readiness is public", "/readyz", "", http.StatusOK},
		{"openapi is public", "/v1/openapi.json", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request{method: http.MethodGet, path: tt.path}
			if tt.header != "" {
				req.header = map[string]string{"Authorization": tt.header}
			}
			res := e.do(req)
			if tt.status == http.StatusUnauthorized {
				res.wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, "")
				if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				return
			}
			res.decode(t, tt.status, nil)
		})
	}
}

func TestWorkspaceIsolation(t *testing.T) {
	e := newEnv(t)
	keyA, keyB := e.workspace("a"), e.workspace("b")
	pa := e.createVenue(keyA, "A's Louvre", louvre)
	e.ingest(keyA, influencer(newPost("p1", louvre, 1)), influencer(newPost("p2", louvre, 2)))

	var fa feed
	e.get(keyA, "/v1/posts").decode(t, http.StatusOK, &fa)
	if len(fa.Posts) != 2 {
		t.Fatalf("A sees %d posts, want 2", len(fa.Posts))
	}
	postPath := "/v1/posts/" + fa.Posts[0].ID
	placePath := fmt.Sprintf("/v1/places/%d", pa.ID)

	t.Run("B cannot touch A's place", func(t *testing.T) {
		e.get(keyB, placePath).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
		e.send(http.MethodPatch, keyB, placePath, map[string]any{"name": "mine"}).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
		e.do(request{method: http.MethodDelete, path: placePath, key: keyB}).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
		var p place
		e.get(keyA, placePath).decode(t, http.StatusOK, &p)
		if p.Name != "A's Louvre" {
			t.Errorf("A's place is now %q", p.Name)
		}
	})
	t.Run("B sees none of A's places or posts", func(t *testing.T) {
		var pl struct{ Places []place }
		e.get(keyB, "/v1/places").decode(t, http.StatusOK, &pl)
		if len(pl.Places) != 0 {
			t.Errorf("B lists %d places", len(pl.Places))
		}
		if got := e.feedIDs(keyB, ""); len(got) != 0 {
			t.Errorf("B's feed = %v", got)
		}
		e.get(keyB, postPath).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
		statsPath := "/v1/authors/" + fa.Posts[0].Author.ID + "/stats"
		e.get(keyA, statsPath).decode(t, http.StatusOK, new(map[string]any))
		e.get(keyB, statsPath).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
		var a struct{ Posts, Authors int64 }
		e.get(keyB, "/v1/analytics").decode(t, http.StatusOK, &a)
		if a.Posts != 0 || a.Authors != 0 {
			t.Errorf("B's analytics = %+v", a)
		}
		// Naming A's place explicitly does not help either.
		res := e.get(keyB, fmt.Sprintf("/v1/posts?place=%d", pa.ID))
		if res.status == http.StatusOK {
			var f feed
			res.decode(t, http.StatusOK, &f)
			if len(f.Posts) != 0 {
				t.Errorf("B's feed of A's place has %d posts", len(f.Posts))
			}
		} else if res.status != http.StatusNotFound && res.status != http.StatusBadRequest {
			t.Errorf("B's feed of A's place: status %d", res.status)
		}
	})
	t.Run("place ids of another workspace are not shown", func(t *testing.T) {
		pb := e.createVenue(keyB, "B's Louvre", louvre)
		var fb feed
		e.get(keyB, "/v1/posts").decode(t, http.StatusOK, &fb)
		if len(fb.Posts) != 2 {
			t.Fatalf("B sees %d posts after creating its place, want 2", len(fb.Posts))
		}
		for _, p := range fb.Posts {
			if len(p.PlaceIDs) != 1 || p.PlaceIDs[0] != pb.ID {
				t.Errorf("B sees place_ids %v, want [%d]", p.PlaceIDs, pb.ID)
			}
		}
		var one post
		e.get(keyB, postPath).decode(t, http.StatusOK, &one)
		if len(one.PlaceIDs) != 1 || one.PlaceIDs[0] != pb.ID {
			t.Errorf("B sees place_ids %v on one post, want [%d]", one.PlaceIDs, pb.ID)
		}
	})
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, geopulse.ENOTFOUND},
		{"unknown v1 path", http.MethodGet, "/v1/nope", http.StatusNotFound, geopulse.ENOTFOUND},
		{"PUT on places", http.MethodPut, "/v1/places", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"DELETE on posts", http.MethodDelete, "/v1/posts", http.StatusMethodNotAllowed, "method_not_allowed"},
		{"POST on health", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(request{method: tt.method, path: tt.path, key: key})
			res.wantError(t, tt.status, tt.code, "")
			if tt.status == http.StatusMethodNotAllowed && res.header.Get("Allow") == "" {
				t.Error("405 without Allow header")
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.MaxBodyBytes = 4 << 10 })
	key := e.workspace("acme")

	var posts []*geopulse.Post
	for i := range 40 { // ~10 KiB of NDJSON
		posts = append(posts, newPost(fmt.Sprintf("big%02d", i), louvre, 1))
	}
	big := ndjson(posts...)
	if len(big) <= 4<<10 {
		t.Fatalf("test body is only %d bytes", len(big))
	}
	var zbig bytes.Buffer
	zw := gzip.NewWriter(&zbig)
	zw.Write(bytes.Repeat(big, 4)) // small compressed, 40 KiB decompressed
	zw.Close()
	if zbig.Len() > 4<<10 {
		t.Fatalf("compressed test body is %d bytes", zbig.Len())
	}

	tests := []struct {
		name string
		req  request
	}{
		{"with Content-Length", request{method: http.MethodPost, path: "/v1/posts", body: big}},
		{"chunked", request{method: http.MethodPost, path: "/v1/posts", body: big, chunked: true}},
		{"gzip bomb", request{method: http.MethodPost, path: "/v1/posts", body: zbig.Bytes(), header: map[string]string{"Content-Encoding": "gzip"}}},
		{"place", request{method: http.MethodPost, path: "/v1/places", body: append([]byte(`{"name":"`), append(bytes.Repeat([]byte("x"), 5<<10), `"}`...)...)}},
		{"import", request{method: http.MethodPost, path: "/v1/places/import", body: bytes.Repeat([]byte(" "), 5<<10)}},
		{"search", request{method: http.MethodPost, path: "/v1/posts/search", body: bytes.Repeat([]byte(" "), 5<<10), chunked: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.key = key
			e.do(tt.req).wantError(t, http.StatusRequestEntityTooLarge, geopulse.ETOOLARGE, geopulse.ReasonTooLarge)
		})
	}
}

type panicIngester struct{}

func (panicIngester) Ingest(context.Context, []*geopulse.Post) ([]error, error) {
	panic("boom")
}

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.Ingester = panicIngester{} })
	key := e.workspace("acme")
	res := e.do(request{method: http.MethodPost, path: "/v1/posts", key: key, body: ndjson(newPost("p", louvre, 1))})
	e2 := res.wantError(t, http.StatusInternalServerError, geopulse.EINTERNAL, "")
	if strings.Contains(e2.Error.Message, "boom") {
		t.Errorf("panic value leaked: %q", e2.Error.Message)
	}
	if !strings.Contains(e.logs.String(), "boom") {
		t.Error("panic not logged")
	}
	e.get(key, "/v1/places").decode(t, http.StatusOK, nil) // still serving
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.get(key, "/v1/places")
	e.get(key, "/v1/places")
	e.get("", "/v1/places")
	e.get(key, "/no/such/path")

	mfs, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var histograms int
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "geopulse_http_requests_total":
				counts[labels["route"]+" "+labels["code"]] = m.GetCounter().GetValue()
			case "geopulse_http_request_duration_seconds":
				histograms++
			}
		}
	}
	want := map[string]float64{
		"GET /v1/places 200": 2,
		"GET /v1/places 401": 1,
		"unmatched 404":      1,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if histograms == 0 {
		t.Error("no duration histogram")
	}
}

// TestLogsHoldNoPersonalData: captions, coordinates, search text and keys
// must never reach the logs.
func TestLogsHoldNoPersonalData(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	p := newPost("secret", geopulse.LatLon{Lat: 48.86061234, Lon: 2.33761234}, 1)
	p.Caption = "my-secret-caption"
	e.ingest(key, p)
	e.get(key, "/v1/posts?q=my-secret-search&near=48.86069999,2.33769999&radius_m=100")
	e.get(key, "/v1/posts?near=48.86068888,2.33768888")

	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"GET /v1/posts"`) {
		t.Fatalf("no access log: %s", logs)
	}
	for _, secret := range []string{"my-secret", "48.8606", "2.3376", key} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func TestReady(t *testing.T) {
	tests := []struct {
		name   string
		ready  func(context.Context) error
		status int
	}{
		{"no check", nil, http.StatusOK},
		{"ready", func(context.Context) error { return nil }, http.StatusOK},
		{"not ready", func(context.Context) error { return fmt.Errorf("store closed") }, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(s *gphttp.Server) { s.Ready = tt.ready })
			var st struct{ Status string }
			e.get("", "/readyz").decode(t, tt.status, &st)
			if st.Status == "" || strings.Contains(string(e.get("", "/readyz").body), "store closed") {
				t.Errorf("readyz body %+v", st)
			}
		})
	}
}

func TestHTTPServer(t *testing.T) {
	s := (&gphttp.Server{}).HTTPServer(":0")
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded server: %+v", s)
	}
	if s.Handler == nil {
		t.Error("no handler")
	}
}
