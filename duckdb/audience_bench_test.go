package duckdb

import (
	"context"
	"fmt"
	"math/rand/v2"
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
