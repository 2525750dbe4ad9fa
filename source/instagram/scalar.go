package instagram

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// scalar holds the literal of a JSON value whose type Instagram's payloads
// do not keep stable: ids and counts arrive as strings in one endpoint and
// as numbers in another ("created_time": "1296751743", "next_max_id":
// 3382522). Keeping the literal lets the builder accept both and report a
// genuinely wrong value with its field name, where a typed decode would
// abort or guess.
type scalar struct {
	lit string // the JSON literal; "" when the member is absent or null
}

// UnmarshalJSON keeps the literal. It never fails, so a bad value does not
// stop encoding/json from filling the other fields.
func (s *scalar) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		s.lit = ""
	} else {
		s.lit = string(b)
	}
	return nil
}

func (s scalar) set() bool { return s.lit != "" }

// kind names the JSON type of the literal, for messages.
func (s scalar) kind() string {
	switch c := s.lit[0]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func (s scalar) isString() bool { return s.lit != "" && s.lit[0] == '"' }

func (s scalar) isNumber() bool {
	return s.lit != "" && (s.lit[0] == '-' || '0' <= s.lit[0] && s.lit[0] <= '9')
}

// text returns a string literal's value, or a number's literal as written;
// ok is false for any other type.
func (s scalar) text() (v string, ok bool) {
	switch {
	case s.isString():
		if strings.IndexByte(s.lit, '\\') < 0 {
			return s.lit[1 : len(s.lit)-1], true
		}
		// encoding/json already checked the literal, so this cannot fail.
		err := json.Unmarshal([]byte(s.lit), &v)
		return v, err == nil
	case s.isNumber():
		return s.lit, true
	}
	return "", false
}

// float parses a number or a numeric string. NaN and infinities are
// returned as parsed; callers range-check them away.
func (s scalar) float() (float64, bool) {
	v, ok := s.text()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// int parses an integer, also written as "42", 42.0 or 4.2e1, because some
// JSON writers format every number as a float.
func (s scalar) int() (int64, bool) {
	v, ok := s.text()
	if !ok {
		return 0, false
	}
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// discard skips a JSON value without keeping it.
type discard struct{}

func (discard) UnmarshalJSON([]byte) error { return nil }
