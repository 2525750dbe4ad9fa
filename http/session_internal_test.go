package http

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestSessionStore(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(t *testing.T, st *sessionStore)
	}{
		{"live session is found", func(t *testing.T, st *sessionStore) {
			id, sess := st.create(t0, time.Hour, 7, "h")
			got, ok := st.get(id, t0.Add(59*time.Minute))
			if !ok || got != sess || got.workspaceID != 7 || got.csrf == "" {
				t.Fatalf("get = %+v, %v", got, ok)
			}
		}},
		{"expired session is gone", func(t *testing.T, st *sessionStore) {
			id, _ := st.create(t0, time.Hour, 7, "h")
			if _, ok := st.get(id, t0.Add(time.Hour)); ok {
				t.Fatal("session alive at its expiry")
			}
			if st.len() != 0 {
				t.Fatalf("expired session kept: %d", st.len())
			}
		}},
		{"unknown and empty ids", func(t *testing.T, st *sessionStore) {
			st.create(t0, time.Hour, 7, "h")
			for _, id := range []string{"", "nope"} {
				if _, ok := st.get(id, t0); ok {
					t.Errorf("get(%q) found a session", id)
				}
			}
		}},
		{"ids and tokens are fresh", func(t *testing.T, st *sessionStore) {
			a, sa := st.create(t0, time.Hour, 7, "h")
			b, sb := st.create(t0, time.Hour, 7, "h")
			if a == b || sa.csrf == sb.csrf || a == sa.csrf || len(a) < 40 {
				t.Fatalf("ids %q %q, tokens %q %q", a, b, sa.csrf, sb.csrf)
			}
		}},
		{"delete", func(t *testing.T, st *sessionStore) {
			id, _ := st.create(t0, time.Hour, 7, "h")
			st.delete(id)
			if _, ok := st.get(id, t0); ok {
				t.Fatal("deleted session found")
			}
		}},
		{"full table sweeps expired ones first", func(t *testing.T, st *sessionStore) {
			old, _ := st.create(t0, time.Minute, 1, "h")
			keep, _ := st.create(t0, 2*time.Hour, 2, "h")
			st.create(t0, 2*time.Hour, 3, "h")
			st.create(t0.Add(time.Hour), 2*time.Hour, 4, "h") // table of 3 is full: the expired one goes
			if _, ok := st.get(old, t0); ok {
				t.Error("expired session survived the sweep")
			}
			if _, ok := st.get(keep, t0.Add(time.Hour)); !ok {
				t.Error("live session was evicted although an expired one could go")
			}
		}},
		{"full table of live sessions drops the oldest", func(t *testing.T, st *sessionStore) {
			first, _ := st.create(t0, time.Hour, 1, "h")
			second, _ := st.create(t0.Add(time.Second), time.Hour, 2, "h")
			st.create(t0.Add(2*time.Second), time.Hour, 3, "h")
			st.create(t0.Add(3*time.Second), time.Hour, 4, "h")
			if _, ok := st.get(first, t0.Add(4*time.Second)); ok {
				t.Error("oldest session kept")
			}
			if _, ok := st.get(second, t0.Add(4*time.Second)); !ok {
				t.Error("second session dropped")
			}
			if st.len() != 3 {
				t.Errorf("len = %d, want 3", st.len())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newSessionStore(3)) })
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/app/places"},
		{"/app/feed", "/app/feed"},
		{"/app/feed?place=1,2", "/app/feed?place=1,2"},
		{"https://evil.example/app/feed", "/app/places"},
		{"//evil.example/app/", "/app/places"},
		{"/\\evil.example", "/app/places"},
		{"/app/\\evil", "/app/places"},
		{"/v1/places", "/app/places"},
		{"javascript:alert(1)", "/app/places"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := safeNext(tt.in); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"identity", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/static/x", nil)
			r.Header.Set("Accept-Encoding", tt.header)
			if got := acceptsGzip(r); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v", tt.header, got)
			}
		})
	}
}

func TestTileOrigin(t *testing.T) {
	tests := []struct {
		tmpl, want string
		bad        bool
	}{
		{"https://tiles.example.com/{z}/{x}/{y}.png", "https://tiles.example.com", false},
		{"http://{s}.tile.example.org/{z}/{x}/{y}.png", "http://*.tile.example.org", false},
		{"http://localhost:8081/{z}/{x}/{y}.png", "http://localhost:8081", false},
		{"https://tiles.example.com/{z}/{x}.png", "", true},
		{"ftp://tiles.example.com/{z}/{x}/{y}.png", "", true},
		{"/tiles/{z}/{x}/{y}.png", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			got, err := tileOrigin(tt.tmpl)
			if (err != nil) != tt.bad || got != tt.want {
				t.Errorf("tileOrigin = %q, %v; want %q, bad %v", got, err, tt.want, tt.bad)
			}
		})
	}
}
