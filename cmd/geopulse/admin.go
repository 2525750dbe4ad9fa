package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/geopulse/geopulse"
)

const adminUsage = `Usage:

	geopulse admin create-workspace [flags] NAME   create a workspace and print its first API key
	geopulse admin create-key [flags] NAME         print a new API key for an existing workspace

Flags: -data DIR, -db DSN, -config FILE (as for serve). The embedded store is
a single-process file: stop 'geopulse serve' first, or use its demo key.
`

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	cf := newConfigFlags("admin "+sub, stderr)
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	if cf.fs.NArg() != 1 || strings.TrimSpace(cf.fs.Arg(0)) == "" {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("admin %s needs exactly one NAME: %w", sub, errUsage)
	}
	name := strings.TrimSpace(cf.fs.Arg(0))
	if sub != "create-workspace" && sub != "create-key" {
		fmt.Fprint(stderr, adminUsage)
		return fmt.Errorf("unknown admin command %q: %w", sub, errUsage)
	}

	store, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer store.Close()

	var ws *geopulse.Workspace
	if sub == "create-workspace" {
		ws = &geopulse.Workspace{Name: name}
		if err := store.CreateWorkspace(ctx, ws); err != nil {
			return fmt.Errorf("create workspace: %s", geopulse.ErrorMessage(err))
		}
	} else if ws, err = store.FindWorkspaceByName(ctx, name); err != nil {
		return fmt.Errorf("find workspace: %s", geopulse.ErrorMessage(err))
	}
	key := geopulse.NewAPIKey()
	if err := store.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	fmt.Fprintf(stderr, "workspace %q (id %d); API key, shown once:\n", ws.Name, ws.ID)
	fmt.Fprintln(stdout, key)
	return nil
}
