package nats

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// subjectPlacesChanged carries "some place changed" between processes.
// It is core NATS (not JetStream): a missed notice only delays a worker's
// index refresh until the next one, and nothing needs replaying.
const subjectPlacesChanged = "geopulse.events.places"

// PlaceChange says which place changed: IDs of a created or reshaped
// place, zero for a deletion (whose matches the API node removed).
type PlaceChange struct {
	WorkspaceID, PlaceID int64
}

// NotifyPlacesChanged tells every worker process that a place was
// created, reshaped or deleted, so that they reload their match index (and
// re-match the place against what they stored meanwhile). An API node
// calls it after each place write.
func (s *Stream) NotifyPlacesChanged(c PlaceChange) error {
	body := strconv.FormatInt(c.WorkspaceID, 10) + " " + strconv.FormatInt(c.PlaceID, 10)
	if err := s.nc.Publish(subjectPlacesChanged, []byte(body)); err != nil {
		return fmt.Errorf("notify places changed: %w", err)
	}
	return nil
}

// OnPlacesChanged calls f (on a NATS goroutine, one call at a time) for
// every notice of NotifyPlacesChanged, until stop is called or the Stream
// is closed. Notices are at most once: a worker that was disconnected
// when one was sent misses it.
func (s *Stream) OnPlacesChanged(f func(PlaceChange)) (stop func(), err error) {
	sub, err := s.nc.Subscribe(subjectPlacesChanged, func(m *natsgo.Msg) {
		var c PlaceChange
		if ws, id, ok := strings.Cut(string(m.Data), " "); ok {
			c.WorkspaceID, _ = strconv.ParseInt(ws, 10, 64)
			c.PlaceID, _ = strconv.ParseInt(id, 10, 64)
		}
		f(c)
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to place changes: %w", err)
	}
	// Subscribe only sends the interest; without the round trip, a change
	// published by another process right after this returns could reach
	// the server first and be missed (seen under load: a worker kept
	// matching posts against the places it had before).
	if err := s.nc.FlushTimeout(10 * time.Second); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe to place changes: %w", err)
	}
	return func() { sub.Unsubscribe() }, nil
}
