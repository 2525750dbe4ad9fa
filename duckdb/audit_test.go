package duckdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/storetest"
)

// This is an internal test because tampering needs the store's own writer
// connection: DuckDB lets only one database instance open a file.

func openAuditStore(t testing.TB, now func() time.Time) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "geopulse.duckdb"), Options{Now: now, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestAudit(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T, now func() time.Time) (storetest.AuditStore, func(*testing.T, string)) {
		db := openAuditStore(t, now)
		exec := func(t *testing.T, query string) {
			t.Helper()
			err := db.write(context.Background(), func(c *sql.Conn) error {
				_, err := c.ExecContext(context.Background(), query)
				return err
			})
			if err != nil {
				t.Fatalf("tamper %q: %v", query, err)
			}
		}
		return db, exec
	})
}

// BenchmarkAppendAudit measures one append, as a request handler pays it,
// on a file-backed store (commits reach the WAL).
func BenchmarkAppendAudit(b *testing.B) {
	db := openAuditStore(b, nil)
	defer db.Close()
	ctx := context.Background()
	for b.Loop() {
		e := &geopulse.AuditEntry{WorkspaceID: 1, Actor: "key:0123abcd", Action: geopulse.AuditFeedRead,
			Target: "place:12", Detail: `{"limit":50,"from":"2025-06-01T00:00:00Z"}`}
		if err := db.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
