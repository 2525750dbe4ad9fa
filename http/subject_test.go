package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
	"github.com/geopulse/geopulse/privacy"
)

// TestSubjectRequests: the operator's access, erasure and objection, and
// the public page's check and objection, over HTTP on a real store.
func TestSubjectRequests(t *testing.T) {
	const admin = "admin-token"
	e := newEnv(t, func(s *gphttp.Server) {
		s.AdminToken = admin
		s.Audit = s.Workspaces.(geopulse.AuditStore)
		s.Subjects = &privacy.Subjects{Store: s.Workspaces.(privacy.SubjectStore)}
	})
	key := e.workspace("acme")
	e.createVenue(key, "louvre", louvre)
	p1, p2 := newPost("s1", louvre, 1), newPost("s2", louvre, 2)
	p1.Author.Handle, p2.Author.Handle = "Zoe", "zoe"
	p2.Author.SourceID = p1.Author.SourceID
	e.ingest(key, p1, p2, newPost("other", louvre, 3))
	ref := map[string]string{"source": p1.Source, "handle": "@ZOE"}
	adminReq := func(op string, v any) response {
		b, _ := jsonBytes(v)
		return e.do(request{method: http.MethodPost, path: "/v1/admin/subjects/" + op, key: admin, body: b,
			header: map[string]string{"Content-Type": "application/json"}})
	}

	var rep struct {
		Authors []struct{ Handle string }
		Posts   []struct {
			SourceID string  `json:"source_id"`
			PlaceIDs []int64 `json:"place_ids"`
		}
	}
	adminReq("access", ref).decode(t, http.StatusOK, &rep)
	if len(rep.Authors) != 1 || len(rep.Posts) != 2 || len(rep.Posts[0].PlaceIDs) != 1 {
		t.Fatalf("access report = %+v", rep)
	}
	var check struct{ Known, Suppressed bool }
	e.send(http.MethodPost, "", "/v1/privacy/check", ref).decode(t, http.StatusOK, &check)
	if !check.Known || check.Suppressed {
		t.Fatalf("check before = %+v", check)
	}

	var rec struct {
		PostsRemoved   int64 `json:"posts_removed"`
		AuthorsRemoved int64 `json:"authors_removed"`
		Suppressed     bool
		Ref            struct {
			HandleKeys []int64 `json:"handle_keys"`
		}
	}
	adminReq("erase", ref).decode(t, http.StatusOK, &rec)
	if rec.PostsRemoved != 2 || rec.AuthorsRemoved != 1 || !rec.Suppressed || len(rec.Ref.HandleKeys) != 1 {
		t.Fatalf("receipt = %+v", rec)
	}
	if ids := e.feedIDs(key, ""); len(ids) != 1 || ids[0] != "other" {
		t.Fatalf("feed after erasure = %v", ids)
	}
	e.send(http.MethodPost, "", "/v1/privacy/check", ref).decode(t, http.StatusOK, &check)
	if check.Known || !check.Suppressed {
		t.Fatalf("check after = %+v", check)
	}

	// A public objection without a verifier waits for the operator.
	var obj struct{ Status string }
	e.send(http.MethodPost, "", "/v1/privacy/objection", map[string]string{"source": "x", "handle": "someone"}).decode(t, http.StatusAccepted, &obj)
	if obj.Status != "pending" {
		t.Fatalf("objection = %+v", obj)
	}
	// The privacy operations are in the system audit log, by keys only.
	if err := e.server.Close(); err != nil { // flush the audit queue
		t.Fatal(err)
	}
	entries, err := e.store.FindAudit(t.Context(), geopulse.AuditFilter{WorkspaceID: geopulse.AuditSystemWorkspace, Action: "privacy."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
		for _, s := range []string{"zoe", "ZOE", "someone"} {
			if contains(en.Detail+en.Target, s) {
				t.Fatalf("audit entry names the person: %+v", en)
			}
		}
	}
	if len(actions) != 3 || actions[0] != "privacy.access" || actions[1] != "privacy.erasure" || actions[2] != "privacy.objection.requested" {
		t.Fatalf("audit actions = %v", actions)
	}

	// Bad requests.
	adminReq("access", map[string]string{"source": "x"}).wantError(t, http.StatusBadRequest, "invalid", "missing_field")
	adminReq("forget", ref).wantError(t, http.StatusNotFound, "not_found", "")
	if res := e.send(http.MethodPost, key, "/v1/admin/subjects/access", ref); res.status != http.StatusUnauthorized {
		t.Fatalf("a workspace key on the admin API: %d", res.status)
	}
}

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
