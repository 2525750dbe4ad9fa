package instagram

import (
	"io"

	"github.com/geopulse/geopulse/source"
)

// DecodeV1Limit and DecodeGraphLimit let tests exercise the payload size
// limit without allocating MaxPayloadBytes.
func DecodeV1Limit(limit int) source.DecodeFunc {
	return func(r io.Reader, fn func(source.Item) error) error { return decodeV1(r, fn, limit) }
}

func DecodeGraphLimit(v *Venue, limit int) source.DecodeFunc {
	return func(r io.Reader, fn func(source.Item) error) error { return decodeGraph(r, fn, v, limit) }
}
