package mastodon

import (
	"html"
	"strings"
)

// htmlText returns the text of a Mastodon HTML fragment, with tags dropped,
// <br> and paragraph ends as line breaks and entities decoded, and the
// href of every link in it. Mastodon sanitises content to a few tags (p,
// br, a, span, and some inline formatting), so a tag scanner suffices; a '<'
// not followed by a tag name is kept as text.
func htmlText(s string) (text string, hrefs []string) {
	var b strings.Builder
	from := 0 // s[:from] is known to start no tag
	for {
		i := strings.IndexByte(s[from:], '<')
		if i < 0 {
			break
		}
		i += from
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		if !startsTag(s[i+1:]) {
			from = i + 1
			continue
		}
		b.WriteString(html.UnescapeString(s[:i]))
		tag := s[i+1 : i+j]
		s, from = s[i+j+1:], 0
		name, closing := tagName(tag)
		switch {
		case name == "br":
			b.WriteByte('\n')
		case name == "p" && closing:
			b.WriteString("\n\n")
		case name == "a" && !closing:
			if h := attr(tag, "href"); h != "" {
				hrefs = append(hrefs, h)
			}
		}
	}
	b.WriteString(html.UnescapeString(s))
	return strings.TrimSpace(b.String()), hrefs
}

// startsTag reports whether s, which follows a '<', starts a tag.
func startsTag(s string) bool {
	s = strings.TrimPrefix(s, "/")
	return s != "" && ('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z')
}

// tagName returns the lower-cased name of the tag whose inside (between
// '<' and '>') is tag, and whether it is a closing tag.
func tagName(tag string) (name string, closing bool) {
	if strings.HasPrefix(tag, "/") {
		tag, closing = tag[1:], true
	}
	end := strings.IndexAny(tag, " \t\r\n/")
	if end < 0 {
		end = len(tag)
	}
	return strings.ToLower(tag[:end]), closing
}

// attr returns the decoded value of the attribute key of a tag's inside.
func attr(tag, key string) string {
	lower := strings.ToLower(tag)
	for from := 0; ; {
		i := strings.Index(lower[from:], key+"=")
		if i < 0 {
			return ""
		}
		i += from
		from = i + len(key) + 1
		if i == 0 || !strings.ContainsRune(" \t\r\n", rune(lower[i-1])) {
			continue // part of another attribute's name or value
		}
		v := tag[from:]
		if v != "" && (v[0] == '"' || v[0] == '\'') {
			end := strings.IndexByte(v[1:], v[0])
			if end < 0 {
				return ""
			}
			v = v[1 : end+1]
		} else if end := strings.IndexAny(v, " \t\r\n"); end >= 0 {
			v = v[:end]
		}
		return html.UnescapeString(v)
	}
}
