package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/simulate"
	"github.com/geopulse/geopulse/source/canonical"
)

const simulateUsage = `Usage:

	geopulse simulate [flags]                      write posts as NDJSON (-out FILE, default stdout)
	geopulse simulate -url URL -key KEY [flags]    stream posts to a running server

The world is deterministic for a seed: the same flags give the same posts.
`

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage); fs.PrintDefaults() }
	var (
		seed     = fs.Int64("seed", 1, "world seed")
		posts    = fs.Int("posts", 10_000, "number of posts (0: unlimited when streaming)")
		days     = fs.Int("days", 30, "history: posts spread over the last N days (file mode)")
		venues   = fs.Int("venues", 400, "venues in the world")
		authors  = fs.Int("authors", 0, "authors in the world (default: enough for -posts to span -days)")
		out      = fs.String("out", "-", "NDJSON output file ('-': stdout)")
		places   = fs.String("places", "", "also write the venues as a GeoJSON FeatureCollection to this file")
		url      = fs.String("url", "", "stream to this server instead of writing a file")
		key      = fs.String("key", os.Getenv("GEOPULSE_API_KEY"), "API key for -url (default $GEOPULSE_API_KEY)")
		rate     = fs.Float64("rate", 100, "posts per second when streaming (0: as fast as possible)")
		batch    = fs.Int("batch", 500, "posts per request when streaming")
		seedPlcs = fs.Bool("create-places", false, "with -url: import the world's venues as places first")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *posts < 0 || *days < 1 || *venues < 1 || *authors < 0 || *batch < 1 || *rate < 0 {
		return fmt.Errorf("simulate: -posts, -days, -venues, -authors, -batch and -rate must not be negative (-days, -venues and -batch at least 1): %w", errUsage)
	}
	if *authors == 0 {
		*authors = authorsFor(max(*posts, 10_000), *days)
	}
	end := time.Now().UTC().Truncate(time.Hour)
	world := simulate.New(simulate.Options{
		Seed: *seed, Venues: *venues, Authors: *authors,
		Start: end.Add(-time.Duration(*days) * 24 * time.Hour), End: end,
	})
	if *places != "" {
		if err := writeFile(*places, func(w io.Writer) error { return writeFeatureCollection(w, world.Places()) }); err != nil {
			return err
		}
	}
	if *url != "" {
		c := &client{base: strings.TrimRight(*url, "/"), key: *key, http: &nethttp.Client{Timeout: time.Minute}}
		if *seedPlcs {
			if err := c.importPlaces(ctx, world.Places()); err != nil {
				return err
			}
		}
		return c.stream(ctx, world, *posts, *rate, *batch, stderr)
	}
	return writeFile(*out, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var line []byte
		for i := 0; i < *posts; i++ {
			line = canonical.AppendJSON(line[:0], world.Next())
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

func writeFile(path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(os.Stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// writeFeatureCollection writes places as GeoJSON, the bulk import format.
func writeFeatureCollection(w io.Writer, places []*geopulse.Place) error {
	type feature struct {
		Type       string          `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties map[string]any  `json:"properties"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection"}
	for _, p := range places {
		props := map[string]any{"name": p.Name, "category": p.Category, "groups": p.Groups}
		if p.Brand != "" {
			props["brand"] = p.Brand
		}
		geom := p.Geometry
		if p.Center != nil {
			geom, _ = json.Marshal(map[string]any{"type": "Point", "coordinates": []float64{p.Center.Lon, p.Center.Lat}})
			props["radius_m"] = p.RadiusM
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", Geometry: geom, Properties: props})
	}
	enc := json.NewEncoder(w)
	return enc.Encode(fc)
}

// client talks to a running geopulse server.
type client struct {
	base, key string
	http      *nethttp.Client
}

func (c *client) do(ctx context.Context, path, contentType string, body []byte, out any) error {
	req, err := nethttp.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *client) importPlaces(ctx context.Context, places []*geopulse.Place) error {
	var buf bytes.Buffer
	if err := writeFeatureCollection(&buf, places); err != nil {
		return err
	}
	var res struct{ Created, Rejected int }
	if err := c.do(ctx, "/v1/places/import", "application/geo+json", buf.Bytes(), &res); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "places: %d created, %d rejected\n", res.Created, res.Rejected)
	return nil
}

// stream sends posts in NDJSON batches at the given rate, printing progress
// every few seconds, until n posts are sent (n = 0: until interrupted).
func (c *client) stream(ctx context.Context, world *simulate.World, n int, rate float64, batch int, progress io.Writer) error {
	start := time.Now()
	lastReport := start
	var sent, accepted, rejected int
	var body []byte
	for n == 0 || sent < n {
		k := batch
		if n > 0 && n-sent < k {
			k = n - sent
		}
		if rate > 0 {
			// Pace by the schedule, not by sleeps per batch, so slow requests do not lower the rate.
			due := start.Add(time.Duration(float64(sent+k) / rate * float64(time.Second)))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Until(due)):
			}
		}
		body = body[:0]
		now := time.Now().UTC()
		for range k {
			body = canonical.AppendJSON(body, world.Live(now))
			body = append(body, '\n')
		}
		var res struct{ Accepted, Rejected int }
		if err := c.do(ctx, "/v1/posts?quiet=1", "application/x-ndjson", body, &res); err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return err
		}
		sent += k
		accepted += res.Accepted
		rejected += res.Rejected
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(progress, "sent %d posts (%d accepted, %d rejected), %.0f/s\n", sent, accepted, rejected, float64(sent)/time.Since(start).Seconds())
		}
	}
	fmt.Fprintf(progress, "done: sent %d posts (%d accepted, %d rejected) in %s\n", sent, accepted, rejected, time.Since(start).Round(time.Millisecond))
	return nil
}
