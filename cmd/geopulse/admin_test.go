package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
)

// admin runs `geopulse admin ARGS… --data dir` and returns stdout.
func admin(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), append(append([]string{"admin"}, args[0], "--data", dir), args[1:]...), &stdout, &stderr)
	if strings.Contains(stderr.String(), "gp_") {
		t.Errorf("a key reached stderr: %s", stderr.String())
	}
	return stdout.String(), err
}

func TestAdminKeys(t *testing.T) {
	dir := t.TempDir()
	owner, err := admin(t, dir, "create-workspace", "acme")
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := admin(t, dir, "create-key", "--member", "ana@acme.com", "--role", "viewer", "--expires", "720h", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin(t, dir, "create-key", "--role", "viewer", "--scopes", "admin", "acme"); err == nil {
		t.Error("a viewer key with the admin scope was created")
	}
	if _, err := admin(t, dir, "create-key", "--role", "boss", "acme"); err == nil {
		t.Error("an unknown role was accepted")
	}
	list, err := admin(t, dir, "list-keys", "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, "ana@acme.com") || !strings.Contains(list, "viewer") || strings.Count(list, "active") != 2 {
		t.Errorf("list-keys:\n%s", list)
	}
	if strings.Contains(list, strings.TrimSpace(viewer)) || strings.Contains(list, strings.TrimSpace(owner)) {
		t.Error("list-keys shows a secret")
	}

	// Rotating the viewer key without grace ends it; revoking the owner's.
	rotated, err := admin(t, dir, "rotate-key", "--grace", "0s", "acme", "2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin(t, dir, "revoke-key", "acme", "1"); err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(context.Background(), filepath.Join(dir, "geopulse.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key, want := range map[string]string{owner: geopulse.EUNAUTHORIZED, viewer: geopulse.EUNAUTHORIZED, rotated: ""} {
		k, _, err := db.FindAPIKey(t.Context(), geopulse.HashAPIKey(strings.TrimSpace(key)))
		if geopulse.ErrorCode(err) != want {
			t.Errorf("key %s…: %v, want %q", geopulse.KeyPrefix(key), err, want)
		}
		if want == "" && (k.Role != geopulse.RoleViewer || k.Name != "ana@acme.com") {
			t.Errorf("rotated key %+v, want ana's viewer key", k)
		}
	}
}
