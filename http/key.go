package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
)

// MaxKeyLifetime bounds expires_in, so a typo cannot mint a key for ages.
const MaxKeyLifetime = 5 * 365 * 24 * time.Hour

type keyJSON struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Role      geopulse.Role    `json:"role"`
	Scopes    []geopulse.Scope `json:"scopes"` // the effective scopes
	Prefix    string           `json:"prefix"`
	CreatedAt time.Time        `json:"created_at"`
	ExpiresAt *time.Time       `json:"expires_at"`
	RevokedAt *time.Time       `json:"revoked_at"`
	Active    bool             `json:"active"`
}

func toKeyJSON(k *geopulse.APIKey, now time.Time) keyJSON {
	scopes := k.Scopes
	if len(scopes) == 0 {
		scopes = k.Role.Scopes()
	}
	return keyJSON{ID: k.ID, Name: k.Name, Role: k.Role, Scopes: scopes, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, Active: k.Active(now)}
}

type memberJSON struct {
	Name string        `json:"name"`
	Role geopulse.Role `json:"role"`
	Keys int           `json:"keys"`
}

type keyList struct {
	Keys    []keyJSON    `json:"keys"`
	Members []memberJSON `json:"members"`
}

// newKeyResponse is the only answer that ever holds a key's secret.
type newKeyResponse struct {
	Key    string  `json:"key"`
	APIKey keyJSON `json:"api_key"`
}

// handleListKeys lists the workspace's keys (never their secrets) and its
// members: the distinct key names with their strongest active role.
func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.Workspaces.ListAPIKeys(r.Context(), workspace(r).ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.now()
	res := keyList{Keys: make([]keyJSON, len(keys)), Members: []memberJSON{}}
	for i, k := range keys {
		res.Keys[i] = toKeyJSON(k, now)
	}
	for _, m := range geopulse.Members(keys, now) {
		res.Members = append(res.Members, memberJSON{Name: m.Name, Role: m.Role, Keys: m.Keys})
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

type createKeyRequest struct {
	Name      string           `json:"name"`
	Role      geopulse.Role    `json:"role"`
	Scopes    []geopulse.Scope `json:"scopes"`
	ExpiresIn string           `json:"expires_in"` // a Go duration: "720h"
}

// handleCreateKey mints a key for a member or machine of the workspace.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	key := geopulse.NewAPIKey()
	k := &geopulse.APIKey{WorkspaceID: workspace(r).ID, Name: req.Name, Role: req.Role, Scopes: req.Scopes, Prefix: geopulse.KeyPrefix(key)}
	if k.Role.Valid() {
		if err := mayMint(r, k); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if req.ExpiresIn != "" {
		d, err := parseLifetime("expires_in", req.ExpiresIn, MaxKeyLifetime)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if d <= 0 {
			s.Error(w, r, paramError("expires_in", "expires_in must be positive."))
			return
		}
		t := s.now().Add(d).UTC().Truncate(time.Microsecond)
		k.ExpiresAt = &t
	}
	if err := s.Workspaces.AddAPIKey(r.Context(), k, geopulse.HashAPIKey(key)); err != nil {
		s.Error(w, r, err)
		return
	}
	s.auditKey(r, geopulse.AuditKeyCreate, k, nil)
	s.writeJSON(w, r, http.StatusCreated, newKeyResponse{Key: key, APIKey: toKeyJSON(k, s.now())})
}

type rotateKeyRequest struct {
	Grace string `json:"grace"` // a Go duration; "" means DefaultRotationGrace
}

// mayMint refuses a key stronger than the one asking for it: an owner key
// narrowed to admin must not mint (or rotate into being) a key that reads
// or ingests.
func mayMint(r *http.Request, k *geopulse.APIKey) error {
	creator := geopulse.APIKeyFromContext(r.Context())
	if creator == nil {
		return nil
	}
	for _, sc := range geopulse.Scopes {
		if k.Allows(sc) && !creator.Allows(sc) {
			return geopulse.Errorf(geopulse.EFORBIDDEN, "This key may not make a key with the scope %q, which it lacks.", sc)
		}
	}
	return nil
}

// handleRotateKey replaces a key: the new one is answered once, the old one
// keeps working for the grace period.
func (s *Server) handleRotateKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req rotateKeyRequest
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &req); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	grace := geopulse.DefaultRotationGrace
	if req.Grace != "" {
		if grace, err = parseLifetime("grace", req.Grace, 30*24*time.Hour); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	keys, err := s.Workspaces.ListAPIKeys(r.Context(), workspace(r).ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	for _, old := range keys {
		if old.ID == id {
			if err := mayMint(r, old); err != nil {
				s.Error(w, r, err)
				return
			}
		}
	}
	key := geopulse.NewAPIKey()
	k, err := s.Workspaces.RotateAPIKey(r.Context(), workspace(r).ID, id, geopulse.HashAPIKey(key), geopulse.KeyPrefix(key), grace)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.auditKey(r, geopulse.AuditKeyRotate, k, map[string]any{"replaces": id, "grace": grace.String()})
	s.writeJSON(w, r, http.StatusCreated, newKeyResponse{Key: key, APIKey: toKeyJSON(k, s.now())})
}

// handleRevokeKey revokes a key at once. An owner may revoke the key it
// uses; the next request with it is refused.
func (s *Server) handleRevokeKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Workspaces.RevokeAPIKey(r.Context(), workspace(r).ID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	s.auditKey(r, geopulse.AuditKeyRevoke, &geopulse.APIKey{ID: id}, nil)
	w.WriteHeader(http.StatusNoContent)
}

// parseLifetime parses a Go duration between 0 and limit.
func parseLifetime(param, v string, limit time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > limit {
		return 0, paramError(param, "%s must be a duration such as 24h or 720h, at most %s, not %q.", param, limit, v)
	}
	return d, nil
}

// auditKey records a key change in the workspace's audit log: which key
// (by id, name and role; never the secret) and who did it.
func (s *Server) auditKey(r *http.Request, action string, k *geopulse.APIKey, extra map[string]any) {
	info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo)
	if s.auditor == nil || !ok {
		return
	}
	detail := map[string]any{"id": k.ID}
	if k.Role != "" {
		detail["name"], detail["role"], detail["scopes"] = k.Name, k.Role, k.Scopes
	}
	for key, v := range extra {
		detail[key] = v
	}
	b, _ := json.Marshal(detail)
	s.auditor.record(&geopulse.AuditEntry{
		WorkspaceID: info.workspaceID, Actor: info.actor, Action: action,
		Target: "/v1/keys/" + strconv.FormatInt(k.ID, 10), Detail: truncate(string(b), geopulse.AuditMaxDetail),
	})
}
