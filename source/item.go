package source

import (
	"io"

	"github.com/geopulse/geopulse"
)

// Item is one decoded element of a payload: a post, a compliance event, or
// the reason the element could not become either. Exactly one of Post,
// Event and Err is set. Err is a *geopulse.Error with Code EINVALID (or
// ETOOLARGE) and a geopulse.Reason*, so every element gets its own outcome
// and the rest of the payload goes on.
type Item struct {
	// Index is the 0-based position of the element in the input, in the
	// format's own unit (a line, an array element, a page entry).
	Index int
	Post  *geopulse.Post
	Event *geopulse.ComplianceEvent
	Err   error
}

// DecodeFunc reads a payload and calls fn for every element in order. It
// returns the first error fn returns, a read error, or a *geopulse.Error
// (EINVALID, ReasonMalformedJSON) when the payload as a whole cannot be
// parsed — after calling fn for every element it could delimit.
type DecodeFunc func(r io.Reader, fn func(Item) error) error

// Format is one payload format a connector speaks.
type Format struct {
	// Name is what `geopulse import --format` takes, e.g. "flickr".
	Name string
	// Doc is one line for help texts.
	Doc string
	// Sniff reports whether the first bytes of a (decompressed) file look
	// like this format; formats are tried in a fixed order, so Sniff may be
	// loose when a stricter format comes first. nil: never detected.
	Sniff  func(head []byte) bool
	Decode DecodeFunc
}
