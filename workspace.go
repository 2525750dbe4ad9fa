package geopulse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
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

// WorkspaceService manages workspaces and their keys.
type WorkspaceService interface {
	// CreateWorkspace assigns w.ID and stores it.
	CreateWorkspace(ctx context.Context, w *Workspace) error
	// FindWorkspaceByID returns the workspace or ENOTFOUND.
	FindWorkspaceByID(ctx context.Context, id int64) (*Workspace, error)
	// FindWorkspaceByName returns the workspace or ENOTFOUND.
	FindWorkspaceByName(ctx context.Context, name string) (*Workspace, error)
	// CreateAPIKey stores the hash of a key for the workspace; ENOTFOUND.
	CreateAPIKey(ctx context.Context, workspaceID int64, keyHash string) error
	// FindWorkspaceByAPIKey returns the workspace that owns the key hash, or EUNAUTHORIZED.
	FindWorkspaceByAPIKey(ctx context.Context, keyHash string) (*Workspace, error)
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
