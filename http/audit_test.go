package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

// TestAuditLog: reads and place changes leave entries in the workspace's
// own log, with the key as actor and the query as detail; failed requests
// and other workspaces leave none there; the chain verifies.
func TestAuditLog(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.Audit = s.Workspaces.(geopulse.AuditStore) })
	key, other := e.workspace("acme"), e.workspace("rival")
	e.createVenue(key, "louvre", louvre)
	e.get(key, "/v1/posts?hashtag=coffee")
	e.get(key, "/v1/analytics")
	e.get(key, "/v1/posts?limit=-1") // 400: not audited
	e.get(other, "/v1/posts")
	if err := e.server.Close(); err != nil { // flush the queue
		t.Fatal(err)
	}

	var page struct {
		Entries []struct {
			Seq                           int64
			Actor, Action, Target, Detail string
			PrevHash                      string `json:"prev_hash"`
			Hash                          string
		}
	}
	// Reading the log is itself not audited, so it can be read at leisure.
	e.get(key, "/v1/audit").decode(t, http.StatusOK, &page)
	var actions []string
	for _, en := range page.Entries {
		actions = append(actions, en.Action)
		if !strings.HasPrefix(en.Actor, "key:") || len(en.Hash) != 64 {
			t.Fatalf("entry %+v", en)
		}
	}
	if got := strings.Join(actions, ","); got != "place.create,feed.read,analytics.read" {
		t.Fatalf("actions = %s", got)
	}
	if page.Entries[1].Detail != `{"status":200,"query":"hashtag=coffee"}` || page.Entries[1].PrevHash != page.Entries[0].Hash {
		t.Fatalf("feed entry = %+v", page.Entries[1])
	}
	var v struct {
		Entries int64
		OK      bool
	}
	e.get(key, "/v1/audit/verify").decode(t, http.StatusOK, &v)
	if !v.OK || v.Entries != 3 {
		t.Fatalf("verify = %+v", v)
	}
	e.get(other, "/v1/audit").decode(t, http.StatusOK, &page)
	if len(page.Entries) != 1 || page.Entries[0].Action != "feed.read" {
		t.Fatalf("other workspace's log = %+v", page.Entries)
	}
}

// TestAuditAudiences: running an audience records its criteria; an export
// records what was exported; a refused export records nothing.
func TestAuditAudiences(t *testing.T) {
	e := newEnv(t, func(s *gphttp.Server) { s.Audit = s.Workspaces.(geopulse.AuditStore) })
	key := e.workspace("acme")
	e.send(http.MethodPut, key, "/v1/settings/privacy", map[string]any{"min_authors": 10, "segment_floor": 10, "epsilon": 1, "influencer_followers": 10000}).
		decode(t, http.StatusOK, &struct{}{})
	e.send(http.MethodPost, key, "/v1/audiences/insight", map[string]any{"criteria": map[string]any{"interests": []string{"Coffee"}}}).
		decode(t, http.StatusOK, &struct{}{})
	e.send(http.MethodPost, key, "/v1/audiences/export", map[string]any{"kind": "geo", "format": "csv"}).
		wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "below_floor")
	if err := e.server.Close(); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Entries []struct{ Action, Detail string }
	}
	e.get(key, "/v1/audit").decode(t, http.StatusOK, &page)
	var got []string
	for _, en := range page.Entries {
		got = append(got, en.Action+" "+en.Detail)
	}
	want := []string{
		`settings.update {"status":200}`,
		`audience.run {"status":200,"criteria":"{\"interests\":[\"coffee\"]}"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
