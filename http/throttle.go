package http

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// buckets is a set of token buckets by key (an API key's hash, a client
// address): rate tokens a second, up to burst. It forgets every bucket when
// it holds too many, so a flood of distinct keys cannot grow it without
// bound (a forgotten bucket starts full again, which only errs on the
// side of the caller).
type buckets struct {
	rate, burst float64

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

const maxBuckets = 100_000

func newBuckets(rate, burst float64) *buckets {
	return &buckets{rate: rate, burst: burst, m: map[string]*bucket{}}
}

// take spends one token of key's bucket; false (and how long until the
// next token) when it is empty.
func (b *buckets) take(key string, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.refill(key, now)
	if bk.tokens < 1 {
		return false, time.Duration((1 - bk.tokens) / b.rate * float64(time.Second))
	}
	bk.tokens--
	return true, 0
}

// empty reports whether key's bucket has no token left, without spending.
func (b *buckets) empty(key string, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.refill(key, now)
	if bk.tokens < 1 {
		return true, time.Duration((1 - bk.tokens) / b.rate * float64(time.Second))
	}
	return false, 0
}

func (b *buckets) refill(key string, now time.Time) *bucket {
	bk, ok := b.m[key]
	if !ok {
		if len(b.m) >= maxBuckets {
			clear(b.m)
		}
		bk = &bucket{tokens: b.burst, last: now}
		b.m[key] = bk
	}
	bk.tokens = min(b.burst, bk.tokens+now.Sub(bk.last).Seconds()*b.rate)
	bk.last = now
	return bk
}

// Sign-in throttling: a client address may fail loginBurst times, then one
// more time every loginEvery. Successful sign-ins cost nothing.
const (
	loginBurst = 5
	loginEvery = 3 * time.Minute
)

// DefaultKeyRate is the default request rate per API key (requests/s,
// bursts of twice as many); ingest sends batches, so this is generous.
const DefaultKeyRate = 100

// clientAddr is the client's IP address (no port). Behind a proxy this is
// the proxy's: deploy with one address per client or a proxy that limits.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
