package canonical

// Version is the canonical schema version this package reads and writes. An
// item may omit "v"; any value other than Version is rejected with
// geopulse.ReasonUnsupportedVersion.
const Version = 1

// Limits bound what the decoder accepts, so that one sender cannot make the
// intake path allocate without bound. A zero Limits means DefaultLimits; more
// precisely, every field that is zero (or negative) takes its default.
type Limits struct {
	// MaxItemBytes is the largest encoded item (one NDJSON line or one
	// array element, without its line terminator). Default 64 KiB.
	MaxItemBytes int
	// MaxCaption is the longest caption, in runes. Default 10,000.
	MaxCaption int
	// MaxItems is the most items one Decode call accepts (one request or
	// one file). Default 10,000; a file import passes a larger number.
	MaxItems int
	// MaxListLen is the most entries in each of hashtags, mentions and
	// media. Default 100.
	MaxListLen int
}

// DefaultLimits are the limits used for every zero field of a Limits. It is
// never modified by this package.
var DefaultLimits = Limits{
	MaxItemBytes: 64 << 10,
	MaxCaption:   10_000,
	MaxItems:     10_000,
	MaxListLen:   100,
}

// orDefault returns lim with every unset field taken from DefaultLimits.
func (lim Limits) orDefault() Limits {
	if lim.MaxItemBytes <= 0 {
		lim.MaxItemBytes = DefaultLimits.MaxItemBytes
	}
	if lim.MaxCaption <= 0 {
		lim.MaxCaption = DefaultLimits.MaxCaption
	}
	if lim.MaxItems <= 0 {
		lim.MaxItems = DefaultLimits.MaxItems
	}
	if lim.MaxListLen <= 0 {
		lim.MaxListLen = DefaultLimits.MaxListLen
	}
	return lim
}
