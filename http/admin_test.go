package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

// TestAdminAuth: the operator routes open only with the admin token; a
// workspace key never opens them. (The routes' work against a real stream
// is tested end to end in cmd/geopulse.)
func TestAdminAuth(t *testing.T) {
	const token = "s3cret-admin"
	tests := []struct {
		name   string
		admin  string // Server.AdminToken
		key    func(e *env) string
		status int
	}{
		{"disabled without a token", "", func(*env) string { return token }, http.StatusForbidden},
		{"no credentials", token, func(*env) string { return "" }, http.StatusUnauthorized},
		{"wrong token", token, func(*env) string { return "nope" }, http.StatusUnauthorized},
		{"a workspace key", token, func(e *env) string { return e.workspace("acme") }, http.StatusUnauthorized},
		{"the admin token, no stream", token, func(*env) string { return token }, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(s *gphttp.Server) { s.AdminToken = tt.admin })
			key := tt.key(e)
			for _, res := range []response{
				e.get(key, "/v1/admin/deadletters"),
				e.send(http.MethodPost, key, "/v1/admin/deadletters/redrive", map[string]any{"all": true}),
			} {
				var body apiError
				res.decode(t, tt.status, &body)
				if body.Error.Code == "" {
					t.Errorf("no error code in %s", res.body)
				}
			}
		})
	}
}

// TestTooManyRequestsRetryAfter: ETOOMANY answers 429 with Retry-After.
func TestTooManyRequestsRetryAfter(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.Ingester = refusingIngester{} })
	key := e.workspace("acme")
	res := e.do(request{method: http.MethodPost, path: "/v1/posts", key: key,
		body:   []byte(`{"source":"t","source_id":"1","taken_at":"2025-05-01T00:00:00Z","location":{"lat":1,"lon":1},"author":{"source_id":"a"}}` + "\n"),
		header: map[string]string{"Content-Type": "application/x-ndjson"}})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 429 with Retry-After", res.status, res.header.Get("Retry-After"))
	}
}

// refusingIngester is intake under backpressure: every batch is refused.
type refusingIngester struct{}

func (refusingIngester) Ingest(context.Context, []*geopulse.Post) ([]error, error) {
	return nil, geopulse.Errorf(geopulse.ETOOMANY, "Processing is behind intake; retry in a moment.")
}
