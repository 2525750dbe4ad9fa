package http

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/http/web"
)

// Dashboard defaults.
const (
	// DefaultSessionTTL is how long a dashboard sign-in lasts: a working day.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultMaxSessions bounds the in-memory session table.
	DefaultMaxSessions = 10_000
	// DefaultMaxStreams bounds concurrent live streams (GET /v1/posts/stream):
	// each polls the store once per StreamPollInterval.
	DefaultMaxStreams = 256
	// DefaultStreamPollInterval is how often a live stream asks the store
	// for new posts.
	DefaultStreamPollInterval = time.Second
)

// DashboardConfig configures the web dashboard served beside the API, and
// the live feed (GET /v1/posts/stream) it is built on.
type DashboardConfig struct {
	// Disabled serves the API alone: no pages, no sign-in. The live feed
	// stays available to API keys.
	Disabled bool

	// TileURL is an optional XYZ tile service drawn under the places, such as
	// "https://tiles.example.com/{z}/{x}/{y}.png" ({s} subdomains allowed).
	// Empty: the offline basemap of country outlines only, which needs no
	// network. Its origin is added to the pages' img-src policy.
	TileURL string
	// TileAttribution is the credit line the tile service requires.
	TileAttribution string

	// SecureCookies marks the session cookie Secure on every answer. Without
	// it the cookie is Secure when the request came over TLS, directly or
	// through a proxy that says X-Forwarded-Proto: https.
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts; 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// MaxSessions bounds live sessions; past it the oldest is signed out.
	// 0 means DefaultMaxSessions.
	MaxSessions int

	// StreamPollInterval is how often each live stream polls the store;
	// 0 means DefaultStreamPollInterval.
	StreamPollInterval time.Duration
	// MaxStreams bounds concurrent live streams; 0 means DefaultMaxStreams.
	MaxStreams int
}

// Validate reports every invalid field at once.
func (c DashboardConfig) Validate() error {
	var errs []error
	if c.TileURL != "" {
		if _, err := tileOrigin(c.TileURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.SessionTTL < 0 {
		errs = append(errs, errors.New("dashboard session ttl: must not be negative"))
	}
	if c.MaxSessions < 0 || c.MaxStreams < 0 || c.StreamPollInterval < 0 {
		errs = append(errs, errors.New("dashboard limits: must not be negative"))
	}
	return errors.Join(errs...)
}

// tileOrigin checks a tile URL template and returns its origin
// (scheme://host), which the pages' img-src must allow.
func tileOrigin(tmpl string) (string, error) {
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(tmpl))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("dashboard tile url %q: must be an absolute http or https URL", tmpl)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(tmpl, p) {
			return "", fmt.Errorf("dashboard tile url %q: must contain {z}, {x} and {y}", tmpl)
		}
	}
	// A host starting with {s} (subdomains a, b, c) needs every subdomain.
	host := u.Host
	if strings.Contains(tmpl, "://{s}.") {
		host = "*." + strings.TrimPrefix(host, "s.")
	}
	return u.Scheme + "://" + host, nil
}

// dashboard is the state behind the pages and the live feed: parsed
// templates, the static files, the session table and the stream count.
//
// The dashboard is a client of the /v1 API like any other: its pages are
// shells (templates in web/) whose scripts call the API with the session
// cookie instead of a key (authenticateKeyOrSession). So it can never see
// more than the API shows, and its routes stay out of the API's route
// table and OpenAPI document. Every page is served with a strict
// Content-Security-Policy: no inline script or style, images from this
// server, data: and https: only (media is on the platforms' CDNs).
type dashboard struct {
	cfg      DashboardConfig
	pages    map[string]*template.Template // by page name
	assets   map[string]*asset             // by path under /static/
	sessions *sessionStore
	streams  atomic.Int64
	csp      string

	stop     chan struct{} // closed on shutdown: live streams end
	stopOnce sync.Once
}

// asset is one static file. Its gzip form is made on first request, so
// servers that never serve the dashboard (tests, workers) never pay for it.
type asset struct {
	body  []byte
	ctype string
	etag  string // quoted, as in the header
	ver   string // short content hash, for ?v= cache busting

	once sync.Once
	gz   []byte // nil: not worth compressing
}

func newDashboard(cfg DashboardConfig, logger *slog.Logger) *dashboard {
	d := &dashboard{cfg: cfg, assets: map[string]*asset{}, pages: map[string]*template.Template{}, stop: make(chan struct{})}
	if d.cfg.SessionTTL <= 0 {
		d.cfg.SessionTTL = DefaultSessionTTL
	}
	if d.cfg.MaxSessions <= 0 {
		d.cfg.MaxSessions = DefaultMaxSessions
	}
	if d.cfg.MaxStreams <= 0 {
		d.cfg.MaxStreams = DefaultMaxStreams
	}
	if d.cfg.StreamPollInterval <= 0 {
		d.cfg.StreamPollInterval = DefaultStreamPollInterval
	}
	imgSrc := "'self' data: https:"
	if cfg.TileURL != "" {
		origin, err := tileOrigin(cfg.TileURL)
		if err != nil {
			logger.Warn("dashboard tile url ignored", slog.Any(keyError, err))
			d.cfg.TileURL = ""
		} else if strings.HasPrefix(origin, "http:") {
			imgSrc += " " + origin
		}
	}
	d.csp = strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + imgSrc,
		"connect-src 'self'",
		"font-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	d.sessions = newSessionStore(d.cfg.MaxSessions)

	static := web.Static()
	err := fs.WalkDir(static, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ver := hex.EncodeToString(sum[:6])
		ctype := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			ctype = "text/javascript; charset=utf-8"
		case ".json":
			ctype = "application/json"
		case "":
			ctype = "text/plain; charset=utf-8" // LICENSE, VERSIONS
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		d.assets[p] = &asset{body: b, ctype: ctype, etag: `"` + ver + `"`, ver: ver}
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("http: read embedded dashboard assets: %v", err)) // embedded: cannot fail at run time
	}

	funcs := template.FuncMap{"asset": d.assetURL}
	tmpls := web.Templates()
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(tmpls, "layout.html"))
	// Each page is its template file plus the shared layout.
	for _, name := range []string{"login", "places", "feed", "analytics", "audiences"} {
		d.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(tmpls, name+".html"))
	}
	return d
}

// assetURL is the template function "asset": the file's URL with its
// content hash, so pages can let browsers cache it for a year.
func (d *dashboard) assetURL(p string) (string, error) {
	a, ok := d.assets[p]
	if !ok {
		return "", fmt.Errorf("no static file %q", p)
	}
	return "/static/" + p + "?v=" + a.ver, nil
}

// mountDashboard registers the pages, sign-in and static files on mux. They
// are not /v1 routes: the OpenAPI document describes the API only.
func (s *Server) mountDashboard(mux *http.ServeMux, patterns map[string]bool) {
	s.web = newDashboard(s.Dashboard, s.logger)
	if s.Dashboard.Disabled {
		return
	}
	for _, rt := range []struct {
		pattern string
		handler http.HandlerFunc
	}{
		{"GET /{$}", s.handleDashboardRoot},
		{"GET /login", s.handleLoginPage},
		{"POST /login", s.handleLogin},
		{"POST /logout", s.handleLogout},
		{"GET /app/places", s.dashboardPage("places", "Places")},
		{"GET /app/feed", s.dashboardPage("feed", "Live feed")},
		{"GET /app/analytics", s.dashboardPage("analytics", "Analytics")},
		{"GET /app/audiences", s.dashboardPage("audiences", "Audiences")},
		{"GET /static/{path...}", s.handleStatic},
	} {
		mux.Handle(rt.pattern, rt.handler)
		patterns[rt.pattern] = true
	}
}

// pageData is what every page template gets. Every string in it is escaped
// by html/template; the workspace name is the customer's own text.
type pageData struct {
	Page      string
	Title     string
	Workspace string
	// Member and Role say who is signed in: the session key's name
	// ("unnamed key" for keys made before members existed) and role.
	Member string
	Role   geopulse.Role
	// Scopes are the key's effective scopes, space-separated, for the
	// body's data-scopes: app.css hides each [data-needs] control whose
	// scope is not in the list (an attribute ~= match), so people are not
	// offered what the API would refuse. The API still decides.
	Scopes          string
	CSRF            string
	TileURL         string
	TileAttribution string
	Error           string // login page: why the last attempt failed
	Next            string // login page: where to go after signing in
	LoginToken      string // login page: the login form's CSRF token
}

// handleDashboardRoot sends a visitor to the app, or to sign in first.
func (s *Server) handleDashboardRoot(w http.ResponseWriter, r *http.Request) {
	if _, _, _, err := s.sessionWorkspace(r); err == nil {
		http.Redirect(w, r, "/app/places", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// dashboardPage serves a signed-in page; a visitor without a session is
// sent to sign in and brought back afterwards.
func (s *Server) dashboardPage(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, k, ws, err := s.sessionWorkspace(r)
		if err != nil {
			if geopulse.ErrorCode(err) != geopulse.EUNAUTHORIZED {
				s.pageError(w, r, err)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		s.renderPage(w, r, http.StatusOK, name, pageData{
			Page:            name,
			Title:           title,
			Workspace:       ws.Name,
			Member:          memberName(k),
			Role:            k.Role,
			Scopes:          strings.Join(effectiveScopes(k), " "),
			CSRF:            sess.csrf,
			TileURL:         s.web.cfg.TileURL,
			TileAttribution: s.web.cfg.TileAttribution,
		})
	}
}

// memberName is how the header names the key's holder.
func memberName(k *geopulse.APIKey) string {
	if k.Name == "" {
		return "unnamed key"
	}
	return k.Name
}

// effectiveScopes lists the scopes the key may use, in geopulse.Scopes
// order: those its role grants, narrowed by the key's own list if it has
// one. It asks k.Allows, the check the API makes, so the page and the
// API cannot disagree.
func effectiveScopes(k *geopulse.APIKey) []string {
	var out []string
	for _, sc := range geopulse.Scopes {
		if k.Allows(sc) {
			out = append(out, string(sc))
		}
	}
	return out
}

// renderPage executes a page template into a buffer first, so that a
// template error still gets a clean 500.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.web.pages[name].ExecuteTemplate(&buf, name+".html", data); err != nil {
		s.pageError(w, r, fmt.Errorf("render %s page: %w", name, err))
		return
	}
	s.setPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageError answers a page request that failed: plain text, since the
// page's own assets may be what is broken. Internal details are logged only.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	code := geopulse.ErrorCode(err)
	if code == geopulse.EINTERNAL {
		s.logger.ErrorContext(r.Context(), "page failed", slog.String(keyPath, r.URL.Path), slog.Any(keyError, err))
	}
	s.setPageHeaders(w)
	http.Error(w, geopulse.ErrorMessage(err), ErrorStatusCode(code))
}

// setPageHeaders sets the security headers of every dashboard page. Pages
// carry the session's CSRF token, so they are never cached.
func (s *Server) setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.web.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// handleStatic serves the embedded assets. A URL carrying the file's
// content hash (?v=, as pages write them) is cacheable for a year; the
// vendored libraries for a day otherwise; the app's own files revalidate.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	p := r.PathValue("path")
	a, ok := s.web.assets[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	switch {
	case r.URL.Query().Get("v") == a.ver:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	case strings.HasPrefix(p, "vendor/"):
		h.Set("Cache-Control", "public, max-age=86400")
	default:
		h.Set("Cache-Control", "no-cache")
	}
	if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r) {
		if gz := a.gzipped(); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// gzipped returns the compressed body, or nil for files that do not
// shrink (images) or are too small to bother.
func (a *asset) gzipped() []byte {
	a.once.Do(func() {
		if len(a.body) < 1024 || strings.HasPrefix(a.ctype, "image/png") {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.body)
		zw.Close()
		if buf.Len() < len(a.body)*9/10 {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// etagMatch reports whether an If-None-Match header names etag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
