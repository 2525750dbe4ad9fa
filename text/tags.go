package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTagLen bounds a single tag: longer runs are spam or garbage.
const maxTagLen = 100

// Hashtags appends to dst the lower-cased hashtags of s ("#Coffee" → "coffee"),
// skipping ones already in dst, and returns it.
func Hashtags(dst []string, s string) []string { return appendTags(dst, s, '#') }

// Mentions appends to dst the lower-cased mentions of s ("@Jane" → "jane"),
// skipping ones already in dst, and returns it.
func Mentions(dst []string, s string) []string { return appendTags(dst, s, '@') }

func appendTags(dst []string, s string, mark byte) []string {
	for {
		i := strings.IndexByte(s, mark)
		if i < 0 {
			return dst
		}
		// A mark inside a word (e-mail addresses, "C#") does not start a tag.
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:i])
			if isTagRune(r) {
				s = s[i+1:]
				continue
			}
		}
		s = s[i+1:]
		n := 0
		for n < len(s) {
			r, size := utf8.DecodeRuneInString(s[n:])
			if !isTagRune(r) {
				break
			}
			n += size
		}
		if n > 0 && n <= maxTagLen {
			dst = addUnique(dst, strings.ToLower(s[:n]))
		}
		s = s[n:]
	}
}

func isTagRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func addUnique(dst []string, t string) []string {
	for _, d := range dst {
		if d == t {
			return dst
		}
	}
	return append(dst, t)
}
