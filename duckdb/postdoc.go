package duckdb

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// postDoc is what posts.doc holds: the whole post but its author card and
// its matches. The fields that SQL filters or joins on are also columns of
// posts, written together with doc, so a page of posts reads one column
// per post instead of a dozen (each costs a row fetch).
type postDoc struct {
	Kind       string   `json:"kind"`
	AuthorID   int64    `json:"author_id"`
	TakenAt    int64    `json:"taken_at"` // unix microseconds, as are the other times
	Lat        float64  `json:"lat"`
	Lon        float64  `json:"lon"`
	AccuracyM  float64  `json:"accuracy_m"`
	ExpiresAt  *int64   `json:"expires_at"`
	Source     string   `json:"source"`
	SourceID   string   `json:"source_id"`
	ObservedAt int64    `json:"observed_at"`
	Cell       int64    `json:"cell"`
	PlaceName  string   `json:"place_name"`
	LocFrom    string   `json:"location_from,omitempty"`
	Caption    string   `json:"caption"`
	Hashtags   []string `json:"hashtags"`
	Mentions   []string `json:"mentions"`
	MediaURLs  []string `json:"media_urls"`
	Likes      int64    `json:"likes"`
	Comments   int64    `json:"comments"`
	Views      int64    `json:"views"`
	Language   string   `json:"language"`
	// Sentiment and the text labels change with the words, so they are
	// written with them; image labels are posts.image_labels.
	Sentiment float32    `json:"sentiment"`
	Labels    []docLabel `json:"labels"`
}

// authorCard is what authors.card holds: the whole author. The counts and
// the private flag are also columns, for SQL to order and filter on; any
// change to the card re-writes the whole row.
type authorCard struct {
	Followers   int64  `json:"followers"`
	Following   int64  `json:"following"`
	PostsCount  int64  `json:"posts_count"`
	Private     bool   `json:"private"`
	UpdatedAt   int64  `json:"updated_at"`
	Source      string `json:"source"`
	SourceID    string `json:"source_id"`
	Handle      string `json:"handle"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
	Bio         string `json:"bio"`
	Verified    bool   `json:"verified"`
	Business    bool   `json:"business"`
}

// expiredDocPatch is merged into the doc of an expired story (RFC 7396):
// the content goes; ids, counts, place name and language stay.
const expiredDocPatch = `'{"caption":"","hashtags":[],"mentions":[],"media_urls":[],"sentiment":0,"labels":[]}'`

// encodeDoc renders p's postDoc as JSON. These encoders are written by hand
// because they run for every ingested post, where encoding/json's
// reflection cost about as much as the append they feed. The output is
// plain JSON that encoding/json reads back (decodeDoc) and DuckDB's json
// functions understand.
func encodeDoc(p *geopulse.Post) string {
	b := make([]byte, 0, 320+len(p.Caption)+96*len(p.Labels))
	b = append(b, `{"kind":`...)
	b = canonical.AppendJSONString(b, string(p.Kind))
	b = append(b, `,"author_id":`...)
	b = strconv.AppendInt(b, p.Author.ID, 10)
	b = append(b, `,"taken_at":`...)
	b = strconv.AppendInt(b, p.TakenAt.UnixMicro(), 10)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, p.Lat, 'g', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, p.Lon, 'g', -1, 64)
	b = append(b, `,"accuracy_m":`...)
	b = strconv.AppendFloat(b, p.AccuracyM, 'g', -1, 64)
	b = append(b, `,"expires_at":`...)
	if p.ExpiresAt != nil {
		b = strconv.AppendInt(b, p.ExpiresAt.UnixMicro(), 10)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `,"source":`...)
	b = canonical.AppendJSONString(b, p.Source)
	b = append(b, `,"source_id":`...)
	b = canonical.AppendJSONString(b, p.SourceID)
	b = append(b, `,"observed_at":`...)
	b = strconv.AppendInt(b, p.ObservedAt.UnixMicro(), 10)
	b = append(b, `,"cell":`...)
	b = strconv.AppendInt(b, p.Cell, 10)
	b = append(b, `,"place_name":`...)
	b = canonical.AppendJSONString(b, p.PlaceName)
	if p.LocationFrom != "" {
		b = append(b, `,"location_from":`...)
		b = canonical.AppendJSONString(b, string(p.LocationFrom))
	}
	b = append(b, `,"caption":`...)
	b = canonical.AppendJSONString(b, p.Caption)
	b = append(b, `,"hashtags":`...)
	b = canonical.AppendJSONStrings(b, p.Hashtags)
	b = append(b, `,"mentions":`...)
	b = canonical.AppendJSONStrings(b, p.Mentions)
	b = append(b, `,"media_urls":`...)
	b = canonical.AppendJSONStrings(b, p.MediaURLs)
	b = append(b, `,"likes":`...)
	b = strconv.AppendInt(b, p.Likes, 10)
	b = append(b, `,"comments":`...)
	b = strconv.AppendInt(b, p.Comments, 10)
	b = append(b, `,"views":`...)
	b = strconv.AppendInt(b, p.Views, 10)
	b = append(b, `,"language":`...)
	b = canonical.AppendJSONString(b, p.Language)
	b = append(b, `,"sentiment":`...)
	b = strconv.AppendFloat(b, float64(p.Sentiment), 'g', -1, 32)
	b = append(b, `,"labels":`...)
	b = appendLabels(b, p.Labels)
	b = append(b, '}')
	return string(b)
}

// decodeDoc fills p's fields from doc, all but ID, Author (except its ID),
// Expired and PlaceIDs; p.Labels gets the text labels.
func decodeDoc(p *geopulse.Post, doc string) error {
	var d postDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return fmt.Errorf("decode post %d: %w", p.ID, err)
	}
	p.Kind, p.Author.ID, p.TakenAt = geopulse.Kind(d.Kind), d.AuthorID, time.UnixMicro(d.TakenAt).UTC()
	p.Lat, p.Lon, p.AccuracyM, p.ExpiresAt = d.Lat, d.Lon, d.AccuracyM, nil
	if d.ExpiresAt != nil {
		t := time.UnixMicro(*d.ExpiresAt).UTC()
		p.ExpiresAt = &t
	}
	p.Source, p.SourceID, p.PlaceName, p.Caption = d.Source, d.SourceID, d.PlaceName, d.Caption
	p.LocationFrom = geopulse.LocationFrom(d.LocFrom)
	p.ObservedAt, p.Cell = time.UnixMicro(d.ObservedAt).UTC(), d.Cell
	p.Hashtags, p.Mentions, p.MediaURLs = nilIfEmpty(d.Hashtags), nilIfEmpty(d.Mentions), nilIfEmpty(d.MediaURLs)
	p.Likes, p.Comments, p.Views, p.Language = d.Likes, d.Comments, d.Views, d.Language
	p.Sentiment, p.Labels = d.Sentiment, fromDocLabels(nil, d.Labels, geopulse.OriginText)
	return nil
}

// encodeCard renders a's authorCard as JSON.
func encodeCard(a *geopulse.Author) string {
	b := make([]byte, 0, 256+len(a.Bio))
	b = append(b, `{"followers":`...)
	b = strconv.AppendInt(b, a.Followers, 10)
	b = append(b, `,"following":`...)
	b = strconv.AppendInt(b, a.Following, 10)
	b = append(b, `,"posts_count":`...)
	b = strconv.AppendInt(b, a.PostsCount, 10)
	b = append(b, `,"private":`...)
	b = strconv.AppendBool(b, a.Private)
	b = append(b, `,"updated_at":`...)
	b = strconv.AppendInt(b, a.UpdatedAt.UnixMicro(), 10)
	b = append(b, `,"source":`...)
	b = canonical.AppendJSONString(b, a.Source)
	b = append(b, `,"source_id":`...)
	b = canonical.AppendJSONString(b, a.SourceID)
	b = append(b, `,"handle":`...)
	b = canonical.AppendJSONString(b, a.Handle)
	b = append(b, `,"display_name":`...)
	b = canonical.AppendJSONString(b, a.DisplayName)
	b = append(b, `,"avatar_url":`...)
	b = canonical.AppendJSONString(b, a.AvatarURL)
	b = append(b, `,"bio":`...)
	b = canonical.AppendJSONString(b, a.Bio)
	b = append(b, `,"verified":`...)
	b = strconv.AppendBool(b, a.Verified)
	b = append(b, `,"business":`...)
	b = strconv.AppendBool(b, a.Business)
	b = append(b, '}')
	return string(b)
}

// decodeCard fills a's fields, all but ID, from card.
func decodeCard(a *geopulse.Author, card string) error {
	var c authorCard
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		return fmt.Errorf("decode author %d: %w", a.ID, err)
	}
	a.Followers, a.Following, a.PostsCount, a.Private = c.Followers, c.Following, c.PostsCount, c.Private
	a.UpdatedAt = time.UnixMicro(c.UpdatedAt).UTC()
	a.Source, a.SourceID, a.Handle, a.DisplayName = c.Source, c.SourceID, c.Handle, c.DisplayName
	a.AvatarURL, a.Bio, a.Verified, a.Business = c.AvatarURL, c.Bio, c.Verified, c.Business
	return nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
