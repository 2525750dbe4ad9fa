package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// InstagramConfig polls the Instagram Graph API for venues that connected
// their business or creator account. The Graph API reports no location, so
// every media is attributed to the venue it was found through.
type InstagramConfig struct {
	Schedule `yaml:",inline"`
	// BaseURL of the Graph API, version included; default
	// https://graph.facebook.com/v23.0.
	BaseURL         string `yaml:"base_url"`
	AccessToken     string `yaml:"access_token"`
	AccessTokenFile string `yaml:"access_token_file"`
	// Limit is the page size; default 50.
	Limit int `yaml:"limit"`
	// UsageThreshold is the share of Graph's hourly quota (percent, from
	// X-App-Usage and X-Business-Use-Case-Usage) at which the poller
	// pauses; default 90.
	UsageThreshold float64 `yaml:"usage_threshold"`
	// MentionQueue bounds the mentions waiting to be fetched (see
	// Poller.Mentioned); default 10,000.
	MentionQueue int              `yaml:"mention_queue"`
	Venues       []InstagramVenue `yaml:"-"`
}

// InstagramVenue is a place with its Instagram account. Mentions arrive by
// webhook (see Poller.Mentioned), not by polling.
type InstagramVenue struct {
	Target
	// UserID is the venue's Instagram user id: its own media
	// (/{id}/media), the media it is tagged in (/{id}/tags), and the
	// account hashtag searches are made for.
	UserID string
	// Hashtags (without '#') whose recent media are the venue's, e.g. its
	// own campaign tag. Graph allows 30 distinct hashtags per account per
	// week, so each is looked up once and its id kept with the cursors.
	Hashtags []string
}

const (
	graphMediaFields   = "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,username,like_count,comments_count,children{media_type,media_url,thumbnail_url}"
	graphTagsFields    = "id,caption,media_type,media_url,permalink,timestamp,username,like_count,comments_count"
	graphHashtagFields = "id,caption,media_type,media_url,permalink,timestamp,like_count,comments_count,children{media_type,media_url}"
)

// graphCursor: media up to Since are done. A run walks newest first; Run
// records the paging cursor reached and the newest media seen, which
// becomes Since once the run completes.
type graphCursor struct {
	Since mark      `json:"since"`
	Run   *graphRun `json:"run,omitempty"`
}

type graphRun struct {
	After  string `json:"after,omitempty"`
	Newest mark   `json:"newest"`
}

// mark is a point in time (Unix seconds) and the ids seen in that second.
type mark struct {
	T   int64    `json:"t"`
	IDs []string `json:"ids,omitempty"`
}

// after reports whether media (t, id) is past the mark.
func (m mark) after(t int64, id string) bool {
	return t > m.T || t == m.T && !slices.Contains(m.IDs, id)
}

func (m mark) advance(t int64, id string) mark {
	switch {
	case t > m.T:
		return mark{T: t, IDs: []string{id}}
	case t == m.T && !slices.Contains(m.IDs, id):
		return mark{T: t, IDs: append(slices.Clone(m.IDs), id)}
	}
	return m
}

func newInstagram(cfg InstagramConfig, decode func(Target) source.DecodeFunc, base func(string, Schedule, string) *runner) (*runner, error) {
	cfg.defaults(10 * time.Minute)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://graph.facebook.com/v23.0"
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 50
	}
	if cfg.UsageThreshold <= 0 {
		cfg.UsageThreshold = 90
	}
	if cfg.MentionQueue <= 0 {
		cfg.MentionQueue = 10_000
	}
	token, err := secret("instagram.access_token", cfg.AccessToken, cfg.AccessTokenFile)
	if err != nil {
		return nil, err
	}
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "instagram.base_url: %v", err)
	}
	if decode == nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "instagram: no decoder")
	}
	r := base("instagram", cfg.Schedule, token)
	g := &graphPoller{runner: r, cfg: cfg, base: strings.TrimSuffix(cfg.BaseURL, "/")}
	r.client.judge = g.judge
	// Graph takes the token as a bearer header too, which keeps it out of
	// every URL (and so out of any error that quotes one).
	r.client.auth = func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
	r.mentions = &mentionQueue{g: g, decoders: map[string]source.DecodeFunc{}, queue: make(chan mention, cfg.MentionQueue)}
	for _, v := range cfg.Venues {
		if v.UserID == "" {
			return nil, geopulse.Errorf(geopulse.EINVALID, "instagram: venue %d has no user id", v.PlaceID)
		}
		dec := decode(v.Target)
		if _, ok := r.mentions.decoders[v.UserID]; !ok {
			// One account at two places: its mentions are attributed to
			// the first one listed.
			r.mentions.decoders[v.UserID] = dec
		}
		own := url.Values{"fields": {graphMediaFields}}
		tags := url.Values{"fields": {graphTagsFields}}
		r.targets = append(r.targets,
			g.target("media/"+v.UserID, dec, func(context.Context) (string, url.Values, error) { return "/" + v.UserID + "/media", own, nil }),
			g.target("tags/"+v.UserID, dec, func(context.Context) (string, url.Values, error) { return "/" + v.UserID + "/tags", tags, nil }),
		)
		for _, h := range v.Hashtags {
			h = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "#"))
			if h == "" {
				continue
			}
			r.targets = append(r.targets, g.target("hashtag/"+h+"/"+v.UserID, dec, func(ctx context.Context) (string, url.Values, error) {
				id, err := g.hashtagID(ctx, v.UserID, h)
				if err != nil {
					return "", nil, err
				}
				return "/" + id + "/recent_media", url.Values{"user_id": {v.UserID}, "fields": {graphHashtagFields}}, nil
			}))
		}
	}
	return r, nil
}

type graphPoller struct {
	*runner
	cfg  InstagramConfig
	base string
}

// edge names the request of a target: path and parameters.
type edge func(ctx context.Context) (path string, params url.Values, err error)

func (g *graphPoller) target(key string, decode source.DecodeFunc, e edge) target {
	return target{key: key, poll: func(ctx context.Context) error { return g.poll(ctx, key, decode, e) }}
}

func (g *graphPoller) url(path string, params url.Values, after string) (*url.URL, error) {
	u, err := url.Parse(g.base + path)
	if err != nil {
		return nil, fmt.Errorf("build url: %w", err)
	}
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(g.cfg.Limit))
	if after != "" {
		q.Set("after", after)
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// poll runs (or resumes) one run of an edge: newest first, following
// paging cursors until a page holds nothing newer than the cursor or the
// edge ends. It stops at a page rather than at the first old media,
// because edges are only roughly ordered (tags are listed by when they were
// made, not by the media's time).
func (g *graphPoller) poll(ctx context.Context, key string, decode source.DecodeFunc, e edge) error {
	var cur graphCursor
	found, err := g.load(ctx, key, &cur)
	if err != nil {
		return err
	}
	if !found {
		cur.Since = mark{T: g.now().Add(-g.schedule.Backfill).Unix()}
	}
	path, params, err := e(ctx)
	if err != nil {
		return err
	}
	after := ""
	if cur.Run != nil {
		after = cur.Run.After
	}
	seen := map[string]bool{}
	for range g.schedule.MaxPages {
		u, err := g.url(path, params, after)
		if err != nil {
			return err
		}
		body, err := g.client.get(ctx, u)
		if err != nil {
			if after != "" && reasonOf(err) == reasonAPI {
				// A paging cursor that no longer works: start the run over
				// from the top. That repeats media, never skips any.
				cur.Run = nil
				if serr := g.save(ctx, key, cur); serr != nil {
					return serr
				}
			}
			return err
		}
		env, perr := parseGraphPage(body)
		fresh := false
		repeat := make([]bool, len(env.Media))
		for i, m := range env.Media {
			switch {
			case m.ID != "" && seen[m.ID]:
				repeat[i] = true
			case m.T == 0: // no timestamp: cannot tell, so send it
				fresh = true
			case !cur.Since.after(m.T, m.ID):
				repeat[i] = true
			default:
				fresh = true
			}
			seen[m.ID] = true
		}
		derr, err := g.submit(ctx, decode, body, func(i int) bool { return i < len(repeat) && repeat[i] })
		if err != nil {
			return err
		}
		if perr != nil {
			return malformed(perr)
		}
		if derr != nil {
			g.log.Warn("poll page partly undecodable", slog.String(keyTarget, key), slog.Any(keyError, derr))
		}
		if cur.Run == nil {
			cur.Run = &graphRun{Newest: cur.Since}
		}
		for _, m := range env.Media {
			if m.T != 0 {
				cur.Run.Newest = cur.Run.Newest.advance(m.T, m.ID)
			}
		}
		cur.Run.After = env.After
		if env.Next == "" || env.After == "" || !fresh {
			cur = graphCursor{Since: cur.Run.Newest}
			return g.save(ctx, key, cur)
		}
		if err := g.save(ctx, key, cur); err != nil {
			return err
		}
		after = env.After
	}
	return nil // the run goes on next round
}

// hashtagID looks a hashtag's id up once and keeps it with the cursors:
// every lookup counts against the account's 30 hashtags a week.
func (g *graphPoller) hashtagID(ctx context.Context, userID, name string) (string, error) {
	key := "hashtag-id/" + name
	var id string
	if found, err := g.load(ctx, key, &id); err != nil {
		return "", err
	} else if found && id != "" {
		return id, nil
	}
	u, err := url.Parse(g.base + "/ig_hashtag_search")
	if err != nil {
		return "", fmt.Errorf("build url: %w", err)
	}
	u.RawQuery = url.Values{"user_id": {userID}, "q": {name}}.Encode()
	body, err := g.client.get(ctx, u)
	if err != nil {
		return "", err
	}
	var res struct {
		Data []struct {
			ID flexString `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", malformed(err)
	}
	if len(res.Data) == 0 || res.Data[0].ID == "" {
		return "", fail(reasonAPI, fmt.Errorf("hashtag #%s: not found", name))
	}
	id = string(res.Data[0].ID)
	return id, g.save(ctx, key, id)
}

// Graph error codes that mean "slow down" (application, user, page,
// custom and Instagram business use case limits) or "try again".
var (
	graphRateCodes      = []int64{4, 17, 32, 613, 80002}
	graphTransientCodes = []int64{1, 2}
)

// judge reads Graph's answers. Rate limits come as 4xx with an error code,
// and the usage headers warn before they are hit: at UsageThreshold
// percent the poller pauses until Graph says access returns (or
// MaxBackoff).
func (g *graphPoller) judge(r *response) verdict {
	var e struct {
		Error *struct {
			Message     string  `json:"message"`
			Code        flexInt `json:"code"`
			IsTransient bool    `json:"is_transient"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	var v verdict
	if r.status >= 300 || e.Error != nil {
		code, msg := int64(0), ""
		if e.Error != nil {
			code, msg = int64(e.Error.Code), e.Error.Message
		}
		codeText := ""
		if e.Error != nil {
			codeText = strconv.FormatInt(code, 10)
		}
		if r.status < 300 {
			r.status = http.StatusBadRequest // an error body is an error whatever the status
		}
		v = g.client.byStatus(r, codeText, msg)
		switch {
		case slices.Contains(graphRateCodes, code):
			v.retry = true
			if v.wait <= 0 {
				v.wait, v.cause = g.client.o.MaxBackoff, causeUsage
			}
		case slices.Contains(graphTransientCodes, code) || e.Error != nil && e.Error.IsTransient:
			v.retry = true
		}
	}
	if pct, regain := graphUsage(r.header); pct >= g.cfg.UsageThreshold {
		d := regain
		if d <= 0 {
			d = g.client.o.MaxBackoff
		}
		if d > v.wait {
			v.wait, v.cause = d, causeUsage
		}
	}
	return v
}

// graphUsage reads X-App-Usage and X-Business-Use-Case-Usage: the highest
// percentage of any quota used, and the longest estimated time until
// access returns.
func graphUsage(h http.Header) (pct float64, regain time.Duration) {
	type usage struct {
		CallCount    float64 `json:"call_count"`
		TotalCPUTime float64 `json:"total_cputime"`
		TotalTime    float64 `json:"total_time"`
		Regain       float64 `json:"estimated_time_to_regain_access"` // minutes
	}
	note := func(u usage) {
		pct = max(pct, u.CallCount, u.TotalCPUTime, u.TotalTime)
		if u.Regain > 0 && u.Regain < 7*24*60 {
			regain = max(regain, time.Duration(u.Regain*float64(time.Minute)))
		}
	}
	if v := h.Get("X-App-Usage"); v != "" {
		var u usage
		if json.Unmarshal([]byte(v), &u) == nil {
			note(u)
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var byID map[string][]usage
		if json.Unmarshal([]byte(v), &byID) == nil {
			for _, us := range byID {
				for _, u := range us {
					note(u)
				}
			}
		}
	}
	return pct, regain
}

// graphPage is the part of an edge's answer the poller needs.
type graphPage struct {
	Media       []graphMedia
	After, Next string
}

type graphMedia struct {
	ID string
	T  int64 // Unix seconds; 0: none given
}

func parseGraphPage(body []byte) (graphPage, error) {
	var raw struct {
		Data *[]struct {
			ID        flexString `json:"id"`
			Timestamp string     `json:"timestamp"`
		} `json:"data"`
		Paging struct {
			Cursors struct {
				After string `json:"after"`
			} `json:"cursors"`
			Next string `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return graphPage{}, err
	}
	if raw.Data == nil {
		return graphPage{}, errors.New("no data array")
	}
	p := graphPage{After: raw.Paging.Cursors.After, Next: raw.Paging.Next, Media: make([]graphMedia, len(*raw.Data))}
	for i, m := range *raw.Data {
		p.Media[i] = graphMedia{ID: string(m.ID)}
		if t, err := time.Parse("2006-01-02T15:04:05-0700", m.Timestamp); err == nil {
			p.Media[i].T = t.Unix()
		}
	}
	return p, nil
}
