// Command geopulse is the one binary of geopulse: it serves the API, the
// stream and the pipeline (all in one, or as separate api and worker
// roles), replays the stream, manages dead letters, administers workspaces,
// simulates a world and benchmarks itself.
// It is the only place that reads flags, environment and files, and the only
// place that knows concrete adapters and wires them together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `geopulse turns public, geotagged posts into location intelligence.

Usage:

	geopulse <command> [arguments]

Commands:

	serve       run everything in one process: API, stream (embedded NATS), workers, janitor
	api         run the HTTP API and intake only, against --nats (scale out)
	worker      run pipeline workers only, against --nats (scale out)
	import      read posts from files (canonical, Instagram, Instaloader, X, Flickr, Mastodon, CSV; .gz/.xz)
	retention   apply the retention policies once, or --dry-run to see what they would remove
	replay      run posts kept in the stream through the pipeline again (--since T)
	deadletters list, redrive or delete posts the workers gave up on
	admin       manage workspaces and API keys (admin create-workspace NAME)
	simulate    generate a synthetic world: NDJSON files or a live stream to a server
	bench       measure ingest, matching, feed and analytics speed and print a table
	profiles    rebuild author profiles from the stored posts (audiences read them)
	migrate     apply the store's pending schema migrations (PostgreSQL)
	config      print the effective configuration (secrets redacted)
	version     print the version

Run 'geopulse <command> -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "geopulse:", err)
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

// run dispatches a subcommand; tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "api":
		return runAPI(ctx, args, stdout, stderr)
	case "worker":
		return runWorker(ctx, args, stdout, stderr)
	case "profiles":
		return runProfiles(ctx, args, stdout, stderr)
	case "replay":
		return runReplay(ctx, args, stdout, stderr)
	case "import":
		return runImport(ctx, args, stdout, stderr)
	case "retention":
		return runRetention(ctx, args, stdout, stderr)
	case "deadletters":
		return runDeadLetters(ctx, args, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, args, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args, stdout, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "config":
		return runConfig(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "geopulse", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q: %w", cmd, errUsage)
	}
}
