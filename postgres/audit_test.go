package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/postgres"
	"github.com/geopulse/geopulse/storetest"
)

// rawExec runs query on the database at dsn with triggers off
// (session_replication_role = replica, which needs a superuser, as the
// test server's admin role is), the way an operator could get past the
// append-only triggers.
func rawExec(t *testing.T, dsn, query string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, query)
		return err
	})
	if err != nil {
		t.Fatalf("tamper %q: %v", query, err)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	tests := []struct {
		name   string
		params string // added to the DSN
	}{
		{"default", ""},
		{"simple protocol", "default_query_exec_mode=simple_protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.RunAudit(t, func(t *testing.T, now func() time.Time) (storetest.AuditStore, func(*testing.T, string)) {
				dsn := d.schema(t)
				if tt.params != "" {
					dsn += "&" + tt.params
				}
				db, err := postgres.Open(context.Background(), dsn, postgres.Options{Now: now, AutoMigrate: true})
				if err != nil {
					t.Fatal(err)
				}
				return db, func(t *testing.T, query string) { rawExec(t, dsn, query) }
			})
		})
	}
}

// TestAuditAppendOnly: the triggers refuse changes to the log through SQL,
// and let the chain head only advance.
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	db, dsn := d.openFresh(t, fixedClock)
	defer db.Close()
	ctx := context.Background()
	for range 2 {
		if err := db.AppendAudit(ctx, &geopulse.AuditEntry{WorkspaceID: 1, Actor: "system", Action: geopulse.AuditFeedRead}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	tests := []struct {
		name, sql string
	}{
		{"update entry", `UPDATE audit_log SET detail = '{}' WHERE seq = 1`},
		{"delete entry", `DELETE FROM audit_log WHERE seq = 2`},
		{"truncate log", `TRUNCATE audit_log`},
		{"head backwards", `UPDATE audit_heads SET seq = 1`},
		{"head jumps", `UPDATE audit_heads SET seq = 5`},
		{"head same seq, other hash", `UPDATE audit_heads SET hash = '\x00'`},
		{"delete head", `DELETE FROM audit_heads`},
		{"truncate heads", `TRUNCATE audit_heads`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Exec(ctx, tt.sql)
			if err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("%s: err = %v, want the trigger's refusal", tt.sql, err)
			}
		})
	}
	if v, err := db.VerifyAudit(ctx, 1); err != nil || !v.OK || v.Entries != 2 {
		t.Fatalf("verify = %+v, %v; want intact with 2 entries", v, err)
	}
}

// BenchmarkAppendAudit measures one append, as a request handler pays it.
// Run it against a server with synchronous_commit on (the default) for a
// production figure; the test schemas turn it off.
func BenchmarkAppendAudit(b *testing.B) {
	d := newTestDatabase(b)
	dsn := d.schema(b)
	for _, sync := range []string{"off", "on"} {
		b.Run("synchronous_commit="+sync, func(b *testing.B) {
			u, err := url.Parse(dsn)
			if err != nil {
				b.Fatal(err)
			}
			q := u.Query()
			q.Set("synchronous_commit", sync)
			u.RawQuery = q.Encode()
			db, err := postgres.Open(context.Background(), u.String(), postgres.Options{AutoMigrate: true})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			for b.Loop() {
				e := &geopulse.AuditEntry{WorkspaceID: 1, Actor: "key:0123abcd", Action: geopulse.AuditFeedRead,
					Target: "place:12", Detail: `{"limit":50,"from":"2025-06-01T00:00:00Z"}`}
				if err := db.AppendAudit(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
