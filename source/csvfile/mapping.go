package csvfile

import (
	"slices"
	"strings"

	"github.com/geopulse/geopulse"
)

// Mapping maps canonical field names (see the package doc) to CSV column
// headers. Fields it leaves out are read from a column named like the field.
type Mapping map[string]string

// fields lists every canonical field a mapping may name, in the order of
// the package doc.
func fields() []string {
	return []string{
		"source", "source_id", "kind", "taken_at", "lat", "lon", "accuracy_m", "location_from", "place_name",
		"caption", "hashtags", "mentions", "media", "likes", "comments", "views", "language", "expires_at",
		"author.source_id", "author.handle", "author.display_name", "author.avatar_url",
		"author.followers", "author.following", "author.posts", "author.verified", "author.private",
	}
}

// required lists the fields without which no row can become a post.
func required() []string {
	return []string{"source_id", "taken_at", "lat", "lon", "author.source_id"}
}

// ParseMapping reads a mapping written as "field=header,field=header", for
// example "lat=latitude,lon=lng,source_id=id". Spaces around names are
// ignored; "" is the empty mapping. The error is an EINVALID
// *geopulse.Error (ReasonInvalidField) naming an unknown field, a pair
// without '=' or header, or a field given twice.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		field, header, ok := strings.Cut(pair, "=")
		field, header = strings.TrimSpace(field), strings.TrimSpace(header)
		switch {
		case !ok || header == "":
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "mapping %q: expected field=header", strings.TrimSpace(pair))
		case !slices.Contains(fields(), field):
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "mapping: unknown field %q; fields are %s", field, strings.Join(fields(), ", "))
		}
		if _, dup := m[field]; dup {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "mapping: field %q is mapped twice", field)
		}
		m[field] = header
	}
	return m, nil
}

// check reports a field of m that is not a canonical field, for mappings
// built without ParseMapping.
func (m Mapping) check() *geopulse.Error {
	for field := range m {
		if !slices.Contains(fields(), field) {
			return geopulse.Reject(geopulse.ReasonInvalidField, "mapping: unknown field %q", field)
		}
	}
	return nil
}
