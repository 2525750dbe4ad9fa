package http

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/geopulse/geopulse"
)

// SubjectService answers data-subject requests (privacy.Subjects).
type SubjectService interface {
	Access(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.SubjectReport, error)
	Erase(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.ErasureReceipt, error)
	Object(ctx context.Context, ref geopulse.SubjectRef) (*geopulse.ErasureReceipt, error)
}

// IdentityVerifier checks that whoever files an objection on the public
// privacy page is the person behind the handle (a code posted from the
// account, a signed message, an e-mail loop: the deployment's choice).
// nil: every public objection waits for an operator, who reviews the
// audit log (action privacy.objection.requested) and acts through the
// admin API.
type IdentityVerifier interface {
	Verify(ctx context.Context, ref geopulse.SubjectRef, proof string) error
}

func (s *Server) subjectRef(w http.ResponseWriter, r *http.Request) (geopulse.SubjectRef, bool) {
	var ref geopulse.SubjectRef
	if err := s.decodeJSON(w, r, &ref); err != nil {
		s.Error(w, r, err)
		return ref, false
	}
	if err := ref.Validate(); err != nil {
		s.Error(w, r, err)
		return ref, false
	}
	return ref, true
}

// auditSystem records a privacy operation in the system log (workspace 0):
// by keys and counts, never a handle.
func (s *Server) auditSystem(actor, action string, ref geopulse.SubjectRef, detail any) {
	if s.auditor == nil {
		return
	}
	b, _ := json.Marshal(detail)
	s.auditor.record(&geopulse.AuditEntry{WorkspaceID: geopulse.AuditSystemWorkspace, Actor: actor, Action: action,
		Target: "subject:" + ref.Source + ":" + strconv.FormatInt(ref.Key(), 16), Detail: string(b)})
}

// handleSubject runs one data-subject request for the operator: access,
// erasure or objection.
func (s *Server) handleSubject(w http.ResponseWriter, r *http.Request) {
	if s.Subjects == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "Data-subject requests are not available in this deployment."))
		return
	}
	ref, ok := s.subjectRef(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	switch op := r.PathValue("op"); op {
	case "access":
		rep, err := s.Subjects.Access(ctx, ref)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.auditSystem(geopulse.AuditActorAdmin, geopulse.AuditPrivacyAccess, ref, map[string]int{"authors": len(rep.Authors), "posts": len(rep.Posts)})
		s.writeJSON(w, r, http.StatusOK, rep)
	case "erase", "object":
		do, action := s.Subjects.Erase, geopulse.AuditPrivacyErasure
		if op == "object" {
			do, action = s.Subjects.Object, geopulse.AuditPrivacyObjection
		}
		rec, err := do(ctx, ref)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.auditSystem(geopulse.AuditActorAdmin, action, ref, rec)
		s.writeJSON(w, r, http.StatusOK, rec)
	default:
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "Unknown data-subject request %q: access, erase or object.", op))
	}
}

// The public privacy endpoints need no credentials, so one bucket bounds
// them for all callers together: "is this handle known" must not become a
// bulk oracle.
const (
	publicRate  = 1.0 // requests per second, sustained
	publicBurst = 20.0
)

func (s *Server) publicAllowed(w http.ResponseWriter, r *http.Request) bool {
	if s.Subjects == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "The privacy page is not available in this deployment."))
		return false
	}
	if ok, _ := s.public.take("", s.now()); !ok {
		s.Error(w, r, geopulse.Errorf(geopulse.ETOOMANY, "Too many requests; retry in a minute."))
		return false
	}
	return true
}

// handlePrivacyCheck tells a person whether a handle is known (has stored
// posts or a card) and whether it is suppressed. Nothing else.
func (s *Server) handlePrivacyCheck(w http.ResponseWriter, r *http.Request) {
	if !s.publicAllowed(w, r) {
		return
	}
	ref, ok := s.subjectRef(w, r)
	if !ok {
		return
	}
	rep, err := s.Subjects.Access(r.Context(), ref)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]bool{"known": len(rep.Authors) > 0 || len(rep.Posts) > 0, "suppressed": len(rep.Suppressed) > 0})
}

type objectionRequest struct {
	geopulse.SubjectRef
	// Proof is what the IdentityVerifier checks.
	Proof string `json:"proof"`
}

// handlePrivacyObjection files an objection: verified at once when the
// deployment has an IdentityVerifier, else recorded for an operator.
func (s *Server) handlePrivacyObjection(w http.ResponseWriter, r *http.Request) {
	if !s.publicAllowed(w, r) {
		return
	}
	var req objectionRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	ref := req.SubjectRef
	if err := ref.Validate(); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.Verifier == nil {
		s.auditSystem("public", "privacy.objection.requested", ref, map[string]string{"status": "pending operator review"})
		s.writeJSON(w, r, http.StatusAccepted, map[string]string{"status": "pending",
			"message": "Your objection is recorded; an operator will verify it and stop all processing of this account."})
		return
	}
	if err := s.Verifier.Verify(r.Context(), ref, req.Proof); err != nil {
		s.Error(w, r, geopulse.Errorf(geopulse.EFORBIDDEN, "We could not verify that you control this account: %s", geopulse.ErrorMessage(err)))
		return
	}
	rec, err := s.Subjects.Object(r.Context(), ref)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.auditSystem("public", geopulse.AuditPrivacyObjection, ref, rec)
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "done", "receipt": rec})
}

//go:embed web/privacy.html
var privacyPage []byte

// handlePrivacyPage is the public page where a person checks a handle and
// objects.
func (s *Server) handlePrivacyPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	w.Write(privacyPage)
}

// decodeJSON reads a JSON request body into v.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkContentType(r, "application/json"); err != nil {
		return err
	}
	body, err := s.body(w, r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}
