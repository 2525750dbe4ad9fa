package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/source/canonical"
)

// value decodes one top-level object: a page, a compliance event or an
// error response. A shape problem is returned before anything is emitted
// (the caller reports it for the whole document or the line); err is an
// error of fn, which ends decoding.
func (d *decoder) value(raw []byte) (shape *geopulse.Error, err error) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "expected a JSON object, not %s", kindOf(raw)), nil
	}
	if data, ok := top["data"]; ok && !isNull(data) {
		switch kindOf(data) {
		case "an array":
			return d.page(data, top["includes"])
		case "an object":
			// The compliance firehose wraps each event in "data".
			var inner map[string]json.RawMessage
			json.Unmarshal(data, &inner)
			if name, body, ok := findEvent(inner); ok {
				ev, e := d.event(name, body)
				return nil, d.emit(nil, ev, e)
			}
			return geopulse.Reject(geopulse.ReasonMalformedJSON, "data is an object without an X compliance event"), nil
		default:
			return geopulse.Reject(geopulse.ReasonMalformedJSON, "data must be an array of tweets, not %s", kindOf(data)), nil
		}
	}
	if name, body, ok := findEvent(top); ok {
		ev, e := d.event(name, body)
		return nil, d.emit(nil, ev, e)
	}
	if _, ok := top["action"]; ok {
		ev, e := d.batchResult(raw)
		return nil, d.emit(nil, ev, e)
	}
	if _, ok := top["meta"]; ok {
		// A page without results ("result_count": 0); errors beside it
		// are partial ones about expansions.
		return nil, nil
	}
	if msg, ok := problem(raw, top); ok {
		return geopulse.Reject(geopulse.ReasonUnsupported, "an X error response, not a page: %s", msg), nil
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "neither an X search page nor an X compliance event"), nil
}

// problem reads an X error response: a problem object {title, detail} or
// {errors: [{message | detail}]} without data.
func problem(raw []byte, top map[string]json.RawMessage) (string, bool) {
	var p struct {
		Title, Detail string
		Errors        []struct{ Title, Detail, Message string }
	}
	_, hasErrors := top["errors"]
	_, hasTitle := top["title"]
	if !hasErrors && !hasTitle {
		return "", false
	}
	json.Unmarshal(raw, &p) // best effort: a message of the wrong type stays empty
	msg := strings.TrimSpace(p.Title + ": " + p.Detail)
	if p.Title == "" && len(p.Errors) > 0 {
		e := p.Errors[0]
		msg = strings.TrimSpace(e.Title + ": " + e.Message + e.Detail)
	}
	msg = strings.Trim(msg, ": ")
	if msg == "" {
		msg = "no detail given"
	}
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	return msg, true
}

// tweet is the part of an X v2 tweet object that geopulse reads.
type tweet struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	NoteTweet *struct {
		Text string `json:"text"`
	} `json:"note_tweet"`
	CreatedAt string `json:"created_at"`
	AuthorID  string `json:"author_id"`
	Lang      string `json:"lang"`
	Geo       *struct {
		Coordinates *struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		} `json:"coordinates"`
		PlaceID string `json:"place_id"`
	} `json:"geo"`
	Entities struct {
		Hashtags []struct {
			Tag string `json:"tag"`
		} `json:"hashtags"`
		Mentions []struct {
			Username string `json:"username"`
		} `json:"mentions"`
	} `json:"entities"`
	PublicMetrics struct {
		LikeCount       int64 `json:"like_count"`
		ReplyCount      int64 `json:"reply_count"`
		ImpressionCount int64 `json:"impression_count"`
	} `json:"public_metrics"`
	Attachments struct {
		MediaKeys []string `json:"media_keys"`
	} `json:"attachments"`
	ReferencedTweets []struct {
		Type string `json:"type"`
	} `json:"referenced_tweets"`
}

type user struct {
	ID              string `json:"id"`
	Username        string `json:"username"`
	Name            string `json:"name"`
	ProfileImageURL string `json:"profile_image_url"`
	Description     string `json:"description"`
	Protected       bool   `json:"protected"`
	Verified        bool   `json:"verified"`
	VerifiedType    string `json:"verified_type"`
	PublicMetrics   struct {
		FollowersCount int64 `json:"followers_count"`
		FollowingCount int64 `json:"following_count"`
		TweetCount     int64 `json:"tweet_count"`
	} `json:"public_metrics"`
}

type place struct {
	ID       string `json:"id"`
	FullName string `json:"full_name"`
	Geo      *struct {
		BBox []float64 `json:"bbox"`
	} `json:"geo"`
}

type media struct {
	MediaKey        string `json:"media_key"`
	Type            string `json:"type"`
	URL             string `json:"url"`
	PreviewImageURL string `json:"preview_image_url"`
}

// entry is one decoded object of includes, or why it cannot be used.
type entry[T any] struct {
	v   *T
	err *geopulse.Error
}

// includes are a page's expansions, by id.
type includes struct {
	users  map[string]entry[user]
	places map[string]entry[place]
	media  map[string]entry[media]
}

func newIncludes(raw json.RawMessage) (*includes, *geopulse.Error) {
	var lists struct {
		Users  []json.RawMessage `json:"users"`
		Places []json.RawMessage `json:"places"`
		Media  []json.RawMessage `json:"media"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &lists); err != nil {
			return nil, typeError("includes", err)
		}
	}
	return &includes{
		users:  byID(lists.Users, "user", func(u *user) string { return u.ID }),
		places: byID(lists.Places, "place", func(p *place) string { return p.ID }),
		media:  byID(lists.Media, "media", func(m *media) string { return m.MediaKey }),
	}, nil
}

// byID decodes objects and indexes them by id; the first object with an id
// wins. An object that is not valid UTF-8 or has a field of the wrong type
// is kept with its error, so that the tweets referring to it fail and the
// others do not.
func byID[T any](raws []json.RawMessage, what string, id func(*T) string) map[string]entry[T] {
	m := make(map[string]entry[T], len(raws))
	for _, raw := range raws {
		v := new(T)
		err := json.Unmarshal(raw, v)
		key := id(v)
		if _, dup := m[key]; key == "" || dup {
			continue
		}
		e := entry[T]{v: v}
		if !utf8.Valid(raw) {
			e.err = geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s %q is not valid UTF-8", what, key)
		} else if err != nil {
			e.err = typeError(fmt.Sprintf("includes: %s %q", what, key), err)
		}
		m[key] = e
	}
	return m
}

func (d *decoder) page(data, incRaw json.RawMessage) (*geopulse.Error, error) {
	var tweets []json.RawMessage
	if err := json.Unmarshal(data, &tweets); err != nil {
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "data must be an array of tweets"), nil
	}
	inc, incErr := newIncludes(incRaw)
	for _, raw := range tweets {
		var p *geopulse.Post
		e := incErr
		if e == nil {
			p, e = d.tweet(raw, inc)
		}
		if err := d.emit(p, nil, e); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// unescapeText undoes the only escapes X applies to tweet text.
var unescapeText = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

func (d *decoder) tweet(raw json.RawMessage, inc *includes) (*geopulse.Post, *geopulse.Error) {
	if !utf8.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "tweet is not valid UTF-8")
	}
	var tw tweet
	if err := json.Unmarshal(raw, &tw); err != nil {
		what := "tweet"
		if tw.ID != "" {
			what = fmt.Sprintf("tweet %q", tw.ID)
		}
		return nil, typeError(what, err)
	}
	if tw.ID == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "tweet: id is required")
	}
	what := fmt.Sprintf("tweet %q", tw.ID)
	for _, ref := range tw.ReferencedTweets {
		if ref.Type == "retweeted" {
			return nil, geopulse.Reject(geopulse.ReasonUnsupported, "%s is a retweet; the original is collected on its own", what)
		}
	}
	if tw.CreatedAt == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: created_at is required", what)
	}
	takenAt, err := time.Parse(time.RFC3339, tw.CreatedAt)
	if err != nil {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: created_at must be an RFC 3339 time such as 2026-11-28T10:00:00.000Z", what)
	}
	if tw.AuthorID == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: author_id is required", what)
	}
	p := &geopulse.Post{
		Source:   Source,
		SourceID: tw.ID,
		TakenAt:  takenAt.UTC(),
		Caption:  tw.Text,
		Likes:    tw.PublicMetrics.LikeCount,
		Comments: tw.PublicMetrics.ReplyCount,
		Views:    tw.PublicMetrics.ImpressionCount,
		Language: tw.Lang,
		Author:   geopulse.Author{SourceID: tw.AuthorID},
	}
	if tw.NoteTweet != nil && tw.NoteTweet.Text != "" {
		p.Caption = tw.NoteTweet.Text // the full text of a long post
	}
	p.Caption = unescapeText.Replace(p.Caption)
	// A user missing from includes (X leaves out what it cannot return)
	// leaves an author known by id only.
	if u, ok := inc.users[tw.AuthorID]; ok {
		if u.err != nil {
			return nil, u.err
		}
		setAuthor(&p.Author, u.v)
	}
	if e := locate(p, &tw, inc, what); e != nil {
		return nil, e
	}
	if e := attach(p, &tw, inc); e != nil {
		return nil, e
	}
	for _, h := range tw.Entities.Hashtags {
		p.Hashtags = append(p.Hashtags, h.Tag)
	}
	for _, m := range tw.Entities.Mentions {
		p.Mentions = append(p.Mentions, m.Username)
	}
	return canonical.Normalize(p, canonical.ConnectorLimits, &d.buf, what)
}

func setAuthor(a *geopulse.Author, u *user) {
	a.Handle = u.Username
	a.DisplayName = u.Name
	a.AvatarURL = u.ProfileImageURL
	a.Bio = u.Description
	a.Followers = u.PublicMetrics.FollowersCount
	a.Following = u.PublicMetrics.FollowingCount
	a.PostsCount = u.PublicMetrics.TweetCount
	a.Verified = u.Verified || (u.VerifiedType != "" && u.VerifiedType != "none")
	a.Business = u.VerifiedType == "business"
	a.Private = u.Protected
}

// maxAccuracyM keeps a huge box's half diagonal (up to half the Earth's
// circumference) under the gate's limit of 10,000 km.
const maxAccuracyM = 9_990_000

// locate sets the post's location from geo.coordinates or the place's bbox
// (see the package doc).
func locate(p *geopulse.Post, tw *tweet, inc *includes, what string) *geopulse.Error {
	if tw.Geo == nil {
		return geopulse.Reject(geopulse.ReasonNoLocation, "%s has no geo", what)
	}
	located := false
	if c := tw.Geo.Coordinates; c != nil {
		if c.Type != "Point" || len(c.Coordinates) != 2 {
			return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s: geo.coordinates must be a GeoJSON Point [lon, lat]", what)
		}
		lon, lat := c.Coordinates[0], c.Coordinates[1]
		if !geo.ValidLatLon(lat, lon) {
			return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s: geo.coordinates [%g, %g] are outside ±180, ±90", what, lon, lat)
		}
		if lat != 0 || lon != 0 {
			p.Lat, p.Lon, p.LocationFrom, located = lat, lon, geopulse.LocationPoint, true
		}
	}
	if tw.Geo.PlaceID == "" {
		if !located {
			return geopulse.Reject(geopulse.ReasonNoLocation, "%s has no usable geo", what)
		}
		return nil
	}
	pl, ok := inc.places[tw.Geo.PlaceID]
	switch {
	case ok && pl.err != nil:
		return pl.err
	case ok:
		p.PlaceName = pl.v.FullName
	case located:
		return nil
	default:
		return geopulse.Reject(geopulse.ReasonNoLocation, "%s: place %q is not in includes.places", what, tw.Geo.PlaceID)
	}
	if located {
		return nil
	}
	if pl.v.Geo == nil || pl.v.Geo.BBox == nil {
		return geopulse.Reject(geopulse.ReasonNoLocation, "%s: place %q has no bounding box", what, tw.Geo.PlaceID)
	}
	b := pl.v.Geo.BBox
	if len(b) != 4 || !geo.ValidLatLon(b[1], b[0]) || !geo.ValidLatLon(b[3], b[2]) || b[1] > b[3] {
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s: place %q bbox must be [west, south, east, north] within ±180, ±90", what, tw.Geo.PlaceID)
	}
	p.Lat, p.Lon, p.AccuracyM = bboxCentre(b[0], b[1], b[2], b[3])
	p.LocationFrom = geopulse.LocationBBox
	return nil
}

// bboxCentre returns the centre of the box [w, s, e, n] and half its
// diagonal in metres. A box with w > e crosses the antimeridian.
func bboxCentre(w, s, e, n float64) (lat, lon, halfDiagM float64) {
	if w > e {
		e += 360
	}
	lat, lon = (s+n)/2, (w+e)/2
	if lon > 180 {
		lon -= 360
	}
	return lat, lon, min(haversineM(s, w, n, e)/2, maxAccuracyM)
}

// haversineM is the great-circle distance in metres, on the sphere the geo
// package measures with.
func haversineM(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	sLat := math.Sin((lat2 - lat1) * rad / 2)
	sLon := math.Sin((lon2 - lon1) * rad / 2)
	a := sLat*sLat + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sLon*sLon
	return 2 * geo.EarthRadiusM * math.Asin(math.Sqrt(min(1, a)))
}

// attach sets the kind and media URLs from the attached media.
func attach(p *geopulse.Post, tw *tweet, inc *includes) *geopulse.Error {
	photo, video := false, false
	for _, key := range tw.Attachments.MediaKeys {
		m, ok := inc.media[key]
		if !ok {
			continue
		}
		if m.err != nil {
			return m.err
		}
		url := ""
		switch m.v.Type {
		case "photo":
			photo, url = true, m.v.URL
		case "video", "animated_gif":
			video, url = true, m.v.PreviewImageURL
		}
		if url != "" {
			p.MediaURLs = append(p.MediaURLs, url)
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
	return nil
}

func withContext(what string, err error) *geopulse.Error {
	var e *geopulse.Error
	if !errors.As(err, &e) {
		return geopulse.Reject(geopulse.ReasonInvalidField, "%s: %v", what, err)
	}
	return &geopulse.Error{Code: e.Code, Reason: e.Reason, Message: what + ": " + e.Message}
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
	case reflect.Float32, reflect.Float64:
		return "a finite number"
	default:
		return "an integer within ±2^63"
	}
}

// kindOf names the JSON type of a valid value.
func kindOf(v []byte) string {
	s := bytes.TrimLeft(v, " \t\r\n")
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
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
	}
	return "a number"
}

func isNull(v json.RawMessage) bool { return kindOf(v) == "null" }
