package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/geopulse/geopulse/postgres"
)

const migrateUsage = `Usage:

	geopulse migrate [-db DSN | -data DIR | -config FILE]

Applies the store's pending schema migrations. The PostgreSQL store refuses to
start on a stale schema until this has run; the embedded DuckDB store
migrates itself when it opens, so for it this only checks the file opens.
`

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("migrate", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); cf.fs.PrintDefaults() }
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	kind, err := cfg.storeKind()
	if err != nil {
		return err
	}
	if kind == "postgres" {
		applied, err := postgres.Migrate(ctx, cfg.DB)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", redactDSN(cfg.DB), err)
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "schema is up to date")
		}
		for _, m := range applied {
			fmt.Fprintln(stdout, "applied", m)
		}
		return nil
	}
	store, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "schema is up to date")
	return store.Close()
}
