package canonical

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of objects and arrays. Schema v1 nests two
// levels; the headroom is for unknown fields added by later versions, and the
// bound keeps a hostile item from recursing deeply.
const maxDepth = 64

// syntaxError is a violation of JSON's grammar at a byte offset of the input.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// strFlags reports what a decoded string contained that the schema rejects
// but JSON allows.
type strFlags uint8

const (
	// strLoneSurrogate: a \u escape named half of a UTF-16 surrogate pair
	// without the other half. encoding/json would silently write U+FFFD;
	// the text the sender meant is not representable, so we reject it.
	strLoneSurrogate strFlags = 1 << iota
	// strNUL: the string contains U+0000, which PostgreSQL text cannot
	// store and no legitimate post needs.
	strNUL
)

// scanner is a strict RFC 8259 reader over one input held as a string, so
// that strings without escapes are returned as substrings without copying.
// It reports only syntax errors; what the values mean is the caller's job.
type scanner struct {
	s     string
	pos   int
	depth int
}

func (sc *scanner) fail(msg string) error { return &syntaxError{off: sc.pos, msg: msg} }

// failHere reports an unexpected byte at the current position, or the end of
// the input.
func (sc *scanner) failHere(expected string) error {
	if sc.pos >= len(sc.s) {
		return sc.fail("unexpected end of input, expected " + expected)
	}
	return sc.fail("unexpected " + quoteByte(sc.s[sc.pos]) + ", expected " + expected)
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "byte 0x" + string([]byte{hex[c>>4], hex[c&0xf]})
}

func (sc *scanner) ws() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// peek returns the byte at the current position, or 0 at the end.
func (sc *scanner) peek() byte {
	if sc.pos < len(sc.s) {
		return sc.s[sc.pos]
	}
	return 0
}

// enter consumes the opening '{' or '[' at the current position.
func (sc *scanner) enter() error {
	if sc.depth >= maxDepth {
		return sc.fail("nesting deeper than 64 levels")
	}
	sc.depth++
	sc.pos++
	return nil
}

// member advances to the next member of an object whose '{' has been
// consumed, returning its key with the position at the value. first is true
// for the first call on an object. At the closing '}' it returns more=false.
func (sc *scanner) member(first bool) (key string, more bool, err error) {
	sc.ws()
	switch c := sc.peek(); {
	case c == '}' && first:
	case first:
		goto key
	case c == ',':
		sc.pos++
		sc.ws()
		goto key
	case c == '}':
	default:
		return "", false, sc.failHere("',' or '}'")
	}
	sc.pos++
	sc.depth--
	return "", false, nil
key:
	if sc.peek() != '"' {
		return "", false, sc.failHere("a string key")
	}
	if key, _, err = sc.str(); err != nil {
		return "", false, err
	}
	sc.ws()
	if sc.peek() != ':' {
		return "", false, sc.failHere("':'")
	}
	sc.pos++
	sc.ws()
	return key, true, nil
}

// element advances to the next element of an array whose '[' has been
// consumed, like member.
func (sc *scanner) element(first bool) (more bool, err error) {
	sc.ws()
	switch c := sc.peek(); {
	case c == ']' && first:
	case first:
		return true, nil
	case c == ',':
		sc.pos++
		sc.ws()
		return true, nil
	case c == ']':
	default:
		return false, sc.failHere("',' or ']'")
	}
	sc.pos++
	sc.depth--
	return false, nil
}

// str reads the string whose opening quote is at the current position. A
// string without escapes is a substring of the input.
func (sc *scanner) str() (string, strFlags, error) {
	sc.pos++
	start := sc.pos
	s := sc.s
	i := start
	// Find the closing quote with the vectorised IndexByte, then check
	// the bytes before it for escapes and control characters.
	end := strings.IndexByte(s[i:], '"')
	if end < 0 {
		end = len(s)
	} else {
		end += i
	}
	for ; i < end; i++ {
		if c := s[i]; c < 0x20 || c == '\\' {
			return sc.strSpecial(start, i)
		}
	}
	if end == len(s) {
		sc.pos = end
		return "", 0, sc.fail("unterminated string")
	}
	sc.pos = end + 1
	return s[start:end], 0, nil
}

// strSpecial continues str at byte i, a backslash or a control character.
func (sc *scanner) strSpecial(start, i int) (string, strFlags, error) {
	sc.pos = i
	if sc.s[i] == '\\' {
		return sc.strEscaped(start)
	}
	return "", 0, sc.fail("control character in string (escape it)")
}

// strEscaped finishes a string that contains escapes; the position is at the
// first backslash and start at the first byte of the string's content.
func (sc *scanner) strEscaped(start int) (string, strFlags, error) {
	var b strings.Builder
	b.Grow(len(sc.s) - start)
	b.WriteString(sc.s[start:sc.pos])
	var flags strFlags
	for sc.pos < len(sc.s) {
		c := sc.s[sc.pos]
		switch {
		case c == '"':
			sc.pos++
			return b.String(), flags, nil
		case c < 0x20:
			return "", 0, sc.fail("control character in string (escape it)")
		case c != '\\':
			// Copy the run up to the next quote, backslash or control byte.
			i := sc.pos + 1
			for i < len(sc.s) && sc.s[i] != '"' && sc.s[i] != '\\' && sc.s[i] >= 0x20 {
				i++
			}
			b.WriteString(sc.s[sc.pos:i])
			sc.pos = i
			continue
		}
		r, lone, err := sc.escape()
		if err != nil {
			return "", 0, err
		}
		if lone {
			flags |= strLoneSurrogate
		} else if r == 0 {
			flags |= strNUL
		}
		b.WriteRune(r)
	}
	return "", 0, sc.fail("unterminated string")
}

// escape decodes the escape sequence at the current position (a backslash).
// lone reports half of a UTF-16 surrogate pair without its other half; the
// rune returned for it is U+FFFD.
func (sc *scanner) escape() (r rune, lone bool, err error) {
	if sc.pos+1 >= len(sc.s) {
		sc.pos = len(sc.s)
		return 0, false, sc.fail("unterminated string")
	}
	e := sc.s[sc.pos+1]
	sc.pos += 2
	switch e {
	case '"', '\\', '/':
		return rune(e), false, nil
	case 'b':
		return '\b', false, nil
	case 'f':
		return '\f', false, nil
	case 'n':
		return '\n', false, nil
	case 'r':
		return '\r', false, nil
	case 't':
		return '\t', false, nil
	case 'u':
	default:
		sc.pos -= 2
		return 0, false, sc.fail("invalid escape sequence")
	}
	if r, err = sc.hex4(); err != nil || !utf16.IsSurrogate(r) {
		return r, false, err
	}
	if r < 0xdc00 && strings.HasPrefix(sc.s[sc.pos:], `\u`) {
		save := sc.pos
		sc.pos += 2
		r2, err := sc.hex4()
		if err != nil {
			return 0, false, err
		}
		if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
			return d, false, nil
		}
		sc.pos = save // the second escape stands on its own
	}
	return utf8.RuneError, true, nil
}

// hex4 reads the four hex digits of a \u escape.
func (sc *scanner) hex4() (rune, error) {
	if len(sc.s)-sc.pos < 4 {
		return 0, sc.fail("invalid \\u escape")
	}
	var r rune
	for i := range 4 {
		c := sc.s[sc.pos+i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, sc.fail("invalid \\u escape")
		}
		r = r<<4 | rune(c)
	}
	sc.pos += 4
	return r, nil
}

// num reads a number and returns its literal text.
func (sc *scanner) num() (string, error) {
	start := sc.pos
	if sc.peek() == '-' {
		sc.pos++
	}
	switch c := sc.peek(); {
	case c == '0':
		sc.pos++
	case '1' <= c && c <= '9':
		sc.digits()
	default:
		return "", sc.failHere("a digit")
	}
	if sc.peek() == '.' {
		sc.pos++
		if c := sc.peek(); c < '0' || c > '9' {
			return "", sc.failHere("a digit after '.'")
		}
		sc.digits()
	}
	if c := sc.peek(); c == 'e' || c == 'E' {
		sc.pos++
		if c := sc.peek(); c == '+' || c == '-' {
			sc.pos++
		}
		if c := sc.peek(); c < '0' || c > '9' {
			return "", sc.failHere("a digit in the exponent")
		}
		sc.digits()
	}
	return sc.s[start:sc.pos], nil
}

func (sc *scanner) digits() {
	for sc.pos < len(sc.s) && '0' <= sc.s[sc.pos] && sc.s[sc.pos] <= '9' {
		sc.pos++
	}
}

// literal consumes word (true, false or null) at the current position.
func (sc *scanner) literal(word string) error {
	if !strings.HasPrefix(sc.s[sc.pos:], word) {
		return sc.fail("invalid literal, expected " + word)
	}
	sc.pos += len(word)
	return nil
}

// skip consumes one value of any type, checking its syntax.
func (sc *scanner) skip() error {
	switch c := sc.peek(); c {
	case '{':
		if err := sc.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, more, err := sc.member(first)
			if err != nil || !more {
				return err
			}
			if err := sc.skip(); err != nil {
				return err
			}
		}
	case '[':
		if err := sc.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			more, err := sc.element(first)
			if err != nil || !more {
				return err
			}
			if err := sc.skip(); err != nil {
				return err
			}
		}
	case '"':
		return sc.skipStr()
	case 't':
		return sc.literal("true")
	case 'f':
		return sc.literal("false")
	case 'n':
		return sc.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			_, err := sc.num()
			return err
		}
		return sc.failHere("a value")
	}
}

// skipStr checks the syntax of a string without decoding it.
func (sc *scanner) skipStr() error {
	sc.pos++
	for sc.pos < len(sc.s) {
		switch c := sc.s[sc.pos]; {
		case c == '"':
			sc.pos++
			return nil
		case c == '\\':
			if _, _, err := sc.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return sc.fail("control character in string (escape it)")
		default:
			sc.pos++
		}
	}
	return sc.fail("unterminated string")
}

// kindOf names the JSON type of the value at the current position, for
// messages about a wrong type.
func (sc *scanner) kindOf() string {
	switch c := sc.peek(); c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}
