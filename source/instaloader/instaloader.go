package instaloader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// Source is the geopulse source of Instaloader posts: "instagram", as for
// every Instagram format (package instagram), so that a media exported by
// Instaloader and seen through an API is one post.
const Source = "instagram"

// placeAccuracyM is the accuracy of a tagged Instagram location: the pin of
// the place the author picked, within a few tens of metres of where they
// stood for the venues and streets people tag (package instagram explains
// the figure and its limit for city-sized places).
const placeAccuracyM = 50

// MaxPayloadBytes bounds one file. An Instaloader export holds one post
// (kilobytes); 256 MiB leaves room for NDJSON files of many thousands. The
// file is read whole and refused (ETOOLARGE) before anything is decoded.
const MaxPayloadBytes = 256 << 20

// Format is Instaloader's JSON export: what `instaloader` writes next to
// each downloaded post or story item (<date>_UTC.json, or .json.xz, which
// the import command decompresses first).
var Format = source.Format{
	Name:   "instaloader",
	Doc:    "Instaloader JSON exports of posts and story items, one per file, NDJSON or a JSON array (location = the tagged place)",
	Sniff:  sniff,
	Decode: Decode,
}

// sniff recognises the pretty-printed export, whose sorted keys put
// "instaloader" first, and the compact .json.xz form, which starts with
// "node" and holds the node's GraphQL __typename.
func sniff(head []byte) bool {
	if bytes.Contains(head, []byte(`"instaloader"`)) && bytes.Contains(head, []byte(`"node"`)) {
		return true
	}
	head = bytes.TrimLeft(head, " \t\r\n[")
	return bytes.HasPrefix(head, []byte(`{"node":`)) && bytes.Contains(head, []byte(`"__typename"`))
}

// Decode reads Instaloader exports — one object {"node": …, "instaloader":
// {"version", "node_type"}}, several of them one after another (NDJSON) or
// a JSON array of them — and calls fn with one Item per export, in order.
//
// Posts (GraphImage, GraphVideo, GraphSidecar) and story items
// (GraphStoryImage, GraphStoryVideo) become posts located at their tagged
// place (LocationCentroid, AccuracyM 50); a location without lat/lng (what
// Instaloader saves without a login) or at 0,0 is no_location. Profiles,
// hashtags and saved iterators are unsupported. Author.Private is the
// owner's is_private: the pipeline gate, not this decoder, refuses such
// posts. A syntax error ends the decoding with malformed_json after the
// exports before it were handed out.
func Decode(r io.Reader, fn func(source.Item) error) error {
	return decode(r, fn, MaxPayloadBytes)
}

func decode(r io.Reader, fn func(source.Item) error, limit int) error {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return fmt.Errorf("read instaloader export: %w", err)
	}
	if len(data) > limit {
		return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge,
			Message: fmt.Sprintf("file is larger than the limit of %d bytes", limit)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := decoder{data: data, dec: json.NewDecoder(bytes.NewReader(data)), fn: fn}
	if d.peek() == 0 {
		return geopulse.Reject(geopulse.ReasonMissingField, "not an Instaloader export: the file is empty")
	}
	for d.peek() != 0 {
		if d.peek() != '[' {
			if err := d.next(); err != nil {
				return err
			}
			continue
		}
		if _, err := d.dec.Token(); err != nil {
			return d.malformed(err)
		}
		for d.dec.More() {
			if err := d.next(); err != nil {
				return err
			}
		}
		if _, err := d.dec.Token(); err != nil {
			return d.malformed(err)
		}
	}
	return nil
}

// decoder walks the file with the standard library's streaming decoder, so
// each export is handed out as soon as it is read.
type decoder struct {
	data []byte
	dec  *json.Decoder
	fn   func(source.Item) error
	n    int
}

// peek returns the first byte of the next value, or 0 at the end.
func (d *decoder) peek() byte {
	for i := int(d.dec.InputOffset()); i < len(d.data); i++ {
		switch c := d.data[i]; c {
		case ' ', '\t', '\r', '\n', ',':
		default:
			return c
		}
	}
	return 0
}

// next decodes the next export and hands out its outcome.
func (d *decoder) next() error {
	start := d.dec.InputOffset()
	var x export
	err := d.dec.Decode(&x)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) {
		return d.malformed(err)
	}
	raw := bytes.TrimLeft(d.data[start:d.dec.InputOffset()], " \t\r\n,")
	it := source.Item{Index: d.n}
	d.n++
	if p, perr := build(raw, &x, err); perr != nil {
		it.Err = perr
	} else {
		it.Post = p
	}
	return d.fn(it)
}

func (d *decoder) malformed(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON: the file ends at byte %d in the middle of a value (truncated?)", len(d.data))
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON near byte %d: %v", d.dec.InputOffset(), err)
}

// export is the file Instaloader writes (instaloader.save_structure_to_file).
type export struct {
	Node        *node `json:"node"`
	Instaloader *struct {
		Version  string `json:"version"`
		NodeType string `json:"node_type"`
	} `json:"instaloader"`
}

// node is the part of Instagram's GraphQL media node geopulse reads. The
// older member names (date, display_src, caption) of early Instaloader 4
// exports are read too. Tagged users (edge_media_to_tagged_user), comments
// and likers are not: they place or describe people who did not post.
type node struct {
	ID          scalar          `json:"id"`
	Typename    string          `json:"__typename"`
	IsVideo     bool            `json:"is_video"`
	ProductType string          `json:"product_type"`
	TakenAt     scalar          `json:"taken_at_timestamp"`
	Date        scalar          `json:"date"`
	ExpiringAt  scalar          `json:"expiring_at_timestamp"`
	CaptionEdge edgeList        `json:"edge_media_to_caption"`
	Caption     json.RawMessage `json:"caption"`
	Owner       *owner          `json:"owner"`
	Location    *location       `json:"location"`

	DisplayURL       string     `json:"display_url"`
	DisplaySrc       string     `json:"display_src"`
	DisplayResources []resource `json:"display_resources"`
	VideoURL         string     `json:"video_url"`
	VideoResources   []resource `json:"video_resources"`
	Sidecar          *struct {
		Edges []struct {
			Node struct {
				DisplayURL string `json:"display_url"`
				VideoURL   string `json:"video_url"`
			} `json:"node"`
		} `json:"edges"`
	} `json:"edge_sidecar_to_children"`

	PreviewLikes   counted `json:"edge_media_preview_like"`
	LikedBy        counted `json:"edge_liked_by"`
	Comments       counted `json:"edge_media_to_comment"`
	ParentComments counted `json:"edge_media_to_parent_comment"`
	VideoViewCount scalar  `json:"video_view_count"`
}

type edgeList struct {
	Edges []struct {
		Node struct {
			Text string `json:"text"`
		} `json:"node"`
	} `json:"edges"`
}

type resource struct {
	Src string `json:"src"`
}

type counted struct {
	Count scalar `json:"count"`
}

type owner struct {
	ID                scalar  `json:"id"`
	Username          string  `json:"username"`
	FullName          string  `json:"full_name"`
	ProfilePicURL     string  `json:"profile_pic_url"`
	Biography         string  `json:"biography"`
	IsPrivate         bool    `json:"is_private"`
	IsVerified        bool    `json:"is_verified"`
	IsBusinessAccount bool    `json:"is_business_account"`
	FollowedBy        counted `json:"edge_followed_by"`
	Follow            counted `json:"edge_follow"`
	Media             counted `json:"edge_owner_to_timeline_media"`
}

type location struct {
	Name string `json:"name"`
	Lat  scalar `json:"lat"`
	Lng  scalar `json:"lng"`
}

// build makes the post of one export; terr is the first type mismatch
// encoding/json met (it fills every other field regardless).
func build(raw []byte, x *export, terr error) (*geopulse.Post, error) {
	if !utf8.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "export is not valid UTF-8 (byte %d of it)", invalidUTF8At(raw))
	}
	if raw[0] != '{' {
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "export must be a JSON object")
	}
	var nodeType string
	if x.Instaloader != nil {
		nodeType = x.Instaloader.NodeType
	}
	switch nodeType {
	case "Post", "StoryItem", "":
	default:
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "export of a %q, not of a post or story item", safe(nodeType))
	}
	b := &builder{p: &geopulse.Post{Source: Source}}
	b.typeError(terr)
	n := x.Node
	if n == nil {
		b.missing("node")
		return b.post()
	}
	p := b.p
	if p.SourceID = b.id("node.id", n.ID); p.SourceID == "" {
		b.missing("node.id")
	}

	// Newer Instagram responses prefix the type names with "XDT".
	switch t := strings.TrimPrefix(n.Typename, "XDT"); {
	case t == "GraphStoryImage" || t == "GraphStoryVideo" || nodeType == "StoryItem":
		p.Kind = geopulse.KindStory
	case t == "GraphImage" || t == "GraphSidecar":
		p.Kind = geopulse.KindPhoto
	case t == "GraphVideo" || t == "" && n.IsVideo:
		p.Kind = geopulse.KindVideo
		if n.ProductType == "clips" {
			p.Kind = geopulse.KindReel
		}
	case t == "":
		p.Kind = geopulse.KindPhoto
	default:
		b.invalid("node.__typename", "must be a post or story item type such as GraphImage, not %q", safe(n.Typename))
	}

	taken := n.TakenAt
	if !taken.set() {
		taken = n.Date
	}
	if !taken.set() {
		b.missing("node.taken_at_timestamp")
	} else if t, ok := b.epoch("node.taken_at_timestamp", taken); ok {
		p.TakenAt = t
		if p.Kind == geopulse.KindStory {
			exp := t.Add(geopulse.StoryTTL)
			if n.ExpiringAt.set() {
				exp, _ = b.epoch("node.expiring_at_timestamp", n.ExpiringAt)
			}
			p.ExpiresAt = &exp
		}
	}

	if o := n.Owner; o == nil {
		b.missing("node.owner")
	} else {
		a := &p.Author
		a.SourceID = b.id("node.owner.id", o.ID)
		b.handle("node.owner.username", o.Username)
		if a.SourceID == "" && a.Handle != "" {
			// As package instagram does: "@"+username stands in for a
			// missing id, and equals geopulse.HandleKey as an author key.
			a.SourceID = b.ident("node.owner.username", "@"+strings.ToLower(a.Handle))
		}
		if a.SourceID == "" {
			b.missing("node.owner.id")
		}
		a.DisplayName = b.text("node.owner.full_name", o.FullName)
		a.Bio = b.text("node.owner.biography", o.Biography)
		b.avatar(o.ProfilePicURL)
		a.Private, a.Verified, a.Business = o.IsPrivate, o.IsVerified, o.IsBusinessAccount
		a.Followers = b.count("node.owner.edge_followed_by.count", o.FollowedBy.Count)
		a.Following = b.count("node.owner.edge_follow.count", o.Follow.Count)
		a.PostsCount = b.count("node.owner.edge_owner_to_timeline_media.count", o.Media.Count)
	}

	b.caption("node.caption", caption(b, n))
	if n.PreviewLikes.Count.set() {
		p.Likes = b.count("node.edge_media_preview_like.count", n.PreviewLikes.Count)
	} else {
		p.Likes = b.count("node.edge_liked_by.count", n.LikedBy.Count)
	}
	if n.Comments.Count.set() {
		p.Comments = b.count("node.edge_media_to_comment.count", n.Comments.Count)
	} else {
		p.Comments = b.count("node.edge_media_to_parent_comment.count", n.ParentComments.Count)
	}
	p.Views = b.count("node.video_view_count", n.VideoViewCount)

	// The still image first: it is what the vision workers can label. A
	// story's resources are ordered by size; the largest is last.
	b.media(n.DisplayURL)
	b.media(n.DisplaySrc)
	if len(n.DisplayResources) > 0 {
		b.media(n.DisplayResources[len(n.DisplayResources)-1].Src)
	}
	b.media(n.VideoURL)
	if len(n.VideoResources) > 0 {
		b.media(n.VideoResources[len(n.VideoResources)-1].Src)
	}
	if n.Sidecar != nil {
		for _, e := range n.Sidecar.Edges {
			b.media(e.Node.DisplayURL)
			b.media(e.Node.VideoURL)
		}
	}

	if n.Location == nil {
		b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "post has no location"))
	} else {
		b.place(n.Location.Lat, n.Location.Lng, n.Location.Name)
	}
	return b.post()
}

// caption reads the caption edge, or the plain "caption" of older exports
// (a string, or an object with text in some API versions).
func caption(b *builder, n *node) string {
	if len(n.CaptionEdge.Edges) > 0 {
		return n.CaptionEdge.Edges[0].Node.Text
	}
	c := bytes.TrimSpace(n.Caption)
	if len(c) == 0 || string(c) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s
	}
	var o struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(c, &o) == nil {
		return o.Text
	}
	b.invalid("node.caption", "must be a string or an object with text")
	return ""
}

// safe shortens a payload value for a message, on a rune boundary.
func safe(s string) string {
	for i := range s {
		if i >= 40 {
			return s[:i] + "…"
		}
	}
	return s
}
