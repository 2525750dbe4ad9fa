package http

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
)

// Cookie and header names of the dashboard's sign-in.
const (
	sessionCookie    = "gp_session"
	loginTokenCookie = "gp_login" // the login form's double-submit token
	csrfHeader       = "X-CSRF-Token"
	csrfFormField    = "csrf"
)

// maxLoginFormBytes bounds the sign-in and sign-out forms.
const maxLoginFormBytes = 16 << 10

// session is a signed-in browser. It holds the hash of the API key it was
// opened with, never the key: each request looks the key hash up again, so
// revoking the key ends its sessions too.
type session struct {
	workspaceID int64
	keyHash     string
	csrf        string // sent back in X-CSRF-Token (or the csrf form field) on writes
	created     time.Time
	expires     time.Time
}

// sessionStore is the in-memory session table. It is keyed by the SHA-256
// of the session id, so neither a memory dump nor a timing side channel on
// the map lookup yields a usable cookie. Sessions do not survive a restart:
// people sign in again, which is cheaper than a store table to guard.
type sessionStore struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
	max int
}

func newSessionStore(max int) *sessionStore {
	return &sessionStore{m: make(map[[sha256.Size]byte]*session), max: max}
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on broken systems)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create opens a session and returns its id (the cookie value).
func (st *sessionStore) create(now time.Time, ttl time.Duration, workspaceID int64, keyHash string) (string, *session) {
	id := randomToken()
	sess := &session{workspaceID: workspaceID, keyHash: keyHash, csrf: randomToken(), created: now, expires: now.Add(ttl)}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= st.max {
		st.sweep(now)
	}
	for len(st.m) >= st.max { // still full of live sessions: sign out the oldest
		var oldest [sha256.Size]byte
		var t time.Time
		for k, s := range st.m {
			if t.IsZero() || s.created.Before(t) {
				oldest, t = k, s.created
			}
		}
		delete(st.m, oldest)
	}
	st.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session with id; an expired one is removed.
func (st *sessionStore) get(id string, now time.Time) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	sess, ok := st.m[k]
	if !ok {
		return nil, false
	}
	if !now.Before(sess.expires) {
		delete(st.m, k)
		return nil, false
	}
	return sess, true
}

// delete ends the session with id, if any.
func (st *sessionStore) delete(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, sha256.Sum256([]byte(id)))
}

// sweep removes expired sessions; st.mu is held.
func (st *sessionStore) sweep(now time.Time) {
	for k, s := range st.m {
		if !now.Before(s.expires) {
			delete(st.m, k)
		}
	}
}

// len returns the number of sessions held, for tests.
func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

// errSessionExpired is the answer to a cookie that names no live session.
func errSessionExpired() error {
	return geopulse.Errorf(geopulse.EUNAUTHORIZED, "Your session has ended; sign in again.")
}

// sessionWorkspace returns the request's session, its key and its
// workspace. EUNAUTHORIZED when there is no live session or its key was
// revoked or expired. The key is read on every request, so a session has
// the key's current role and scopes.
func (s *Server) sessionWorkspace(r *http.Request) (*session, *geopulse.APIKey, *geopulse.Workspace, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil, nil, errSessionExpired()
	}
	sess, ok := s.web.sessions.get(c.Value, s.now())
	if !ok {
		return nil, nil, nil, errSessionExpired()
	}
	k, ws, err := s.Workspaces.FindAPIKey(r.Context(), sess.keyHash)
	switch geopulse.ErrorCode(err) {
	case "":
	case geopulse.EUNAUTHORIZED, geopulse.ENOTFOUND:
		s.web.sessions.delete(c.Value)
		return nil, nil, nil, errSessionExpired()
	default:
		return nil, nil, nil, err
	}
	if ws.ID != sess.workspaceID { // cannot happen unless a key hash moves
		s.web.sessions.delete(c.Value)
		return nil, nil, nil, errSessionExpired()
	}
	return sess, k, ws, nil
}

// authenticateKeyOrSession is authenticate that also accepts the
// dashboard's session cookie, so the browser calls the same /v1 API with
// no key in reach of its scripts. A request with an Authorization header
// is judged by its key alone. A cookie request that changes anything must
// carry the session's CSRF token in X-CSRF-Token: the cookie rides along
// on cross-site requests, the token cannot.
func (s *Server) authenticateKeyOrSession(scope geopulse.Scope, next http.HandlerFunc) http.HandlerFunc {
	byKey := s.authenticate(scope, next)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || s.Dashboard.Disabled {
			byKey(w, r)
			return
		}
		if _, err := r.Cookie(sessionCookie); err != nil {
			byKey(w, r) // answers the missing key
			return
		}
		sess, k, ws, err := s.sessionWorkspace(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if !safeMethod(r.Method) && !tokenEqual(r.Header.Get(csrfHeader), sess.csrf) {
			s.Error(w, r, &geopulse.Error{Code: geopulse.EFORBIDDEN, Reason: "csrf",
				Message: "Missing or wrong " + csrfHeader + " header; reload the page."})
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.workspaceID = ws.ID
			info.actor = geopulse.AuditActorSession(geopulse.AuditActorKey(sess.keyHash))
		}
		if err := allow(k, scope); err != nil {
			s.Error(w, r, err)
			return
		}
		next(w, r.WithContext(withKey(r.Context(), k, ws)))
	}
}

// safeMethod reports whether m cannot change state (RFC 9110 §9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// tokenEqual compares a sent token with the expected one in constant time;
// an empty token never matches.
func tokenEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secureRequest reports whether the session cookie must be Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	return s.web.cfg.SecureCookies || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setCookie sets a dashboard cookie: HttpOnly (scripts never see it),
// SameSite=Lax (not sent on cross-site subrequests and posts, still sent
// when following a link to the dashboard), Secure over TLS.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// handleLoginPage shows the sign-in form. Its hidden token is also set as
// a cookie; the form post must carry both, so another site cannot sign a
// visitor into a workspace of its choosing (login CSRF).
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, _, _, err := s.sessionWorkspace(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, next, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	token := randomToken()
	s.setCookie(w, r, loginTokenCookie, token, "/login", 3600)
	s.renderPage(w, r, status, "login", pageData{Page: "login", Title: "Sign in", Next: next, LoginToken: token, Error: msg})
}

// handleLogin checks an API key and opens a session. The key itself is
// forgotten at once: the session keeps its hash.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "/app/places", "The form could not be read; try again.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	c, err := r.Cookie(loginTokenCookie)
	if err != nil || !tokenEqual(r.PostForm.Get("token"), c.Value) || !sameOrigin(r) {
		s.renderLogin(w, r, http.StatusForbidden, next, "The sign-in form expired; try again.")
		return
	}
	addr := clientAddr(r)
	if blocked, wait := s.logins.empty(addr, s.now()); blocked {
		s.metrics.throttled.WithLabelValues("login").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		s.renderLogin(w, r, http.StatusTooManyRequests, next, "Too many failed sign-ins from your address; wait a few minutes.")
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" {
		s.renderLogin(w, r, http.StatusUnauthorized, next, "Enter your workspace API key.")
		return
	}
	keyHash := geopulse.HashAPIKey(key)
	_, ws, err := s.Workspaces.FindAPIKey(r.Context(), keyHash)
	switch geopulse.ErrorCode(err) {
	case "":
	case geopulse.EUNAUTHORIZED, geopulse.ENOTFOUND:
		s.logins.take(addr, s.now())
		s.logger.InfoContext(r.Context(), "dashboard sign-in refused")
		s.renderLogin(w, r, http.StatusUnauthorized, next, "That API key is not valid.")
		return
	default:
		s.pageError(w, r, err)
		return
	}
	// A fresh id on every sign-in: a cookie planted before it is worthless.
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.web.sessions.delete(old.Value)
	}
	id, _ := s.web.sessions.create(s.now(), s.web.cfg.SessionTTL, ws.ID, keyHash)
	s.setCookie(w, r, sessionCookie, id, "/", int(s.web.cfg.SessionTTL/time.Second))
	s.setCookie(w, r, loginTokenCookie, "", "/login", -1)
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.workspaceID = ws.ID
	}
	s.logger.InfoContext(r.Context(), "dashboard sign-in", slog.Int64(keyWorkspaceID, ws.ID))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleLogout ends the session. The form carries the session's CSRF token,
// so another site cannot sign people out.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginFormBytes)
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if sess, ok := s.web.sessions.get(c.Value, s.now()); ok {
		r.ParseForm()
		token := r.PostForm.Get(csrfFormField)
		if token == "" {
			token = r.Header.Get(csrfHeader)
		}
		if !tokenEqual(token, sess.csrf) {
			s.pageError(w, r, geopulse.Errorf(geopulse.EFORBIDDEN, "Sign-out needs the page's token; reload the page and try again."))
			return
		}
		s.web.sessions.delete(c.Value)
	}
	s.setCookie(w, r, sessionCookie, "", "/", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns next if it is a dashboard page of this site, else the
// default page: a sign-in must never redirect to another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/app/") ||
		strings.ContainsAny(next, "\\") || strings.HasPrefix(next, "//") {
		return "/app/places"
	}
	return next
}

// sameOrigin rejects a form post whose Origin header names another site.
// Browsers send Origin on every POST; its absence (old clients, curl) is
// left to the token check.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
