package instagram

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/source"
)

// Venue is the place Instagram Graph media are attributed to. The Graph API
// exposes no media location, so a post's location is the venue whose
// content it is: the venue's own media, its mentions and tags, a hashtag it
// owns. Name becomes the post's PlaceName.
type Venue struct {
	Lat, Lon float64
	// RadiusM is the venue's extent; it becomes the post's AccuracyM, so
	// matching never places the post more precisely than the venue.
	RadiusM float64
	Name    string
}

// Graph returns the format of Instagram Graph API media payloads, with every
// media attributed to v (LocationFrom venue, AccuracyM = v.RadiusM). v is
// copied. With v == nil every media is still decoded in full, then rejected
// as no_location, so that a run without a venue shows what else is wrong.
//
// It reads media lists {"data": [media…], "paging": …} (an account's media,
// stories, tagged media, hashtag top/recent media, children), single media,
// maps keyed by id (?ids=…), business discovery
// {"business_discovery": {account…, "media": {"data": […]}}} and mentions
// ({"mentioned_media": media}). Elements that are not media — comments,
// insights, users, hashtags, publishing containers, live broadcasts — are
// rejected as unsupported. Several payloads may follow one another in one
// file; Index counts elements across it. An invalid v (outside ±90/±180,
// at 0,0, a radius that is negative or over 10,000 km) fails the whole
// decoding before anything is read.
//
// Kinds: media_product_type STORY (or, when it was not requested, a
// permalink under /stories/) is a story that expires 24 h after its
// timestamp, REELS a reel, anything else a photo or, for VIDEO, a video.
func Graph(v *Venue) source.Format {
	var venue *Venue
	if v != nil {
		c := *v
		venue = &c
	}
	return source.Format{
		Name:  "instagram-graph",
		Doc:   "Instagram Graph API media, stories, hashtag, mention and business discovery payloads (location = the venue given with --at)",
		Sniff: sniffGraph,
		Decode: func(r io.Reader, fn func(source.Item) error) error {
			return decodeGraph(r, fn, venue, MaxPayloadBytes)
		},
	}
}

// sniffGraph looks for the media members only the Graph API has. An
// Instaloader export carries Instagram's private API structure, which also
// has a numeric "media_type"; its markers rule it out.
func sniffGraph(head []byte) bool {
	if bytes.Contains(head, []byte(`"instaloader"`)) || bytes.Contains(head, []byte(`"__typename"`)) {
		return false
	}
	return bytes.Contains(head, []byte(`"media_type"`)) ||
		bytes.Contains(head, []byte(`"media_product_type"`)) ||
		bytes.Contains(head, []byte(`"business_discovery"`))
}

const graphName = "an Instagram Graph API response"

// maxRadiusM matches the gate's bound on AccuracyM (10,000 km).
const maxRadiusM = 1e7

func checkVenue(v *Venue) error {
	switch {
	case v == nil:
		return nil
	case !geo.ValidLatLon(v.Lat, v.Lon):
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "venue %g,%g is outside ±90,±180", v.Lat, v.Lon)
	case v.Lat == 0 && v.Lon == 0:
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "venue at 0,0: the coordinates look unset")
	case !(v.RadiusM >= 0 && v.RadiusM < maxRadiusM):
		return geopulse.Reject(geopulse.ReasonInvalidField, "venue radius %g m must be between 0 and %g", v.RadiusM, float64(maxRadiusM))
	case !utf8.ValidString(v.Name):
		return geopulse.Reject(geopulse.ReasonInvalidUTF8, "venue name is not valid UTF-8")
	case strings.IndexByte(v.Name, 0) >= 0:
		return geopulse.Reject(geopulse.ReasonInvalidField, "venue name must not contain NUL")
	}
	return nil
}

func decodeGraph(r io.Reader, fn func(source.Item) error, v *Venue, limit int) error {
	if err := checkVenue(v); err != nil {
		return err
	}
	data, err := readPayload(r, limit)
	if err != nil {
		return err
	}
	w := newWalker(data)
	if w.peek() == 0 {
		return notFormat(graphName, "media or a list of media; the payload is empty", nil)
	}
	g := graphDecoder{venue: v}
	for w.peek() != 0 {
		if err := g.page(w, fn); err != nil {
			return err
		}
	}
	return nil
}

type graphDecoder struct {
	venue *Venue
}

// page decodes one top-level value. Its shape is told by its members: a
// list has "data", a map has ids for keys, business discovery and mentions
// have their own wrappers, and anything else with an "id" is a single node.
func (g graphDecoder) page(w *walker, fn func(source.Item) error) error {
	build := func(raw []byte, m *graphMedia, terr error) (*geopulse.Post, error) { return g.post(raw, m, terr, nil) }
	one := fromRaw(build)
	switch c := w.peek(); c {
	case '[':
		return elements(w, fn, build)
	case '{':
	default:
		if err := w.skip(); err != nil {
			return err
		}
		return notFormat(graphName, "a JSON object, not "+jsonKind(c), nil)
	}
	start := int(w.dec.InputOffset())
	if _, err := w.token(); err != nil {
		return err
	}
	var (
		shaped, hasID bool
		apiErr        *graphError
		keys          []string
	)
	for {
		k, more, err := w.key()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		var raw json.RawMessage
		switch c := w.peek(); {
		case k == "data" && c == '[':
			shaped = true
			err = elements(w, fn, build)
		case k == "business_discovery" && c == '{':
			shaped = true
			if raw, err = w.value(); err == nil {
				err = g.discovery(w, fn, raw)
			}
		case k == "mentioned_media" && c == '{':
			shaped = true
			if raw, err = w.value(); err == nil {
				err = w.emit(fn, raw, one)
			}
		case k == "mentioned_comment" && c == '{':
			shaped = true
			if raw, err = w.value(); err == nil {
				err = w.emit(fn, raw, notMedia("a comment"))
			}
		case k == "error" && c == '{':
			if raw, err = w.value(); err == nil {
				apiErr = new(graphError)
				_ = json.Unmarshal(raw, apiErr) // only read for its message
			}
		case isDigits(k) && c == '{':
			shaped = true
			if raw, err = w.value(); err == nil {
				err = w.emit(fn, raw, one)
			}
		default:
			hasID = hasID || k == "id"
			keys = keyList(keys, k)
			err = w.skip()
		}
		if err != nil {
			return err
		}
	}
	switch {
	case shaped:
		return nil
	case apiErr != nil:
		code, _ := apiErr.Code.int()
		return apiError("an Instagram Graph API", code, apiErr.Type, apiErr.Message)
	case !hasID:
		return notFormat(graphName, `media, a list of media ("data") or a node with an "id"`, keys)
	}
	// A single node: the whole object is the element.
	raw := bytes.TrimLeft(w.data[start:w.dec.InputOffset()], " \t\r\n")
	return w.emit(fn, raw, one)
}

type graphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    scalar `json:"code"`
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func notMedia(what string) func([]byte) (*geopulse.Post, error) {
	return func([]byte) (*geopulse.Post, error) {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "element is %s, not media", what)
	}
}

// graphAccount is a business discovery account: the author of its media.
type graphAccount struct {
	ID                scalar `json:"id"`
	Username          string `json:"username"`
	Name              string `json:"name"`
	ProfilePictureURL string `json:"profile_picture_url"`
	Biography         string `json:"biography"`
	FollowersCount    scalar `json:"followers_count"`
	FollowsCount      scalar `json:"follows_count"`
	MediaCount        scalar `json:"media_count"`
	Media             *struct {
		Data []json.RawMessage `json:"data"`
	} `json:"media"`
}

// discovery hands out the media of a business discovery response, each
// authored by the discovered account. Without media the response is a
// profile lookup: one unsupported element.
func (g graphDecoder) discovery(w *walker, fn func(source.Item) error, raw []byte) error {
	var acct graphAccount
	terr := json.Unmarshal(raw, &acct)
	if acct.Media == nil || len(acct.Media.Data) == 0 {
		return w.emit(fn, raw, notMedia("a business discovery profile without media"))
	}
	for _, m := range acct.Media.Data {
		err := w.emit(fn, m, fromRaw(func(raw []byte, m *graphMedia, merr error) (*geopulse.Post, error) {
			if terr != nil && merr == nil {
				// The account card is part of every post, so a bad
				// card fails them all, with the same message.
				merr = terr
			}
			return g.post(raw, m, merr, &acct)
		}))
		if err != nil {
			return err
		}
	}
	return nil
}

type graphMedia struct {
	ID               scalar `json:"id"`
	MediaType        scalar `json:"media_type"`
	MediaProductType scalar `json:"media_product_type"`
	Caption          string `json:"caption"`
	MediaURL         string `json:"media_url"`
	ThumbnailURL     string `json:"thumbnail_url"`
	Permalink        string `json:"permalink"`
	Timestamp        string `json:"timestamp"`
	Username         string `json:"username"`
	LikeCount        scalar `json:"like_count"`
	CommentsCount    scalar `json:"comments_count"`
	Owner            *struct {
		ID       scalar `json:"id"`
		Username string `json:"username"`
	} `json:"owner"`
	Children *struct {
		Data []struct {
			MediaURL     string `json:"media_url"`
			ThumbnailURL string `json:"thumbnail_url"`
		} `json:"data"`
	} `json:"children"`
}

// graphTimeLayout is the Graph API's timestamp form: RFC 3339 except for
// the offset, which has no colon ("+0000").
const graphTimeLayout = "2006-01-02T15:04:05-0700"

// post builds the post of one Graph media (decoded into m, with terr the
// first type mismatch); acct is the business discovery account the media
// belongs to, if any.
func (g graphDecoder) post(raw []byte, m *graphMedia, terr error, acct *graphAccount) (*geopulse.Post, error) {
	if err := checkElement(raw); err != nil {
		return nil, err
	}
	if !m.MediaType.set() && !m.MediaProductType.set() {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "element is not media (a comment, an insight, a user, a hashtag or a publishing container?)")
	}
	mediaType, _ := m.MediaType.text()
	productType, _ := m.MediaProductType.text()
	mediaType, productType = strings.ToUpper(mediaType), strings.ToUpper(productType)
	if mediaType == "BROADCAST" || productType == "LIVE" {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "element is a live broadcast, not media")
	}
	// The missing location is the one thing the caller must fix, so it
	// comes first; a malformed element was reported before we got here.
	if g.venue == nil {
		return nil, geopulse.Reject(geopulse.ReasonNoLocation, "Instagram Graph media carry no location; attribute them to a venue (--at)")
	}

	b := newBuilder()
	p := b.p
	b.typeError(terr)
	if p.SourceID = b.id("id", m.ID); p.SourceID == "" {
		b.missing("id", "")
	}

	switch mediaType {
	case "IMAGE", "CAROUSEL_ALBUM", "VIDEO", "":
	default:
		b.invalid("media_type", "must be IMAGE, VIDEO or CAROUSEL_ALBUM, not %s", describe(m.MediaType))
	}
	switch productType {
	case "STORY":
		p.Kind = geopulse.KindStory
	case "REELS":
		p.Kind = geopulse.KindReel
	case "FEED", "AD", "IGTV", "":
		switch {
		case productType == "" && strings.Contains(m.Permalink, "/stories/"):
			p.Kind = geopulse.KindStory
		case mediaType == "VIDEO":
			p.Kind = geopulse.KindVideo
		default:
			p.Kind = geopulse.KindPhoto
		}
	default:
		b.invalid("media_product_type", "must be FEED, STORY, REELS or AD, not %s", describe(m.MediaProductType))
	}

	if m.Timestamp == "" {
		b.missing("timestamp", " (request it in the fields parameter)")
	} else if t, err := parseGraphTime(m.Timestamp); err != nil {
		b.invalid("timestamp", "must be a time such as 2020-05-28T08:53:38+0000")
	} else if t.Unix() < 0 || t.Unix() > maxUnix {
		b.invalid("timestamp", "%s is not a plausible time", m.Timestamp)
	} else {
		p.TakenAt = t
		if p.Kind == geopulse.KindStory {
			exp := t.Add(geopulse.StoryTTL)
			p.ExpiresAt = &exp
		}
	}

	g.author(b, m, acct)
	b.caption("caption", m.Caption)
	p.Likes = b.count("like_count", m.LikeCount)
	p.Comments = b.count("comments_count", m.CommentsCount)

	// The still image first: it is what the vision workers can label.
	if mediaType == "VIDEO" {
		b.media(m.ThumbnailURL)
	}
	b.media(m.MediaURL)
	if m.Children != nil {
		for _, c := range m.Children.Data {
			b.media(c.ThumbnailURL)
			b.media(c.MediaURL)
		}
	}

	v := g.venue
	p.Lat, p.Lon, p.AccuracyM = v.Lat, v.Lon, v.RadiusM
	p.LocationFrom = geopulse.LocationVenue
	p.PlaceName = v.Name
	return b.post()
}

// author picks the author's id. Graph media often come without their
// owner's id: then the discovered account's id, then the username (as
// "@name", see authorByHandle) stands in. Hashtag media carry neither —
// the API withholds their authors — and are rejected: an author is needed
// for suppression and for the distinct-author floors of every aggregate,
// and inventing one per post would inflate those counts.
func (g graphDecoder) author(b *builder, m *graphMedia, acct *graphAccount) {
	a := &b.p.Author
	username := m.Username
	if username == "" && m.Owner != nil {
		username = m.Owner.Username
	}
	if m.Owner != nil {
		a.SourceID = b.id("owner.id", m.Owner.ID)
	}
	if acct != nil {
		if a.SourceID == "" {
			a.SourceID = b.id("business_discovery.id", acct.ID)
		}
		if username == "" {
			username = acct.Username
		}
		// Business discovery only reaches professional accounts.
		a.Business = true
		a.DisplayName = b.text("business_discovery.name", acct.Name)
		a.Bio = b.text("business_discovery.biography", acct.Biography)
		b.avatar(acct.ProfilePictureURL)
		a.Followers = b.count("business_discovery.followers_count", acct.FollowersCount)
		a.Following = b.count("business_discovery.follows_count", acct.FollowsCount)
		a.PostsCount = b.count("business_discovery.media_count", acct.MediaCount)
	}
	b.handle("username", username)
	if a.SourceID == "" && a.Handle != "" {
		a.SourceID = b.ident("username", authorByHandle(a.Handle))
	}
	if a.SourceID == "" {
		b.missing("owner.id or username", " (request the owner or username field; hashtag media have neither)")
	}
}

func parseGraphTime(s string) (time.Time, error) {
	t, err := time.Parse(graphTimeLayout, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	return t.UTC(), err
}
