package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

const workerUsage = `Usage:

	geopulse worker --nats URL [--db DSN] [--concurrency 2] [--addr :8080] [flags]

Runs pipeline workers: they take posts from the NATS stream, match and
store them, and acknowledge each only once stored. Any number of worker
processes share the work (each post is processed by one). --addr serves
/healthz, /readyz and /metrics. The embedded DuckDB store is a
single-process file: with it, run one process ('geopulse serve').
`

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("worker", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, workerUsage); cf.fs.PrintDefaults() }
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "listen address of /healthz, /readyz and /metrics")
	cf.fs.IntVar(&cf.cfg.WorkerConcurrency, "concurrency", cf.cfg.WorkerConcurrency, "pipeline loops in this process")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	if cfg.NATS == "" {
		return fmt.Errorf("worker needs --nats URL (or GEOPULSE_NATS): %w", errUsage)
	}
	return runRole(ctx, roleWorker, cfg, stdout, stderr)
}
