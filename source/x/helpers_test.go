package x_test

import (
	"testing"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/sourcetest"
)

// wantSource is the source every item must name ("": any, as a CSV row
// names its own).
const wantSource = "x"

// The checks are sourcetest's, shared by every connector.

func checkItem(t testing.TB, it source.Item) {
	t.Helper()
	sourcetest.CheckItem(t, it, wantSource)
}

func checkRejection(t testing.TB, err error) {
	t.Helper()
	sourcetest.CheckRejection(t, err)
}

// decodeAll decodes input, checking every item, and returns the items and
// Decode's error.
func decodeAll(t testing.TB, input []byte) ([]source.Item, error) {
	t.Helper()
	return sourcetest.DecodeAll(t, decode, input, wantSource)
}

func describe(it source.Item) string { return sourcetest.Describe(it) }

func near(a, b, tol float64) bool { return sourcetest.Near(a, b, tol) }
