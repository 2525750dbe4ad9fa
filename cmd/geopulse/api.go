package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

const apiUsage = `Usage:

	geopulse api --nats URL [--db DSN] [--addr :8080] [flags]

Runs the HTTP API and intake only: accepted posts are published to the
NATS stream, and 'geopulse worker' processes store them. Run as many api
processes as the traffic needs, against one NATS cluster and one store.
The embedded DuckDB store is a single-process file, so a multi-process
deployment needs a server store; with DuckDB, use 'geopulse serve'.
`

func runAPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("api", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, apiUsage); cf.fs.PrintDefaults() }
	cf.fs.StringVar(&cf.cfg.Addr, "addr", cf.cfg.Addr, "HTTP listen address")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	if cfg.NATS == "" {
		return fmt.Errorf("api needs --nats URL (or GEOPULSE_NATS): %w", errUsage)
	}
	return runRole(ctx, roleAPI, cfg, stdout, stderr)
}

// runRole runs Main in a role until ctx ends (SIGINT, SIGTERM), then shuts
// it down gracefully.
func runRole(ctx context.Context, role string, cfg Config, stdout, stderr io.Writer) error {
	m := NewMain()
	m.Role = role
	m.Config = cfg
	m.Logger = newLogger(cfg, stderr)
	m.Stdout = stdout
	if err := m.Open(ctx); err != nil {
		return err
	}
	switch role {
	case roleWorker:
		fmt.Fprintf(stdout, "geopulse worker is up (%d loops; health: %s/healthz, metrics: %s/metrics)\n", cfg.WorkerConcurrency, m.URL(), m.URL())
	default:
		fmt.Fprintf(stdout, "geopulse is up on %s (health: %s/healthz, API: %s/v1/openapi.json)\n", m.URL(), m.URL(), m.URL())
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}
