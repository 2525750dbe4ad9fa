package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/prometheus/client_golang/prometheus"
)

// Log keys: stable snake_case constants, so log queries keep working.
const (
	keyMethod      = "method"
	keyRoute       = "route"
	keyPath        = "path"
	keyStatus      = "status"
	keyDuration    = "duration"
	keyBytes       = "bytes"
	keyWorkspaceID = "workspace_id"
	keyError       = "error"
	keyPanic       = "panic"
	keyStack       = "stack"
)

// routeUnmatched labels requests that matched no route, so that scanners
// probing random paths cannot create unbounded metric series.
const routeUnmatched = "unmatched"

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	throttled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "geopulse_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12), // 0.5 ms … ~12 s
		}, []string{"route"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_http_throttled_total",
			Help: "Requests refused by a rate limit: key (per API key), login (failed sign-ins per address).",
		}, []string{"limit"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.duration = register(reg, m.duration)
		m.throttled = register(reg, m.throttled)
	}
	return m
}

// register registers c, or returns the identical collector registered before
// (two Servers sharing one registry count into the same series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("register http metrics: %v", err)) // a programmer error: clashing names
	}
	return c
}

// requestInfo is filled in while a request is handled and read by the
// access log afterwards.
type requestInfo struct {
	workspaceID int64
	actor       string // who, for the audit log
	// question is what an audited request asked when the query string
	// does not say it (an audience's criteria, sent in the body).
	question string
}

type requestInfoKey struct{}

// instrument wraps the mux with (outermost first) metrics and access
// logging, panic recovery, and JSON answers for unmatched routes.
func (s *Server) instrument(mux *http.ServeMux, patterns map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		rw := &responseWriter{ResponseWriter: w}

		// Only registered patterns become labels: for a path that needs
		// cleaning the mux reports the cleaned path, which is unbounded.
		_, pattern := mux.Handler(r)
		matched := patterns[pattern]
		route := pattern
		if !matched {
			route = routeUnmatched
		}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.ErrorContext(r.Context(), "panic in handler",
					slog.String(keyRoute, route), slog.Any(keyPanic, v), slog.String(keyStack, string(debug.Stack())))
				if !rw.wroteHeader {
					s.Error(rw, r, fmt.Errorf("panic: %v", v))
				}
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := s.now().Sub(start)
			s.metrics.requests.WithLabelValues(route, fmt.Sprint(status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())

			// The path is logged, never the query: it carries coordinates,
			// polygons and search text.
			level := slog.LevelInfo
			if !strings.HasPrefix(r.URL.Path, "/v1/") {
				level = slog.LevelDebug // probes
			}
			attrs := []slog.Attr{
				slog.String(keyMethod, r.Method),
				slog.String(keyRoute, route),
				slog.String(keyPath, r.URL.Path),
				slog.Int(keyStatus, status),
				slog.Duration(keyDuration, d),
				slog.Int64(keyBytes, rw.bytes),
			}
			if info.workspaceID != 0 {
				attrs = append(attrs, slog.Int64(keyWorkspaceID, info.workspaceID))
			}
			s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
			if matched {
				s.auditRequest(r, info, pattern, status)
			}
		}()

		if !matched {
			mux.ServeHTTP(&unmatchedWriter{responseWriter: rw, s: s, r: r}, r)
			return
		}
		mux.ServeHTTP(rw, r)
	})
}

// authenticate requires "Authorization: Bearer <key>" with a key that
// allows scope, and puts the key and its workspace into the request context.
func (s *Server) authenticate(scope geopulse.Scope, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.Error(w, r, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Missing API key: send the header Authorization: Bearer <key>."))
			return
		}
		keyHash := geopulse.HashAPIKey(key)
		k, ws, err := s.Workspaces.FindAPIKey(r.Context(), keyHash)
		switch geopulse.ErrorCode(err) {
		case "":
		case geopulse.EUNAUTHORIZED:
			s.Error(w, r, err) // says whether the key is unknown, expired or revoked
			return
		case geopulse.ENOTFOUND:
			s.Error(w, r, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid API key."))
			return
		default:
			s.Error(w, r, err)
			return
		}
		if s.keys != nil {
			if ok, wait := s.keys.take(keyHash, s.now()); !ok {
				s.metrics.throttled.WithLabelValues("key").Inc()
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
				s.Error(w, r, geopulse.Errorf(geopulse.ETOOMANY, "Too many requests with this API key; slow down."))
				return
			}
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.workspaceID = ws.ID
			info.actor = geopulse.AuditActorKey(keyHash)
		}
		if err := allow(k, scope); err != nil {
			s.Error(w, r, err)
			return
		}
		next(w, r.WithContext(withKey(r.Context(), k, ws)))
	}
}

// allow refuses a key that lacks scope.
func allow(k *geopulse.APIKey, scope geopulse.Scope) error {
	if scope == "" || k.Allows(scope) {
		return nil
	}
	return &geopulse.Error{Code: geopulse.EFORBIDDEN, Reason: "scope",
		Message: fmt.Sprintf("This API key (role %s) lacks the scope %q this endpoint needs.", k.Role, scope)}
}

func withKey(ctx context.Context, k *geopulse.APIKey, ws *geopulse.Workspace) context.Context {
	return geopulse.NewContextWithAPIKey(geopulse.NewContextWithWorkspace(ctx, ws), k)
}

// bearerToken returns the credentials of an RFC 6750 Authorization header;
// the scheme is case-insensitive.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// workspace returns the authenticated workspace. Handlers behind
// authenticate always have one; its absence is a wiring bug.
func workspace(r *http.Request) *geopulse.Workspace {
	ws := geopulse.WorkspaceFromContext(r.Context())
	if ws == nil {
		panic("http: authenticated route without a workspace in the context")
	}
	return ws
}

// responseWriter records the status and size of a response.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unmatchedWriter turns the mux's plain-text 404 and 405 answers into the
// API's JSON error shape (keeping the mux's Allow header on a 405).
type unmatchedWriter struct {
	*responseWriter
	s        *Server
	r        *http.Request
	replaced bool
}

func (w *unmatchedWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		w.replaced = true
		w.s.Error(w.responseWriter, w.r, geopulse.Errorf(geopulse.ENOTFOUND, "No such endpoint: %s.", w.r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.replaced = true
		w.s.writeJSON(w.responseWriter, w.r, code, errorResponse{Error: errorBody{
			Code:    "method_not_allowed",
			Message: fmt.Sprintf("Method %s is not allowed here; allowed: %s.", w.r.Method, w.Header().Get("Allow")),
		}})
	default:
		w.responseWriter.WriteHeader(code)
	}
}

func (w *unmatchedWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // the mux's plain-text body; the JSON one is written
	}
	return w.responseWriter.Write(b)
}
