package geopulse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Workspace is a customer: it owns places, and sees only posts inside them.
type Workspace struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// APIKeyPrefix starts every API key, so leaked keys are easy to scan for.
const APIKeyPrefix = "gp_"

// NewAPIKey returns a fresh random API key. Only its hash is ever stored.
func NewAPIKey() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails (crypto/rand panics on broken systems)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey returns the hex SHA-256 of key: keys are long and random, so a
// fast hash is enough; what matters is that the database never holds a key.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return hex.EncodeToString(sum[:])
}

// Role is what a member of a workspace may do. Every key belongs to a
// member (a person or a machine) and carries its role.
type Role string

const (
	RoleOwner   Role = "owner"   // everything, including keys and the audit log
	RoleAnalyst Role = "analyst" // reads, ingests posts and edits places
	RoleViewer  Role = "viewer"  // reads only
)

// Scope is one permission an endpoint requires.
type Scope string

const (
	ScopeRead   Scope = "read"         // feeds, search, analytics, places, author stats
	ScopePosts  Scope = "posts:write"  // ingest posts
	ScopePlaces Scope = "places:write" // create, change, import and delete places
	// ScopeAudiences saves audiences and exports segments; reading an
	// audience's insight needs read only.
	ScopeAudiences Scope = "audiences:write"
	ScopeAdmin     Scope = "admin" // keys, members, settings, the audit log
)

// Scopes are all scopes, in a stable order.
var Scopes = []Scope{ScopeRead, ScopePosts, ScopePlaces, ScopeAudiences, ScopeAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAnalyst || r == RoleViewer }

// Scopes returns the scopes the role grants.
func (r Role) Scopes() []Scope {
	switch r {
	case RoleOwner:
		return []Scope{ScopeRead, ScopePosts, ScopePlaces, ScopeAudiences, ScopeAdmin}
	case RoleAnalyst:
		return []Scope{ScopeRead, ScopePosts, ScopePlaces, ScopeAudiences}
	case RoleViewer:
		return []Scope{ScopeRead}
	}
	return nil
}

// Grants reports whether the role grants s.
func (r Role) Grants(s Scope) bool {
	for _, g := range r.Scopes() {
		if g == s {
			return true
		}
	}
	return false
}

// DefaultRotationGrace is how long a rotated key keeps working, so that
// whatever uses it can switch to the new one without an outage.
const DefaultRotationGrace = 24 * time.Hour

// APIKeyPrefixLen is how many leading characters of a key are kept in
// clear, to tell keys apart in lists; the rest is never stored.
const APIKeyPrefixLen = 10

// APIKey is a key's metadata; the secret itself is never stored.
type APIKey struct {
	ID          int64
	WorkspaceID int64
	// Name is the member or machine the key belongs to ("ana@acme.com",
	// "ingest-bot"); "" for keys made before members existed.
	Name string
	Role Role
	// Scopes narrow the role (an ingest-only key has just ScopePosts);
	// empty means all of the role's.
	Scopes    []Scope
	Prefix    string // the first APIKeyPrefixLen characters of the key
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never
	RevokedAt *time.Time // nil: not revoked
}

// Validate checks the fields a caller sets: a known role and scopes the
// role grants.
func (k *APIKey) Validate() error {
	if !k.Role.Valid() {
		return Errorf(EINVALID, "Unknown role %q; use owner, analyst or viewer.", k.Role)
	}
	if len(k.Name) > 200 || strings.ContainsRune(k.Name, 0) || !utf8.ValidString(k.Name) {
		return Errorf(EINVALID, "A key's name must be UTF-8 text without NUL, at most 200 bytes.")
	}
	for _, s := range k.Scopes {
		if !k.Role.Grants(s) {
			return Errorf(EINVALID, "Scope %q is not granted by role %q.", s, k.Role)
		}
	}
	return nil
}

// JoinScopes writes scopes as "read,posts:write" (empty for none).
func JoinScopes(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// SplitScopes reads what JoinScopes wrote, ignoring blanks around scopes.
func SplitScopes(s string) []Scope {
	var out []Scope
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, Scope(p))
		}
	}
	return out
}

// Allows reports whether the key may use scope s: its role grants it and,
// if the key is narrowed, the key lists it.
func (k *APIKey) Allows(s Scope) bool {
	if !k.Role.Grants(s) {
		return false
	}
	if len(k.Scopes) == 0 {
		return true
	}
	return slices.Contains(k.Scopes, s)
}

// Active reports whether the key is neither revoked nor expired at now.
func (k *APIKey) Active(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// KeyPrefix returns the displayable start of key.
func KeyPrefix(key string) string {
	key = strings.TrimSpace(key)
	if len(key) > APIKeyPrefixLen {
		return key[:APIKeyPrefixLen]
	}
	return key
}

// Member is a distinct key name of a workspace with its role.
type Member struct {
	Name string
	Role Role
	Keys int // active keys
}

// Members groups keys by name. A name whose keys carry different roles is
// listed with the strongest.
func Members(keys []*APIKey, now time.Time) []Member {
	rank := map[Role]int{RoleViewer: 1, RoleAnalyst: 2, RoleOwner: 3}
	var out []Member
	idx := map[string]int{}
	for _, k := range keys {
		if !k.Active(now) {
			continue
		}
		i, ok := idx[k.Name]
		if !ok {
			idx[k.Name] = len(out)
			out = append(out, Member{Name: k.Name, Role: k.Role, Keys: 1})
			continue
		}
		out[i].Keys++
		if rank[k.Role] > rank[out[i].Role] {
			out[i].Role = k.Role
		}
	}
	return out
}

// WorkspaceService manages workspaces and their keys.
type WorkspaceService interface {
	// CreateWorkspace assigns w.ID and stores it.
	CreateWorkspace(ctx context.Context, w *Workspace) error
	// FindWorkspaceByID returns the workspace or ENOTFOUND.
	FindWorkspaceByID(ctx context.Context, id int64) (*Workspace, error)
	// FindWorkspaceByName returns the workspace or ENOTFOUND.
	FindWorkspaceByName(ctx context.Context, name string) (*Workspace, error)
	// CreateAPIKey stores an unnamed owner key for the workspace: the
	// first key of a new workspace. ENOTFOUND.
	CreateAPIKey(ctx context.Context, workspaceID int64, keyHash string) error
	// AddAPIKey stores the hash of a key with k's metadata (WorkspaceID,
	// Name, Role, Scopes, Prefix, ExpiresAt) and assigns k.ID and
	// k.CreatedAt. EINVALID, ENOTFOUND, ECONFLICT.
	AddAPIKey(ctx context.Context, k *APIKey, keyHash string) error
	// FindAPIKey returns the active key with the hash and its workspace;
	// EUNAUTHORIZED for an unknown, revoked or expired key.
	FindAPIKey(ctx context.Context, keyHash string) (*APIKey, *Workspace, error)
	// ListAPIKeys returns the workspace's keys, revoked and expired ones
	// included, oldest first.
	ListAPIKeys(ctx context.Context, workspaceID int64) ([]*APIKey, error)
	// RevokeAPIKey revokes the workspace's key id; ENOTFOUND (also for an
	// already revoked key).
	RevokeAPIKey(ctx context.Context, workspaceID, id int64) error
	// RotateAPIKey stores newHash as a key with the name, role and scopes
	// of key id, and makes key id expire grace from now (sooner if it
	// already expires sooner), in one transaction. It returns the new
	// key. ENOTFOUND for an unknown, revoked or expired key.
	RotateAPIKey(ctx context.Context, workspaceID, id int64, newHash, newPrefix string, grace time.Duration) (*APIKey, error)
}

type workspaceKey struct{}

// NewContextWithWorkspace returns ctx carrying the authenticated workspace.
func NewContextWithWorkspace(ctx context.Context, w *Workspace) context.Context {
	return context.WithValue(ctx, workspaceKey{}, w)
}

// WorkspaceFromContext returns the authenticated workspace, or nil.
func WorkspaceFromContext(ctx context.Context) *Workspace {
	w, _ := ctx.Value(workspaceKey{}).(*Workspace)
	return w
}

type apiKeyKey struct{}

// NewContextWithAPIKey returns ctx carrying the key (or the session's key)
// the request was authenticated with.
func NewContextWithAPIKey(ctx context.Context, k *APIKey) context.Context {
	return context.WithValue(ctx, apiKeyKey{}, k)
}

// APIKeyFromContext returns the authenticating key, or nil.
func APIKeyFromContext(ctx context.Context) *APIKey {
	k, _ := ctx.Value(apiKeyKey{}).(*APIKey)
	return k
}
