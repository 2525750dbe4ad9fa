package poll

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Log keys: stable snake_case constants.
const (
	keyPoller = "poller"
	keyTarget = "target"
	keyError  = "error"
	keyWait   = "wait"
	keyCause  = "cause"
	keyItems  = "items"
	keyFrom   = "from"
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
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.latency = register(reg, m.latency)
		m.items = register(reg, m.items)
		m.backoffs = register(reg, m.backoffs)
		m.errors = register(reg, m.errors)
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
