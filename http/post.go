package http

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/canonical"
)

// ingestBatchSize is how many decoded posts go to the Ingester at once: big
// enough to amortise a store transaction, small enough to bound memory.
const ingestBatchSize = 1000

// maxIngestItems bounds the items of one POST /v1/posts. Every item gets an
// entry in the answer, so without it a body of tiny bad items ("{}" lines)
// would make an answer fifty times its size. 100,000 realistic posts are
// about as large as the default body limit.
const maxIngestItems = 100_000

// Item statuses of batch answers.
const (
	statusAccepted = "accepted"
	statusCreated  = "created"
	statusRejected = "rejected"
)

// itemResult is one item's entry in a batch answer.
type itemResult struct {
	Index   int    `json:"index"`
	Status  string `json:"status"`
	ID      string `json:"id,omitempty"` // a post id; place ids are numbers, see placeItemResult
	Code    string `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

type ingestResponse struct {
	Accepted int          `json:"accepted"`
	Rejected int          `json:"rejected"`
	Items    []itemResult `json:"items"`
}

var errEventsFromKeys = geopulse.Reject(geopulse.ReasonUnsupported,
	"Compliance events come from sources, not workspace keys: send them through a signed webhook (POST /v1/hooks/{name}) or geopulse import --db.")

// flushEvents hands compliance events to the Complier and records each
// one's answer in items.
func (s *Server) flushEvents(ctx context.Context, events []*geopulse.ComplianceEvent, slots []int, items []itemResult) error {
	if len(events) == 0 {
		return nil
	}
	if s.Complier == nil {
		for _, j := range slots {
			items[j] = s.rejected(ctx, items[j].Index, geopulse.Reject(geopulse.ReasonUnsupported, "This server takes no compliance events."))
		}
		return nil
	}
	errs, err := s.Complier.Comply(ctx, events)
	if err != nil {
		return fmt.Errorf("apply %d compliance events: %w", len(events), err)
	}
	if len(errs) != len(events) {
		return fmt.Errorf("comply returned %d results for %d events", len(errs), len(events))
	}
	for j, err := range errs {
		it := &items[slots[j]]
		if err != nil {
			*it = s.rejected(ctx, it.Index, err)
			continue
		}
		it.Status = statusAccepted
	}
	return nil
}

// handleIngestPosts decodes canonical posts (NDJSON or a JSON array) and
// feeds them to the Ingester in batches. Every item gets one entry in the
// answer, in input order; the good ones land whatever the bad ones do.
func (s *Server) handleIngestPosts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	quiet, err := parseBool("quiet", r.URL.Query().Get("quiet"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := checkContentType(r, "application/x-ndjson", "application/json", "application/ndjson", "application/jsonl"); err != nil {
		s.Error(w, r, err)
		return
	}
	body, err := s.body(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}

	res, err := s.ingestItems(ctx, false, func(fn func(source.Item) error) error {
		return canonical.Decode(body, canonical.Limits{MaxItems: maxIngestItems}, fn)
	})
	if err != nil {
		// Batches before the failure are stored; a retry of the whole body
		// is safe because ingest is idempotent on (source, source_id).
		s.Error(w, r, err)
		return
	}
	if quiet {
		kept := make([]itemResult, 0, res.Rejected)
		for _, it := range res.Items {
			if it.Status != statusAccepted {
				kept = append(kept, it)
			}
		}
		res.Items = kept
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// ingestItems feeds decoded items to the Ingester (posts) and the Complier
// (events) in batches and answers every item, in input order; the good
// ones land whatever the bad ones do. decode calls fn for each item.
// Compliance events are taken only from sources (fromSource: the signed
// webhooks the operator configured): a workspace key must not be able to
// delete or suppress what other workspaces see.
func (s *Server) ingestItems(ctx context.Context, fromSource bool, decode func(fn func(source.Item) error) error) (ingestResponse, error) {
	var (
		items  []itemResult
		batch  = make([]*geopulse.Post, 0, ingestBatchSize)
		slots  = make([]int, 0, ingestBatchSize) // items[slots[j]] answers batch[j]
		events []*geopulse.ComplianceEvent
		eslots []int
	)
	// flush sends posts, then events: an event then also covers a post sent
	// before it in the same body.
	flush := func() error {
		if len(batch) > 0 {
			errs, err := s.Ingester.Ingest(ctx, batch)
			if err != nil {
				return fmt.Errorf("ingest %d posts: %w", len(batch), err)
			}
			if len(errs) != len(batch) {
				return fmt.Errorf("ingest returned %d results for %d posts", len(errs), len(batch))
			}
			for j, err := range errs {
				it := &items[slots[j]]
				if err != nil {
					*it = s.rejected(ctx, it.Index, err)
					continue
				}
				it.Status, it.ID = statusAccepted, formatID(postID(batch[j]))
			}
			// Fresh slices: the Ingester may still hold the old ones' posts.
			batch, slots = make([]*geopulse.Post, 0, ingestBatchSize), make([]int, 0, ingestBatchSize)
		}
		err := s.flushEvents(ctx, events, eslots, items)
		events, eslots = nil, nil
		return err
	}
	err := decode(func(it source.Item) error {
		if it.Err != nil {
			items = append(items, s.rejected(ctx, it.Index, it.Err))
			return nil
		}
		if it.Event != nil && !fromSource {
			items = append(items, s.rejected(ctx, it.Index, errEventsFromKeys))
			return nil
		}
		items = append(items, itemResult{Index: it.Index})
		if it.Event != nil {
			events, eslots = append(events, it.Event), append(eslots, len(items)-1)
		} else {
			batch, slots = append(batch, it.Post), append(slots, len(items)-1)
		}
		if len(batch)+len(events) >= ingestBatchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return ingestResponse{}, err
	}

	res := ingestResponse{Items: items}
	for _, it := range items {
		if it.Status == statusAccepted {
			res.Accepted++
		} else {
			res.Rejected++
		}
	}
	if res.Items == nil {
		res.Items = []itemResult{}
	}
	return res, nil
}

// rejected is the entry of a rejected batch item. An item that failed for an
// internal reason is logged and reported without detail.
func (s *Server) rejected(ctx context.Context, index int, err error) itemResult {
	code := geopulse.ErrorCode(err)
	if code == geopulse.EINTERNAL {
		s.logger.ErrorContext(ctx, "batch item failed", slog.Int("index", index), slog.Any(keyError, err))
	}
	return itemResult{
		Index:   index,
		Status:  statusRejected,
		Code:    code,
		Reason:  geopulse.ErrorReason(err),
		Message: geopulse.ErrorMessage(err),
	}
}

func postID(p *geopulse.Post) int64 {
	if p.ID != 0 {
		return p.ID
	}
	return geopulse.PostID(p.Source, p.SourceID)
}

// formatID writes a 64-bit id as a decimal string: post and author ids use
// all 63 bits, beyond the 2^53 a JavaScript number holds exactly.
func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// postJSON is a post as the API shows it.
type postJSON struct {
	ID         string       `json:"id"`
	Source     string       `json:"source"`
	SourceID   string       `json:"source_id"`
	Kind       string       `json:"kind"`
	TakenAt    time.Time    `json:"taken_at"`
	ObservedAt time.Time    `json:"observed_at"`
	Location   locationJSON `json:"location"`
	Caption    string       `json:"caption"`
	Hashtags   []string     `json:"hashtags"`
	Mentions   []string     `json:"mentions"`
	Media      []string     `json:"media"`
	Likes      int64        `json:"likes"`
	Comments   int64        `json:"comments"`
	Views      int64        `json:"views"`
	ExpiresAt  *time.Time   `json:"expires_at"`
	Expired    bool         `json:"expired"`
	Language   string       `json:"language"`
	Sentiment  float32      `json:"sentiment"` // -1 (negative) … 1 (positive)
	Labels     []labelJSON  `json:"labels"`
	PlaceIDs   []int64      `json:"place_ids"` // the store restricts them to the workspace's places
	Author     authorJSON   `json:"author"`
}

// labelJSON is one thing a post shows or says, with what produced it.
type labelJSON struct {
	Kind    string  `json:"kind"` // object, text, brand, interest
	Name    string  `json:"name"`
	Score   float32 `json:"score"`
	Origin  string  `json:"origin"` // text (caption, tags, place) or image
	Model   string  `json:"model"`
	Version string  `json:"version"`
}

func newLabelsJSON(labels []geopulse.Label) []labelJSON {
	out := make([]labelJSON, len(labels))
	for i, l := range labels {
		out[i] = labelJSON{Kind: string(l.Kind), Name: l.Name, Score: l.Score, Origin: string(l.Origin), Model: l.Model, Version: l.Version}
	}
	return out
}

type locationJSON struct {
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	AccuracyM float64 `json:"accuracy_m"`
	Name      string  `json:"name"`
	// From is how the location was obtained: point, bbox, centroid, venue.
	From string `json:"from"`
}

// authorJSON is the public card of an author: only what a post's viewer
// could see on the source anyway.
type authorJSON struct {
	ID          string `json:"id"`
	Handle      string `json:"handle"`
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
	Followers   int64  `json:"followers"`
	Verified    bool   `json:"verified"`
}

func newPostJSON(p *geopulse.Post) postJSON {
	return postJSON{
		ID:         formatID(p.ID),
		Source:     p.Source,
		SourceID:   p.SourceID,
		Kind:       string(p.Kind),
		TakenAt:    p.TakenAt.UTC(),
		ObservedAt: p.ObservedAt.UTC(),
		Location:   locationJSON{Lat: p.Lat, Lon: p.Lon, AccuracyM: p.AccuracyM, Name: p.PlaceName, From: string(cmp.Or(p.LocationFrom, geopulse.LocationPoint))},
		Caption:    p.Caption,
		Hashtags:   orEmpty(p.Hashtags),
		Mentions:   orEmpty(p.Mentions),
		Media:      orEmpty(p.MediaURLs),
		Likes:      p.Likes,
		Comments:   p.Comments,
		Views:      p.Views,
		ExpiresAt:  utcPtr(p.ExpiresAt),
		Expired:    p.Expired,
		Language:   p.Language,
		Sentiment:  p.Sentiment,
		Labels:     newLabelsJSON(p.Labels),
		PlaceIDs:   orEmpty(p.PlaceIDs),
		Author:     newAuthorJSON(&p.Author),
	}
}

func newAuthorJSON(a *geopulse.Author) authorJSON {
	return authorJSON{
		ID:          formatID(a.ID),
		Handle:      a.Handle,
		DisplayName: a.DisplayName,
		AvatarURL:   a.AvatarURL,
		Followers:   a.Followers,
		Verified:    a.Verified,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// orEmpty makes nil slices encode as [] rather than null, so clients need
// not handle two shapes of "none".
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// feedResponse is a page of the feed.
type feedResponse struct {
	Posts      []postJSON `json:"posts"`
	NextCursor string     `json:"next_cursor"`
}

// handleFindPosts is the feed, filtered by query parameters.
func (s *Server) handleFindPosts(w http.ResponseWriter, r *http.Request) {
	q, err := feedQueryFromURL(r.URL.Query())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.feed(w, r, q)
}

// handleSearchPosts is the feed with the filter in a JSON body, for filters
// too big for a URL (a detailed polygon, hundreds of places).
func (s *Server) handleSearchPosts(w http.ResponseWriter, r *http.Request) {
	if err := checkContentType(r, "application/json"); err != nil {
		s.Error(w, r, err)
		return
	}
	body, err := s.body(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var q feedQuery
	if err := decodeJSON(body, &q); err != nil {
		s.Error(w, r, err)
		return
	}
	s.feed(w, r, q)
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request, q feedQuery) {
	ws := workspace(r)
	filter, err := q.filter(ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	posts, next, err := s.Posts.FindPosts(r.Context(), filter)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := feedResponse{Posts: make([]postJSON, len(posts)), NextCursor: next}
	for i, p := range posts {
		res.Posts[i] = newPostJSON(p)
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// handleGetPost returns one post visible to the workspace.
func (s *Server) handleGetPost(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.Posts.FindPostByID(r.Context(), ws.ID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newPostJSON(p))
}

type authorStatsResponse struct {
	AuthorID string           `json:"author_id"`
	Stats    []authorStatJSON `json:"stats"`
}

type authorStatJSON struct {
	ObservedAt time.Time `json:"observed_at"`
	Followers  int64     `json:"followers"`
	Following  int64     `json:"following"`
	PostsCount int64     `json:"posts_count"`
}

// handleAuthorStats returns an author's follower history, oldest first, for
// authors with a post at one of the workspace's places (else 404).
func (s *Server) handleAuthorStats(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	stats, err := s.Posts.FindAuthorStats(r.Context(), workspace(r).ID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(stats) == 0 {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "Author not found."))
		return
	}
	// A person's history is shown only for influencers (docs/AUDIENCES.md).
	if s.Audiences != nil {
		set, err := s.Audiences.Store.PrivacySettings(r.Context(), workspace(r).ID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if last := stats[len(stats)-1]; last.Followers < set.InfluencerFollowers {
			s.Error(w, r, &geopulse.Error{Code: geopulse.EFORBIDDEN, Reason: "below_influencer_threshold",
				Message: fmt.Sprintf("Follower history is shown only for accounts with at least %d followers.", set.InfluencerFollowers)})
			return
		}
	}
	res := authorStatsResponse{AuthorID: formatID(id), Stats: make([]authorStatJSON, len(stats))}
	for i, st := range stats {
		res.Stats[i] = authorStatJSON{ObservedAt: st.ObservedAt.UTC(), Followers: st.Followers, Following: st.Following, PostsCount: st.PostsCount}
	}
	s.writeJSON(w, r, http.StatusOK, res)
}
