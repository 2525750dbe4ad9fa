package http

import (
	"context"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// auditedRoutes are the requests that leave a line in the workspace's audit
// log when they succeed: reading feeds and analytics, changing places.
// Privacy operations and exports record their own, richer lines.
var auditedRoutes = map[string]string{
	"GET /v1/posts":                       geopulse.AuditFeedRead,
	"POST /v1/posts/search":               geopulse.AuditFeedRead,
	"GET /v1/posts/stream":                geopulse.AuditFeedRead,
	"GET /v1/posts/{id}":                  geopulse.AuditFeedRead,
	"GET /v1/authors/{id}/stats":          geopulse.AuditFeedRead,
	"GET /v1/analytics":                   geopulse.AuditAnalyticsRead,
	"POST /v1/audiences/insight":          geopulse.AuditAudienceRun,
	"POST /v1/audiences/cross-visitation": geopulse.AuditAudienceRun,
	"GET /v1/foot-traffic":                geopulse.AuditAnalyticsRead,
	"POST /v1/audiences":                  geopulse.AuditAudienceSave,
	"PUT /v1/audiences/{id}":              geopulse.AuditAudienceSave,
	"DELETE /v1/audiences/{id}":           geopulse.AuditAudienceDelete,
	"PUT /v1/settings/privacy":            geopulse.AuditSettingsUpdate,
	"POST /v1/places":                     geopulse.AuditPlaceCreate,
	"PATCH /v1/places/{id}":               geopulse.AuditPlaceUpdate,
	"DELETE /v1/places/{id}":              geopulse.AuditPlaceDelete,
	"POST /v1/places/import":              geopulse.AuditPlacesImport,
}

// auditQueue is how many entries may wait for the store; a full queue
// makes requests wait rather than lose a line of the log.
const auditQueue = 4096

// auditor appends entries in the background, in order, so a request does
// not wait for the store's commit (a DuckDB commit is milliseconds).
// Entries still queued when the server shuts down are written before
// Shutdown returns.
type auditor struct {
	store geopulse.AuditStore
	s     *Server
	ch    chan *geopulse.AuditEntry
	done  chan struct{}
	once  sync.Once
}

func (s *Server) startAuditor() {
	if s.Audit == nil {
		return
	}
	a := &auditor{store: s.Audit, s: s, ch: make(chan *geopulse.AuditEntry, auditQueue), done: make(chan struct{})}
	s.auditor = a
	go a.run()
}

func (a *auditor) run() {
	defer close(a.done)
	for e := range a.ch {
		if err := a.store.AppendAudit(context.Background(), e); err != nil {
			a.s.logger.Error("audit append failed", "action", e.Action, "workspace_id", e.WorkspaceID, keyError, err)
		}
	}
}

// record queues an entry.
func (a *auditor) record(e *geopulse.AuditEntry) {
	defer func() { recover() }() //nolint:errcheck // a send after stop: the server is gone
	a.ch <- e
}

// stop writes what is queued and ends the auditor.
func (a *auditor) stop() {
	a.once.Do(func() { close(a.ch) })
	<-a.done
}

// auditRequest records a successful request of an audited route.
func (s *Server) auditRequest(r *http.Request, info *requestInfo, pattern string, status int) {
	action, ok := auditedRoutes[pattern]
	if !ok || s.auditor == nil || status >= 400 || info.workspaceID == 0 {
		return
	}
	b := strconv.AppendInt([]byte(`{"status":`), int64(status), 10)
	if q := r.URL.RawQuery; q != "" && len(q) < 1024 {
		// The customer's own query (places, times, search text): what was read.
		b = canonical.AppendJSONString(append(b, `,"query":`...), q)
	}
	if q := info.question; q != "" && len(q) < geopulse.AuditMaxDetail-256 {
		b = canonical.AppendJSONString(append(b, `,"criteria":`...), q)
	}
	detail := string(append(b, '}'))
	s.auditor.record(&geopulse.AuditEntry{
		WorkspaceID: info.workspaceID, Actor: info.actor, Action: action,
		Target: truncate(r.URL.Path, geopulse.AuditMaxTarget), Detail: detail,
	})
}

type auditEntryJSON struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Detail   string    `json:"detail"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

type auditPage struct {
	Entries []auditEntryJSON `json:"entries"`
	// NextAfter is the "after" of the next page; 0 at the end.
	NextAfter int64 `json:"next_after"`
}

// handleAudit lists the workspace's audit log, oldest first.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	if s.Audit == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "This deployment keeps no audit log."))
		return
	}
	q := r.URL.Query()
	f := geopulse.AuditFilter{WorkspaceID: workspace(r).ID, Action: q.Get("action")}
	limit, err := parseInt("limit", q.Get("limit"), geopulse.AuditDefaultLimit, 1, geopulse.AuditMaxLimit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.Limit = int(limit)
	after, err := parseUint("after", q.Get("after"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f.After = int64(after)
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		s.Error(w, r, err)
		return
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.Audit.FindAudit(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := auditPage{Entries: make([]auditEntryJSON, len(list))}
	for i, e := range list {
		res.Entries[i] = auditEntryJSON{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target,
			Detail: e.Detail, PrevHash: hexString(e.PrevHash), Hash: hexString(e.Hash)}
	}
	if len(list) == f.Limit {
		res.NextAfter = list[len(list)-1].Seq
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// handleAuditVerify recomputes the workspace's hash chain.
func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request) {
	if s.Audit == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "This deployment keeps no audit log."))
		return
	}
	v, err := s.Audit.VerifyAudit(r.Context(), workspace(r).ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"entries": v.Entries, "ok": v.OK, "broken_at": v.BrokenAt, "reason": v.Reason, "head": hexString(v.Head),
	})
}

func hexString(b []byte) string { return hex.EncodeToString(b) }

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
