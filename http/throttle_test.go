package http_test

import (
	"net/http"
	"testing"

	gphttp "github.com/geopulse/geopulse/http"
)

// TestKeyRateLimit: each API key has its own bucket; an empty one answers
// 429 with Retry-After, and other keys are unaffected. The test clock
// stands still, so no token comes back during the test.
func TestKeyRateLimit(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.KeyRate = 1 }) // bursts of 2
	a, b := e.workspace("a"), e.workspace("b")
	for i := range 2 {
		if res := e.get(a, "/v1/places"); res.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, res.status)
		}
	}
	res := e.get(a, "/v1/places")
	res.wantError(t, http.StatusTooManyRequests, "too_many_requests", "")
	if res.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if res := e.get(b, "/v1/places"); res.status != http.StatusOK {
		t.Fatalf("another key: %d", res.status)
	}
}

// TestLoginThrottling: after five failed sign-ins from one address, even
// the right key is refused for a while; a success costs nothing.
func TestLoginThrottling(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	// Every attempt from a fresh browser, all from the same address.
	attempt := func(k string) response {
		b := newBrowser(t, e)
		return b.postLogin(b.loginForm(), k, "", nil)
	}
	for range 3 {
		if res := attempt(key); res.status != http.StatusSeeOther {
			t.Fatalf("good sign-in: %d", res.status)
		}
	}
	for i := range 5 {
		if res := attempt("gp_wrong"); res.status != http.StatusUnauthorized {
			t.Fatalf("bad sign-in %d: %d", i, res.status)
		}
	}
	res := attempt(key)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
}
