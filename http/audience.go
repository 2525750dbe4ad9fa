package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/audience"
)

// Audiences: saved definitions, and every output through package
// audience, which applies the privacy floors. Nothing here counts.

type audienceRequest struct {
	Name     string                    `json:"name"`
	Criteria geopulse.AudienceCriteria `json:"criteria"`
}

// audienceSelector names the audience a question is about: criteria
// given inline, or a saved audience (its latest version).
type audienceSelector struct {
	Criteria   *geopulse.AudienceCriteria `json:"criteria,omitempty"`
	AudienceID int64                      `json:"audience_id,omitempty"`
	Limit      int                        `json:"limit,omitempty"`
	Places     []int64                    `json:"places,omitempty"`
	Group      string                     `json:"group,omitempty"`
	Kind       string                     `json:"kind,omitempty"`
	Format     string                     `json:"format,omitempty"`
}

// withAudiences answers 404 when the deployment has no audience service.
func (s *Server) withAudiences(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Audiences == nil {
			s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "This deployment has no audiences."))
			return
		}
		h(w, r)
	}
}

func (s *Server) criteria(r *http.Request, sel audienceSelector) (geopulse.AudienceCriteria, error) {
	switch {
	case sel.Criteria != nil && sel.AudienceID != 0:
		return geopulse.AudienceCriteria{}, paramError("audience", "Give criteria or audience_id, not both.")
	case sel.AudienceID != 0:
		a, err := s.Audiences.Store.Audience(r.Context(), workspace(r).ID, sel.AudienceID, 0)
		if err != nil {
			return geopulse.AudienceCriteria{}, err
		}
		return a.Criteria, nil
	case sel.Criteria != nil:
		return *sel.Criteria, nil
	}
	return geopulse.AudienceCriteria{}, nil // everyone at the workspace's places
}

func actor(r *http.Request) string {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return info.actor
	}
	return ""
}

func (s *Server) handleListAudiences(w http.ResponseWriter, r *http.Request) {
	list, err := s.Audiences.Store.Audiences(r.Context(), workspace(r).ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if list == nil {
		list = []*geopulse.Audience{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"audiences": list})
}

func (s *Server) saveAudience(w http.ResponseWriter, r *http.Request, id int64) {
	var req audienceRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	a := &geopulse.Audience{ID: id, WorkspaceID: workspace(r).ID, Name: req.Name, Criteria: req.Criteria, CreatedBy: actor(r)}
	if err := s.Audiences.Store.SaveAudience(r.Context(), a); err != nil {
		s.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
	}
	s.writeJSON(w, r, status, a)
}

func (s *Server) handleCreateAudience(w http.ResponseWriter, r *http.Request) {
	s.saveAudience(w, r, 0)
}

func (s *Server) handleUpdateAudience(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.saveAudience(w, r, id) // ENOTFOUND for another workspace's id
}

func (s *Server) handleGetAudience(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	version, err := parseInt("version", r.URL.Query().Get("version"), 0, 1, 1<<30)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Audiences.Store.Audience(r.Context(), workspace(r).ID, id, int(version))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, a)
}

func (s *Server) handleDeleteAudience(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Audiences.Store.DeleteAudience(r.Context(), workspace(r).ID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeSelector reads a question's body and resolves its criteria.
func (s *Server) decodeSelector(w http.ResponseWriter, r *http.Request) (audienceSelector, geopulse.AudienceCriteria, bool) {
	var sel audienceSelector
	if err := s.decodeJSON(w, r, &sel); err != nil {
		s.Error(w, r, err)
		return sel, geopulse.AudienceCriteria{}, false
	}
	c, err := s.criteria(r, sel)
	if err != nil {
		s.Error(w, r, err)
		return sel, c, false
	}
	// Normalised once here (the service's Normalize is then a no-op), so
	// the audit log names the audience by its canonical criteria.
	if err := c.Normalize(); err != nil {
		s.Error(w, r, err)
		return sel, c, false
	}
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.question = c.Key()
	}
	return sel, c, true
}

func (s *Server) handleAudienceInsight(w http.ResponseWriter, r *http.Request) {
	sel, c, ok := s.decodeSelector(w, r)
	if !ok {
		return
	}
	in, err := s.Audiences.Insight(r.Context(), workspace(r).ID, c, sel.Limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, in)
}

type matrixJSON struct {
	audience.Size
	Places  []geopulse.PlaceAuthors `json:"places"`
	Authors [][]*int64              `json:"authors_matrix"`
	Share   [][]*float64            `json:"share"`
}

func (s *Server) handleCrossVisitation(w http.ResponseWriter, r *http.Request) {
	sel, c, ok := s.decodeSelector(w, r)
	if !ok {
		return
	}
	m, err := s.Audiences.CrossVisitation(r.Context(), workspace(r).ID, c, sel.Places, sel.Group)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, matrixJSON{Size: m.Size, Places: m.Places, Authors: m.Authors, Share: m.Share})
}

func (s *Server) handleAudienceExport(w http.ResponseWriter, r *http.Request) {
	sel, c, ok := s.decodeSelector(w, r)
	if !ok {
		return
	}
	x, err := s.Audiences.Export(r.Context(), workspace(r).ID, c, sel.Kind, sel.Format)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if s.auditor != nil {
		s.auditor.record(&geopulse.AuditEntry{
			WorkspaceID: workspace(r).ID, Actor: actor(r), Action: geopulse.AuditExport, Target: "audience:" + x.Name,
			Detail: truncate(`{"kind":"`+sel.Kind+`","format":"`+sel.Format+`","rows":`+strconv.Itoa(x.Rows)+
				`,"audience_id":`+strconv.FormatInt(sel.AudienceID, 10)+`,"criteria":`+c.Key()+`}`, geopulse.AuditMaxDetail),
		})
	}
	w.Header().Set("Content-Type", x.ContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+x.Name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(x.Body)
}

func (s *Server) handleFootTraffic(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, err := parseIDs("place", list(q["place"]))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	from, to, err := parseRange(q.Get("from"), q.Get("to"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if to.IsZero() {
		to = time.Now().UTC()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	rows, err := s.Audiences.FootTraffic(r.Context(), workspace(r).ID, ids, from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"places": rows, "from": from, "to": to})
}

func (s *Server) handleGetPrivacySettings(w http.ResponseWriter, r *http.Request) {
	set, err := s.Audiences.Store.PrivacySettings(r.Context(), workspace(r).ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	set.NoiseKey = nil
	s.writeJSON(w, r, http.StatusOK, set)
}

func (s *Server) handlePutPrivacySettings(w http.ResponseWriter, r *http.Request) {
	var set geopulse.PrivacySettings
	if err := s.decodeJSON(w, r, &set); err != nil {
		s.Error(w, r, err)
		return
	}
	set.NoiseKey = nil
	if err := s.Audiences.Store.SavePrivacySettings(r.Context(), workspace(r).ID, set); err != nil {
		s.Error(w, r, err)
		return
	}
	s.handleGetPrivacySettings(w, r)
}

type sensitiveCategories struct {
	Categories []string `json:"categories"`
}

// handleGetSensitiveCategories lists the deny list of place categories.
func (s *Server) handleGetSensitiveCategories(w http.ResponseWriter, r *http.Request) {
	list, err := s.Audiences.Store.SensitiveCategories(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sensitiveCategories{Categories: list})
}

// handlePutSensitiveCategories replaces the deny list (operator only; it
// applies to every workspace) and records it in the system audit log.
func (s *Server) handlePutSensitiveCategories(w http.ResponseWriter, r *http.Request) {
	var req sensitiveCategories
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Audiences.Store.SetSensitiveCategories(r.Context(), req.Categories); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.auditor != nil {
		b, _ := json.Marshal(req)
		s.auditor.record(&geopulse.AuditEntry{WorkspaceID: geopulse.AuditSystemWorkspace, Actor: geopulse.AuditActorAdmin,
			Action: geopulse.AuditSettingsUpdate, Target: "sensitive_categories", Detail: truncate(string(b), geopulse.AuditMaxDetail)})
	}
	s.handleGetSensitiveCategories(w, r)
}
