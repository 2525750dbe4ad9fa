package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// BenchmarkAudience measures the audience targets of DESIGN.md on the
// bench world (GEOPULSE_BENCH_POSTS posts, a tenth as many authors):
// rebuilding every profile, an audience's size, its full composition and
// a 20×20 cross-visitation matrix, for random workspaces and 20 of their
// places, with an interest condition.
func BenchmarkAudience(b *testing.B) {
	n := benchPosts(b)
	db := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	now := benchEnd
	start := time.Now()
	authors, err := db.RefreshProfiles(ctx, now, 0, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("profiles of %d authors rebuilt from %d posts in %s", authors, n, time.Since(start).Round(time.Millisecond))
	r := rand.New(rand.NewPCG(3, 3))
	query := func() (geopulse.AudienceQuery, []int64) {
		ws := int64(r.IntN(benchPlaces/benchPlacesPerWS) + 1)
		first := (ws-1)*benchPlacesPerWS + 1 + int64(r.IntN(benchPlacesPerWS-20))
		ids := make([]int64, 20)
		for i := range ids {
			ids[i] = first + int64(i)
		}
		return geopulse.AudienceQuery{WorkspaceID: ws, Now: now, Criteria: geopulse.AudienceCriteria{
			Places: ids, WithinDays: benchDays, Interests: []string{benchInterests[r.IntN(len(benchInterests))]},
		}}, ids
	}
	run := func(name string, f func(q geopulse.AudienceQuery, ids []int64) error) {
		b.Run(fmt.Sprintf("%s/posts=%d", name, n), func(b *testing.B) {
			for range 5 {
				q, ids := query()
				if err := f(q, ids); err != nil {
					b.Fatal(err)
				}
			}
			var lat []time.Duration
			for b.Loop() {
				q, ids := query()
				t := time.Now()
				err := f(q, ids)
				lat = append(lat, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
			}
			reportLatency(b, lat)
		})
	}
	run("size", func(q geopulse.AudienceQuery, _ []int64) error {
		n, err := db.AudienceSize(ctx, q)
		if err == nil && n == 0 {
			err = fmt.Errorf("empty audience %+v", q.Criteria)
		}
		return err
	})
	run("composition", func(q geopulse.AudienceQuery, _ []int64) error {
		st, err := db.AudienceStats(ctx, q, 10)
		if err == nil && (st.Authors == 0 || len(st.Interests) == 0) {
			err = fmt.Errorf("empty composition %+v", st)
		}
		return err
	})
	run("cross20x20", func(q geopulse.AudienceQuery, ids []int64) error {
		_, err := db.CrossVisits(ctx, q, ids)
		return err
	})
}

// BenchmarkProfileRefresh measures a profiler round for a chunk of queued
// authors: staging (stage-ms, on a connection of its own while ingest goes
// on) and the swap (lock-ms, under the writer's lock: ingest waits that
// long).
func BenchmarkProfileRefresh(b *testing.B) {
	n := benchPosts(b)
	db := benchStore(b, n)
	defer db.Close()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(4, 4))
	g := newBenchGen(n, 1, "")
	for _, chunk := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("authors=%d/posts=%d", chunk, n), func(b *testing.B) {
			var stage, lock []time.Duration
			for b.Loop() {
				ids := make([]int64, chunk)
				for i := range ids {
					a := g.authors[r.IntN(len(g.authors))]
					ids[i] = geopulse.AuthorID(a.Source, a.SourceID)
				}
				if err := db.write(ctx, func(c *sql.Conn) error { return queueProfiles(ctx, c, ids) }); err != nil {
					b.Fatal(err)
				}
				t := time.Now()
				_, seq, _, err := db.stageProfiles(ctx, benchEnd, chunk, false, 0)
				if err != nil {
					b.Fatal(err)
				}
				stage = append(stage, time.Since(t))
				t = time.Now()
				if err := db.swapProfiles(ctx, seq); err != nil {
					b.Fatal(err)
				}
				lock = append(lock, time.Since(t))
			}
			b.ReportMetric(p50ms(stage), "stage-p50-ms")
			b.ReportMetric(p50ms(lock), "lock-p50-ms")
			b.ReportMetric(float64(slices.Max(lock))/1e6, "lock-max-ms")
		})
	}
}

func p50ms(d []time.Duration) float64 {
	s := slices.Sorted(slices.Values(d))
	return float64(s[len(s)/2]) / 1e6
}
