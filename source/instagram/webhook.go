package instagram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
)

// MaxWebhookBytes bounds one webhook delivery. Meta batches at most a few
// hundred small changes into one POST; anything larger is not from Meta.
const MaxWebhookBytes = 4 << 20

// Webhook is one delivery of Instagram webhooks: a POST from Meta to the
// subscribed callback URL. Its authenticity is checked with VerifySignature
// on the raw body before it is decoded.
type Webhook struct {
	// Object is always "instagram".
	Object  string
	Entries []WebhookEntry
}

// WebhookEntry is what happened to one subscribed account.
type WebhookEntry struct {
	// ID is the Instagram professional account the subscription is for
	// (for a mention: the account that was mentioned).
	ID string
	// Time is when Meta sent the entry, UTC; zero when absent.
	Time    time.Time
	Changes []WebhookChange
}

// WebhookChange is one change of an entry: a member of "changes", or one
// event of another list such as "messaging" (then Field is that list's
// name). Value is kept verbatim, so fields this package does not type are
// still available to the caller.
type WebhookChange struct {
	Field string
	Value json.RawMessage
	// MediaID and CommentID are set for Field "mentions": the media whose
	// caption (no CommentID) or comment mentioned the account. The media
	// itself must be fetched (Graph API mentioned_media) to become a post.
	MediaID, CommentID string
}

// DecodeWebhook decodes an Instagram webhook body. Errors are EINVALID
// *geopulse.Error values with reason malformed_json (with the byte offset),
// invalid_utf8, invalid_field (object is not "instagram", a change has no
// field name) or missing_field (no entry list, an entry without id), and
// ETOOLARGE beyond MaxWebhookBytes.
//
// Entry times are Unix seconds; Meta's messaging entries send milliseconds,
// so values of 10^12 and more are read as milliseconds (as seconds they
// would lie beyond year 33,000).
func DecodeWebhook(body []byte) (*Webhook, error) {
	if len(body) > MaxWebhookBytes {
		return nil, tooLarge("webhook body is %d bytes, more than the limit of %d", len(body), MaxWebhookBytes)
	}
	if !utf8.Valid(body) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "webhook body is not valid UTF-8 (byte %d)", invalidUTF8At(body))
	}
	var wire struct {
		Object scalar                        `json:"object"`
		Entry  *[]map[string]json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d: %s", se.Offset, se.Error())
		case errors.As(err, &te):
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s has the wrong type (%s where %s was expected)", fieldName(te.Field), te.Value, te.Type)
		}
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON: %v", err)
	}
	if obj, _ := wire.Object.text(); obj != "instagram" {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "object must be \"instagram\", not %s", describeOr(wire.Object, "absent"))
	}
	if wire.Entry == nil {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "entry is required")
	}
	wh := &Webhook{Object: "instagram", Entries: make([]WebhookEntry, 0, len(*wire.Entry))}
	for i, members := range *wire.Entry {
		e, err := webhookEntry(members, fmt.Sprintf("entry[%d]", i))
		if err != nil {
			return nil, err
		}
		wh.Entries = append(wh.Entries, e)
	}
	return wh, nil
}

func webhookEntry(members map[string]json.RawMessage, at string) (WebhookEntry, error) {
	var e WebhookEntry
	var id, tm scalar
	_ = id.UnmarshalJSON(members["id"])
	_ = tm.UnmarshalJSON(members["time"])
	if e.ID, _ = id.text(); e.ID == "" {
		return e, geopulse.Reject(geopulse.ReasonMissingField, "%s.id is required", at)
	} else if hasControl(e.ID) || len(e.ID) > maxIDBytes {
		return e, geopulse.Reject(geopulse.ReasonInvalidField, "%s.id must be at most %d bytes without control characters", at, maxIDBytes)
	}
	if tm.set() {
		n, ok := tm.int()
		if !ok || n < 0 {
			return e, geopulse.Reject(geopulse.ReasonInvalidField, "%s.time must be a Unix time, not %s", at, describe(tm))
		}
		if n >= 1e12 {
			e.Time = time.UnixMilli(n).UTC()
		} else {
			e.Time = time.Unix(n, 0).UTC()
		}
	}
	// "changes" first, then any other list (messaging, standby, …) in name
	// order, so the result does not depend on map iteration.
	names := make([]string, 0, len(members))
	for k := range members {
		// A list needs a usable name to become a change's Field.
		if k != "id" && k != "time" && k != "changes" && k != "" && !hasControl(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if raw, ok := members["changes"]; ok {
		var changes []struct {
			Field scalar          `json:"field"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &changes); err != nil {
			return e, geopulse.Reject(geopulse.ReasonInvalidField, "%s.changes must be a list of {field, value} objects", at)
		}
		for j, c := range changes {
			field, _ := c.Field.text()
			if !c.Field.isString() || field == "" || hasControl(field) {
				return e, geopulse.Reject(geopulse.ReasonInvalidField, "%s.changes[%d].field must be a non-empty name", at, j)
			}
			ch := WebhookChange{Field: field, Value: c.Value}
			if field == "mentions" {
				if err := mention(&ch, fmt.Sprintf("%s.changes[%d].value", at, j)); err != nil {
					return e, err
				}
			}
			e.Changes = append(e.Changes, ch)
		}
	}
	for _, k := range names {
		raw := members[k]
		if len(raw) == 0 || raw[0] != '[' {
			continue // a scalar or object member Meta may add: not a change
		}
		var events []json.RawMessage
		if err := json.Unmarshal(raw, &events); err != nil {
			return e, geopulse.Reject(geopulse.ReasonInvalidField, "%s.%s must be a list", at, k)
		}
		for _, ev := range events {
			e.Changes = append(e.Changes, WebhookChange{Field: k, Value: ev})
		}
	}
	return e, nil
}

// mention types the value of a mentions change.
func mention(ch *WebhookChange, at string) error {
	var v struct {
		MediaID   scalar `json:"media_id"`
		CommentID scalar `json:"comment_id"`
	}
	if err := json.Unmarshal(ch.Value, &v); err != nil {
		return geopulse.Reject(geopulse.ReasonInvalidField, "%s must be an object with media_id", at)
	}
	b := newBuilder()
	ch.MediaID = b.id(at+".media_id", v.MediaID)
	ch.CommentID = b.id(at+".comment_id", v.CommentID)
	if b.err != nil {
		return b.err
	}
	if ch.MediaID == "" {
		return geopulse.Reject(geopulse.ReasonMissingField, "%s.media_id is required", at)
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "body"
	}
	return f
}

func describeOr(s scalar, absent string) string {
	if !s.set() {
		return absent
	}
	return describe(s)
}

// VerifySignature reports whether header, the X-Hub-Signature-256 header of
// a webhook delivery ("sha256=" and the hex HMAC-SHA256 of the raw body
// keyed with the app secret), matches body. The comparison takes constant
// time, so a forger learns nothing from response timings. An empty
// appSecret never verifies: an unconfigured secret must not open the door.
func VerifySignature(body []byte, header, appSecret string) bool {
	if appSecret == "" {
		return false
	}
	header = strings.TrimSpace(header)
	if len(header) < len("sha256=") || !strings.EqualFold(header[:len("sha256=")], "sha256=") {
		return false
	}
	want, err := hex.DecodeString(header[len("sha256="):])
	if err != nil || len(want) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
