package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

// BenchmarkFindSubjectAuthors finds a handle among 1M authors of one
// source: the full scan a request by handle costs.
func BenchmarkFindSubjectAuthors(b *testing.B) {
	ctx := context.Background()
	d := newTestDatabase(b)
	db, dsn := d.openFresh(b, nil)
	defer db.Close()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	// Cards as encodeCard writes them.
	_, err = c.Exec(ctx, `INSERT INTO authors SELECT i, 10, 10, 10, false, now(), i,
		('{"source":"insta","source_id":"u' || i || '","handle":"User.' || i || '","display_name":"User ' || i ||
		'","avatar_url":"https://img.example/' || i || '.jpg","bio":"a bio of some length for user ' || i ||
		'","verified":false,"business":false}')::json
		FROM generate_series(1, 1000000) i`)
	if err == nil {
		_, err = c.Exec(ctx, `VACUUM ANALYZE authors`)
	}
	c.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ref := geopulse.SubjectRef{Source: "insta", Handle: "@user.777777"}
	for b.Loop() {
		got, err := db.FindSubjectAuthors(ctx, ref)
		if err != nil || len(got) != 1 {
			b.Fatalf("found %d, %v", len(got), err)
		}
	}
}
