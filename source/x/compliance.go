package x

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// findEvent returns the compliance event an object holds, if any. The
// names X publishes but geopulse has no action for are found too, so that
// they are reported as unsupported rather than as unknown input.
func findEvent(m map[string]json.RawMessage) (name string, body json.RawMessage, ok bool) {
	for _, name := range [...]string{
		"delete", "user_delete", "user_protect", "user_unprotect", "scrub_geo", "user_suspend", "user_unsuspend",
		"withheld", "status_withheld", "drop", "undrop", "tweet_edit",
		"user_undelete", "user_withheld", "user_profile_modification",
	} {
		if body, ok := m[name]; ok {
			return name, body, true
		}
	}
	return "", nil, false
}

// complianceKind maps an X event name onto geopulse's vocabulary.
func complianceKind(name string) (geopulse.ComplianceKind, bool) {
	switch name {
	case "delete":
		return geopulse.ComplianceDeletePost, true
	case "user_delete":
		return geopulse.ComplianceDeleteAuthor, true
	case "user_protect", "user_suspend":
		// X recommends the same action for both: suppress the
		// account's posts until the opposite event.
		return geopulse.ComplianceProtectAuthor, true
	case "user_unprotect", "user_unsuspend":
		return geopulse.ComplianceUnprotectAuthor, true
	case "scrub_geo":
		return geopulse.ComplianceScrubGeo, true
	}
	return "", false
}

// eventBody is the body of a firehose event, for tweets and users alike.
type eventBody struct {
	Tweet *struct {
		ID       string `json:"id"`
		AuthorID string `json:"author_id"`
	} `json:"tweet"`
	User *struct {
		ID string `json:"id"`
	} `json:"user"`
	UpToTweetID string `json:"up_to_tweet_id"`
	EventAt     string `json:"event_at"`
}

func (d *decoder) event(name string, body json.RawMessage) (*geopulse.ComplianceEvent, *geopulse.Error) {
	kind, ok := complianceKind(name)
	if !ok {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "X compliance event %s has no geopulse action", name)
	}
	if !utf8.Valid(body) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s event is not valid UTF-8", name)
	}
	var b eventBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, typeError(name, err)
	}
	ev := &geopulse.ComplianceEvent{Kind: kind, Source: Source}
	if b.EventAt != "" {
		t, err := time.Parse(time.RFC3339, b.EventAt)
		if err != nil {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: event_at must be an RFC 3339 time", name)
		}
		ev.At = t.UTC()
	}
	if kind == geopulse.ComplianceDeletePost {
		if b.Tweet == nil || b.Tweet.ID == "" {
			return nil, geopulse.Reject(geopulse.ReasonMissingField, "delete: tweet.id is required")
		}
		ev.SourceID, ev.AuthorSourceID = b.Tweet.ID, b.Tweet.AuthorID
	} else {
		if b.User == nil || b.User.ID == "" {
			return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: user.id is required", name)
		}
		ev.AuthorSourceID = b.User.ID
	}
	if kind == geopulse.ComplianceScrubGeo && b.UpToTweetID != "" {
		t, ok := snowflakeTime(b.UpToTweetID)
		if !ok {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "scrub_geo: up_to_tweet_id must be a tweet id (decimal digits)")
		}
		ev.UpTo = t
	}
	return d.canonEvent(ev, name)
}

// batchResult reads one line of a batch compliance job's result for
// tweets: {id, action, created_at, redacted_at, reason}.
func (d *decoder) batchResult(raw []byte) (*geopulse.ComplianceEvent, *geopulse.Error) {
	if !utf8.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "compliance result is not valid UTF-8")
	}
	var b struct {
		ID         string `json:"id"`
		Action     string `json:"action"`
		CreatedAt  string `json:"created_at"`
		RedactedAt string `json:"redacted_at"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, typeError("compliance result", err)
	}
	if b.Action != "delete" {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "compliance result action %q has no geopulse action", b.Action)
	}
	if b.ID == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "compliance result: id is required")
	}
	ev := &geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: Source, SourceID: b.ID}
	// redacted_at is when X acted; created_at (the tweet's) is the fallback.
	for _, s := range []string{b.RedactedAt, b.CreatedAt} {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "compliance result %q: redacted_at and created_at must be RFC 3339 times", b.ID)
		}
		ev.At = t.UTC()
		break
	}
	return d.canonEvent(ev, fmt.Sprintf("compliance result %q", b.ID))
}

// twitterEpochMs is the Unix time in milliseconds at which X's snowflake ids
// start counting (2010-11-04T01:42:54.657Z).
const twitterEpochMs = 1288834974657

// snowflakeTime is the creation time encoded in a tweet id: its top 42 bits
// count milliseconds since twitterEpochMs. Ids from before snowflakes
// (2010) decode to about the epoch, which still bounds their tweets.
func snowflakeTime(id string) (time.Time, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(n>>22) + twitterEpochMs).UTC(), true
}

// canonEvent passes ev through the canonical codec, as canon does posts.
func (d *decoder) canonEvent(ev *geopulse.ComplianceEvent, what string) (*geopulse.ComplianceEvent, *geopulse.Error) {
	d.buf = canonical.AppendEventJSON(d.buf[:0], ev)
	_, out, err := canonical.DecodeMessage(d.buf, canonical.ConnectorLimits)
	if err != nil {
		return nil, withContext(what, err)
	}
	if out == nil {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s is not an event", what)
	}
	return out, nil
}
