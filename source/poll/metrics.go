package poll

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Log keys: stable snake_case constants.
const (
	keyPoller   = "poller"
	keyTarget   = "target"
	keyError    = "error"
	keyWait     = "wait"
	keyCause    = "cause"
	keyItems    = "items"
	keyFrom     = "from"
	keyAccount  = "account"
	keyMedia    = "media"
	keyReason   = "reason"
	keyMentions = "mentions"
)

// Mention results, the values of the result label of the mentions counter.
const (
	mentionQueued    = "queued"    // taken into the queue
	mentionFull      = "full"      // refused (ETOOMANY): the queue is full
	mentionClosed    = "closed"    // refused (ETOOMANY): Run has stopped
	mentionSubmitted = "submitted" // fetched, and the sink took it
	mentionRetried   = "retried"   // failed; held for the next round
	// Dropped, each logged with its reason:
	mentionUnknownAccount = "unknown_account" // no venue has the account
	mentionComment        = "comment"         // a comment mention; not collected
	mentionInvalidID      = "invalid_id"      // an id that is not a Graph id
	mentionRefused        = "refused"         // Graph refused the lookup (4xx)
	mentionGivenUp        = "given_up"        // failed in mentionAttempts rounds
	mentionOverflow       = "overflow"        // no room left to hold it for a retry
)

// Backoff causes, the values of the cause label.
const (
	causeRetryAfter = "retry_after" // the server named the wait
	causeRateLimit  = "rate_limit"  // X's window is used up
	causeUsage      = "usage"       // Graph's usage headers crossed the threshold
	causeBackoff    = "backoff"     // 429, 5xx or a transport error without a named wait
)

// Error reasons, the values of the reason label.
const (
	reasonAPI       = "api"       // the platform refused the request (4xx)
	reasonTransport = "transport" // retries used up on 429, 5xx or network errors
	reasonMalformed = "malformed" // a page that could not be parsed
	reasonSink      = "sink"      // Submit failed
	reasonCursor    = "cursor"    // a cursor could not be read or saved
	reasonGap       = "gap"       // the cursor fell out of the platform's search window
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	items    *prometheus.CounterVec
	backoffs *prometheus.CounterVec
	errors   *prometheus.CounterVec

	mentions        *prometheus.CounterVec
	mentionWait     prometheus.Histogram
	mentionsWaiting prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_poll_requests_total",
			Help: "Requests pollers sent to platform APIs, by poller and HTTP status (\"error\": no answer).",
		}, []string{"poller", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "geopulse_poll_request_seconds",
			Help:    "Time from sending a poller request to reading its whole answer.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{"poller"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_poll_items_total",
			Help: "Page entries of pages the sink took, by result: post, event, invalid (sent with their error), repeat (seen before; not sent).",
		}, []string{"poller", "result"}),
		backoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_poll_backoffs_total",
			Help: "Pauses pollers took, by cause: retry_after, rate_limit (X window used up), usage (Graph usage headers), backoff (429/5xx without a named wait).",
		}, []string{"poller", "cause"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_poll_errors_total",
			Help: "Targets a poller skipped for a round, by reason: api, transport, malformed, sink, cursor, gap (cursor older than the search window).",
		}, []string{"poller", "reason"}),
		mentions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_poll_mentions_total",
			Help: "Instagram mentions reported by webhook, by result: queued; full or closed (refused, Meta delivers again); submitted; retried (held for the next round); dropped as unknown_account, comment, invalid_id, refused (by Graph), given_up or overflow.",
		}, []string{"result"}),
		mentionWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "geopulse_poll_mention_wait_seconds",
			Help:    "Time from an Instagram mention's webhook to the sink taking its media.",
			Buckets: prometheus.ExponentialBuckets(1, 3, 9),
		}),
		mentionsWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geopulse_poll_mentions_waiting",
			Help: "Instagram mentions queued, held for a retry or being fetched.",
		}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.latency = register(reg, m.latency)
		m.items = register(reg, m.items)
		m.backoffs = register(reg, m.backoffs)
		m.errors = register(reg, m.errors)
		m.mentions = register(reg, m.mentions)
		m.mentionWait = register(reg, m.mentionWait)
		m.mentionsWaiting = register(reg, m.mentionsWaiting)
	}
	return m
}

// register registers c, or returns the identical collector registered
// before: every workspace has its own pollers, and they count into the
// same series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("register poll metrics: %v", err)) // a programmer error: clashing names
	}
	return c
}
