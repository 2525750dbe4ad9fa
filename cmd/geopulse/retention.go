package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/privacy"
)

// RetentionConfig is how long raw posts are kept, per source and kind, for
// the whole system and per workspace (docs/PRIVACY.md).
type RetentionConfig struct {
	// Interval between sweeps; default 1h.
	Interval time.Duration `yaml:"interval"`
	// DryRun makes sweeps log what they would remove, removing nothing.
	DryRun     bool                       `yaml:"dry_run"`
	System     *RetentionPolicyConfig     `yaml:"system"`
	Workspaces []WorkspaceRetentionConfig `yaml:"workspaces"`
}

// RetentionPolicyConfig is the system policy.
type RetentionPolicyConfig struct {
	// Unmatched: posts that no place of any workspace matches are deleted
	// after this long (0: only the rules apply).
	Unmatched time.Duration         `yaml:"unmatched"`
	Rules     []RetentionRuleConfig `yaml:"rules"`
}

// WorkspaceRetentionConfig is a workspace's policy: after Keep, the
// workspace no longer sees a post (its matches go).
type WorkspaceRetentionConfig struct {
	Workspace string                `yaml:"workspace"` // by name
	Rules     []RetentionRuleConfig `yaml:"rules"`
}

// RetentionRuleConfig keeps posts of a source and kind ("" or "*": any).
type RetentionRuleConfig struct {
	Source string        `yaml:"source"`
	Kind   string        `yaml:"kind"`
	Keep   time.Duration `yaml:"keep"`
}

func (c RetentionConfig) enabled() bool { return c.System != nil || len(c.Workspaces) > 0 }

func rules(rs []RetentionRuleConfig) []geopulse.RetentionRule {
	out := make([]geopulse.RetentionRule, len(rs))
	for i, r := range rs {
		out[i] = geopulse.RetentionRule{Source: r.Source, Kind: geopulse.Kind(r.Kind), Keep: r.Keep}
	}
	return out
}

// validate checks the policies that need no store.
func (c RetentionConfig) validate() error {
	var errs []error
	if c.System != nil {
		p := geopulse.RetentionPolicy{Rules: rules(c.System.Rules), Unmatched: c.System.Unmatched}
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("retention.system: %s", geopulse.ErrorMessage(err)))
		}
	}
	for i, w := range c.Workspaces {
		if w.Workspace == "" {
			errs = append(errs, fmt.Errorf("retention.workspaces[%d]: workspace is required", i))
		}
		p := geopulse.RetentionPolicy{WorkspaceID: 1, Rules: rules(w.Rules)}
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("retention.workspaces[%d]: %s", i, geopulse.ErrorMessage(err)))
		}
	}
	if c.Interval < 0 {
		errs = append(errs, errors.New("retention.interval: must not be negative"))
	}
	return errors.Join(errs...)
}

// policies resolves workspace names and returns every policy.
func (c RetentionConfig) policies(ctx context.Context, store geopulse.WorkspaceService) ([]geopulse.RetentionPolicy, error) {
	var out []geopulse.RetentionPolicy
	for i, w := range c.Workspaces {
		ws, err := store.FindWorkspaceByName(ctx, w.Workspace)
		if err != nil {
			return nil, fmt.Errorf("retention.workspaces[%d]: workspace %q: %w", i, w.Workspace, err)
		}
		out = append(out, geopulse.RetentionPolicy{WorkspaceID: ws.ID, Rules: rules(w.Rules)})
	}
	if c.System != nil {
		out = append(out, geopulse.RetentionPolicy{Rules: rules(c.System.Rules), Unmatched: c.System.Unmatched})
	}
	return out, nil
}

// startRetention runs the configured policies on schedule.
func (m *Main) startRetention(ctx, bg context.Context) error {
	rc := m.Config.Retention
	if !rc.enabled() {
		return nil
	}
	policies, err := rc.policies(ctx, m.Store)
	if err != nil {
		return err
	}
	r := &privacy.Retention{Store: m.Store, Policies: policies, DryRun: rc.DryRun, Interval: rc.Interval, Logger: m.Logger}
	m.goRun(func() { r.Run(bg) })
	return nil
}

const retentionUsage = `Usage:

	geopulse retention [--dry-run] [flags]

Applies the retention policies of the configuration (retention: in the
config file) once and prints what was removed per policy, source and kind.
With --dry-run it only prints what would be removed. With the embedded
store, stop 'geopulse serve' first (serve applies the policies on schedule
itself).

Flags: -data DIR, -db DSN, -config FILE (as for serve).
`

func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cf := newConfigFlags("retention", stderr)
	cf.fs.Usage = func() { fmt.Fprint(stderr, retentionUsage); cf.fs.PrintDefaults() }
	dry := cf.fs.Bool("dry-run", false, "report what the policies would remove; remove nothing")
	cfg, err := cf.load(args, os.Getenv)
	if err != nil {
		return err
	}
	if !cfg.Retention.enabled() {
		return fmt.Errorf("retention: no policies configured (retention.system or retention.workspaces in -config): %w", errUsage)
	}
	logger := newLogger(cfg, stderr)
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	policies, err := cfg.Retention.policies(ctx, store)
	if err != nil {
		return err
	}
	// policies lists workspace policies first, as the scheduler applies
	// them: a post that loses its last match is then caught by the system
	// policy's unmatched rule.
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	fmt.Fprintf(tw, "policy\tsource\tkind\tposts %s\tmatches %s\toldest\n", verb, verb)
	for _, p := range policies {
		rep, err := store.ApplyRetention(ctx, p, time.Now(), *dry)
		if err != nil {
			return fmt.Errorf("retention: policy of workspace %d: %w", p.WorkspaceID, err)
		}
		name := "system"
		if p.WorkspaceID != 0 {
			name = fmt.Sprintf("workspace %d", p.WorkspaceID)
		}
		if len(rep.Counts) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t0\t0\t-\n", name)
		}
		for _, c := range rep.Counts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", name, cmp.Or(c.Source, "*"), cmp.Or(string(c.Kind), "*"), c.Posts, c.Matches, c.Oldest.Format(time.DateOnly))
		}
		if rep.Months > 0 {
			fmt.Fprintf(tw, "%s\t(%d whole months dropped)\t\t\t\t\n", name, rep.Months)
		}
	}
	return tw.Flush()
}
