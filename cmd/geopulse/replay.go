package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
)

const replayUsage = `Usage:

	geopulse replay --since T [--until T] [--vision] [flags]

Runs the posts kept in the stream (the replay window, stream_max_age) from
T on through the pipeline again: after places were added or changed, or a
better model was installed (--vision also queues the posts' pictures for
the vision workers, which a running serve or worker then labels anew).
Writes are idempotent, so posts stored already
are only refreshed. T is RFC 3339 (2026-11-20T00:00:00Z), a date
(2026-11-20, UTC) or a duration ago (36h).

Flags: -data DIR, -db DSN, -nats URL, -config FILE (as for serve). With the
embedded store and stream, stop 'geopulse serve' first.
`

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("replay", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, replayUsage); cf.fs.PrintDefaults() }
	sinceFlag := cf.fs.String("since", "", "replay posts the stream received from this time on (required)")
	untilFlag := cf.fs.String("until", "", "stop before this time (default: the last post when replay starts)")
	visionFlag := cf.fs.Bool("vision", false, "queue the replayed posts' pictures for the vision workers again (after a better model)")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	since, err := parseWhen(*sinceFlag, now)
	if err != nil || *sinceFlag == "" {
		fmt.Fprint(stderr, replayUsage)
		return fmt.Errorf("replay: --since: %v: %w", orMissing(err), errUsage)
	}
	var until time.Time
	if *untilFlag != "" {
		if until, err = parseWhen(*untilFlag, now); err != nil {
			return fmt.Errorf("replay: --until: %v: %w", err, errUsage)
		}
	}
	logger := newLogger(cfg, stderr)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	an, err := loadText(cfg, logger)
	if err != nil {
		return err
	}
	pl, err := pipeline.New(ctx, store, pipeline.Options{Logger: logger, Text: an})
	if err != nil {
		return err
	}
	st, closeStream, err := openToolStream(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStream()

	start := time.Now()
	last := start
	pr, err := st.Replay(ctx, gpnats.ReplayOptions{
		Since: since, Until: until, Ingester: pl, Vision: *visionFlag,
		Progress: func(p gpnats.ReplayProgress) {
			if time.Since(last) >= time.Second {
				last = time.Now()
				fmt.Fprintf(stdout, "replay: %d posts (seq %d of %d, at %s), %d stored, %d rejected\n",
					p.Messages, p.Seq, p.LastSeq, p.At.Format(time.RFC3339), p.Stored, p.Rejected)
			}
		},
	})
	fmt.Fprintf(stdout, "replay done: %d posts in %s: %d stored, %d rejected, %d undecodable (see deadletters)\n",
		pr.Messages, time.Since(start).Round(time.Millisecond), pr.Stored, pr.Rejected, pr.Undecodable)
	if *visionFlag {
		fmt.Fprintf(stdout, "vision: %d pictures' posts queued for labelling, %d not queued\n", pr.VisionQueued, pr.VisionLost)
	}
	return err
}

// parseWhen reads RFC 3339, a UTC date or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, a date (YYYY-MM-DD) or a duration (36h)", s)
}

func orMissing(err error) any {
	if err == nil {
		return "missing"
	}
	return err
}
