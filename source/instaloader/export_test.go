package instaloader

import (
	"io"

	"github.com/geopulse/geopulse/source"
)

// DecodeLimit lets tests exercise the size limit without allocating
// MaxPayloadBytes.
func DecodeLimit(limit int) source.DecodeFunc {
	return func(r io.Reader, fn func(source.Item) error) error { return decode(r, fn, limit) }
}
