package postgres

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// The formats of posts.doc and authors.card are the embedded store's, field
// for field, so that exports and ad-hoc SQL read the same documents from
// either store. JSON escapes are also how content with NUL characters fits
// in PostgreSQL, whose text type cannot hold NUL.

// postDoc is what posts.doc holds: every field of a post that no SQL
// filters, groups or joins on.
type postDoc struct {
	Source     string   `json:"source"`
	SourceID   string   `json:"source_id"`
	ObservedAt int64    `json:"observed_at"` // unix microseconds
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
	// Sentiment changes with the words, so it is written with them.
	// Labels are rows of post_labels (two writers replace them).
	Sentiment float32 `json:"sentiment"`
}

// authorCard is what authors.card holds: the fields of an author that no
// SQL filters or orders on.
type authorCard struct {
	Source      string `json:"source"`
	SourceID    string `json:"source_id"`
	Handle      string `json:"handle"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
	Bio         string `json:"bio"`
	Verified    bool   `json:"verified"`
	Business    bool   `json:"business"`
}

// encodeDoc renders p's postDoc as JSON. These encoders are written by hand
// because they run for every ingested post, where encoding/json's
// reflection cost about as much as the append they feed. The output is
// plain JSON that encoding/json reads back (decodeDoc) and PostgreSQL's json
// functions understand.
func encodeDoc(p *geopulse.Post) string {
	b := make([]byte, 0, 192+len(p.Caption))
	b = append(b, `{"source":`...)
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
	b = append(b, '}')
	return string(b)
}

// decodeDoc fills p's fields from doc.
func decodeDoc(p *geopulse.Post, doc string) error {
	var d postDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return fmt.Errorf("decode post %d: %w", p.ID, err)
	}
	p.Source, p.SourceID, p.PlaceName, p.Caption = d.Source, d.SourceID, d.PlaceName, d.Caption
	p.LocationFrom = geopulse.LocationFrom(d.LocFrom)
	p.ObservedAt, p.Cell = time.UnixMicro(d.ObservedAt).UTC(), d.Cell
	p.Hashtags, p.Mentions, p.MediaURLs = nilIfEmpty(d.Hashtags), nilIfEmpty(d.Mentions), nilIfEmpty(d.MediaURLs)
	p.Likes, p.Comments, p.Views, p.Language = d.Likes, d.Comments, d.Views, d.Language
	p.Sentiment = d.Sentiment
	return nil
}

// encodeCard renders a's authorCard as JSON.
func encodeCard(a *geopulse.Author) string {
	b := make([]byte, 0, 160+len(a.Bio))
	b = append(b, `{"source":`...)
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

// decodeCard fills a's fields from card.
func decodeCard(a *geopulse.Author, card string) error {
	var c authorCard
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		return fmt.Errorf("decode author %d: %w", a.ID, err)
	}
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
