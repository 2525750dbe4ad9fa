package http_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

// TestAudiencesAPI: the audience endpoints answer through the floors, and
// bad criteria get a clear 400 each.
func TestAudiencesAPI(t *testing.T) {
	const admin = "admin-token-of-the-audience-test"
	e := newEnv(t, func(s *gphttp.Server) { s.AdminToken = admin })
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre, "museums")
	for i := range 12 {
		p := newPost(fmt.Sprint("p", i), louvre, i+1)
		p.Author.SourceID, p.Author.Handle = fmt.Sprint("u", i), fmt.Sprint("user", i)
		e.ingest(key, p)
	}

	// Twelve authors: under k (50), so nothing but that fact is shown.
	var in struct {
		Authors    int64
		Suppressed bool
		Floor      struct {
			MinAuthors int `json:"min_authors"`
		}
		Interests []any
	}
	e.send(http.MethodPost, key, "/v1/audiences/insight", map[string]any{"criteria": map[string]any{"within_days": 30}}).
		decode(t, http.StatusOK, &in)
	if !in.Suppressed || in.Authors != 0 || in.Interests != nil || in.Floor.MinAuthors != 50 {
		t.Fatalf("insight of 12 authors = %+v", in)
	}
	e.send(http.MethodPost, key, "/v1/audiences/export", map[string]any{"kind": "geo", "format": "csv"}).
		wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "below_floor")

	// Floors cannot go below geopulse's minimum.
	e.send(http.MethodPut, key, "/v1/settings/privacy", map[string]any{"min_authors": 5, "segment_floor": 10, "epsilon": 1, "influencer_followers": 10000}).
		wantError(t, http.StatusBadRequest, geopulse.EINVALID, "")
	var set geopulse.PrivacySettings
	e.send(http.MethodPut, key, "/v1/settings/privacy", map[string]any{"min_authors": 10, "segment_floor": 10, "epsilon": 1, "influencer_followers": 10000}).
		decode(t, http.StatusOK, &set)
	if set.MinAuthors != 10 || set.NoiseKey != nil {
		t.Fatalf("settings = %+v (the noise key must never be shown)", set)
	}
	e.send(http.MethodPost, key, "/v1/audiences/insight", map[string]any{}).decode(t, http.StatusOK, &in)
	if in.Floor.MinAuthors != 10 {
		t.Fatalf("floor after the change = %+v", in.Floor)
	}

	for name, body := range map[string]string{
		"malformed JSON":    `{"criteria": {`,
		"unknown field":     `{"criteria": {"hour": [1]}}`,
		"bad hour":          `{"criteria": {"hours": [25]}}`,
		"bad weekday":       `{"criteria": {"weekdays": [0]}}`,
		"reversed window":   `{"criteria": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}`,
		"empty interest":    `{"criteria": {"interests": [" "]}}`,
		"both ways":         `{"criteria": {}, "audience_id": 1}`,
		"negative follower": `{"criteria": {"followers": {"min": -1}}}`,
		"huge list":         fmt.Sprintf(`{"criteria": {"places": [%s1]}}`, idList(2, 602)),
	} {
		r := e.send(http.MethodPost, key, "/v1/audiences/insight", []byte(body))
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, r.status, r.body)
		}
	}
	// Hostile terms are values, not SQL.
	var hostile struct{ Authors int64 }
	e.send(http.MethodPost, key, "/v1/audiences/insight", map[string]any{"criteria": map[string]any{
		"interests": []string{"x') OR 1=1 --", "'; DROP TABLE posts; --"}, "brands": []string{`\'`}, "groups": []string{"' OR ''='"},
	}}).decode(t, http.StatusOK, &hostile)
	if hostile.Authors != 0 {
		t.Fatalf("hostile criteria matched %d authors", hostile.Authors)
	}
	e.get(key, "/v1/posts").decode(t, http.StatusOK, &struct{}{})

	// Saved audiences are versioned, and another workspace cannot see them.
	var a geopulse.Audience
	e.send(http.MethodPost, key, "/v1/audiences", map[string]any{"name": "museum fans", "criteria": map[string]any{"groups": []string{"museums"}}}).
		decode(t, http.StatusCreated, &a)
	e.send(http.MethodPut, key, fmt.Sprint("/v1/audiences/", a.ID), map[string]any{"name": "museum fans", "criteria": map[string]any{"min_posts": 2}}).
		decode(t, http.StatusOK, &a)
	if a.Version != 2 || a.Criteria.MinPosts != 2 {
		t.Fatalf("after PUT: %+v", a)
	}
	other := e.workspace("other")
	e.get(other, fmt.Sprint("/v1/audiences/", a.ID)).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
	e.send(http.MethodPost, other, "/v1/audiences/insight", map[string]any{"audience_id": a.ID}).
		wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")

	// The deny list is the operator's.
	e.send(http.MethodPut, key, "/v1/admin/sensitive-categories", map[string]any{"categories": []string{"museum"}}).
		wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, "")
	var cats struct{ Categories []string }
	e.send(http.MethodPut, admin, "/v1/admin/sensitive-categories", map[string]any{"categories": []string{"Museum", "healthcare"}}).
		decode(t, http.StatusOK, &cats)
	if len(cats.Categories) != 2 || cats.Categories[1] != "museum" {
		t.Fatalf("deny list = %v", cats.Categories)
	}
	var places struct {
		Places []struct {
			ID                int64
			SensitiveCategory bool `json:"sensitive_category"`
		}
	}
	e.get(key, "/v1/places").decode(t, http.StatusOK, &places)
	if len(places.Places) != 1 || !places.Places[0].SensitiveCategory {
		t.Fatalf("the museum should now be sensitive: %+v", places)
	}
	e.send(http.MethodPost, key, "/v1/audiences/insight", map[string]any{"criteria": map[string]any{"places": []int64{places.Places[0].ID}}}).
		wantError(t, http.StatusBadRequest, geopulse.EINVALID, "")
}

// idList lists from..to-1 with a trailing comma.
func idList(from, to int) string {
	out := ""
	for i := from; i < to; i++ {
		out += fmt.Sprint(i, ",")
	}
	return out
}
