package flickr

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// photo is the part of a photos.search photo that geopulse reads.
type photo struct {
	ID          scalar `json:"id"`
	Owner       scalar `json:"owner"`
	OwnerName   string `json:"ownername"`
	PathAlias   string `json:"pathalias"`
	Secret      scalar `json:"secret"`
	Server      scalar `json:"server"`
	Farm        scalar `json:"farm"`
	Title       string `json:"title"`
	Description struct {
		Content string `json:"_content"`
	} `json:"description"`
	IsPublic      scalar `json:"ispublic"`
	Latitude      scalar `json:"latitude"`
	Longitude     scalar `json:"longitude"`
	Accuracy      scalar `json:"accuracy"`
	GeoIsPublic   scalar `json:"geo_is_public"`
	Tags          string `json:"tags"`
	MachineTags   string `json:"machine_tags"`
	DateTaken     string `json:"datetaken"`
	DateUpload    scalar `json:"dateupload"`
	IconServer    scalar `json:"iconserver"`
	IconFarm      scalar `json:"iconfarm"`
	URLO          string `json:"url_o"`
	Views         scalar `json:"views"`
	CountFaves    scalar `json:"count_faves"`
	CountComments scalar `json:"count_comments"`
	Media         string `json:"media"`
}

// accuracyM maps Flickr's accuracy (a zoom level, index 1–16) to a radius
// in metres; the package doc explains the table.
func accuracyM(level int64) float64 {
	return [...]float64{0, 9_000_000, 2_500_000, 500_000, 250_000, 120_000, 60_000, 30_000, 15_000,
		8_000, 4_000, 2_000, 800, 400, 200, 100, 50}[level]
}

// pointLevel is the coarsest accuracy read as a point rather than a centroid.
const pointLevel = 15

func decodePhoto(raw json.RawMessage, buf *[]byte) (*geopulse.Post, *geopulse.Error) {
	if !utf8.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "photo is not valid UTF-8")
	}
	var ph photo
	err := json.Unmarshal(raw, &ph)
	id, e := ph.ID.str("id")
	if e != nil {
		return nil, e
	}
	what := "photo"
	if id != "" {
		what = fmt.Sprintf("photo %q", id)
	}
	if err != nil {
		return nil, typeError(what, err)
	}
	if id == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "photo: id is required")
	}
	owner, e := ph.Owner.str("owner")
	if e != nil {
		return nil, prefix(what, e)
	}
	if owner == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: owner is required", what)
	}
	p := &geopulse.Post{
		Source:   Source,
		SourceID: id,
		Kind:     geopulse.KindPhoto,
		Caption:  ph.Title,
		Hashtags: hashtags(ph.Tags, ph.MachineTags),
		Author: geopulse.Author{
			SourceID:    owner,
			Handle:      ph.PathAlias,
			DisplayName: ph.OwnerName,
		},
	}
	if p.Author.Handle == "" {
		p.Author.Handle = ph.OwnerName
	}
	if d := strings.TrimSpace(ph.Description.Content); d != "" {
		p.Caption = strings.TrimSpace(p.Caption + "\n\n" + d)
	}
	if ph.Media == "video" {
		p.Kind = geopulse.KindVideo
	}
	if e := takenAt(p, &ph); e != nil {
		return nil, prefix(what, e)
	}
	if e := locate(p, &ph); e != nil {
		return nil, prefix(what, e)
	}
	for _, c := range []struct {
		v     scalar
		field string
		dst   *int64
	}{{ph.Views, "views", &p.Views}, {ph.CountFaves, "count_faves", &p.Likes}, {ph.CountComments, "count_comments", &p.Comments}} {
		if *c.dst, _, e = c.v.int(c.field); e != nil {
			return nil, prefix(what, e)
		}
	}
	public, ok, e := ph.IsPublic.int("ispublic")
	if e != nil {
		return nil, prefix(what, e)
	}
	p.Author.Private = ok && public == 0
	p.Author.AvatarURL = avatarURL(&ph, owner)
	if u := mediaURL(&ph, id); u != "" {
		p.MediaURLs = []string{u}
	}
	return canonical.Normalize(p, canonical.ConnectorLimits, buf, what)
}

// takenAt reads datetaken as UTC, or dateupload when datetaken is unset.
func takenAt(p *geopulse.Post, ph *photo) *geopulse.Error {
	if s := strings.TrimSpace(ph.DateTaken); s != "" && !strings.HasPrefix(s, "0000-00-00") {
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "datetaken must be a time such as 2006-01-02 15:04:05, not %q", clip(s))
		}
		p.TakenAt = t
		return nil
	}
	sec, ok, e := ph.DateUpload.int("dateupload")
	if e != nil {
		return e
	}
	if !ok {
		return geopulse.Reject(geopulse.ReasonMissingField, "datetaken or dateupload is required")
	}
	p.TakenAt = time.Unix(sec, 0).UTC()
	return nil
}

func locate(p *geopulse.Post, ph *photo) *geopulse.Error {
	level, hasLevel, e := ph.Accuracy.int("accuracy")
	if e != nil {
		return e
	}
	if !hasLevel {
		level = 16 // Flickr's default
	}
	if level < 0 || level > 16 {
		return geopulse.Reject(geopulse.ReasonInvalidField, "accuracy must be 0 to 16, not %d", level)
	}
	lat, hasLat, e := ph.Latitude.float("latitude")
	if e != nil {
		e.Reason = geopulse.ReasonInvalidCoordinates
		return e
	}
	lon, hasLon, e := ph.Longitude.float("longitude")
	if e != nil {
		e.Reason = geopulse.ReasonInvalidCoordinates
		return e
	}
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "latitude %g, longitude %g are outside ±90, ±180", lat, lon)
	}
	if !hasLat || !hasLon || level == 0 || (lat == 0 && lon == 0) {
		return geopulse.Reject(geopulse.ReasonNoLocation, "no location (accuracy 0 or coordinates 0)")
	}
	if geoPublic, ok, e := ph.GeoIsPublic.int("geo_is_public"); e != nil {
		return e
	} else if ok && geoPublic == 0 {
		return geopulse.Reject(geopulse.ReasonNoLocation, "the location is not public (geo_is_public 0)")
	}
	p.Lat, p.Lon, p.AccuracyM = lat, lon, accuracyM(level)
	p.LocationFrom = geopulse.LocationCentroid
	if level >= pointLevel {
		p.LocationFrom = geopulse.LocationPoint
	}
	return nil
}

// hashtags returns the plain tags: Flickr's tags extra lists machine tags
// (namespace:predicate=value) among them, which are metadata, not words.
func hashtags(tags, machine string) []string {
	var out []string
	machineTags := strings.Fields(machine)
	for _, t := range strings.Fields(tags) {
		if strings.Contains(t, ":") && strings.Contains(t, "=") || slices.Contains(machineTags, t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// avatarURL is the owner's buddy icon, when Flickr has one (iconserver > 0).
func avatarURL(ph *photo, owner string) string {
	server, farm := ph.IconServer.s, ph.IconFarm.s
	if server == "" || server == "0" || !plain(server) || !plain(farm) || !plain(owner) {
		return ""
	}
	if farm == "" || farm == "0" {
		return "https://live.staticflickr.com/" + server + "/buddyicons/" + owner + ".jpg"
	}
	return "https://farm" + farm + ".staticflickr.com/" + server + "/buddyicons/" + owner + ".jpg"
}

// mediaURL is url_o, else the photo's URL built from farm, server, id and
// secret; "" when neither is available.
func mediaURL(ph *photo, id string) string {
	if u := strings.TrimSpace(ph.URLO); u != "" {
		return u
	}
	server, secret, farm := ph.Server.s, ph.Secret.s, ph.Farm.s
	if server == "" || secret == "" || !plain(server) || !plain(secret) || !plain(farm) || !plain(id) {
		return ""
	}
	if farm == "" || farm == "0" {
		return "https://live.staticflickr.com/" + server + "/" + id + "_" + secret + ".jpg"
	}
	return "https://farm" + farm + ".staticflickr.com/" + server + "/" + id + "_" + secret + ".jpg"
}

// plain reports whether s holds only ASCII letters, digits and '@' (NSIDs),
// so that it can go into a URL path as it is.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '@') {
			return false
		}
	}
	return true
}

func prefix(what string, e *geopulse.Error) *geopulse.Error {
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
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "a number"
	}
}
