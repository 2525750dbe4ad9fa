package duckdb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
)

// BenchmarkFindSubjectAuthors finds a handle among 1M authors of one
// source: the full scan a request by handle costs.
func BenchmarkFindSubjectAuthors(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "geopulse.duckdb")
	db, err := duckdb.Open(ctx, path, duckdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	// Cards as encodeCard writes them.
	_, err = raw.ExecContext(ctx, `INSERT INTO authors SELECT i, 10, 10, 10, false, now(), i,
		'{"followers":10,"following":10,"posts_count":10,"private":false,"updated_at":0,"source":"insta","source_id":"u' || i ||
		'","handle":"User.' || i || '","display_name":"User ' || i || '","avatar_url":"https://img.example/' || i ||
		'.jpg","bio":"a bio of some length for user ' || i || '","verified":false,"business":false}'
		FROM range(1000000) t(i)`)
	raw.Close()
	if err != nil {
		b.Fatal(err)
	}
	db, err = duckdb.Open(ctx, path, duckdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ref := geopulse.SubjectRef{Source: "insta", Handle: "@user.777777"}
	for b.Loop() {
		got, err := db.FindSubjectAuthors(ctx, ref)
		if err != nil || len(got) != 1 {
			b.Fatalf("found %d, %v", len(got), err)
		}
	}
}
