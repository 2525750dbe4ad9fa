package storetest

import (
	"testing"

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
			got, err := e.s.FindWorkspaceByAPIKey(e.ctx, geopulse.HashAPIKey(key))
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
				_, err := e.s.FindWorkspaceByAPIKey(e.ctx, geopulse.HashAPIKey("gp_unknown"))
				return err
			}, geopulse.EUNAUTHORIZED},
			{"empty hash lookup", func() error { _, err := e.s.FindWorkspaceByAPIKey(e.ctx, ""); return err }, geopulse.EUNAUTHORIZED},
			{"raw key is not a hash", func() error { _, err := e.s.FindWorkspaceByAPIKey(e.ctx, keyA); return err }, geopulse.EUNAUTHORIZED},
			{"unknown workspace", func() error { return e.s.CreateAPIKey(e.ctx, 9999, geopulse.HashAPIKey("gp_x")) }, geopulse.ENOTFOUND},
			{"duplicate hash", func() error { return e.s.CreateAPIKey(e.ctx, b.ID, geopulse.HashAPIKey(keyA)) }, geopulse.ECONFLICT},
			{"empty hash", func() error { return e.s.CreateAPIKey(e.ctx, a.ID, "") }, geopulse.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err(), tt.code) })
		}
	})
}
