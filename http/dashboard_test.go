package http_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each answer of the sign-in flow.
type browser struct {
	t      *testing.T
	e      *env
	client *http.Client
	csrf   string // the page's token, once a page has been loaded
}

func newBrowser(t *testing.T, e *env) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, e: e, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; headers may be nil.
func (b *browser) do(method, path, body string, header map[string]string) response {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.e.url+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

var (
	loginTokenRE = regexp.MustCompile(`name="token" value="([^"]+)"`)
	csrfMetaRE   = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
)

// loginForm loads the sign-in page and returns its form token.
func (b *browser) loginForm() string {
	b.t.Helper()
	res := b.do(http.MethodGet, "/login", "", nil)
	if res.status != http.StatusOK {
		b.t.Fatalf("GET /login: %d %s", res.status, res.body)
	}
	m := loginTokenRE.FindSubmatch(res.body)
	if m == nil {
		b.t.Fatalf("no token in the login form: %s", res.body)
	}
	return string(m[1])
}

// postLogin posts the sign-in form.
func (b *browser) postLogin(token, key, next string, header map[string]string) response {
	b.t.Helper()
	form := url.Values{"token": {token}, "key": {key}, "next": {next}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return b.do(http.MethodPost, "/login", form.Encode(), h)
}

// login signs in with key and loads a page to learn its CSRF token.
func (b *browser) login(key string) {
	b.t.Helper()
	res := b.postLogin(b.loginForm(), key, "", nil)
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d %s", res.status, res.body)
	}
	page := b.do(http.MethodGet, "/app/places", "", nil)
	m := csrfMetaRE.FindSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		b.t.Fatalf("places page: %d, csrf meta found %v", page.status, m != nil)
	}
	b.csrf = string(m[1])
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookieHeader finds a Set-Cookie header of the answer by cookie name.
func setCookieHeader(res response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestDashboardSignIn(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")

	tests := []struct {
		name     string
		key      string
		token    func(good string) string
		next     string
		header   map[string]string
		status   int
		location string // on success
		message  string // on failure, shown on the page
	}{
		{"good key", key, same, "", nil, http.StatusSeeOther, "/app/places", ""},
		{"good key with spaces", "  " + key + "\n", same, "", nil, http.StatusSeeOther, "/app/places", ""},
		{"back to the page asked for", key, same, "/app/feed?place=3", nil, http.StatusSeeOther, "/app/feed?place=3", ""},
		{"never to another site", key, same, "https://evil.example/", nil, http.StatusSeeOther, "/app/places", ""},
		{"bad key", "gp_wrong", same, "", nil, http.StatusUnauthorized, "", "That API key is not valid."},
		{"empty key", "", same, "", nil, http.StatusUnauthorized, "", "Enter your workspace API key."},
		{"no form token", key, func(string) string { return "" }, "", nil, http.StatusForbidden, "", "The sign-in form expired"},
		{"wrong form token", key, func(string) string { return "forged" }, "", nil, http.StatusForbidden, "", "The sign-in form expired"},
		{"another site's form", key, same, "", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, "", "The sign-in form expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, e)
			res := b.postLogin(tt.token(b.loginForm()), tt.key, tt.next, tt.header)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if tt.status != http.StatusSeeOther {
				if !strings.Contains(string(res.body), tt.message) {
					t.Errorf("page does not say %q: %s", tt.message, res.body)
				}
				if b.cookie("gp_session") != nil {
					t.Error("a failed sign-in set a session cookie")
				}
				return
			}
			if got := res.header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			c := setCookieHeader(res, "gp_session")
			if c == nil {
				t.Fatal("no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
				t.Errorf("cookie flags: HttpOnly %v SameSite %v Path %q Secure %v", c.HttpOnly, c.SameSite, c.Path, c.Secure)
			}
			if c.MaxAge != int((12 * time.Hour).Seconds()) {
				t.Errorf("MaxAge = %d", c.MaxAge)
			}
			if strings.Contains(c.Value, key) || strings.Contains(string(res.body), key) {
				t.Error("the API key went back to the browser")
			}
		})
	}
}

func same(s string) string { return s }

func TestDashboardSecureCookie(t *testing.T) {
	tests := []struct {
		name   string
		secure bool
		header map[string]string
		want   bool
	}{
		{"plain http", false, nil, false},
		{"behind a TLS proxy", false, map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"configured", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(s *gphttp.Server) { s.Dashboard.SecureCookies = tt.secure })
			key := e.workspace("acme")
			b := newBrowser(t, e)
			res := b.postLogin(b.loginForm(), key, "", tt.header)
			c := setCookieHeader(res, "gp_session")
			if res.status != http.StatusSeeOther || c == nil {
				t.Fatalf("sign-in: %d, cookie %v", res.status, c)
			}
			if c.Secure != tt.want {
				t.Errorf("Secure = %v, want %v", c.Secure, tt.want)
			}
		})
	}
}

// adjustableClock is a test clock that the test moves forward.
type adjustableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *adjustableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *adjustableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestDashboardSessionExpiry(t *testing.T) {
	clk := &adjustableClock{t: now}
	e := newEnv(t, func(s *gphttp.Server) { s.Now = clk.Now })
	key := e.workspace("acme")
	b := newBrowser(t, e)
	b.login(key)

	b.do(http.MethodGet, "/v1/places", "", nil).decode(t, http.StatusOK, nil)
	clk.Advance(12*time.Hour - time.Second)
	b.do(http.MethodGet, "/v1/places", "", nil).decode(t, http.StatusOK, nil)
	clk.Advance(time.Second)
	b.do(http.MethodGet, "/v1/places", "", nil).wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, "")
	res := b.do(http.MethodGet, "/app/feed", "", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fapp%2Ffeed" {
		t.Errorf("expired page: %d to %q", res.status, res.header.Get("Location"))
	}
}

func TestDashboardLogout(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	b := newBrowser(t, e)
	b.login(key)
	old := b.cookie("gp_session")

	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if res := b.do(http.MethodPost, "/logout", "csrf=forged", h); res.status != http.StatusForbidden {
		t.Fatalf("sign-out without the token: %d", res.status)
	}
	b.do(http.MethodGet, "/v1/places", "", nil).decode(t, http.StatusOK, nil) // still signed in

	res := b.do(http.MethodPost, "/logout", "csrf="+url.QueryEscape(b.csrf), h)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
		t.Fatalf("sign-out: %d to %q", res.status, res.header.Get("Location"))
	}
	if c := setCookieHeader(res, "gp_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("cookie not cleared: %+v", c)
	}
	// The old cookie, replayed, is worthless: the session is gone server-side.
	r := e.do(request{method: http.MethodGet, path: "/v1/places", header: map[string]string{"Cookie": old.Name + "=" + old.Value}})
	r.wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, "")
}

func TestDashboardCSRF(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	b := newBrowser(t, e)
	b.login(key)
	body := `{"name":"Louvre","center":{"lat":48.8606,"lon":2.3376},"radius_m":200}`
	jsonCT := "application/json"

	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		bearer bool
		status int
	}{
		{"cookie read needs no token", http.MethodGet, "/v1/places", nil, false, http.StatusOK},
		{"cookie write without token", http.MethodPost, "/v1/places", map[string]string{"Content-Type": jsonCT}, false, http.StatusForbidden},
		{"cookie write with a wrong token", http.MethodPost, "/v1/places", map[string]string{"Content-Type": jsonCT, "X-CSRF-Token": "forged"}, false, http.StatusForbidden},
		{"cookie delete without token", http.MethodDelete, "/v1/places/1", nil, false, http.StatusForbidden},
		{"cookie write with the token", http.MethodPost, "/v1/places", map[string]string{"Content-Type": jsonCT, "X-CSRF-Token": "<csrf>"}, false, http.StatusCreated},
		{"bearer write needs no token", http.MethodPost, "/v1/places", map[string]string{"Content-Type": jsonCT}, true, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range tt.header {
				h[k] = strings.ReplaceAll(v, "<csrf>", b.csrf)
			}
			if tt.bearer {
				h["Authorization"] = "Bearer " + key
			}
			payload := ""
			if tt.method == http.MethodPost {
				payload = body
			}
			res := b.do(tt.method, tt.path, payload, h)
			if tt.status == http.StatusForbidden {
				res.wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "csrf")
				return
			}
			res.decode(t, tt.status, nil)
		})
	}
	var pl struct{ Places []place }
	b.do(http.MethodGet, "/v1/places", "", nil).decode(t, http.StatusOK, &pl)
	if len(pl.Places) != 2 {
		t.Errorf("%d places, want the 2 created with a token or a key", len(pl.Places))
	}
}

func TestDashboardCookieIsolation(t *testing.T) {
	e := newEnv(t)
	keyA, keyB := e.workspace("a"), e.workspace("b")
	pa := e.createVenue(keyA, "A's Louvre", louvre)
	b := newBrowser(t, e)
	b.login(keyB)
	var pl struct{ Places []place }
	b.do(http.MethodGet, "/v1/places", "", nil).decode(t, http.StatusOK, &pl)
	if len(pl.Places) != 0 {
		t.Errorf("B's session lists %d places", len(pl.Places))
	}
	b.do(http.MethodGet, "/v1/places/"+strconv.FormatInt(pa.ID, 10), "", nil).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
}

func TestDashboardPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ws := &geopulse.Workspace{Name: `Acme <script>alert(1)</script>`}
	if err := e.store.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	key := geopulse.NewAPIKey()
	if err := e.store.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)

	t.Run("signed out", func(t *testing.T) {
		for path, want := range map[string]string{
			"/":              "/login",
			"/app/places":    "/login?next=%2Fapp%2Fplaces",
			"/app/analytics": "/login?next=%2Fapp%2Fanalytics",
		} {
			res := b.do(http.MethodGet, path, "", nil)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != want {
				t.Errorf("%s: %d to %q, want %q", path, res.status, res.header.Get("Location"), want)
			}
		}
	})
	b.login(key)
	for _, path := range []string{"/login", "/app/places", "/app/feed", "/app/analytics", "/app/audiences"} {
		t.Run(path, func(t *testing.T) {
			res := b.do(http.MethodGet, path, "", nil)
			if path == "/login" { // signed in already
				if res.status != http.StatusSeeOther || res.header.Get("Location") != "/app/places" {
					t.Fatalf("%d to %q", res.status, res.header.Get("Location"))
				}
				res = newBrowser(t, e).do(http.MethodGet, path, "", nil)
			}
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			csp := res.header.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "style-src 'self'", "img-src 'self' data: https:", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "same-origin",
				"X-Frame-Options":        "DENY",
				"Cache-Control":          "no-store",
			} {
				if got := res.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			page := string(res.body)
			if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|style=`).MatchString(page) {
				t.Errorf("page has inline script, handler or style:\n%s", page)
			}
			if path != "/login" {
				if strings.Contains(page, "<script>alert(1)") || !strings.Contains(page, "Acme &lt;script&gt;alert(1)&lt;/script&gt;") {
					t.Error("workspace name not escaped")
				}
				if strings.Contains(page, key) {
					t.Error("page holds the API key")
				}
			}
		})
	}
}

var (
	dataScopesRE = regexp.MustCompile(`<body [^>]*data-scopes="([^"]*)"`)
	dataRoleRE   = regexp.MustCompile(`<body [^>]*data-role="([^"]*)"`)
	memberRE     = regexp.MustCompile(`<span class="member"[^>]*>(.*?)</span></span>`)
	tagRE        = regexp.MustCompile(`<[^>]+>`)
)

// TestDashboardRole checks that every page says who is signed in and
// lists the session's effective scopes on <body>, which app.css uses to
// hide the controls the role may not use; and that a write the page hid
// is still refused by the API with the reason the page turns into a toast.
func TestDashboardRole(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	for _, tt := range []struct {
		name       string
		key        geopulse.APIKey // zero: the workspace's unnamed owner key
		wantScopes string
		wantMember string // the header's text, tags stripped, entities as served
		writes     bool   // may create a place
	}{
		{"owner", geopulse.APIKey{}, "read posts:write places:write audiences:write admin", "unnamed key · owner", true},
		{"analyst", geopulse.APIKey{Name: "ana", Role: geopulse.RoleAnalyst}, "read posts:write places:write audiences:write", "ana · analyst", true},
		{"viewer", geopulse.APIKey{Name: "vic@acme.com", Role: geopulse.RoleViewer}, "read", "vic@acme.com · viewer", false},
		{"narrowed analyst", geopulse.APIKey{Name: "ingest-bot", Role: geopulse.RoleAnalyst, Scopes: []geopulse.Scope{geopulse.ScopeRead, geopulse.ScopePosts}}, "read posts:write", "ingest-bot · analyst", false},
		{"name is escaped", geopulse.APIKey{Name: `<b>eve</b>`, Role: geopulse.RoleViewer}, "read", "&lt;b&gt;eve&lt;/b&gt; · viewer", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := owner
			if tt.key.Role != "" {
				key = e.addKey(owner, tt.key).Secret
			}
			b := newBrowser(t, e)
			b.login(key)
			for _, path := range []string{"/app/places", "/app/feed", "/app/analytics", "/app/audiences"} {
				res := b.do(http.MethodGet, path, "", nil)
				if res.status != http.StatusOK {
					t.Fatalf("%s: status %d", path, res.status)
				}
				page := string(res.body)
				if got := submatch(dataScopesRE, page); got != tt.wantScopes {
					t.Errorf("%s: data-scopes = %q, want %q", path, got, tt.wantScopes)
				}
				wantRole := "owner"
				if tt.key.Role != "" {
					wantRole = string(tt.key.Role)
				}
				if got := submatch(dataRoleRE, page); got != wantRole {
					t.Errorf("%s: data-role = %q, want %q", path, got, wantRole)
				}
				if got := strings.TrimSpace(tagRE.ReplaceAllString(submatch(memberRE, page), "")); got != tt.wantMember {
					t.Errorf("%s: header says %q, want %q", path, got, tt.wantMember)
				}
			}
			res := b.do(http.MethodPost, "/v1/places", `{"name":"x","center":{"lat":48.86,"lon":2.34},"radius_m":50}`,
				map[string]string{"Content-Type": "application/json", "X-CSRF-Token": b.csrf})
			if tt.writes {
				res.decode(t, http.StatusCreated, nil)
			} else {
				res.wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
			}
		})
	}
}

// submatch returns re's first group in s, or "" if re does not match.
func submatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func TestDashboardStatic(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t, e)
	page := b.do(http.MethodGet, "/login", "", nil)
	m := regexp.MustCompile(`href="(/static/css/app\.css\?v=[0-9a-f]+)"`).FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("no versioned stylesheet link in %s", page.body)
	}
	tests := []struct {
		name, path  string
		header      map[string]string
		status      int
		ctype       string
		cache       string
		encoding    string
		bodyContain string
	}{
		{"versioned asset is immutable", string(m[1]), nil, http.StatusOK, "text/css", "immutable", "", "--accent"},
		{"unversioned app file revalidates", "/static/js/lib.js", nil, http.StatusOK, "text/javascript", "no-cache", "", "export function h("},
		{"vendored library is cached", "/static/vendor/leaflet/leaflet.js", nil, http.StatusOK, "text/javascript", "max-age=86400", "", "Leaflet"},
		{"licence is served", "/static/vendor/leaflet/LICENSE", nil, http.StatusOK, "text/plain", "", "", "BSD"},
		{"basemap gzipped", "/static/vendor/world-atlas/countries-50m.json", map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK, "application/json", "", "gzip", ""},
		{"missing file", "/static/nope.js", nil, http.StatusNotFound, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A transport of its own, so that Go does not add and strip gzip by itself.
			req, _ := http.NewRequest(http.MethodGet, e.url+tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body io.Reader = res.Body
			if res.StatusCode != tt.status {
				t.Fatalf("status %d", res.StatusCode)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Fatalf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			if tt.encoding == "gzip" {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			data, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(res.Header.Get("Cache-Control"), tt.cache) {
				t.Errorf("Content-Type %q, Cache-Control %q", res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if !strings.Contains(string(data), tt.bodyContain) {
				t.Errorf("body lacks %q", tt.bodyContain)
			}
			if tt.encoding == "gzip" && !json.Valid(data) {
				t.Error("decompressed basemap is not JSON")
			}
			// Revalidation answers 304 without a body.
			req.Header.Set("If-None-Match", res.Header.Get("ETag"))
			res2, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res2.Body.Close()
			if res2.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d", res2.StatusCode)
			}
		})
	}
}

func TestDashboardDisabled(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.Dashboard.Disabled = true })
	key := e.workspace("acme")
	for _, path := range []string{"/", "/login", "/app/places", "/static/css/app.css"} {
		e.get("", path).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
	}
	e.get(key, "/v1/places").decode(t, http.StatusOK, nil)
}

func TestDashboardConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  gphttp.DashboardConfig
		bad  bool
	}{
		{"zero", gphttp.DashboardConfig{}, false},
		{"tiles", gphttp.DashboardConfig{TileURL: "https://tiles.example.com/{z}/{x}/{y}.png"}, false},
		{"tiles without placeholders", gphttp.DashboardConfig{TileURL: "https://tiles.example.com/"}, true},
		{"negative ttl", gphttp.DashboardConfig{SessionTTL: -time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err != nil) != tt.bad {
				t.Errorf("Validate() = %v, want bad %v", err, tt.bad)
			}
		})
	}
}

func TestDashboardTileURL(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) {
		s.Dashboard.TileURL = "http://tiles.internal:8081/{z}/{x}/{y}.png"
		s.Dashboard.TileAttribution = "© Tiles <b>Inc</b>"
	})
	key := e.workspace("acme")
	b := newBrowser(t, e)
	b.login(key)
	res := b.do(http.MethodGet, "/app/places", "", nil)
	if !strings.Contains(res.header.Get("Content-Security-Policy"), "img-src 'self' data: https: http://tiles.internal:8081") {
		t.Errorf("CSP does not allow the tile server: %q", res.header.Get("Content-Security-Policy"))
	}
	page := string(res.body)
	if !strings.Contains(page, `content="http://tiles.internal:8081/{z}/{x}/{y}.png"`) || !strings.Contains(page, "© Tiles &lt;b&gt;Inc&lt;/b&gt;") {
		t.Errorf("tile settings not passed to the page:\n%s", page)
	}
}
