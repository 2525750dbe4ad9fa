package simulate

import (
	"math"
	"math/rand/v2"
)

// rng is the world's one source of randomness. It wraps a concrete PCG so the
// hot path calls it directly (no interface dispatch), and a rand.Rand on the
// same state for the normal and exponential variates, so the whole stream
// stays a pure function of the seed.
type rng struct {
	pcg *rand.PCG
	r   *rand.Rand
}

func newRNG(seed int64, stream uint64) *rng {
	pcg := rand.NewPCG(uint64(seed), stream^0x9e3779b97f4a7c15)
	return &rng{pcg: pcg, r: rand.New(pcg)}
}

// float returns a uniform float64 in [0, 1).
func (g *rng) float() float64 { return float64(g.pcg.Uint64()>>11) * (1.0 / (1 << 53)) }

// intn returns a uniform int in [0, n); n must be in (0, 2^32).
func (g *rng) intn(n int) int {
	return int(((g.pcg.Uint64() >> 32) * uint64(n)) >> 32)
}

// between returns a uniform float64 in [lo, hi).
func (g *rng) between(lo, hi float64) float64 { return lo + (hi-lo)*g.float() }

// chance reports true with probability p.
func (g *rng) chance(p float64) bool { return g.float() < p }

// norm returns a standard normal variate.
func (g *rng) norm() float64 { return g.r.NormFloat64() }

// exp returns an exponential variate with mean 1.
func (g *rng) exp() float64 { return g.r.ExpFloat64() }

// lognormal returns a variate whose median is median and whose log has
// standard deviation sigma: the usual shape of counts on social platforms.
func (g *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.norm())
}

// pick returns an index drawn with probability proportional to w, by linear
// scan: the slices it is used on are short.
func (g *rng) pick(w []float64) int {
	var total float64
	for _, x := range w {
		total += x
	}
	u := g.float() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// alias is Vose's alias table: O(1) sampling from a fixed discrete
// distribution, used where the hot path picks among thousands of items.
type alias struct {
	prob  []float64
	other []int32
}

func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]float64, n), other: make([]int32, n)}
	var total float64
	for _, x := range w {
		total += x
	}
	if n == 0 {
		return a
	}
	if total <= 0 {
		for i := range a.prob {
			a.prob[i] = 1
		}
		return a
	}
	scaled := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		scaled[i] = x * float64(n) / total
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = scaled[s]
		a.other[s] = l
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		a.prob[i] = 1
	}
	for _, i := range small { // only rounding leftovers
		a.prob[i] = 1
	}
	return a
}

func (a *alias) sample(g *rng) int {
	u := g.float() * float64(len(a.prob))
	i := int(u)
	if u-float64(i) < a.prob[i] {
		return i
	}
	return int(a.other[i])
}

// mix is SplitMix64's finaliser: a stateless hash for decisions that must be
// the same whenever they are asked (is this author travelling this week?),
// independent of how many random numbers were drawn before.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) * (1.0 / (1 << 53)) }
