package poll

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
)

// The recorded mention: media 17889114512354744 mentioned the venue's account.
const mentionedID = "17889114512354744"

// graphDecoders wires the real Graph decoder, as cmd/geopulse does.
func graphDecoders(e *env) {
	e.decode.Instagram = func(v Target) source.DecodeFunc {
		return instagram.Graph(&instagram.Venue{Lat: v.Lat, Lon: v.Lon, RadiusM: v.RadiusM, Name: v.Name}).Decode
	}
}

// mentionAnswer is the recorded mention lookup, edited: the recorded
// media lacks the username the poller asks for.
func mentionAnswer(t *testing.T, edit func(media map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixture(t, "instagram-graph/users/mentioned_media.json"), &doc); err != nil {
		t.Fatal(err)
	}
	media := doc["mentioned_media"].(map[string]any)
	media["username"] = "harbourguest"
	if edit != nil {
		edit(media)
	}
	return mustJSON(t, doc)
}

// mentionStep is the lookup of media id on the venue's account.
func mentionStep(id string, s step) step {
	s.path = "/" + venue.UserID
	s.want = map[string]string{"fields": "mentioned_media.media_id(" + id + "){" + graphMentionFields + "}"}
	s.absent = []string{"access_token", "limit"}
	return s
}

// edges are the venue's polled edges, with nothing on them.
var edges = []step{{path: "/media", body: []byte(`{"data":[]}`)}, {path: "/tags", body: []byte(`{"data":[]}`)}}

func (e *env) gauge(name string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "geopulse_poll_"+name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// checkVenuePosts fails the test unless every post is attributed to the venue.
func checkVenuePosts(t *testing.T, items []source.Item) {
	t.Helper()
	for _, it := range items {
		p := it.Post
		if p == nil {
			continue
		}
		if p.Lat != venue.Lat || p.Lon != venue.Lon || p.AccuracyM != venue.RadiusM || p.LocationFrom != geopulse.LocationVenue || p.PlaceName != venue.Name {
			t.Errorf("post %s not attributed to the venue: %+v", p.SourceID, p)
		}
	}
}

// checkNoToken fails the test if the access token is in a log line, or a
// request carried it anywhere but the Authorization header.
func checkNoToken(t *testing.T, e *env, rp *replay) {
	t.Helper()
	if strings.Contains(e.logs.String(), "ig-token") {
		t.Errorf("the logs hold the token:\n%s", e.logs)
	}
	for i, r := range rp.reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer ig-token" {
			t.Errorf("request %d: Authorization %q", i+1, got)
		}
		if strings.Contains(r.URL.String(), "ig-token") {
			t.Errorf("request %d: the token is in the URL %s", i+1, r.URL)
		}
	}
}

// TestInstagramMention: a webhook's mention is fetched through the
// poller's client, decoded for the account's venue and submitted; what
// cannot be is dropped or held, logged and counted.
func TestInstagramMention(t *testing.T) {
	type call struct{ account, media, comment string }
	caption := call{venue.UserID, mentionedID, ""}
	answer := mentionAnswer(t, nil)
	fail500 := step{status: 500, body: []byte(`{"error":{"message":"An unknown error occurred","code":1}}`)}
	tests := []struct {
		name      string
		calls     []call // default: one caption mention of the venue
		opts      func(*Options)
		sinkFails int // the first Submit calls that fail
		steps     []step
		polls     int // default 1
		ids       []string
		results   map[string]float64 // the mentions counter by result
		waits     []time.Duration    // when set, the sleeps taken
		backoff   string             // a backoff cause that must be counted
		log       string             // text the logs must hold
	}{{
		name:    "caption mention",
		steps:   slices.Concat([]step{mentionStep(mentionedID, step{body: answer})}, edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
		waits:   []time.Duration{time.Second, time.Second},
	}, {
		name: "media without its id gets the webhook's",
		steps: slices.Concat([]step{mentionStep(mentionedID, step{body: mentionAnswer(t, func(m map[string]any) { delete(m, "id") })})},
			edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
	}, {
		name:    "recorded answer without a username: sent with its refusal",
		steps:   slices.Concat([]step{mentionStep(mentionedID, step{body: fixture(t, "instagram-graph/users/mentioned_media.json")})}, edges),
		ids:     []string{"!" + geopulse.ReasonMissingField},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
	}, {
		name:    "unknown account",
		calls:   []call{{"17841400000000001", mentionedID, ""}},
		steps:   edges,
		results: map[string]float64{mentionUnknownAccount: 1},
		log:     "reason=unknown_account account=17841400000000001",
	}, {
		name:    "comment mention",
		calls:   []call{{venue.UserID, mentionedID, "17894227972186120"}},
		steps:   edges,
		results: map[string]float64{mentionComment: 1},
		log:     "reason=comment",
	}, {
		name:    "media id that is not a Graph id",
		calls:   []call{{venue.UserID, "1){id", ""}},
		steps:   edges,
		results: map[string]float64{mentionInvalidID: 1},
	}, {
		name: "429 with Retry-After",
		steps: slices.Concat([]step{
			mentionStep(mentionedID, step{status: 429, header: map[string]string{"Retry-After": "30"}, body: []byte(`{}`)}),
			mentionStep(mentionedID, step{body: answer}),
		}, edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
		waits:   []time.Duration{30 * time.Second, time.Second, time.Second},
		backoff: causeRetryAfter,
	}, {
		name: "429 without Retry-After",
		steps: slices.Concat([]step{
			mentionStep(mentionedID, step{status: 429, body: []byte(`{}`)}),
			mentionStep(mentionedID, step{body: answer}),
		}, edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
		waits:   []time.Duration{time.Second, time.Second, time.Second}, // full jitter of 2 s (halved here)
		backoff: causeBackoff,
	}, {
		name: "Graph's rate limit code",
		steps: slices.Concat([]step{
			mentionStep(mentionedID, step{status: 400, body: []byte(`{"error":{"message":"(#4) Application request limit reached","code":4,"is_transient":true}}`)}),
			mentionStep(mentionedID, step{body: answer}),
		}, edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionSubmitted: 1},
		waits:   []time.Duration{5 * time.Minute, time.Second, time.Second},
		backoff: causeUsage,
	}, {
		name: "Graph refuses, echoing the token",
		steps: slices.Concat([]step{mentionStep(mentionedID, step{status: 400,
			body: []byte(`{"error":{"message":"Invalid parameter for ig-token","type":"OAuthException","code":100}}`)})}, edges),
		results: map[string]float64{mentionQueued: 1, mentionRefused: 1},
		log:     "Invalid parameter for [redacted]",
	}, {
		name:  "5xx past MaxRetries: held for the next round",
		opts:  func(o *Options) { o.MaxRetries = 1 },
		polls: 2,
		steps: slices.Concat([]step{mentionStep(mentionedID, fail500), mentionStep(mentionedID, fail500)}, edges,
			[]step{mentionStep(mentionedID, step{body: answer})}, edges),
		ids:     []string{mentionedID},
		results: map[string]float64{mentionQueued: 1, mentionRetried: 1, mentionSubmitted: 1},
		log:     "instagram mention held for the next round",
	}, {
		name:  "given up after three rounds",
		opts:  func(o *Options) { o.MaxRetries = 1 },
		polls: 3,
		steps: slices.Concat(
			[]step{mentionStep(mentionedID, fail500), mentionStep(mentionedID, fail500)}, edges,
			[]step{mentionStep(mentionedID, fail500), mentionStep(mentionedID, fail500)}, edges,
			[]step{mentionStep(mentionedID, fail500), mentionStep(mentionedID, fail500)}, edges),
		results: map[string]float64{mentionQueued: 1, mentionRetried: 2, mentionGivenUp: 1},
		log:     "reason=given_up",
	}, {
		name:      "sink refusal: held for the next round",
		sinkFails: 1,
		polls:     2,
		steps:     slices.Concat([]step{mentionStep(mentionedID, step{body: answer})}, edges, []step{mentionStep(mentionedID, step{body: answer})}, edges),
		ids:       []string{mentionedID},
		results:   map[string]float64{mentionQueued: 1, mentionRetried: 1, mentionSubmitted: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.now = t2021
			graphDecoders(e)
			e.opts = tt.opts
			e.sink.fail = func(n int, _ []source.Item) error {
				if n <= tt.sinkFails {
					return errors.New("intake unavailable")
				}
				return nil
			}
			rp := newReplay(t, tt.steps...)
			p := e.poller(instagramConfig(rp.URL(), venue))
			calls := tt.calls
			if calls == nil {
				calls = []call{caption}
			}
			for _, c := range calls {
				if err := p.Mentioned(context.Background(), c.account, c.media, c.comment); err != nil {
					t.Fatalf("Mentioned: %v", err)
				}
			}
			for range max(tt.polls, 1) {
				p.Poll(context.Background()) // outcomes are checked below
			}
			rp.done()
			if got := e.sink.ids(); !slices.Equal(got, tt.ids) {
				t.Errorf("submitted %v, want %v", got, tt.ids)
			}
			checkVenuePosts(t, e.sink.items)
			for _, result := range []string{mentionQueued, mentionFull, mentionClosed, mentionSubmitted, mentionRetried,
				mentionUnknownAccount, mentionComment, mentionInvalidID, mentionRefused, mentionGivenUp, mentionOverflow} {
				want := tt.results[result]
				if got := e.counter("mentions", result); got != want {
					t.Errorf("mentions %s = %v, want %v", result, got, want)
				}
			}
			if got := e.gauge("mentions_waiting"); got != 0 {
				t.Errorf("%v mentions still waiting", got)
			}
			if tt.waits != nil {
				if got := e.clock.waits(); !slices.Equal(got, tt.waits) {
					t.Errorf("waits %v, want %v", got, tt.waits)
				}
			}
			if tt.backoff != "" && e.counter("backoffs", "instagram", tt.backoff) != 1 {
				t.Errorf("no %s backoff counted", tt.backoff)
			}
			if !strings.Contains(e.logs.String(), tt.log) {
				t.Errorf("logs lack %q:\n%s", tt.log, e.logs)
			}
			checkNoToken(t, e, rp)
		})
	}
}

// TestInstagramMentionQueueFull: a full queue refuses with ETOOMANY (Meta
// delivers again later) and keeps what it holds.
func TestInstagramMentionQueueFull(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	graphDecoders(e)
	second := "17889114512354745"
	rp := newReplay(t, slices.Concat([]step{
		mentionStep(mentionedID, step{body: mentionAnswer(t, nil)}),
		mentionStep(second, step{body: mentionAnswer(t, func(m map[string]any) { m["id"] = second })}),
	}, edges)...)
	cfg := instagramConfig(rp.URL(), venue)
	cfg.Instagram.MentionQueue = 2
	p := e.poller(cfg)
	if !p.Follows(venue.UserID) || p.Follows("17841400000000001") {
		t.Error("Follows does not tell the venue's account from another")
	}
	for i, id := range []string{mentionedID, second, "17889114512354746"} {
		err := p.Mentioned(context.Background(), venue.UserID, id, "")
		if want := map[bool]string{true: geopulse.ETOOMANY}[i == 2]; geopulse.ErrorCode(err) != want {
			t.Errorf("mention %d: %v, want code %q", i+1, err, want)
		}
	}
	if got := e.counter("mentions", mentionFull); got != 1 {
		t.Errorf("full %v, want 1", got)
	}
	if got := e.gauge("mentions_waiting"); got != 2 {
		t.Errorf("waiting %v, want 2", got)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got := e.sink.ids(); !slices.Equal(got, []string{mentionedID, second}) {
		t.Errorf("submitted %v", got)
	}
	checkNoToken(t, e, rp)
}

// TestInstagramMentionRun: Run fetches a mention as it comes while waiting
// for the next round; at its end it saves a mention it could not fetch,
// refuses new ones, and the next Run fetches the saved one first.
func TestInstagramMentionRun(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	graphDecoders(e)
	second := "17889114512354745"
	fail500 := step{status: 500, body: []byte(`{}`)}
	rp := newReplay(t, slices.Concat(
		edges, // first round
		[]step{
			mentionStep(mentionedID, step{body: mentionAnswer(t, nil)}),
			mentionStep(second, fail500), mentionStep(second, fail500),
		},
		// restarted: the saved mention first, then the round
		[]step{mentionStep(second, step{body: mentionAnswer(t, func(m map[string]any) { m["id"] = second })})}, edges,
	)...)
	// Waits of a minute or more (the 10 min between rounds) hold until the
	// test cancels them, and say so; shorter ones pass at once.
	idle := make(chan struct{})
	e.opts = func(o *Options) {
		o.MaxRetries = 1
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			if d < time.Minute {
				return e.clock.Sleep(ctx, d)
			}
			select {
			case idle <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			<-ctx.Done()
			return ctx.Err()
		}
	}
	cfg := instagramConfig(rp.URL(), venue)
	run := func(p *Poller) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- p.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}

	p := e.poller(cfg)
	stop := run(p)
	<-idle // the first round is done
	for _, id := range []string{mentionedID, second} {
		if err := p.Mentioned(context.Background(), venue.UserID, id, ""); err != nil {
			t.Fatal(err)
		}
		<-idle // fetched (or held) and waiting again
	}
	if got := e.sink.ids(); !slices.Equal(got, []string{mentionedID}) {
		t.Errorf("submitted while idle %v, want %v", got, []string{mentionedID})
	}
	stop()
	var saved []mention
	if err := json.Unmarshal([]byte(e.cursor("instagram/mentions")), &saved); err != nil || len(saved) != 1 || saved[0].Media != second || saved[0].Attempts != 1 {
		t.Errorf("saved mentions %s (%v), want %s after one attempt", e.cursor("instagram/mentions"), err, second)
	}
	if err := p.Mentioned(context.Background(), venue.UserID, "17889114512354746", ""); geopulse.ErrorCode(err) != geopulse.ETOOMANY {
		t.Errorf("Mentioned after Run: %v, want ETOOMANY", err)
	}

	stop = run(e.poller(cfg))
	<-idle
	stop()
	rp.done()
	if got := e.sink.ids(); !slices.Equal(got, []string{mentionedID, second}) {
		t.Errorf("submitted %v", got)
	}
	if got := e.cursor("instagram/mentions"); got != "[]" {
		t.Errorf("saved mentions after the restart %s, want []", got)
	}
	for result, want := range map[string]float64{mentionQueued: 2, mentionSubmitted: 2, mentionRetried: 1, mentionClosed: 1} {
		if got := e.counter("mentions", result); got != want {
			t.Errorf("mentions %s = %v, want %v", result, got, want)
		}
	}
	if got := e.gauge("mentions_waiting"); got != 0 {
		t.Errorf("%v mentions still waiting", got)
	}
	checkVenuePosts(t, e.sink.items)
	checkNoToken(t, e, rp)
}
