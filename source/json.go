package source

import (
	"encoding/json"
	"errors"

	"github.com/geopulse/geopulse"
)

// CheckJSON returns nil when b is valid JSON, else an EINVALID
// ReasonMalformedJSON error naming the byte offset (off + the offset in
// b), so a connector can refuse a payload it cannot delimit.
func CheckJSON(b []byte, off int) *geopulse.Error {
	if json.Valid(b) {
		return nil
	}
	// Unmarshal into a RawMessage only scans: it reports the offset.
	var se *json.SyntaxError
	if err := json.Unmarshal(b, new(json.RawMessage)); errors.As(err, &se) {
		// Offset counts the bytes read, the bad one included.
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d: %s", off+max(0, int(se.Offset)-1), se.Error())
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON: unexpected end of input")
}
