package instagram

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// V1 is the format of Instagram's legacy v1 API (2011–2016) responses:
// media lists {"data": [media…], "pagination": …, "meta": …} from
// locations/{id}/media/recent, tags/…/media/recent, users/…/media/recent and
// media/popular, and single media responses {"data": media}.
var V1 = source.Format{
	Name:   "instagram-v1",
	Doc:    "Instagram legacy v1 API responses: media lists and single media (location = the tagged place)",
	Sniff:  sniffV1,
	Decode: DecodeV1,
}

// sniffV1 looks for the envelope of a v1 response: "data" together with a
// v1 media member or the v1 "pagination"/"meta" blocks. Graph API pages use
// "paging" and "timestamp" instead, so the two are told apart.
func sniffV1(head []byte) bool {
	if !bytes.Contains(head, []byte(`"data"`)) {
		return false
	}
	return bytes.Contains(head, []byte(`"created_time"`)) ||
		bytes.Contains(head, []byte(`"pagination"`)) ||
		bytes.Contains(head, []byte(`"meta"`)) && bytes.Contains(head, []byte(`"code"`))
}

// DecodeV1 reads a v1 API payload — a response, a bare array of media, or
// several responses one after another — and calls fn with one Item per
// element of "data", in order; Index counts elements across the payload.
//
// A media becomes a post located at its tagged place (LocationCentroid,
// AccuracyM 50). Elements that are not media (users, locations, comments)
// are rejected as unsupported; media without a location, or at 0,0, as
// no_location. Duplicates are passed on: the store's upsert on (source,
// source_id) dedups them. A payload without "data" is refused as a whole
// (missing_field), an API error response too (unsupported, with the API's
// message), and a syntax error ends the decoding with malformed_json after
// the elements before it were handed out.
func DecodeV1(r io.Reader, fn func(source.Item) error) error {
	return decodeV1(r, fn, MaxPayloadBytes)
}

func decodeV1(r io.Reader, fn func(source.Item) error, limit int) error {
	data, err := readPayload(r, limit)
	if err != nil {
		return err
	}
	w := newWalker(data)
	if w.peek() == 0 {
		return notFormat("an Instagram v1 API response", "a JSON object with \"data\"; the payload is empty", nil)
	}
	for w.peek() != 0 {
		if err := decodeV1Page(w, fn); err != nil {
			return err
		}
	}
	return nil
}

const v1Name = "an Instagram v1 API response"

func decodeV1Page(w *walker, fn func(source.Item) error) error {
	switch c := w.peek(); c {
	case '[':
		return elements(w, fn, v1Post)
	case '{':
	default:
		if err := w.skip(); err != nil {
			return err
		}
		return notFormat(v1Name, "a JSON object with \"data\", not "+jsonKind(c), nil)
	}
	if _, err := w.token(); err != nil {
		return err
	}
	var (
		meta    v1Meta
		hasData bool
		keys    []string
	)
	for {
		k, more, err := w.key()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		switch c := w.peek(); {
		case k == "data" && c == '[':
			hasData = true
			err = elements(w, fn, v1Post)
		case k == "data" && c == '{':
			hasData = true
			var raw json.RawMessage
			if raw, err = w.value(); err == nil {
				err = w.emit(fn, raw, fromRaw(v1Post))
			}
		case k == "meta" && c == '{':
			var raw json.RawMessage
			if raw, err = w.value(); err == nil {
				_ = json.Unmarshal(raw, &meta) // only read for an error message
			}
		default:
			keys = keyList(keys, k)
			err = w.skip()
		}
		if err != nil {
			return err
		}
	}
	if hasData {
		return nil
	}
	if code, ok := meta.Code.int(); ok && code != 200 {
		return apiError("an Instagram v1 API", code, meta.ErrorType, meta.ErrorMessage)
	}
	return notFormat(v1Name, "a JSON object with \"data\"", keys)
}

type v1Meta struct {
	Code         scalar `json:"code"`
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
}

// v1Media is the part of a v1 media object geopulse reads. comments.data,
// likes.data and users_in_photo are deliberately not read: the first two
// are other people's activity, and a photo tag places a third person, who
// did not post, at the location. Caption mentions are the author's own
// words; the pipeline extracts them.
type v1Media struct {
	ID            scalar      `json:"id"`
	Type          scalar      `json:"type"`
	CreatedTime   scalar      `json:"created_time"`
	Caption       *v1Caption  `json:"caption"`
	Tags          []string    `json:"tags"`
	Likes         v1Count     `json:"likes"`
	Comments      v1Count     `json:"comments"`
	Images        *v1Versions `json:"images"`
	Videos        *v1Versions `json:"videos"`
	CarouselMedia []struct {
		Images *v1Versions `json:"images"`
		Videos *v1Versions `json:"videos"`
	} `json:"carousel_media"`
	Location *v1Location `json:"location"`
	User     *v1User     `json:"user"`
}

type v1Caption struct {
	Text string `json:"text"`
}

type v1Count struct {
	Count scalar `json:"count"`
}

type v1Versions struct {
	Standard *struct {
		URL string `json:"url"`
	} `json:"standard_resolution"`
}

func (v *v1Versions) url() string {
	if v == nil || v.Standard == nil {
		return ""
	}
	return v.Standard.URL
}

type v1Location struct {
	Latitude  scalar `json:"latitude"`
	Longitude scalar `json:"longitude"`
	Name      string `json:"name"`
}

type v1User struct {
	ID             scalar `json:"id"`
	Username       string `json:"username"`
	FullName       string `json:"full_name"`
	ProfilePicture string `json:"profile_picture"`
	Bio            string `json:"bio"`
	Counts         *struct {
		Media      scalar `json:"media"`
		Follows    scalar `json:"follows"`
		FollowedBy scalar `json:"followed_by"`
	} `json:"counts"`
}

// v1Post builds the post of one element of "data". encoding/json fills
// every field it can despite a type mismatch (terr), so the checks below
// see the whole element.
func v1Post(raw []byte, m *v1Media, terr error) (*geopulse.Post, error) {
	if err := checkElement(raw); err != nil {
		return nil, err
	}
	if !m.Type.set() && m.Images == nil && m.Videos == nil {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "element is not a media object (a user, a location or a comment?)")
	}
	b := newBuilder()
	p := b.p
	b.typeError(terr)

	// Since 2012 v1 media ids read "<media pk>_<owner id>"; the pk alone is
	// the media's id in every other Instagram interface (Instaloader's node
	// id), so that is the id kept, and older plain ids are pks already.
	if id := b.id("id", m.ID); id != "" {
		p.SourceID, _, _ = strings.Cut(id, "_")
	}
	if p.SourceID == "" {
		b.missing("id", "")
	}

	switch t, _ := m.Type.text(); t {
	case "image", "carousel", "":
		p.Kind = geopulse.KindPhoto
	case "video":
		p.Kind = geopulse.KindVideo
	default:
		b.invalid("type", "must be image, video or carousel, not %s", describe(m.Type))
	}

	if !m.CreatedTime.set() {
		b.missing("created_time", "")
	} else {
		p.TakenAt, _ = b.epoch("created_time", m.CreatedTime)
	}

	if u := m.User; u == nil {
		b.missing("user", "")
	} else {
		a := &p.Author
		if a.SourceID = b.id("user.id", u.ID); a.SourceID == "" {
			b.missing("user.id", "")
		}
		b.handle("user.username", u.Username)
		a.DisplayName = b.text("user.full_name", u.FullName)
		a.Bio = b.text("user.bio", u.Bio)
		b.avatar(u.ProfilePicture)
		if c := u.Counts; c != nil {
			a.PostsCount = b.count("user.counts.media", c.Media)
			a.Following = b.count("user.counts.follows", c.Follows)
			a.Followers = b.count("user.counts.followed_by", c.FollowedBy)
		}
	}

	if m.Caption != nil {
		b.caption("caption.text", m.Caption.Text)
	}
	p.Hashtags = b.tags("tags", '#', m.Tags)
	p.Likes = b.count("likes.count", m.Likes.Count)
	p.Comments = b.count("comments.count", m.Comments.Count)

	// The still image first: it is what the vision workers can label.
	b.media(m.Images.url())
	b.media(m.Videos.url())
	for _, c := range m.CarouselMedia {
		b.media(c.Images.url())
		b.media(c.Videos.url())
	}

	if m.Location == nil {
		b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "media has no location"))
	} else {
		b.place("location", m.Location.Latitude, m.Location.Longitude, m.Location.Name)
	}
	return b.post()
}
