package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds one answer. The largest pages asked for (500 Flickr photos
// with extras) are well under 2 MiB.
const maxBody = 16 << 20

const userAgent = "geopulse-poller/1"

// client sends one poller's requests, one at a time (a poller's targets
// run in sequence, so it needs no lock), and keeps the poller polite: at
// least RequestGap between requests, and no request before a wait a
// server asked for has passed — whichever target asks next.
type client struct {
	name   string
	http   *http.Client
	gap    time.Duration
	secret string
	o      *Options
	m      *metrics
	log    *slog.Logger

	// auth adds the credential to a request; judge reads an answer. Both
	// are the platform's.
	auth  func(*http.Request)
	judge func(r *response) verdict

	next time.Time // no request before this
}

// response is an answer as judge sees it.
type response struct {
	status   int
	header   http.Header
	body     []byte
	endpoint string // host and path: safe to show
	now      time.Time
}

// verdict is what an answer means for the poller.
type verdict struct {
	err   error         // non-nil: the request failed
	retry bool          // the failure is worth another try
	wait  time.Duration // a wait the server named before any next request
	cause string        // the backoff cause of wait
}

func newClient(name string, gap time.Duration, secret string, o *Options, m *metrics) *client {
	return &client{name: name, http: o.Client, gap: gap, secret: secret, o: o, m: m, log: o.Logger.With(keyPoller, name)}
}

// get fetches u and returns the body of a successful answer. 429s, 5xx
// and transport errors are retried up to MaxRetries times, after the wait
// the server named (Retry-After, a rate-limit reset) or else an
// exponential backoff with full jitter. Other refusals return an
// *apiError at once.
func (c *client) get(ctx context.Context, u *url.URL) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		if err := c.waitTurn(ctx); err != nil {
			return nil, err
		}
		start := c.o.Now()
		c.next = start.Add(c.gap)
		r, err := c.do(ctx, u)
		now := c.o.Now()
		c.m.latency.WithLabelValues(c.name).Observe(now.Sub(start).Seconds())
		var v verdict
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			c.m.requests.WithLabelValues(c.name, "error").Inc()
			v = verdict{err: err, retry: !errors.Is(err, errTooLarge)}
		default:
			c.m.requests.WithLabelValues(c.name, strconv.Itoa(r.status)).Inc()
			r.now = now
			v = c.judge(r)
		}
		if v.wait > 0 {
			// Honoured even when the request failed for good or retries are
			// used up: the next target would meet the same limit.
			c.pause(now, v.wait, v.cause)
		}
		if v.err == nil {
			return r.body, nil
		}
		if !v.retry {
			return nil, v.err
		}
		if attempt >= c.o.MaxRetries {
			return nil, fail(reasonTransport, fmt.Errorf("%w (gave up after %d attempts)", v.err, attempt+1))
		}
		if v.wait <= 0 {
			c.pause(now, c.backoff(attempt), causeBackoff)
		}
		c.log.Debug("poll request will be retried", slog.Any(keyError, v.err))
	}
}

// waitTurn sleeps until the client may send again.
func (c *client) waitTurn(ctx context.Context) error {
	if d := c.next.Sub(c.o.Now()); d > 0 {
		return c.o.Sleep(ctx, d)
	}
	return ctx.Err()
}

// pause holds every request of this poller for d (at most MaxWait).
func (c *client) pause(now time.Time, d time.Duration, cause string) {
	d = min(d, c.o.MaxWait)
	if t := now.Add(d); t.After(c.next) {
		c.next = t
	}
	c.m.backoffs.WithLabelValues(c.name, cause).Inc()
	c.log.Info("poll backing off", slog.String(keyCause, cause), slog.Duration(keyWait, d))
}

// backoff is full jitter: uniform in [0, min(MaxBackoff, Backoff·2^attempt)).
func (c *client) backoff(attempt int) time.Duration {
	ceil := c.o.Backoff
	for range attempt {
		if ceil >= c.o.MaxBackoff {
			break
		}
		ceil *= 2
	}
	return c.o.Jitter(min(ceil, c.o.MaxBackoff))
}

var errTooLarge = errors.New("answer too large")

func (c *client) do(ctx context.Context, u *url.URL) (*response, error) {
	ep := u.Host + u.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %s", ep, c.redact(err.Error()))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error quotes the whole URL, query string and all: keep only
		// its cause, and scrub that too.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("get %s: %s", ep, c.redact(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %s", ep, c.redact(err.Error()))
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("get %s: %w (over %d bytes)", ep, errTooLarge, maxBody)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: body, endpoint: ep}, nil
}

// redact removes the credential from text that came back from a server or
// the network stack (an API may echo the request).
func (c *client) redact(s string) string {
	if c.secret == "" {
		return s
	}
	for _, v := range []string{c.secret, url.QueryEscape(c.secret), url.PathEscape(c.secret)} {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// apiError is a platform's refusal of a request. Its text is the
// platform's own, with the credential removed.
type apiError struct {
	poller   string
	endpoint string
	status   int
	code     string // the platform's error code, when it gives one
	message  string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s answered %d", e.poller, e.endpoint, e.status)
	if e.code != "" {
		msg += " (code " + e.code + ")"
	}
	if e.message != "" {
		msg += ": " + e.message
	}
	return msg
}

func (c *client) apiError(r *response, code, message string) *apiError {
	const maxMessage = 300
	message = c.redact(strings.TrimSpace(message))
	if len(message) > maxMessage {
		message = message[:maxMessage] + "…"
	}
	return &apiError{poller: c.name, endpoint: r.endpoint, status: r.status, code: code, message: message}
}

// byStatus is the verdict on the status line alone: 2xx fine; 429 and
// 5xx retried after Retry-After when given; other statuses final.
func (c *client) byStatus(r *response, code, message string) verdict {
	switch {
	case r.status >= 200 && r.status < 300:
		return verdict{}
	case r.status == http.StatusTooManyRequests || r.status >= 500:
		v := verdict{err: c.apiError(r, code, message), retry: true}
		if d, ok := retryAfter(r.header, r.now); ok {
			v.wait, v.cause = d, causeRetryAfter
		}
		return v
	}
	return verdict{err: c.apiError(r, code, message)}
}

// retryAfter reads Retry-After as seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
