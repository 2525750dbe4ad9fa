package http_test

import (
	"context"
	"maps"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	gphttp "github.com/geopulse/geopulse/http"
)

// addKey stores a key like k in the workspace of ownerKey and returns it
// with its secret in Prefix's place: the caller only needs both.
func (e *env) addKey(ownerKey string, k geopulse.APIKey) *newKey {
	e.t.Helper()
	_, ws, err := e.store.FindAPIKey(context.Background(), geopulse.HashAPIKey(ownerKey))
	if err != nil {
		e.t.Fatal(err)
	}
	secret := geopulse.NewAPIKey()
	k.WorkspaceID, k.Prefix = ws.ID, geopulse.KeyPrefix(secret)
	if err := e.store.AddAPIKey(context.Background(), &k, geopulse.HashAPIKey(secret)); err != nil {
		e.t.Fatal(err)
	}
	return &newKey{ID: k.ID, Secret: secret}
}

type newKey struct {
	ID     int64
	Secret string
}

// TestEveryEndpointNeedsItsScope walks the OpenAPI document: for every
// operation a workspace key opens, a key with every scope but the one the
// operation names is forbidden (403), and a key with just that scope gets
// past authorization.
func TestEveryEndpointNeedsItsScope(t *testing.T) {
	e := newEnv(t)
	d := loadSecDoc(t)
	owner := e.workspace("owner")
	venue := e.createVenue(owner, "venue", louvre)
	e.ingest(owner, newPost("p1", louvre, 1))
	var f feed
	e.get(owner, "/v1/posts").decode(t, http.StatusOK, &f)
	ids := map[string]string{
		"places":    strconv.FormatInt(venue.ID, 10),
		"posts":     f.Posts[0].ID,
		"authors":   f.Posts[0].Author.ID,
		"audiences": e.createAudience(owner, "mine"),
		"keys":      strconv.FormatInt(e.addKey(owner, geopulse.APIKey{Name: "victim", Role: geopulse.RoleViewer}).ID, 10),
	}
	checked := 0
	for _, op := range d.ops {
		if op.auth() != authKey {
			continue
		}
		scope := geopulse.Scope(op.scope())
		if scope == "" {
			t.Errorf("%s: the document names no scope", op)
			continue
		}
		t.Run(op.String(), func(t *testing.T) {
			var others []geopulse.Scope
			for _, s := range geopulse.Scopes {
				if s != scope {
					others = append(others, s)
				}
			}
			without := e.addKey(owner, geopulse.APIKey{Name: "without", Role: geopulse.RoleOwner, Scopes: others})
			with := e.addKey(owner, geopulse.APIKey{Name: "with", Role: geopulse.RoleOwner, Scopes: []geopulse.Scope{scope}})
			vals := map[string]string{}
			if res := idResource(op.Path); res != "" {
				vals["id"] = ids[res]
			}
			path := fillPath(t, op.Path, vals)
			body, ct := d.body(t, op)
			send := func(key string) response {
				h := map[string]string{}
				if ct != "" {
					h["Content-Type"] = ct
				}
				maps.Copy(h, map[string]string{"Authorization": "Bearer " + key})
				return e.do(request{method: op.Method, path: path, body: body, header: h})
			}
			send(without.Secret).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
			if op.Path == "/v1/posts/stream" {
				return // answers with a stream that never ends; the 403 above is the check
			}
			// Past authorization: a 403 for another reason (a key may not
			// make one stronger than itself) is the handler's answer.
			if res := send(with.Secret); res.status == http.StatusUnauthorized ||
				res.status == http.StatusForbidden && strings.Contains(string(res.body), `"reason":"scope"`) {
				t.Errorf("with scope %s: status %d: %s", scope, res.status, res.body)
			}
		})
		checked++
	}
	if checked < 15 {
		t.Errorf("checked %d operations; the document lost its scopes?", checked)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	viewer := e.addKey(owner, geopulse.APIKey{Name: "vic@acme.example", Role: geopulse.RoleViewer}).Secret
	analyst := e.addKey(owner, geopulse.APIKey{Name: "ana@acme.example", Role: geopulse.RoleAnalyst}).Secret
	ingestOnly := e.addKey(owner, geopulse.APIKey{Name: "ingest-bot", Role: geopulse.RoleAnalyst, Scopes: []geopulse.Scope{geopulse.ScopePosts}}).Secret

	venue := map[string]any{"name": "v", "category": "museum", "center": louvre, "radius_m": 200}
	e.send(http.MethodPost, viewer, "/v1/places", venue).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
	e.send(http.MethodPost, viewer, "/v1/posts", []byte(`{"posts":[]}`)).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
	e.get(viewer, "/v1/places").decode(t, http.StatusOK, nil)
	e.send(http.MethodPost, analyst, "/v1/places", venue).decode(t, http.StatusCreated, nil)
	e.get(ingestOnly, "/v1/posts").wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
	for _, k := range []string{viewer, analyst, ingestOnly} {
		e.get(k, "/v1/keys").wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
		e.send(http.MethodPost, k, "/v1/keys", map[string]any{"role": "owner"}).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
		e.get(k, "/v1/audit").wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "scope")
	}

	// A key narrowed to admin manages keys but makes none stronger than
	// itself, by creating or by rotating.
	adminOnly := e.addKey(owner, geopulse.APIKey{Name: "keys-bot", Role: geopulse.RoleOwner, Scopes: []geopulse.Scope{geopulse.ScopeAdmin}}).Secret
	e.send(http.MethodPost, adminOnly, "/v1/keys", map[string]any{"name": "x", "role": "owner"}).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "")
	e.send(http.MethodPost, adminOnly, "/v1/keys", map[string]any{"name": "x", "role": "owner", "scopes": []string{"admin"}}).decode(t, http.StatusCreated, nil)
	full := e.addKey(owner, geopulse.APIKey{Name: "root", Role: geopulse.RoleOwner})
	e.send(http.MethodPost, adminOnly, "/v1/keys/"+strconv.FormatInt(full.ID, 10)+"/rotate", nil).wantError(t, http.StatusForbidden, geopulse.EFORBIDDEN, "")
}

type keyAnswer struct {
	Key    string `json:"key"`
	APIKey struct {
		ID        int64      `json:"id"`
		Name      string     `json:"name"`
		Role      string     `json:"role"`
		Scopes    []string   `json:"scopes"`
		Prefix    string     `json:"prefix"`
		ExpiresAt *time.Time `json:"expires_at"`
		Active    bool       `json:"active"`
	} `json:"api_key"`
}

type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movingClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestKeyManagement drives the owner endpoints on a store whose clock
// moves, so expiry and the grace of a rotation are real.
func TestKeyManagement(t *testing.T) {
	clk := &movingClock{t: now}
	e := newEnv(t, func(s *gphttp.Server) {
		db, err := duckdb.Open(context.Background(), filepath.Join(t.TempDir(), "keys.duckdb"), duckdb.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s.Workspaces, s.Audit, s.Now = db, db, clk.Now
	})
	db := e.server.Workspaces.(*duckdb.DB)
	ws := &geopulse.Workspace{Name: "acme"}
	if err := db.CreateWorkspace(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	owner := geopulse.NewAPIKey()
	if err := db.CreateAPIKey(context.Background(), ws.ID, geopulse.HashAPIKey(owner)); err != nil {
		t.Fatal(err)
	}

	var created keyAnswer
	e.send(http.MethodPost, owner, "/v1/keys", map[string]any{"name": "ingest-bot", "role": "analyst", "scopes": []string{"posts:write"}, "expires_in": "720h"}).
		decode(t, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Key, geopulse.APIKeyPrefix) || created.APIKey.Prefix != created.Key[:10] || created.APIKey.Role != "analyst" ||
		len(created.APIKey.Scopes) != 1 || created.APIKey.ExpiresAt == nil || !created.APIKey.ExpiresAt.Equal(now.Add(720*time.Hour)) {
		t.Fatalf("created %+v", created)
	}
	e.send(http.MethodPost, owner, "/v1/keys", map[string]any{"role": "viewer", "scopes": []string{"admin"}}).
		wantError(t, http.StatusBadRequest, geopulse.EINVALID, "")
	e.send(http.MethodPost, owner, "/v1/keys", map[string]any{"role": "root"}).wantError(t, http.StatusBadRequest, geopulse.EINVALID, "")

	var list struct {
		Keys    []map[string]any `json:"keys"`
		Members []struct {
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"members"`
	}
	res := e.get(owner, "/v1/keys")
	res.decode(t, http.StatusOK, &list)
	if len(list.Keys) != 2 || len(list.Members) != 2 || list.Members[1].Name != "ingest-bot" || strings.Contains(string(res.body), created.Key) {
		t.Fatalf("list: %s", res.body)
	}

	// Rotation: the old key works during the grace period, then is refused.
	var rotated keyAnswer
	e.send(http.MethodPost, owner, "/v1/keys/"+strconv.FormatInt(created.APIKey.ID, 10)+"/rotate", map[string]any{"grace": "1h"}).
		decode(t, http.StatusCreated, &rotated)
	if rotated.Key == created.Key || rotated.APIKey.Name != "ingest-bot" || rotated.APIKey.Scopes[0] != "posts:write" {
		t.Fatalf("rotated %+v", rotated)
	}
	ingest := []byte(`{"posts":[]}`)
	for _, k := range []string{created.Key, rotated.Key} {
		if res := e.send(http.MethodPost, k, "/v1/posts", ingest); res.status == 401 || res.status == 403 {
			t.Fatalf("in grace: %d %s", res.status, res.body)
		}
	}
	clk.Set(now.Add(time.Hour))
	e.send(http.MethodPost, created.Key, "/v1/posts", ingest).wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, "")
	if res := e.send(http.MethodPost, rotated.Key, "/v1/posts", ingest); res.status == 401 || res.status == 403 {
		t.Fatalf("new key after grace: %d %s", res.status, res.body)
	}

	// A short-lived key expires; a revoked one is refused at once.
	var short keyAnswer
	e.send(http.MethodPost, owner, "/v1/keys", map[string]any{"name": "temp", "role": "viewer", "expires_in": "1m"}).decode(t, http.StatusCreated, &short)
	e.get(short.Key, "/v1/places").decode(t, http.StatusOK, nil)
	clk.Set(now.Add(time.Hour + time.Minute))
	if msg := e.get(short.Key, "/v1/places").wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, ""); !strings.Contains(msg.Error.Message, "expired") {
		t.Errorf("expired key message %q", msg.Error.Message)
	}
	e.send(http.MethodDelete, owner, "/v1/keys/"+strconv.FormatInt(rotated.APIKey.ID, 10), nil).decode(t, http.StatusNoContent, nil)
	if msg := e.send(http.MethodPost, rotated.Key, "/v1/posts", ingest).wantError(t, http.StatusUnauthorized, geopulse.EUNAUTHORIZED, ""); !strings.Contains(msg.Error.Message, "revoked") {
		t.Errorf("revoked key message %q", msg.Error.Message)
	}
	e.send(http.MethodDelete, owner, "/v1/keys/"+strconv.FormatInt(rotated.APIKey.ID, 10), nil).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")

	// Each change is in the audit log, without a secret.
	e.server.Close()
	entries, err := db.FindAudit(context.Background(), geopulse.AuditFilter{WorkspaceID: ws.ID, Action: "key.", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
		for _, k := range []string{created.Key, rotated.Key, short.Key} {
			if strings.Contains(a.Detail, k) {
				t.Errorf("audit detail holds a secret: %s", a.Detail)
			}
		}
	}
	if got := strings.Join(actions, ","); got != "key.create,key.rotate,key.create,key.revoke" {
		t.Errorf("audited %s", got)
	}
}
