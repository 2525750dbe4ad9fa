package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// XConfig polls X's recent search (API v2) for each place and query.
type XConfig struct {
	Schedule `yaml:",inline"`
	// BaseURL of the API; default https://api.x.com.
	BaseURL         string `yaml:"base_url"`
	BearerToken     string `yaml:"bearer_token"`
	BearerTokenFile string `yaml:"bearer_token_file"`
	// Filter is appended to every place's query, e.g. "-is:retweet".
	Filter string `yaml:"filter"`
	// Queries are searched as written, besides the places, e.g.
	// "#ourhotel has:geo". Each keeps a cursor of its own.
	Queries []string `yaml:"queries"`
	// MaxResults is the page size, 10 to 100; default 100.
	MaxResults int      `yaml:"max_results"`
	Places     []Target `yaml:"-"`
}

// xWindow is how far back recent search reaches (7 days), less a margin so
// that a request built now is still inside when it arrives.
const xWindow = 7*24*time.Hour - 10*time.Minute

// The fields and expansions asked for: enough for the decoder to build a
// located post with its author card and media.
const (
	xExpansions  = "author_id,geo.place_id,attachments.media_keys"
	xTweetFields = "id,text,created_at,author_id,geo,entities,public_metrics,lang,attachments"
	xPlaceFields = "id,full_name,name,country_code,place_type,geo"
	xUserFields  = "id,username,name,profile_image_url,public_metrics,verified,protected,description"
	xMediaFields = "media_key,type,url,preview_image_url"
)

// xCursor: posts up to SinceID are done. A run walks from the newest post
// back to SinceID; Run records how far it got (UntilID, the oldest post
// taken so far) and where it began (NewestID, SinceID once it completes),
// so a restart resumes the run instead of repeating it.
type xCursor struct {
	SinceID string `json:"since_id,omitempty"`
	Run     *xRun  `json:"run,omitempty"`
}

type xRun struct {
	NewestID string `json:"newest_id,omitempty"`
	UntilID  string `json:"until_id,omitempty"`
	// Start is the start_time (Unix seconds) of a run without a since_id,
	// kept so that a resumed run asks for the same range.
	Start int64 `json:"start,omitempty"`
}

func newX(cfg XConfig, decode source.DecodeFunc, base func(string, Schedule, string) *runner) (*runner, error) {
	cfg.defaults(time.Minute)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.x.com"
	}
	if cfg.MaxResults <= 0 {
		cfg.MaxResults = 100
	}
	cfg.MaxResults = min(max(cfg.MaxResults, 10), 100)
	token, err := secret("x.bearer_token", cfg.BearerToken, cfg.BearerTokenFile)
	if err != nil {
		return nil, err
	}
	endpoint, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/") + "/2/tweets/search/recent")
	if err != nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "x.base_url: %v", err)
	}
	if decode == nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "x: no decoder")
	}
	r := base("x", cfg.Schedule, token)
	x := &xPoller{runner: r, cfg: cfg, endpoint: endpoint, decode: decode}
	r.client.judge = x.judge
	r.client.auth = func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
	for _, t := range cfg.Places {
		q, err := xPlaceQuery(t, cfg.Filter)
		if err != nil {
			return nil, err
		}
		r.targets = append(r.targets, x.target("place/"+strconv.FormatInt(t.PlaceID, 10), q))
	}
	for _, q := range cfg.Queries {
		r.targets = append(r.targets, x.target("query/"+q, q))
	}
	return r, nil
}

// xPlaceQuery is a place as a search: its box, or its circle (X allows at
// most 25 miles for either; a larger place is refused here, not by X).
func xPlaceQuery(t Target, filter string) (string, error) {
	const maxKM = 40
	var q string
	switch {
	case t.hasBox():
		if haversineKM(t.MinLat, t.MinLon, t.MinLat, t.MaxLon) > maxKM || haversineKM(t.MinLat, t.MinLon, t.MaxLat, t.MinLon) > maxKM {
			return "", geopulse.Errorf(geopulse.EINVALID, "x: place %d is wider than X's 25-mile box", t.PlaceID)
		}
		q = fmt.Sprintf("bounding_box:[%s %s %s %s]", coord(t.MinLon), coord(t.MinLat), coord(t.MaxLon), coord(t.MaxLat))
	case t.hasCircle():
		if t.RadiusM > maxKM*1000 {
			return "", geopulse.Errorf(geopulse.EINVALID, "x: place %d has a radius over X's 25 miles", t.PlaceID)
		}
		q = fmt.Sprintf("point_radius:[%s %s %skm]", coord(t.Lon), coord(t.Lat), strconv.FormatFloat(t.RadiusM/1000, 'f', 3, 64))
	default:
		return "", geopulse.Errorf(geopulse.EINVALID, "x: place %d has neither a bounding box nor a radius", t.PlaceID)
	}
	if filter = strings.TrimSpace(filter); filter != "" {
		q += " " + filter
	}
	return q, nil
}

type xPoller struct {
	*runner
	cfg      XConfig
	endpoint *url.URL
	decode   source.DecodeFunc
}

func (x *xPoller) target(key, query string) target {
	return target{key: key, poll: func(ctx context.Context) error { return x.poll(ctx, key, query) }}
}

// poll runs (or resumes) one run of a query: newest first, following
// next_token, the cursor saved after every page the sink took.
func (x *xPoller) poll(ctx context.Context, key, query string) error {
	var cur xCursor
	if _, err := x.load(ctx, key, &cur); err != nil {
		return err
	}
	windowStart := x.now().Add(-xWindow)
	if cur.Run != nil && cur.Run.UntilID != "" && snowflakeTime(cur.Run.UntilID).Before(windowStart) {
		// Everything older than the rest of the run has left the window.
		cur = xCursor{SinceID: cur.Run.NewestID}
	}
	// Without a since_id a run starts Backfill ago, or as far back as X
	// reaches when a since_id had to be dropped.
	start := x.now().Add(-min(x.schedule.Backfill, xWindow))
	if cur.SinceID != "" && snowflakeTime(cur.SinceID).Before(windowStart) {
		x.m.errors.WithLabelValues(x.name, reasonGap).Inc()
		x.log.Warn("poll cursor older than the search window; posts in between are lost",
			slog.String(keyTarget, key), slog.Time(keyFrom, windowStart))
		cur.SinceID = ""
		start = windowStart
		// Saved at once, so the gap is reported once, not every round.
		if cur.Run == nil {
			cur.Run = &xRun{}
		}
		if cur.Run.Start == 0 {
			cur.Run.Start = start.Unix()
		}
		if err := x.save(ctx, key, cur); err != nil {
			return err
		}
	}
	if cur.Run != nil && cur.Run.Start != 0 {
		start = time.Unix(cur.Run.Start, 0)
	}
	if start.Before(windowStart) {
		start = windowStart
	}
	token := ""
	for range x.schedule.MaxPages {
		body, err := x.client.get(ctx, x.url(query, cur, token, start))
		if err != nil {
			return err
		}
		env, perr := parseXPage(body)
		// since_id and until_id are exclusive and next_token pages do not
		// overlap: nothing to filter.
		derr, err := x.submit(ctx, x.decode, body, nil)
		if err != nil {
			return err
		}
		if perr != nil {
			return malformed(perr)
		}
		if derr != nil {
			x.log.Warn("poll page partly undecodable", slog.String(keyTarget, key), slog.Any(keyError, derr))
		}
		if cur.Run == nil {
			if env.NewestID == "" && env.NextToken == "" {
				return nil // nothing new
			}
			cur.Run = &xRun{}
			if cur.SinceID == "" {
				cur.Run.Start = start.Unix()
			}
		}
		if cur.Run.NewestID == "" {
			cur.Run.NewestID = env.NewestID
		}
		if env.OldestID != "" {
			cur.Run.UntilID = env.OldestID
		}
		if env.NextToken == "" {
			if cur.Run.NewestID != "" {
				cur.SinceID = cur.Run.NewestID
			}
			cur.Run = nil
			return x.save(ctx, key, cur)
		}
		if err := x.save(ctx, key, cur); err != nil {
			return err
		}
		token = env.NextToken
	}
	return nil // the run goes on next round
}

// url builds a search request. Within a run it follows next_token; a
// resumed run (after a restart or a round's page limit) continues below
// until_id, since next_tokens do not outlive their run.
func (x *xPoller) url(query string, cur xCursor, token string, start time.Time) *url.URL {
	q := url.Values{}
	q.Set("query", query)
	q.Set("max_results", strconv.Itoa(x.cfg.MaxResults))
	q.Set("expansions", xExpansions)
	q.Set("tweet.fields", xTweetFields)
	q.Set("place.fields", xPlaceFields)
	q.Set("user.fields", xUserFields)
	q.Set("media.fields", xMediaFields)
	if cur.SinceID != "" {
		q.Set("since_id", cur.SinceID)
	} else {
		q.Set("start_time", start.UTC().Format(time.RFC3339))
	}
	switch {
	case token != "":
		q.Set("next_token", token)
	case cur.Run != nil && cur.Run.UntilID != "":
		q.Set("until_id", cur.Run.UntilID)
	}
	u := *x.endpoint
	u.RawQuery = q.Encode()
	return &u
}

// judge reads X's answers. Besides the status, the rate-limit headers of
// any answer count: when the window's requests are used up, nothing is
// sent before it resets.
func (x *xPoller) judge(r *response) verdict {
	var e struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	msg := ""
	if r.status >= 300 {
		_ = json.Unmarshal(r.body, &e)
		msg = strings.TrimSpace(e.Title + ": " + e.Detail)
		if e.Detail == "" && len(e.Errors) > 0 {
			msg = e.Errors[0].Message
		}
		msg = strings.Trim(msg, ": ")
	}
	v := x.client.byStatus(r, "", msg)
	if d, ok := xReset(r.header, r.now); ok && d > v.wait {
		v.wait, v.cause = d, causeRateLimit
	}
	return v
}

// xReset returns the wait until X's rate-limit window resets, when the
// window has no requests left.
func xReset(h http.Header, now time.Time) (time.Duration, bool) {
	rem, err := strconv.ParseInt(strings.TrimSpace(h.Get("x-rate-limit-remaining")), 10, 64)
	if err != nil || rem > 0 {
		return 0, false
	}
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("x-rate-limit-reset")), 10, 64)
	if err != nil {
		return 0, false
	}
	// One second more: the reset is whole seconds and clocks differ.
	return max(time.Unix(reset, 0).Sub(now)+time.Second, time.Second), true
}

// snowflakeTime is when X made the post with this id (ids carry their
// creation time, in milliseconds since X's epoch, above bit 22). An id
// that is not a number reads as the zero time's opposite: never too old.
func snowflakeTime(id string) time.Time {
	const epochMS = 1288834974657
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return time.Unix(1<<40, 0)
	}
	return time.UnixMilli(int64(n>>22) + epochMS)
}

// xPage is the part of a search answer the poller needs.
type xPage struct {
	NewestID, OldestID, NextToken string
}

func parseXPage(body []byte) (xPage, error) {
	var raw struct {
		Meta *struct {
			NewestID  string `json:"newest_id"`
			OldestID  string `json:"oldest_id"`
			NextToken string `json:"next_token"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return xPage{}, err
	}
	if raw.Meta == nil {
		return xPage{}, errors.New("no meta object")
	}
	return xPage{NewestID: raw.Meta.NewestID, OldestID: raw.Meta.OldestID, NextToken: raw.Meta.NextToken}, nil
}
