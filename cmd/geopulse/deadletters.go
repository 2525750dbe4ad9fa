package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse/http"
	gpnats "github.com/geopulse/geopulse/nats"
)

const deadLettersUsage = `Usage:

	geopulse deadletters list [-after SEQ] [-limit N] [-payload]
	geopulse deadletters redrive (-all | SEQ...)
	geopulse deadletters delete (-all | SEQ...)

Dead letters are posts the workers could not decode or store, kept with
their error. redrive puts them back into the posts stream (after the cause
is fixed); delete removes them for good.

Flags: -data DIR, -nats URL, -config FILE (as for serve). Without -nats the
embedded stream in the data directory is opened, which needs 'geopulse
serve' to be stopped; a running server offers the same through its admin
API (GET /v1/admin/deadletters, POST /v1/admin/deadletters/redrive).
`

func runDeadLetters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, deadLettersUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	cf := newConfigFlags("deadletters "+sub, stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, deadLettersUsage); cf.fs.PrintDefaults() }
	after := cf.fs.Uint64("after", 0, "list: dead letters with a sequence above this")
	limit := cf.fs.Int("limit", 100, "list: how many")
	payload := cf.fs.Bool("payload", false, "list: print each body")
	all := cf.fs.Bool("all", false, "redrive/delete: every dead letter")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, a := range cf.fs.Args() {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("deadletters %s: %q is not a sequence number: %w", sub, a, errUsage)
		}
		seqs = append(seqs, n)
	}
	switch sub {
	case "list":
		if len(seqs) > 0 || *all {
			return fmt.Errorf("deadletters list takes no SEQ or -all: %w", errUsage)
		}
	case "redrive", "delete":
		if (len(seqs) == 0) == !*all {
			fmt.Fprint(stderr, deadLettersUsage)
			return fmt.Errorf("deadletters %s needs -all or SEQ…, not both: %w", sub, errUsage)
		}
	default:
		fmt.Fprint(stderr, deadLettersUsage)
		return fmt.Errorf("unknown deadletters command %q: %w", sub, errUsage)
	}

	st, closeStream, err := openToolStream(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer closeStream()

	var n int
	switch {
	case sub == "list":
		return listDeadLetters(ctx, st, *after, *limit, *payload, stdout)
	case sub == "redrive" && *all:
		n, err = st.RedriveAll(ctx)
	case sub == "redrive":
		n, err = st.Redrive(ctx, seqs)
	case *all:
		n, err = st.DeleteAllDeadLetters(ctx)
	default:
		n, err = st.DeleteDeadLetters(ctx, seqs)
	}
	verb := map[string]string{"redrive": "re-drove", "delete": "deleted"}[sub]
	fmt.Fprintf(stdout, "%s %d dead letter(s)\n", verb, n)
	return err
}

func listDeadLetters(ctx context.Context, st *gpnats.Stream, after uint64, limit int, payload bool, stdout io.Writer) error {
	list, err := st.DeadLetters(ctx, after, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tREASON\tDEAD AT\tDELIVERIES\tSUBJECT\tERROR")
	for _, d := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", d.Seq, d.Reason, d.DeadAt.UTC().Format(time.RFC3339), d.Deliveries, d.Subject, oneLine(d.Error, 120))
		if payload {
			fmt.Fprintf(tw, "\t%s\n", oneLine(strings.ToValidUTF8(string(d.Data), "\uFFFD"), 4000))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
	} else if len(list) == limit {
		fmt.Fprintf(stdout, "more: -after %d\n", list[len(list)-1].Seq)
	}
	return nil
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// openToolStream connects a command-line tool to the stream: the external
// NATS of the configuration, or else the embedded server's files in the
// data directory (refused while 'geopulse serve' holds them).
func openToolStream(ctx context.Context, cfg Config, logger *slog.Logger) (*gpnats.Stream, func(), error) {
	if cfg.NATS != "" {
		nc, err := gpnats.Dial(cfg.NATS, "geopulse-tool", logger)
		if err != nil {
			return nil, nil, err
		}
		st, err := gpnats.Open(ctx, nc, cfg.streamConfig(), nil)
		if err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("open stream: %w", err)
		}
		return st, func() { st.Close() }, nil
	}
	always, interval, err := cfg.natsSync()
	if err != nil {
		return nil, nil, err
	}
	srv, err := gpnats.StartServer(gpnats.ServerOptions{Dir: cfg.natsDir(), SyncAlways: always, SyncInterval: interval, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("%w; while 'geopulse serve' runs, use its admin API or stop it first", err)
	}
	nc, err := srv.Connect("geopulse-tool")
	if err != nil {
		srv.Shutdown()
		return nil, nil, err
	}
	st, err := gpnats.Open(ctx, nc, cfg.streamConfig(), nil)
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return nil, nil, fmt.Errorf("open stream: %w", err)
	}
	logger.Debug("opened the embedded stream", "dir", cfg.natsDir())
	return st, func() { st.Close(); srv.Shutdown() }, nil
}

// deadLetterService adapts the stream's dead letters to the admin API.
type deadLetterService struct{ s *gpnats.Stream }

func (d deadLetterService) DeadLetters(ctx context.Context, after uint64, limit int) ([]*http.DeadLetter, error) {
	if d.s == nil {
		return nil, errors.New("no stream")
	}
	list, err := d.s.DeadLetters(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*http.DeadLetter, len(list))
	for i, dl := range list {
		out[i] = (*http.DeadLetter)(dl)
	}
	return out, nil
}

func (d deadLetterService) Redrive(ctx context.Context, seqs []uint64) (int, error) {
	return d.s.Redrive(ctx, seqs)
}

func (d deadLetterService) RedriveAll(ctx context.Context) (int, error) { return d.s.RedriveAll(ctx) }
