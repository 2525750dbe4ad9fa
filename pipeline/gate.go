package pipeline

import (
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
)

// earliest is the oldest taken_at we accept: older is a zero value or garbage.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Gate holds the ingest rules a post must pass before anything is stored.
// It is stateless and cheap, so intake runs it synchronously (the sender
// learns of a rejection in the response) and the pipeline runs it again on
// whatever reaches it, because posts also arrive from connectors, replays
// and the simulator.
type Gate struct {
	// MaxFuture is how far ahead of our clock a post's taken_at may be:
	// sources' clocks drift, but a post from tomorrow is a bug or an attack.
	MaxFuture time.Duration // default 1h
	// MaxCaption bounds captions in runes.
	MaxCaption int // default 10,000
}

// Check returns nil when post may be stored, else an *geopulse.Error with a
// Reason. now is the receiving clock.
func (g Gate) Check(post *geopulse.Post, now time.Time) error {
	maxFuture, maxCaption := g.MaxFuture, g.MaxCaption
	if maxFuture == 0 {
		maxFuture = time.Hour
	}
	if maxCaption == 0 {
		maxCaption = 10_000
	}
	switch {
	case post == nil:
		return geopulse.Reject(geopulse.ReasonMissingField, "Empty post.")
	case post.Source == "" || post.SourceID == "":
		return geopulse.Reject(geopulse.ReasonMissingField, "A post needs source and source_id.")
	case post.Author.SourceID == "":
		return geopulse.Reject(geopulse.ReasonMissingField, "A post needs author.source_id.")
	case !geo.ValidLatLon(post.Lat, post.Lon):
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "Latitude must be within ±90 and longitude within ±180.")
	case !(post.AccuracyM >= 0 && post.AccuracyM < 1e7):
		return geopulse.Reject(geopulse.ReasonInvalidField, "accuracy_m must be between 0 and 10,000 km.")
	case post.Kind != "" && !post.Kind.Valid():
		return geopulse.Reject(geopulse.ReasonInvalidField, "Unknown kind %q.", post.Kind)
	case post.TakenAt.Before(earliest):
		return geopulse.Reject(geopulse.ReasonInvalidField, "taken_at is missing or before 2000.")
	case post.TakenAt.After(now.Add(maxFuture)):
		return geopulse.Reject(geopulse.ReasonFutureTimestamp, "taken_at is more than %s in the future.", maxFuture)
	case post.Author.Private:
		// Private accounts are never stored, whatever the source says about the post.
		return geopulse.Reject(geopulse.ReasonPrivateAccount, "The author's account is private.")
	case utf8.RuneCountInString(post.Caption) > maxCaption:
		return geopulse.Reject(geopulse.ReasonTooLarge, "Caption is longer than %d characters.", maxCaption)
	case !validUTF8(post):
		return geopulse.Reject(geopulse.ReasonInvalidUTF8, "Text fields must be valid UTF-8.")
	}
	return nil
}

func validUTF8(p *geopulse.Post) bool {
	for _, s := range [...]string{p.Source, p.SourceID, p.Caption, p.PlaceName, p.Author.Handle, p.Author.DisplayName, p.Author.Bio, p.Author.SourceID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
