package mastodon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// status is the part of a Mastodon Status entity that geopulse reads.
type status struct {
	ID               string          `json:"id"`
	URI              string          `json:"uri"`
	URL              string          `json:"url"`
	CreatedAt        string          `json:"created_at"`
	Content          string          `json:"content"`
	SpoilerText      string          `json:"spoiler_text"`
	Visibility       string          `json:"visibility"`
	Language         string          `json:"language"`
	Reblog           json.RawMessage `json:"reblog"`
	Account          *account        `json:"account"`
	MediaAttachments []struct {
		Type       string `json:"type"`
		URL        string `json:"url"`
		RemoteURL  string `json:"remote_url"`
		PreviewURL string `json:"preview_url"`
	} `json:"media_attachments"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Mentions []struct {
		Acct string `json:"acct"`
		URL  string `json:"url"`
	} `json:"mentions"`
	FavouritesCount int64 `json:"favourites_count"`
	RepliesCount    int64 `json:"replies_count"`
	Card            *struct {
		URL string `json:"url"`
	} `json:"card"`
}

type account struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	URL            string `json:"url"`
	Avatar         string `json:"avatar"`
	Note           string `json:"note"`
	Locked         bool   `json:"locked"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

// status decodes one status; where names its place in the input for
// messages ("line 3", "status [2]"), "" for a single object.
func (d *decoder) status(raw []byte, where string) (*geopulse.Post, *geopulse.Error) {
	what := func(s string) string {
		if where == "" {
			return s
		}
		return where + ": " + s
	}
	if !utf8.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s", what("status is not valid UTF-8"))
	}
	var st status
	if err := json.Unmarshal(raw, &st); err != nil {
		name := "status"
		if st.URI != "" {
			name = fmt.Sprintf("status %q", st.URI)
		}
		return nil, typeError(what(name), err)
	}
	if st.URI == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s", what("status: uri is required"))
	}
	name := what(fmt.Sprintf("status %q", st.URI))
	if len(st.Reblog) > 0 && string(st.Reblog) != "null" {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "%s is a reblog; the original status is collected on its own", name)
	}
	if st.CreatedAt == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: created_at is required", name)
	}
	takenAt, err := time.Parse(time.RFC3339, st.CreatedAt)
	if err != nil {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: created_at must be an RFC 3339 time", name)
	}
	if st.Account == nil {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: account is required", name)
	}
	acc := st.Account
	instance := host(acc.URL)
	if instance == "" {
		instance = host(st.URI)
	}
	handle := fullAcct(acc.Acct, instance)
	authorID := acc.URL
	if authorID == "" {
		authorID = handle
	}
	if authorID == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: account.url or account.acct is required", name)
	}
	text, hrefs := htmlText(st.Content)
	bio, _ := htmlText(acc.Note)
	p := &geopulse.Post{
		Source:   Source,
		SourceID: st.URI,
		TakenAt:  takenAt.UTC(),
		Caption:  text,
		Likes:    st.FavouritesCount,
		Comments: st.RepliesCount,
		Language: st.Language,
		Author: geopulse.Author{
			SourceID:    authorID,
			Handle:      handle,
			DisplayName: acc.DisplayName,
			AvatarURL:   acc.Avatar,
			Bio:         bio,
			Followers:   acc.FollowersCount,
			Following:   acc.FollowingCount,
			PostsCount:  acc.StatusesCount,
			Private:     acc.Locked || (st.Visibility != "public" && st.Visibility != "unlisted"),
		},
	}
	if cw := strings.TrimSpace(st.SpoilerText); cw != "" {
		p.Caption = strings.TrimSpace(cw + "\n\n" + text)
	}
	candidates := append(hrefs, text)
	if st.Card != nil {
		candidates = append(candidates, st.Card.URL)
	}
	loc, ok := findLocation(candidates)
	if !ok {
		return nil, geopulse.Reject(geopulse.ReasonNoLocation, "%s has no geo: URI or OpenStreetMap link", name)
	}
	p.Lat, p.Lon, p.AccuracyM, p.LocationFrom = loc.lat, loc.lon, loc.accuracyM, loc.from
	photo, video := false, false
	for _, m := range st.MediaAttachments {
		u := ""
		switch m.Type {
		case "image":
			photo, u = true, m.URL
			if u == "" {
				u = m.RemoteURL
			}
		case "video", "gifv":
			video, u = true, m.PreviewURL
		}
		if u != "" {
			p.MediaURLs = append(p.MediaURLs, u)
		}
	}
	switch {
	case photo:
		p.Kind = geopulse.KindPhoto
	case video:
		p.Kind = geopulse.KindVideo
	default:
		p.Kind = geopulse.KindText
	}
	for _, t := range st.Tags {
		p.Hashtags = append(p.Hashtags, t.Name)
	}
	for _, m := range st.Mentions {
		if a := fullAcct(m.Acct, host(m.URL)); a != "" {
			p.Mentions = append(p.Mentions, a)
		}
	}
	return canonical.Normalize(p, canonical.ConnectorLimits, &d.buf, name)
}

// fullAcct returns acct as user@instance: the API gives local accounts
// without their instance.
func fullAcct(acct, instance string) string {
	acct = strings.TrimPrefix(acct, "@")
	if acct == "" || strings.Contains(acct, "@") || instance == "" {
		return acct
	}
	return acct + "@" + instance
}

// host returns the lower-cased host of an absolute URL, or "".
func host(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// typeError turns an encoding/json error into a rejection that names the
// JSON field and the types, without Go type names.
func typeError(what string, err error) *geopulse.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return geopulse.Reject(geopulse.ReasonInvalidField, "%s must be %s, not %s", what, jsonType(te.Type), te.Value)
		}
		return geopulse.Reject(geopulse.ReasonInvalidField, "%s: %s must be %s, not %s", what, te.Field, jsonType(te.Type), te.Value)
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "%s: malformed JSON", what)
}

func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	default:
		return "an integer within ±2^63"
	}
}
