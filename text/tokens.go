package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokens bounds the work per post: the longest captions sources allow
// (about 2,200 characters) stay well under it.
const maxTokens = 512

// Token flags.
const (
	flagHashtag  uint8 = 1 << iota // written as #word
	flagMention                    // written as @word
	flagCapital                    // first letter upper-case
	flagAllCaps                    // two or more letters, all upper-case
	flagSentence                   // first token of a sentence
	flagBreak                      // a clause boundary (, ; : . ! ? newline) precedes it
)

// token is one word of a text. low is the lower-cased word as written
// (diacritics kept, for language identification); fold is the matching key
// (lower-cased, diacritics and apostrophes removed) used by the lexicon,
// brands and interests. Both are substrings of one string per text.
type token struct {
	low, fold string
	flags     uint8
}

func (t token) is(f uint8) bool { return t.flags&f != 0 }

// scripts counts letters per writing system, for language identification
// of texts that are not in the Latin or Cyrillic alphabets.
type scripts struct {
	latin, cyrillic, greek, hebrew, arabic, persian, devanagari, bengali, thai, hangul, kana, han int
	upper, lower                                                                                  int
}

// tokens is the result of reading one text. Folded tokens are written one
// after another with single spaces, so a run of tokens i..j is the substring
// folds[tok[i].foldAt : tok[j].foldEnd] and brand n-grams need no building.
type tokens struct {
	tok     []token
	foldAt  []int32 // start of each token's fold in folds
	folds   string
	emoji   float32 // summed valence of emoji and emoticons
	emojis  int
	scripts scripts

	low, fold []byte // scratch, reused across texts
}

func (ts *tokens) reset() {
	ts.tok = ts.tok[:0]
	ts.foldAt = ts.foldAt[:0]
	ts.folds = ""
	ts.emoji, ts.emojis = 0, 0
	ts.scripts = scripts{}
	ts.low = ts.low[:0]
	ts.fold = ts.fold[:0]
}

// span is one token's offsets while the text is read, before the
// buffers are turned into strings.
type span struct {
	lowAt, lowEnd, foldAt, foldEnd int32
	flags                          uint8
}

// read tokenises s. It allocates only the one string that holds every
// token's two forms (plus growth of the reused slices).
func (ts *tokens) read(s string, spans []span) []span {
	ts.reset()
	spans = spans[:0]
	var pending uint8 = flagSentence | flagBreak // flags for the next token
	var tag uint8
	i := 0
	for i < len(s) && len(spans) < maxTokens {
		c := s[i]
		// Web addresses are not words of the post.
		if (c == 'h' || c == 'H' || c == 'w' || c == 'W') && (i == 0 || s[i-1] == ' ' || s[i-1] == '\n' || s[i-1] == '(') && isURL(s[i:]) {
			for i < len(s) && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' {
				i++
			}
			continue
		}
		if v, n := emoticon(s[i:]); n > 0 && (i == 0 || s[i-1] == ' ' || s[i-1] == '\n') {
			ts.emoji += v
			ts.emojis++
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			sp, n := ts.word(s[i:])
			sp.flags |= pending | tag
			pending, tag = 0, 0
			spans = append(spans, sp)
			i += n
			continue
		}
		i += size
		switch {
		case r == '#' || r == '@':
			tag = flagHashtag
			if r == '@' {
				tag = flagMention
			}
			// A mark inside a word ("C#", an e-mail) or not followed by a
			// word starts no tag.
			if i < len(s) {
				if next, _ := utf8.DecodeRuneInString(s[i:]); !isWordRune(next) {
					tag = 0
				}
			}
			continue
		case r == '&':
			spans = append(spans, ts.add("&", "and", pending))
			pending = 0
		case r == '.' || r == '!' || r == '?' || r == '\n' || r == '¡' || r == '¿' || r == '…':
			pending |= flagSentence | flagBreak
		case r == ',' || r == ';' || r == ':' || r == '(' || r == ')' || r == '"' || r == '|' || r == '/' || r == '–' || r == '—':
			pending |= flagBreak
		default:
			if v, ok := emojiValence(r); ok {
				ts.emoji += v
				ts.emojis++
				pending |= flagBreak
			}
		}
		tag = 0
	}
	if len(ts.fold) > 0 {
		ts.fold = ts.fold[:len(ts.fold)-1] // the trailing space
	}
	lowLen := int32(len(ts.low))
	all := string(append(ts.low, ts.fold...))
	ts.folds = all[lowLen:]
	for _, sp := range spans {
		ts.tok = append(ts.tok, token{
			low:   all[sp.lowAt:sp.lowEnd],
			fold:  ts.folds[sp.foldAt:sp.foldEnd],
			flags: sp.flags,
		})
		ts.foldAt = append(ts.foldAt, sp.foldAt)
	}
	return spans
}

// add appends a token given in both forms.
func (ts *tokens) add(low, fold string, flags uint8) span {
	sp := span{lowAt: int32(len(ts.low)), foldAt: int32(len(ts.fold)), flags: flags}
	ts.low = append(ts.low, low...)
	ts.fold = append(ts.fold, fold...)
	sp.lowEnd, sp.foldEnd = int32(len(ts.low)), int32(len(ts.fold))
	ts.fold = append(ts.fold, ' ')
	return sp
}

// word reads one word at the start of s: letters, digits and marks, with
// apostrophes between letters ("don't", "l'amour"). Hyphens end words so
// "Coca-Cola" reads as "coca cola" in captions and in brand names alike.
func (ts *tokens) word(s string) (span, int) {
	sp := span{lowAt: int32(len(ts.low)), foldAt: int32(len(ts.fold))}
	n, letters, upper := 0, 0, 0
	first := true
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if isApostrophe(r) {
			// Only between two word runes.
			if n+size < len(s) {
				if next, _ := utf8.DecodeRuneInString(s[n+size:]); isWordRune(next) && n > 0 {
					ts.low = append(ts.low, '\'')
					n += size
					continue
				}
			}
			break
		}
		if !isWordRune(r) {
			break
		}
		n += size
		if unicode.IsLetter(r) {
			letters++
			ts.countScript(r)
			if unicode.IsUpper(r) {
				upper++
				ts.scripts.upper++
				if first {
					sp.flags |= flagCapital
				}
			} else if unicode.IsLower(r) {
				ts.scripts.lower++
			}
		}
		first = false
		if r < utf8.RuneSelf {
			b := byte(r)
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			ts.low = append(ts.low, b)
			ts.fold = append(ts.fold, b)
			continue
		}
		lr := unicode.ToLower(r)
		ts.low = utf8.AppendRune(ts.low, lr)
		ts.fold = appendFolded(ts.fold, lr)
	}
	if letters >= 2 && upper == letters {
		sp.flags |= flagAllCaps
	}
	sp.lowEnd, sp.foldEnd = int32(len(ts.low)), int32(len(ts.fold))
	ts.fold = append(ts.fold, ' ')
	return sp, n
}

func (ts *tokens) countScript(r rune) {
	c := &ts.scripts
	switch {
	case r < 0x250 || (r >= 0x1E00 && r < 0x1F00):
		c.latin++
	case r >= 0x400 && r < 0x530:
		c.cyrillic++
	case r >= 0x370 && r < 0x400, r >= 0x1F00 && r < 0x2000:
		c.greek++
	case r >= 0x590 && r < 0x600:
		c.hebrew++
	case r >= 0x600 && r < 0x700:
		c.arabic++
		// Letters Persian writes and Arabic does not.
		if r == 'پ' || r == 'چ' || r == 'ژ' || r == 'گ' || r == 'ی' || r == 'ک' {
			c.persian++
		}
	case r >= 0x900 && r < 0x980:
		c.devanagari++
	case r >= 0x980 && r < 0xA00:
		c.bengali++
	case r >= 0xE00 && r < 0xE80:
		c.thai++
	case r >= 0xAC00 && r < 0xD7B0, r >= 0x1100 && r < 0x1200, r >= 0x3130 && r < 0x3190:
		c.hangul++
	case r >= 0x3040 && r < 0x3100, r >= 0x31F0 && r < 0x3200, r >= 0xFF66 && r < 0xFF9E:
		c.kana++
	case r >= 0x4E00 && r < 0xA000, r >= 0x3400 && r < 0x4DC0, r >= 0x20000 && r < 0x2A6E0:
		c.han++
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	if r >= 0xFE00 && r <= 0xFE0F { // emoji variation selectors
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

func isURL(s string) bool {
	if len(s) > 8 {
		p := s[:8]
		if strings.EqualFold(p, "https://") || strings.EqualFold(p[:7], "http://") {
			return true
		}
	}
	return len(s) > 4 && strings.EqualFold(s[:4], "www.")
}

// latinFold maps U+00C0..U+017F to ASCII base letters; '*' marks runes
// handled separately (ligatures, symbols).
const latinFold = "aaaaaa*ceeeeiiiidnooooo*ouuuuy**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y" +
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllllnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs"

// appendFolded appends r (already lower-case) without diacritics.
func appendFolded(dst []byte, r rune) []byte {
	if r >= 0xC0 && r < 0x180 {
		if c := latinFold[r-0xC0]; c != '*' {
			return append(dst, c)
		}
		switch r {
		case 'æ', 'Æ':
			return append(dst, "ae"...)
		case 'œ', 'Œ':
			return append(dst, "oe"...)
		case 'ĳ', 'Ĳ':
			return append(dst, "ij"...)
		case 'ß':
			return append(dst, "ss"...)
		case 'þ', 'Þ':
			return append(dst, "th"...)
		}
		return utf8.AppendRune(dst, r)
	}
	switch r {
	case 'ș', 'ş':
		return append(dst, 's')
	case 'ț', 'ţ':
		return append(dst, 't')
	}
	if unicode.Is(unicode.Mn, r) {
		return dst // a combining accent
	}
	return utf8.AppendRune(dst, r)
}

// Fold returns the matching key of s: its words lower-cased, without
// diacritics or apostrophes, joined by single spaces, "&" read as "and"
// ("Marks & Spencer" → "marks and spencer", "McDonald's" → "mcdonalds").
// Brand names, lexicon entries and taxonomy keywords are all keyed by it.
func Fold(s string) string {
	var ts tokens
	ts.read(s, nil)
	return ts.folds
}
