package duckdb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func TestZZDiag(t *testing.T) {
	path := os.Getenv("DIAG_DB")
	if path == "" {
		t.Skip()
	}
	ctx := context.Background()
	db, err := Open(ctx, path+"", Options{MemoryLimit: os.Getenv("DIAG_MEM")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	timeQ := func(name, q string, reps int) {
		var ds []time.Duration
		for k := 0; k < reps; k++ {
			t0 := time.Now()
			rows, err := db.sql.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		fmt.Printf("%-20s p50 %v p90 %v\n", name, ds[len(ds)/2], ds[len(ds)*9/10])
	}
	explain := func(q string) {
		rows, err := db.sql.QueryContext(ctx, "EXPLAIN ANALYZE "+q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b string
			rows.Scan(&a, &b)
			for _, l := range strings.Split(b, "\n") {
				if strings.Contains(l, "Total Time") || strings.Contains(l, "rows") || strings.Contains(l, "s ") || strings.Contains(l, "Type:") || strings.Contains(l, "_SCAN") || strings.Contains(l, "JOIN") || strings.Contains(l, "TOP") || strings.Contains(l, "GROUP") {
					fmt.Println(l)
				}
			}
		}
	}
	for _, pl := range []int64{4321, 77, 9000} {
		f := geopulse.PostFilter{WorkspaceID: (pl-1)/benchPlacesPerWS + 1, PlaceIDs: []int64{pl},
			From: benchEnd.Add(-30 * 24 * time.Hour), To: benchEnd, Limit: 50}
		feedQ := candidatesSQL([]int64{pl}, f, false, nil, 51)
		cte := feedQ[:strings.Index(feedQ, ") SELECT p.id")+1]
		timeQ("candidates", feedQ[len("WITH c AS ("):len(cte)-1], 40)
		timeQ("feed-all-cols", feedQ, 40)
		timeQ("feed-4-cols", cte+` SELECT p.doc, p.place_ids, p.expired, a.card FROM c JOIN posts p ON p.id = c.post_id JOIN authors a ON a.id = p.author_id ORDER BY c.taken_at DESC, c.post_id DESC`, 40)
		timeQ("feed-posts-only", cte+` SELECT p.doc, p.place_ids, p.expired FROM c JOIN posts p ON p.id = c.post_id ORDER BY c.taken_at DESC, c.post_id DESC`, 40)
	}
	_ = explain
	if q := os.Getenv("DIAG_Q"); q != "" {
		explain(q)
	}
	var rgs int
	db.sql.QueryRowContext(ctx, "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('post_places')").Scan(&rgs)
	fmt.Println("post_places row groups", rgs, "sorted", db.sortedRows, "tail", db.tailRows)
}
