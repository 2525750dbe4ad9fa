package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/postgres"
)

// benchRadiusM is the radius of the compared radius feeds: a few venues'
// worth of a city block.
const benchRadiusM = 500

// atSizePostgres measures the PostgreSQL store at size posts in a database
// of its own on the server of adminDSN, dropped when done (also on error).
func (b *bench) atSizePostgres(ctx context.Context, adminDSN string, size, writers int) (err error) {
	name := fmt.Sprintf("geopulse_bench_%d_%d", os.Getpid(), size)
	dsn, err := postgres.CreateDatabase(ctx, adminDSN, name)
	if err != nil {
		return err
	}
	b.logf("postgres: database %s created", name)
	defer func() {
		if derr := postgres.DropDatabase(context.WithoutCancel(ctx), adminDSN, name); derr != nil && err == nil {
			err = derr
		}
	}()
	db, err := postgres.Open(ctx, dsn, postgres.Options{AutoMigrate: true})
	if err != nil {
		return err
	}
	defer db.Close()
	label := human(size) + " posts"
	// After the load, the steady state: autovacuum would have set the
	// visibility map (index-only scans) and statistics by the time a
	// store holds this much; here it is done at once and timed apart.
	vacuum := func(ctx context.Context) error {
		t0 := time.Now()
		if err := db.VacuumAnalyze(ctx); err != nil {
			return err
		}
		b.add(colPostgres, "vacuum analyze after the load (not in ingest)", label, fmt.Sprintf("%.1f s", time.Since(t0).Seconds()), "")
		return nil
	}
	if err := b.atSize(ctx, colPostgres, db, size, writers, vacuum); err != nil {
		return err
	}
	if n, err := db.DatabaseSize(ctx); err == nil {
		b.add(colPostgres, "store size on disk", label, fmt.Sprintf("%.2f GB", float64(n)/1e9), "")
	}
	if err := b.radiusRatio(ctx, db, label); err != nil {
		return err
	}
	return b.httpRows(ctx, colPostgres, db, size)
}

// radiusRatio compares the store's radius feed (FindPosts with a circle
// Area: the GiST index on geom finds the box, Go keeps the circle) with a
// hand-written PostGIS ST_DWithin query on geography, on the same circles
// around the busiest venues, alternating the two, and checks that both
// return the same posts.
func (b *bench) radiusRatio(ctx context.Context, db *postgres.DB, label string) error {
	t0 := time.Now()
	if err := db.CreateGeographyIndex(ctx); err != nil {
		return err
	}
	b.add(colPostgres, "  PostGIS baseline's index on geom::geography (built once)", label, fmt.Sprintf("%.1f s", time.Since(t0).Seconds()), "")
	l := b.last
	places, err := db.FindPlaces(ctx, geopulse.PlaceFilter{WorkspaceID: l.wsID})
	if err != nil {
		return err
	}
	centers := make(map[int64]geopulse.LatLon, len(places))
	for _, p := range places {
		if p.Center != nil {
			centers[p.ID] = *p.Center
		}
	}
	var circles []geopulse.LatLon
	for _, id := range l.busy {
		if c, ok := centers[id]; ok {
			circles = append(circles, c)
		}
	}
	if len(circles) == 0 {
		return fmt.Errorf("bench: no venue to draw circles around")
	}
	n := max(b.queries/5, 20)
	ours, theirs := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	var posts, differ int
	for i := range n {
		c := circles[l.rng.IntN(len(circles))]
		area, err := geo.CircleArea(c.Lat, c.Lon, benchRadiusM)
		if err != nil {
			return err
		}
		start := time.Now()
		got, _, err := db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: l.wsID, Area: area, Limit: 50})
		if err != nil {
			return err
		}
		d1 := time.Since(start)
		start = time.Now()
		want, err := db.PostGISRadius(ctx, l.wsID, c.Lat, c.Lon, benchRadiusM, 50)
		if err != nil {
			return err
		}
		d2 := time.Since(start)
		if i > 0 { // the first of each warms the connection and caches
			ours, theirs = append(ours, d1), append(theirs, d2)
		}
		ids := make([]int64, len(got))
		for j, p := range got {
			ids[j] = p.ID
		}
		posts += len(ids)
		if !slices.Equal(ids, want) {
			differ++
		}
	}
	lo, lp := summarize(ours), summarize(theirs)
	b.add(colPostgres, fmt.Sprintf("radius feed (%d m, 50 posts), geopulse", benchRadiusM), label, lo.String(), "")
	b.add(colPostgres, fmt.Sprintf("radius feed (%d m, 50 posts), hand-written ST_DWithin", benchRadiusM), label, lp.String(), "")
	same := fmt.Sprintf("same posts in %d/%d", n-differ, n)
	b.add(colPostgres, "radius feed ratio geopulse / PostGIS (p50, p99)", label,
		fmt.Sprintf("%.2f, %.2f (%s, %.1f posts each)", ms(lo.p50)/ms(lp.p50), ms(lo.p99)/ms(lp.p99), same, float64(posts)/float64(n)), "< 1: geopulse faster")
	if differ > 0 {
		b.logf("postgres: the radius feed and the PostGIS query disagree on %d of %d circles", differ, n)
	}
	return nil
}

// summarize returns the p50 and p99 of d.
func summarize(d []time.Duration) latency {
	slices.Sort(d)
	n := len(d)
	return latency{p50: d[n/2], p99: d[min(n-1, n*99/100)]}
}
