package audience

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math"

	"github.com/geopulse/geopulse"
)

// Rounding is the granularity of every reported count.
const Rounding = 5

// Floor applies a workspace's privacy settings to the counts of one
// audience (Query: its canonical text).
type Floor struct {
	Settings geopulse.PrivacySettings
	Query    string
}

// Count returns the reported value of an exact distinct-author count n of
// the row named row: n plus Laplace noise of scale 1/epsilon, rounded to
// Rounding; ok is false when that noisy value is below k, and the row
// must not be shown. The threshold is applied to the noisy value so that
// whether a row appears does not reveal one author either.
func (f Floor) Count(row string, n int64) (v int64, ok bool) {
	noisy := float64(n) + f.laplace(row)
	if noisy < float64(f.Settings.MinAuthors) {
		return 0, false
	}
	return int64(math.Round(noisy/Rounding)) * Rounding, true
}

// laplace draws Laplace(0, 1/epsilon) noise from an HMAC of the audience
// and the row: uniform u in (-1/2, 1/2), inverse CDF.
func (f Floor) laplace(row string) float64 {
	m := hmac.New(sha256.New, f.Settings.NoiseKey)
	m.Write([]byte(f.Query))
	m.Write([]byte{0})
	m.Write([]byte(row))
	x := binary.BigEndian.Uint64(m.Sum(nil))
	u := (float64(x>>11)+0.5)/(1<<53) - 0.5
	b := 1 / f.Settings.Epsilon
	if u < 0 {
		return b * math.Log(1+2*u)
	}
	return -b * math.Log(1-2*u)
}
