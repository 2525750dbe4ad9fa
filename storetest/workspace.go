package storetest

import (
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func testWorkspace(t *testing.T, open opener) {
	t.Run("CreateAndFind", func(t *testing.T) {
		e := newEnv(t, open)
		a, b := e.workspace("acme"), e.workspace("Hôtel Ünïcode 🏨")
		if a.ID <= 0 || b.ID <= 0 || a.ID == b.ID {
			t.Fatalf("ids = %d, %d; want distinct positive", a.ID, b.ID)
		}
		if !a.CreatedAt.Equal(t0) || a.CreatedAt.Location().String() != "UTC" {
			t.Fatalf("created at = %v, want %v UTC", a.CreatedAt, t0)
		}
		for _, w := range []*geopulse.Workspace{a, b} {
			got, err := e.s.FindWorkspaceByID(e.ctx, w.ID)
			if err != nil || *got != *w {
				t.Fatalf("find by id %d = %+v, %v; want %+v", w.ID, got, err, w)
			}
			got, err = e.s.FindWorkspaceByName(e.ctx, w.Name)
			if err != nil || *got != *w {
				t.Fatalf("find by name %q = %+v, %v; want %+v", w.Name, got, err, w)
			}
		}
	})

	t.Run("Errors", func(t *testing.T) {
		e := newEnv(t, open)
		e.workspace("acme")
		tests := []struct {
			name string
			err  func() error
			code string
		}{
			{"duplicate name", func() error { return e.s.CreateWorkspace(e.ctx, &geopulse.Workspace{Name: "acme"}) }, geopulse.ECONFLICT},
			{"empty name", func() error { return e.s.CreateWorkspace(e.ctx, &geopulse.Workspace{Name: " "}) }, geopulse.EINVALID},
			{"missing id", func() error { _, err := e.s.FindWorkspaceByID(e.ctx, 9999); return err }, geopulse.ENOTFOUND},
			{"missing name", func() error { _, err := e.s.FindWorkspaceByName(e.ctx, "nope"); return err }, geopulse.ENOTFOUND},
			{"name is case sensitive", func() error { _, err := e.s.FindWorkspaceByName(e.ctx, "ACME"); return err }, geopulse.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err(), tt.code) })
		}
	})

	t.Run("APIKeys", func(t *testing.T) {
		e := newEnv(t, open)
		a, b := e.workspace("a"), e.workspace("b")
		keyA, keyB := geopulse.NewAPIKey(), geopulse.NewAPIKey()
		if err := e.s.CreateAPIKey(e.ctx, a.ID, geopulse.HashAPIKey(keyA)); err != nil {
			t.Fatal(err)
		}
		if err := e.s.CreateAPIKey(e.ctx, b.ID, geopulse.HashAPIKey(keyB)); err != nil {
			t.Fatal(err)
		}
		// A second key for the same workspace is fine.
		if err := e.s.CreateAPIKey(e.ctx, a.ID, geopulse.HashAPIKey("gp_second")); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]*geopulse.Workspace{keyA: a, keyB: b, "gp_second": a} {
			got, err := findWorkspace(e, geopulse.HashAPIKey(key))
			if err != nil || got.ID != want.ID {
				t.Fatalf("find by key = %+v, %v; want workspace %d", got, err, want.ID)
			}
		}
		tests := []struct {
			name string
			err  func() error
			code string
		}{
			{"unknown hash", func() error {
				_, err := findWorkspace(e, geopulse.HashAPIKey("gp_unknown"))
				return err
			}, geopulse.EUNAUTHORIZED},
			{"empty hash lookup", func() error { _, err := findWorkspace(e, ""); return err }, geopulse.EUNAUTHORIZED},
			{"raw key is not a hash", func() error { _, err := findWorkspace(e, keyA); return err }, geopulse.EUNAUTHORIZED},
			{"unknown workspace", func() error { return e.s.CreateAPIKey(e.ctx, 9999, geopulse.HashAPIKey("gp_x")) }, geopulse.ENOTFOUND},
			{"duplicate hash", func() error { return e.s.CreateAPIKey(e.ctx, b.ID, geopulse.HashAPIKey(keyA)) }, geopulse.ECONFLICT},
			{"empty hash", func() error { return e.s.CreateAPIKey(e.ctx, a.ID, "") }, geopulse.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err(), tt.code) })
		}
	})

	t.Run("Roles", func(t *testing.T) { testAPIKeyRoles(t, open) })
}

// findWorkspace is FindAPIKey reduced to the workspace.
func findWorkspace(e *env, keyHash string) (*geopulse.Workspace, error) {
	_, w, err := e.s.FindAPIKey(e.ctx, keyHash)
	return w, err
}

func testAPIKeyRoles(t *testing.T, open opener) {
	t.Run("CreateFindList", func(t *testing.T) {
		e := newEnv(t, open)
		a, b := e.workspace("a"), e.workspace("b")
		expires := t0.Add(48 * time.Hour)
		bot := &geopulse.APIKey{WorkspaceID: a.ID, Name: "ingest-bot", Role: geopulse.RoleAnalyst,
			Scopes: []geopulse.Scope{geopulse.ScopePosts}, Prefix: "gp_abcdefg", ExpiresAt: &expires}
		if err := e.s.AddAPIKey(e.ctx, bot, geopulse.HashAPIKey("gp_bot")); err != nil {
			t.Fatal(err)
		}
		if bot.ID <= 0 || !bot.CreatedAt.Equal(t0) {
			t.Fatalf("added key: id %d, created %v", bot.ID, bot.CreatedAt)
		}
		if err := e.s.CreateAPIKey(e.ctx, a.ID, geopulse.HashAPIKey("gp_first")); err != nil {
			t.Fatal(err)
		}
		viewer := &geopulse.APIKey{WorkspaceID: b.ID, Name: "ana@b.example", Role: geopulse.RoleViewer}
		if err := e.s.AddAPIKey(e.ctx, viewer, geopulse.HashAPIKey("gp_viewer")); err != nil {
			t.Fatal(err)
		}

		k, w, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_bot"))
		if err != nil || w.ID != a.ID || w.Name != "a" {
			t.Fatalf("find bot = %+v, %v", w, err)
		}
		if k.ID != bot.ID || k.WorkspaceID != a.ID || k.Name != "ingest-bot" || k.Role != geopulse.RoleAnalyst ||
			len(k.Scopes) != 1 || k.Scopes[0] != geopulse.ScopePosts || k.Prefix != "gp_abcdefg" ||
			k.ExpiresAt == nil || !k.ExpiresAt.Equal(expires) || k.RevokedAt != nil || !k.CreatedAt.Equal(t0) {
			t.Fatalf("found key = %+v", k)
		}
		if !k.Allows(geopulse.ScopePosts) || k.Allows(geopulse.ScopeRead) {
			t.Fatalf("narrowed key allows read or not posts:write")
		}
		// The first key of a workspace is an unnamed owner key.
		k, _, err = e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_first"))
		if err != nil || k.Name != "" || k.Role != geopulse.RoleOwner || len(k.Scopes) != 0 || k.ExpiresAt != nil {
			t.Fatalf("first key = %+v, %v", k, err)
		}

		list, err := e.s.ListAPIKeys(e.ctx, a.ID)
		if err != nil || len(list) != 2 || list[0].ID != bot.ID || list[1].Role != geopulse.RoleOwner {
			t.Fatalf("list a = %v, %v", list, err)
		}
		list, err = e.s.ListAPIKeys(e.ctx, b.ID)
		if err != nil || len(list) != 1 || list[0].Name != "ana@b.example" {
			t.Fatalf("list b = %v, %v", list, err)
		}
		if list, err := e.s.ListAPIKeys(e.ctx, 9999); err != nil || len(list) != 0 {
			t.Fatalf("list unknown workspace = %v, %v", list, err)
		}

		for _, tt := range []struct {
			name string
			k    geopulse.APIKey
		}{
			{"unknown role", geopulse.APIKey{WorkspaceID: a.ID, Role: "admin"}},
			{"no role", geopulse.APIKey{WorkspaceID: a.ID}},
			{"scope beyond role", geopulse.APIKey{WorkspaceID: a.ID, Role: geopulse.RoleViewer, Scopes: []geopulse.Scope{geopulse.ScopePlaces}}},
			{"unknown scope", geopulse.APIKey{WorkspaceID: a.ID, Role: geopulse.RoleOwner, Scopes: []geopulse.Scope{"root"}}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, e.s.AddAPIKey(e.ctx, &tt.k, geopulse.HashAPIKey("gp_bad")), geopulse.EINVALID)
			})
		}
	})

	t.Run("ExpiryAndRevocation", func(t *testing.T) {
		e := newEnv(t, open)
		a, b := e.workspace("a"), e.workspace("b")
		expires := t0.Add(time.Hour)
		short := &geopulse.APIKey{WorkspaceID: a.ID, Role: geopulse.RoleViewer, ExpiresAt: &expires}
		if err := e.s.AddAPIKey(e.ctx, short, geopulse.HashAPIKey("gp_short")); err != nil {
			t.Fatal(err)
		}
		long := &geopulse.APIKey{WorkspaceID: a.ID, Role: geopulse.RoleOwner}
		if err := e.s.AddAPIKey(e.ctx, long, geopulse.HashAPIKey("gp_long")); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(expires.Add(-time.Microsecond))
		if _, _, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_short")); err != nil {
			t.Fatalf("just before expiry: %v", err)
		}
		e.clock.Set(expires)
		_, _, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_short"))
		wantCode(t, err, geopulse.EUNAUTHORIZED)

		// Another workspace cannot revoke the key.
		wantCode(t, e.s.RevokeAPIKey(e.ctx, b.ID, long.ID), geopulse.ENOTFOUND)
		if _, _, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_long")); err != nil {
			t.Fatal(err)
		}
		if err := e.s.RevokeAPIKey(e.ctx, a.ID, long.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_long"))
		wantCode(t, err, geopulse.EUNAUTHORIZED)
		wantCode(t, e.s.RevokeAPIKey(e.ctx, a.ID, long.ID), geopulse.ENOTFOUND)
		wantCode(t, e.s.RevokeAPIKey(e.ctx, a.ID, 9999), geopulse.ENOTFOUND)

		list, err := e.s.ListAPIKeys(e.ctx, a.ID)
		if err != nil || len(list) != 2 || list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(expires) {
			t.Fatalf("list after revoke = %v, %v", list, err)
		}
	})

	t.Run("Rotation", func(t *testing.T) {
		e := newEnv(t, open)
		a, b := e.workspace("a"), e.workspace("b")
		old := &geopulse.APIKey{WorkspaceID: a.ID, Name: "ingest-bot", Role: geopulse.RoleAnalyst,
			Scopes: []geopulse.Scope{geopulse.ScopePosts, geopulse.ScopeRead}, Prefix: "gp_old"}
		if err := e.s.AddAPIKey(e.ctx, old, geopulse.HashAPIKey("gp_old")); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.RotateAPIKey(e.ctx, b.ID, old.ID, geopulse.HashAPIKey("gp_stolen"), "gp_stolen", time.Hour)
		wantCode(t, err, geopulse.ENOTFOUND)
		_, err = e.s.RotateAPIKey(e.ctx, a.ID, old.ID, geopulse.HashAPIKey("gp_old"), "gp_old", time.Hour)
		wantCode(t, err, geopulse.ECONFLICT)

		e.clock.Set(t0.Add(time.Minute))
		fresh, err := e.s.RotateAPIKey(e.ctx, a.ID, old.ID, geopulse.HashAPIKey("gp_new"), "gp_new", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if fresh.ID == old.ID || fresh.Name != "ingest-bot" || fresh.Role != geopulse.RoleAnalyst || len(fresh.Scopes) != 2 ||
			fresh.Prefix != "gp_new" || !fresh.CreatedAt.Equal(t0.Add(time.Minute)) || fresh.ExpiresAt != nil {
			t.Fatalf("rotated key = %+v", fresh)
		}
		k, _, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_new"))
		if err != nil || k.ID != fresh.ID || len(k.Scopes) != 2 {
			t.Fatalf("find new = %+v, %v", k, err)
		}
		// The old key works during the grace period, then no more.
		e.clock.Set(t0.Add(time.Hour))
		k, _, err = e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_old"))
		if err != nil || k.ExpiresAt == nil || !k.ExpiresAt.Equal(t0.Add(time.Minute+time.Hour)) {
			t.Fatalf("old key in grace = %+v, %v", k, err)
		}
		e.clock.Set(t0.Add(time.Minute + time.Hour))
		_, _, err = e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_old"))
		wantCode(t, err, geopulse.EUNAUTHORIZED)
		if _, _, err := e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_new")); err != nil {
			t.Fatal(err)
		}
		// An expired key cannot be rotated again.
		_, err = e.s.RotateAPIKey(e.ctx, a.ID, old.ID, geopulse.HashAPIKey("gp_again"), "gp_again", time.Hour)
		wantCode(t, err, geopulse.ENOTFOUND)

		// A zero grace ends the old key at once; a rotation never extends
		// a key that expires sooner than the grace.
		zero, err := e.s.RotateAPIKey(e.ctx, a.ID, fresh.ID, geopulse.HashAPIKey("gp_third"), "gp_third", 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.s.FindAPIKey(e.ctx, geopulse.HashAPIKey("gp_new"))
		wantCode(t, err, geopulse.EUNAUTHORIZED)
		list, err := e.s.ListAPIKeys(e.ctx, a.ID)
		if err != nil || len(list) != 3 || list[2].ID != zero.ID {
			t.Fatalf("list after rotations = %v, %v", list, err)
		}
		_, err = e.s.RotateAPIKey(e.ctx, a.ID, zero.ID, geopulse.HashAPIKey("gp_neg"), "gp_neg", -time.Second)
		wantCode(t, err, geopulse.EINVALID)
	})
}
