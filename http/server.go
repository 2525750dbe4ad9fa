package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/audience"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBodyBytes bounds request bodies when Server.MaxBodyBytes is zero:
// large enough for a bulk upload of ~50,000 posts, small enough that one
// request cannot exhaust memory.
const DefaultMaxBodyBytes = 32 << 20

// Server is the HTTP API. Fill the fields, then serve Handler (or HTTPServer).
// The fields must not change once Handler has been called.
type Server struct {
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: no metrics exported
	Now        func() time.Time      // nil: time.Now; used for request durations

	Workspaces geopulse.WorkspaceService
	Places     geopulse.PlaceService
	Posts      geopulse.PostService
	Analytics  geopulse.AnalyticsService
	// Audiences answers every audience question through the privacy floors.
	Audiences *audience.Service
	Ingester  geopulse.Ingester
	// Complier takes the compliance events of POST /v1/posts and the
	// webhooks; nil refuses them per item.
	Complier geopulse.Complier
	// Hooks are the signed webhooks of other producers, by name
	// (POST /v1/hooks/{name}); Instagram is Instagram's. Both are served
	// without an API key: the signature authenticates the sender.
	Hooks     map[string]Hook
	Instagram *InstagramHook
	// Compliance is the log of applied compliance events (admin API).
	Compliance ComplianceLog
	// Audit keeps each workspace's tamper-evident audit log; nil: none.
	Audit geopulse.AuditStore
	// Subjects answers data-subject requests (admin API and the public
	// privacy page); Verifier checks identities on that page (nil: an
	// operator reviews each objection).
	Subjects SubjectService
	Verifier IdentityVerifier
	// KeyRate limits requests per API key (per second, bursts of twice
	// as many); 0 means DefaultKeyRate, a negative value no limit.
	KeyRate float64

	// MaxBodyBytes bounds every request body, both as sent and after gzip
	// decompression; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Ready, if set, is consulted by /readyz: a non-nil error answers 503.
	Ready func(ctx context.Context) error

	// AdminToken authenticates the operator routes under /v1/admin/ (dead
	// letters). Empty: those routes answer 403. Workspace keys never open
	// them: they reach every workspace's data.
	AdminToken string
	// DeadLetters is the stream's dead-letter queue; nil: the admin routes
	// answer 404.
	DeadLetters DeadLetterService

	// Dashboard configures the web dashboard and the live feed (dashboard.go).
	Dashboard DashboardConfig

	once    sync.Once
	handler http.Handler
	logger  *slog.Logger
	metrics *metrics
	web     *dashboard
	auditor *auditor
	public  *buckets // the public privacy endpoints, all callers together
	keys    *buckets // per API key hash
	logins  *buckets // failed dashboard sign-ins per client address
}

// Close writes the audit entries still queued. Call it after the HTTP
// server has shut down (no request in flight).
func (s *Server) Close() error {
	if s.auditor != nil {
		s.auditor.stop()
	}
	return nil
}

// route is one endpoint. The table returned by Server.routes is the only list
// of endpoints: the mux is built from it and the OpenAPI test checks the
// document against it.
type route struct {
	method  string
	pattern string // net/http ServeMux pattern without the method
	public  bool   // true: served without an API key
	handler http.HandlerFunc
	// scope is what a workspace key needs; "" for public and operator
	// (/v1/admin/) routes.
	scope geopulse.Scope
}

// routes is the route table. Keep it in the order of the OpenAPI document.
func (s *Server) routes() []route {
	return []route{
		{http.MethodGet, "/healthz", true, s.handleHealth, ""},
		{http.MethodGet, "/readyz", true, s.handleReady, ""},
		{http.MethodGet, "/v1/openapi.json", true, s.handleOpenAPI, ""},
		{http.MethodGet, "/privacy", true, s.handlePrivacyPage, ""},
		{http.MethodPost, "/v1/privacy/check", true, s.handlePrivacyCheck, ""},
		{http.MethodPost, "/v1/privacy/objection", true, s.handlePrivacyObjection, ""},

		{http.MethodPost, "/v1/posts", false, s.handleIngestPosts, geopulse.ScopePosts},
		{http.MethodGet, "/v1/posts", false, s.handleFindPosts, geopulse.ScopeRead},
		{http.MethodPost, "/v1/posts/search", false, s.handleSearchPosts, geopulse.ScopeRead},
		{http.MethodGet, "/v1/posts/stream", false, s.handleStreamPosts, geopulse.ScopeRead},
		{http.MethodGet, "/v1/posts/{id}", false, s.handleGetPost, geopulse.ScopeRead},
		{http.MethodGet, "/v1/authors/{id}/stats", false, s.handleAuthorStats, geopulse.ScopeRead},

		{http.MethodPost, "/v1/places", false, s.handleCreatePlace, geopulse.ScopePlaces},
		{http.MethodGet, "/v1/places", false, s.handleFindPlaces, geopulse.ScopeRead},
		{http.MethodPost, "/v1/places/import", false, s.handleImportPlaces, geopulse.ScopePlaces},
		{http.MethodGet, "/v1/places/{id}", false, s.handleGetPlace, geopulse.ScopeRead},
		{http.MethodPatch, "/v1/places/{id}", false, s.handleUpdatePlace, geopulse.ScopePlaces},
		{http.MethodDelete, "/v1/places/{id}", false, s.handleDeletePlace, geopulse.ScopePlaces},

		{http.MethodGet, "/v1/analytics", false, s.handleAnalytics, geopulse.ScopeRead},

		{http.MethodGet, "/v1/audiences", false, s.withAudiences(s.handleListAudiences), geopulse.ScopeRead},
		{http.MethodPost, "/v1/audiences", false, s.withAudiences(s.handleCreateAudience), geopulse.ScopeAudiences},
		{http.MethodPost, "/v1/audiences/insight", false, s.withAudiences(s.handleAudienceInsight), geopulse.ScopeRead},
		{http.MethodPost, "/v1/audiences/cross-visitation", false, s.withAudiences(s.handleCrossVisitation), geopulse.ScopeRead},
		{http.MethodPost, "/v1/audiences/export", false, s.withAudiences(s.handleAudienceExport), geopulse.ScopeAudiences},
		{http.MethodGet, "/v1/audiences/{id}", false, s.withAudiences(s.handleGetAudience), geopulse.ScopeRead},
		{http.MethodPut, "/v1/audiences/{id}", false, s.withAudiences(s.handleUpdateAudience), geopulse.ScopeAudiences},
		{http.MethodDelete, "/v1/audiences/{id}", false, s.withAudiences(s.handleDeleteAudience), geopulse.ScopeAudiences},
		{http.MethodGet, "/v1/foot-traffic", false, s.withAudiences(s.handleFootTraffic), geopulse.ScopeRead},
		{http.MethodGet, "/v1/settings/privacy", false, s.withAudiences(s.handleGetPrivacySettings), geopulse.ScopeRead},
		{http.MethodPut, "/v1/settings/privacy", false, s.withAudiences(s.handlePutPrivacySettings), geopulse.ScopeAdmin},

		{http.MethodGet, "/v1/audit", false, s.handleAudit, geopulse.ScopeAdmin},
		{http.MethodGet, "/v1/audit/verify", false, s.handleAuditVerify, geopulse.ScopeAdmin},

		{http.MethodGet, "/v1/keys", false, s.handleListKeys, geopulse.ScopeAdmin},
		{http.MethodPost, "/v1/keys", false, s.handleCreateKey, geopulse.ScopeAdmin},
		{http.MethodPost, "/v1/keys/{id}/rotate", false, s.handleRotateKey, geopulse.ScopeAdmin},
		{http.MethodDelete, "/v1/keys/{id}", false, s.handleRevokeKey, geopulse.ScopeAdmin},

		{http.MethodGet, "/v1/hooks/instagram", true, s.handleInstagramHandshake, ""},
		{http.MethodPost, "/v1/hooks/instagram", true, s.handleInstagramHook, ""},
		{http.MethodPost, "/v1/hooks/{name}", true, s.handleHook, ""},

		{http.MethodGet, "/v1/admin/deadletters", false, s.handleListDeadLetters, ""},
		{http.MethodPost, "/v1/admin/deadletters/redrive", false, s.handleRedriveDeadLetters, ""},
		{http.MethodGet, "/v1/admin/compliance", false, s.handleComplianceLog, ""},
		{http.MethodPost, "/v1/admin/subjects/{op}", false, s.handleSubject, ""},
		{http.MethodGet, "/v1/admin/sensitive-categories", false, s.withAudiences(s.handleGetSensitiveCategories), ""},
		{http.MethodPut, "/v1/admin/sensitive-categories", false, s.withAudiences(s.handlePutSensitiveCategories), ""},
	}
}

// Handler returns the API's handler, built on first use.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.build)
	return s.handler
}

// HTTPServer returns an *http.Server for addr serving Handler, with timeouts
// that bound slow clients: headers within 10 s, a whole (bulk) body within
// 2 min, and idle keep-alive connections closed after 2 min.
func (s *Server) HTTPServer(addr string) *http.Server {
	h := s.Handler()
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(s.stopStreams)
	return srv
}

func (s *Server) build() {
	s.logger = s.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.metrics = newMetrics(s.Registerer)
	s.startAuditor()
	if rate := s.KeyRate; rate >= 0 {
		if rate == 0 {
			rate = DefaultKeyRate
		}
		s.keys = newBuckets(rate, 2*rate)
	}
	s.logins = newBuckets(1/loginEvery.Seconds(), loginBurst)
	s.public = newBuckets(publicRate, publicBurst)

	mux := http.NewServeMux()
	patterns := make(map[string]bool)
	for _, rt := range s.routes() {
		h := rt.handler
		switch {
		case strings.HasPrefix(rt.pattern, adminPrefix):
			h = s.authenticateAdmin(h)
		case !rt.public:
			h = s.authenticateKeyOrSession(rt.scope, h)
		}
		pattern := rt.method + " " + rt.pattern
		mux.Handle(pattern, h)
		patterns[pattern] = true
	}
	s.mountDashboard(mux, patterns)
	s.handler = s.instrument(mux, patterns)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) maxBodyBytes() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ok"})
}

// handleReady answers 503 while the process cannot serve (store closed,
// stream down), so a load balancer stops sending traffic without killing it.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.logger.WarnContext(r.Context(), "not ready", slog.Any(keyError, err))
			s.writeJSON(w, r, http.StatusServiceUnavailable, statusResponse{Status: "unavailable"})
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, statusResponse{Status: "ready"})
}

type statusResponse struct {
	Status string `json:"status"`
}
