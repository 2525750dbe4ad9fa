package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/http"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/flickr"
	"github.com/geopulse/geopulse/source/formats"
	"github.com/geopulse/geopulse/source/instagram"
	"github.com/geopulse/geopulse/source/poll"
	"github.com/geopulse/geopulse/source/x"
	"github.com/prometheus/client_golang/prometheus"
)

// SourcesConfig configures the connectors that push to geopulse (webhooks)
// and those it pulls from (pollers).
type SourcesConfig struct {
	InstagramWebhook *InstagramWebhookConfig `yaml:"instagram_webhook"`
	// Hooks are signed webhooks of other producers: POST /v1/hooks/{name}.
	Hooks []HookConfig `yaml:"hooks"`
	// Pollers pull from platforms' APIs for a workspace's places. They run
	// in serve, and in an api process only with run_pollers (one process
	// per cluster: cursors are files in its data directory).
	Pollers    []PollerConfig `yaml:"pollers"`
	RunPollers bool           `yaml:"run_pollers"`
}

// InstagramWebhookConfig is the Instagram app's webhook subscription.
type InstagramWebhookConfig struct {
	AppSecret       string `yaml:"app_secret"`
	AppSecretFile   string `yaml:"app_secret_file"`
	VerifyToken     string `yaml:"verify_token"`
	VerifyTokenFile string `yaml:"verify_token_file"`
}

// HookConfig is one generic signed webhook.
type HookConfig struct {
	Name       string `yaml:"name"`
	Format     string `yaml:"format"` // any import format; default canonical
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// PollerConfig polls platforms for one workspace's places.
type PollerConfig struct {
	Workspace string                `yaml:"workspace"` // by name
	Flickr    *poll.FlickrConfig    `yaml:"flickr"`
	X         *poll.XConfig         `yaml:"x"`
	Instagram *poll.InstagramConfig `yaml:"instagram"`
	// InstagramAccounts ties places (by name) to their Instagram accounts.
	InstagramAccounts []InstagramAccountConfig `yaml:"instagram_accounts"`
}

// InstagramAccountConfig is a place's own Instagram account.
type InstagramAccountConfig struct {
	Place    string   `yaml:"place"`
	UserID   string   `yaml:"user_id"`
	Hashtags []string `yaml:"hashtags"`
}

// secret returns the inline value or the trimmed content of the file.
func secret(value, file, name string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// validate reports every problem of the sources configuration at once.
func (s SourcesConfig) validate() error {
	var errs []error
	if w := s.InstagramWebhook; w != nil {
		if w.AppSecret == "" && w.AppSecretFile == "" {
			errs = append(errs, errors.New("sources.instagram_webhook: app_secret (or app_secret_file) is required"))
		}
		if w.VerifyToken == "" && w.VerifyTokenFile == "" {
			errs = append(errs, errors.New("sources.instagram_webhook: verify_token (or verify_token_file) is required"))
		}
	}
	seen := map[string]bool{}
	for i, h := range s.Hooks {
		switch {
		case h.Name == "" || strings.ContainsAny(h.Name, "/?# ") || h.Name == "instagram":
			errs = append(errs, fmt.Errorf("sources.hooks[%d]: name %q must be a non-empty path segment other than instagram", i, h.Name))
		case seen[h.Name]:
			errs = append(errs, fmt.Errorf("sources.hooks[%d]: name %q is used twice", i, h.Name))
		}
		seen[h.Name] = true
		if h.Secret == "" && h.SecretFile == "" {
			errs = append(errs, fmt.Errorf("sources.hooks[%d]: secret (or secret_file) is required", i))
		}
		if h.Format != "" {
			if _, err := formats.Lookup(h.Format, formats.Options{}); err != nil {
				errs = append(errs, fmt.Errorf("sources.hooks[%d]: %w", i, err))
			}
		}
	}
	for i, p := range s.Pollers {
		if p.Workspace == "" {
			errs = append(errs, fmt.Errorf("sources.pollers[%d]: workspace is required", i))
		}
		if p.Flickr == nil && p.X == nil && p.Instagram == nil {
			errs = append(errs, fmt.Errorf("sources.pollers[%d]: configure flickr, x or instagram", i))
		}
		if p.Instagram != nil && len(p.InstagramAccounts) == 0 {
			errs = append(errs, fmt.Errorf("sources.pollers[%d]: instagram needs instagram_accounts", i))
		}
	}
	return errors.Join(errs...)
}

// redacted blanks the inline secrets (files are paths, not secrets).
func (s SourcesConfig) redacted() SourcesConfig {
	red := func(v string) string {
		if v != "" {
			return "REDACTED"
		}
		return v
	}
	if w := s.InstagramWebhook; w != nil {
		c := *w
		c.AppSecret, c.VerifyToken = red(c.AppSecret), red(c.VerifyToken)
		s.InstagramWebhook = &c
	}
	s.Hooks = append([]HookConfig(nil), s.Hooks...)
	for i := range s.Hooks {
		s.Hooks[i].Secret = red(s.Hooks[i].Secret)
	}
	s.Pollers = append([]PollerConfig(nil), s.Pollers...)
	for i := range s.Pollers {
		p := &s.Pollers[i]
		if p.Flickr != nil {
			c := *p.Flickr
			c.APIKey = red(c.APIKey)
			p.Flickr = &c
		}
		if p.X != nil {
			c := *p.X
			c.BearerToken = red(c.BearerToken)
			p.X = &c
		}
		if p.Instagram != nil {
			c := *p.Instagram
			c.AccessToken = red(c.AccessToken)
			p.Instagram = &c
		}
	}
	return s
}

// hooks builds the HTTP layer's webhooks.
func (s SourcesConfig) hooks() (map[string]http.Hook, *http.InstagramHook, error) {
	var errs []error
	hooks := map[string]http.Hook{}
	for _, h := range s.Hooks {
		sec, err := secret(h.Secret, h.SecretFile, "sources.hooks."+h.Name+".secret")
		errs = append(errs, err)
		f, err := formats.Lookup(cmp.Or(h.Format, formats.Canonical.Name), formats.Options{})
		errs = append(errs, err)
		hooks[h.Name] = http.Hook{Secret: sec, Format: f}
	}
	var ig *http.InstagramHook
	if w := s.InstagramWebhook; w != nil {
		app, err := secret(w.AppSecret, w.AppSecretFile, "sources.instagram_webhook.app_secret")
		errs = append(errs, err)
		verify, err := secret(w.VerifyToken, w.VerifyTokenFile, "sources.instagram_webhook.verify_token")
		errs = append(errs, err)
		ig = &http.InstagramHook{AppSecret: app, VerifyToken: verify}
	}
	return hooks, ig, errors.Join(errs...)
}

// intakeSink hands a poller's items to intake: posts to the Ingester,
// events to the Complier. A page counts as done (its cursor moves) only
// when both took it; per-item refusals are the poller's to count.
type intakeSink struct {
	ingester geopulse.Ingester
	complier geopulse.Complier
}

func (s intakeSink) Submit(ctx context.Context, items []source.Item) error {
	var posts []*geopulse.Post
	var events []*geopulse.ComplianceEvent
	for _, it := range items {
		switch {
		case it.Post != nil:
			posts = append(posts, it.Post)
		case it.Event != nil:
			events = append(events, it.Event)
		}
	}
	if len(posts) > 0 {
		if _, err := s.ingester.Ingest(ctx, posts); err != nil {
			return err
		}
	}
	if len(events) > 0 {
		if _, err := s.complier.Comply(ctx, events); err != nil {
			return err
		}
	}
	return nil
}

// startPollers builds one poller per configured workspace, its targets
// from the workspace's places, and runs them until ctx ends.
func (m *Main) startPollers(ctx context.Context, bg context.Context) error {
	cfgs := m.Config.Sources.Pollers
	if len(cfgs) == 0 {
		return nil
	}
	cursors, err := poll.OpenFileCursors(filepath.Join(m.Config.DataDir, "cursors"))
	if err != nil {
		return fmt.Errorf("pollers: %w", err)
	}
	decoders := poll.Decoders{
		Flickr: flickr.Decode,
		X:      x.Decode,
		Instagram: func(t poll.Target) source.DecodeFunc {
			return instagram.Graph(&instagram.Venue{Lat: t.Lat, Lon: t.Lon, RadiusM: t.RadiusM, Name: t.Name}).Decode
		},
	}
	sink := intakeSink{ingester: m.Publisher, complier: m.Publisher}
	for i, pc := range cfgs {
		ws, err := m.Store.FindWorkspaceByName(ctx, pc.Workspace)
		if err != nil {
			return fmt.Errorf("pollers[%d]: workspace %q: %w", i, pc.Workspace, err)
		}
		places, err := m.Store.FindPlaces(ctx, geopulse.PlaceFilter{WorkspaceID: ws.ID})
		if err != nil {
			return fmt.Errorf("pollers[%d]: places of %q: %w", i, pc.Workspace, err)
		}
		targets := make([]poll.Target, 0, len(places))
		byName := map[string]poll.Target{}
		for _, p := range places {
			t := poll.Target{PlaceID: p.ID, Name: p.Name, MinLat: p.BBox.MinLat, MinLon: p.BBox.MinLon, MaxLat: p.BBox.MaxLat, MaxLon: p.BBox.MaxLon, RadiusM: p.RadiusM}
			if p.Center != nil {
				t.Lat, t.Lon = p.Center.Lat, p.Center.Lon
			} else {
				t.Lat, t.Lon = (p.BBox.MinLat+p.BBox.MaxLat)/2, (p.BBox.MinLon+p.BBox.MaxLon)/2
			}
			targets = append(targets, t)
			byName[p.Name] = t
		}
		cfg := poll.Config{Workspace: ws.ID}
		if pc.Flickr != nil {
			c := *pc.Flickr
			c.Places = targets
			cfg.Flickr = &c
		}
		if pc.X != nil {
			c := *pc.X
			c.Places = targets
			cfg.X = &c
		}
		if pc.Instagram != nil {
			c := *pc.Instagram
			for _, a := range pc.InstagramAccounts {
				t, ok := byName[a.Place]
				if !ok {
					return fmt.Errorf("pollers[%d]: instagram_accounts: workspace %q has no place named %q", i, pc.Workspace, a.Place)
				}
				c.Venues = append(c.Venues, poll.InstagramVenue{Target: t, UserID: a.UserID, Hashtags: a.Hashtags})
			}
			cfg.Instagram = &c
		}
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"workspace": pc.Workspace}, m.Registry)
		p, err := poll.New(cfg, poll.Options{Sink: sink, Cursors: cursors, Decoders: decoders, Logger: m.Logger.With("workspace", pc.Workspace), Registerer: reg})
		if err != nil {
			return fmt.Errorf("pollers[%d]: %w", i, err)
		}
		m.pollersMu.Lock()
		m.pollers = append(m.pollers, p)
		m.pollersMu.Unlock()
		m.goRun(func() {
			if err := p.Run(bg); err != nil {
				m.Logger.Error("poller stopped", "workspace", pc.Workspace, "error", err)
			}
		})
	}
	m.Logger.Info("pollers started", "workspaces", len(cfgs))
	return nil
}

// instagramMentioned hands a webhook's mention to the pollers that follow
// the mentioned account; a mention of an account no poller follows is
// dropped (logged), as Meta would otherwise redeliver it forever.
func (m *Main) instagramMentioned(ctx context.Context, accountID, mediaID, commentID string) error {
	m.pollersMu.Lock()
	pollers := append([]*poll.Poller(nil), m.pollers...)
	m.pollersMu.Unlock()
	taken := false
	for _, p := range pollers {
		if p.Follows(accountID) {
			if err := p.Mentioned(ctx, accountID, mediaID, commentID); err != nil {
				return err
			}
			taken = true
		}
	}
	if !taken {
		m.Logger.Warn("instagram mention of an account no poller follows", "account_id", accountID)
	}
	return nil
}
