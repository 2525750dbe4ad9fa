package poll

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// FlickrConfig polls flickr.photos.search for each place.
type FlickrConfig struct {
	Schedule `yaml:",inline"`
	// BaseURL of the REST endpoint; default https://api.flickr.com/services/rest/.
	BaseURL    string `yaml:"base_url"`
	APIKey     string `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	// PerPage is the page size, at most 500; default 250.
	PerPage int      `yaml:"per_page"`
	Places  []Target `yaml:"-"`
}

// flickrExtras are the fields asked for with every photo. date_upload is
// not content: it is what the cursor advances on.
const flickrExtras = "date_upload,date_taken,geo,tags,owner_name,icon_server,url_o,views,media,description"

// flickrCursor is a watermark on the upload time: photos uploaded before
// MinUpload are done, and so are IDs, the photos uploaded in that very
// second (Flickr's min_upload_date is inclusive).
type flickrCursor struct {
	MinUpload int64    `json:"min_upload"`
	IDs       []string `json:"ids,omitempty"`
}

func newFlickr(cfg FlickrConfig, decode source.DecodeFunc, base func(string, Schedule, string) *runner) (*runner, error) {
	cfg.defaults(10 * time.Minute)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.flickr.com/services/rest/"
	}
	if cfg.PerPage <= 0 {
		cfg.PerPage = 250
	}
	cfg.PerPage = min(cfg.PerPage, 500)
	key, err := secret("flickr.api_key", cfg.APIKey, cfg.APIKeyFile)
	if err != nil {
		return nil, err
	}
	endpoint, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "flickr.base_url: %v", err)
	}
	if decode == nil {
		return nil, geopulse.Errorf(geopulse.EINVALID, "flickr: no decoder")
	}
	r := base("flickr", cfg.Schedule, key)
	f := &flickrPoller{runner: r, cfg: cfg, key: key, endpoint: endpoint, decode: decode}
	r.client.judge = f.judge
	for _, t := range cfg.Places {
		if !t.hasBox() && !t.hasCircle() {
			return nil, geopulse.Errorf(geopulse.EINVALID, "flickr: place %d has neither a bounding box nor a radius", t.PlaceID)
		}
		key := "place/" + strconv.FormatInt(t.PlaceID, 10)
		r.targets = append(r.targets, target{key: key, poll: func(ctx context.Context) error { return f.poll(ctx, key, t) }})
	}
	return r, nil
}

type flickrPoller struct {
	*runner
	cfg      FlickrConfig
	key      string
	endpoint *url.URL
	decode   source.DecodeFunc
}

// poll asks for the photos uploaded since the cursor, oldest first, and
// moves the cursor after every page the sink took. Each request starts
// again from the cursor (page 1) instead of walking page numbers: a photo
// deleted mid-walk would shift later pages and hide one, and Flickr stops
// a geo search at 4,000 results.
func (f *flickrPoller) poll(ctx context.Context, key string, t Target) error {
	var cur flickrCursor
	found, err := f.load(ctx, key, &cur)
	if err != nil {
		return err
	}
	if !found {
		cur.MinUpload = f.now().Add(-f.schedule.Backfill).Unix()
	}
	page := 1
	for range f.schedule.MaxPages {
		body, err := f.client.get(ctx, f.url(t, cur.MinUpload, page))
		if err != nil {
			return err
		}
		env, perr := parseFlickrPage(body)
		repeat := cur.repeats(env.Photos)
		derr, err := f.submit(ctx, f.decode, body, func(i int) bool { return i < len(repeat) && repeat[i] })
		if err != nil {
			return err
		}
		if perr != nil {
			return malformed(perr)
		}
		if derr != nil {
			f.log.Warn("poll page partly undecodable", slog.String(keyTarget, key), slog.Any(keyError, derr))
		}
		next := cur.advance(env.Photos)
		if next.MinUpload != cur.MinUpload || len(next.IDs) != len(cur.IDs) {
			if err := f.save(ctx, key, next); err != nil {
				return err
			}
		}
		if len(env.Photos) == 0 || env.Page >= env.Pages {
			return nil
		}
		// A full page inside one second cannot move the watermark: take the
		// next page of the same query rather than asking for this one again.
		if next.MinUpload == cur.MinUpload {
			page++
		} else {
			page = 1
		}
		cur = next
	}
	return nil
}

func (f *flickrPoller) url(t Target, minUpload int64, page int) *url.URL {
	q := url.Values{}
	q.Set("method", "flickr.photos.search")
	q.Set("api_key", f.key)
	if t.hasBox() {
		q.Set("bbox", fmt.Sprintf("%s,%s,%s,%s", coord(t.MinLon), coord(t.MinLat), coord(t.MaxLon), coord(t.MaxLat)))
	} else {
		q.Set("lat", coord(t.Lat))
		q.Set("lon", coord(t.Lon))
		q.Set("radius", strconv.FormatFloat(min(t.RadiusM/1000, 32), 'f', 3, 64)) // Flickr's limit: 32 km
		q.Set("radius_units", "km")
	}
	q.Set("has_geo", "1")
	q.Set("extras", flickrExtras)
	q.Set("min_upload_date", strconv.FormatInt(minUpload, 10))
	q.Set("sort", "date-posted-asc")
	q.Set("per_page", strconv.Itoa(f.cfg.PerPage))
	q.Set("page", strconv.Itoa(page))
	q.Set("format", "json")
	q.Set("nojsoncallback", "1")
	u := *f.endpoint
	u.RawQuery = q.Encode()
	return &u
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// judge reads Flickr's answers: errors come as 200 with stat "fail"; code
// 105 ("service currently unavailable") is worth a retry.
func (f *flickrPoller) judge(r *response) verdict {
	var e struct {
		Stat    string  `json:"stat"`
		Code    flexInt `json:"code"`
		Message string  `json:"message"`
	}
	_ = json.Unmarshal(r.body, &e) // a page that does not parse is judged by the poller
	if r.status == 200 && e.Stat == "fail" {
		code := int64(e.Code)
		return verdict{err: f.client.apiError(r, strconv.FormatInt(code, 10), e.Message), retry: code == 105}
	}
	code := ""
	if e.Stat == "fail" {
		code = strconv.FormatInt(int64(e.Code), 10)
	}
	return f.client.byStatus(r, code, e.Message)
}

// flickrPage is the part of a photos.search answer the poller needs: the
// paging and, per photo, what the cursor is made of. Content is the
// decoder's business.
type flickrPage struct {
	Page, Pages int
	Photos      []flickrPhoto
}

type flickrPhoto struct {
	ID     string
	Upload int64 // 0: unknown
}

func parseFlickrPage(body []byte) (flickrPage, error) {
	var raw struct {
		Stat   string `json:"stat"`
		Photos *struct {
			Page  flexInt `json:"page"`
			Pages flexInt `json:"pages"`
			Photo []struct {
				ID         flexString `json:"id"`
				DateUpload flexInt    `json:"dateupload"`
			} `json:"photo"`
		} `json:"photos"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return flickrPage{}, err
	}
	if raw.Photos == nil {
		return flickrPage{}, fmt.Errorf("no photos object (stat %q)", raw.Stat)
	}
	p := flickrPage{Page: int(raw.Photos.Page), Pages: int(raw.Photos.Pages), Photos: make([]flickrPhoto, len(raw.Photos.Photo))}
	for i, ph := range raw.Photos.Photo {
		p.Photos[i] = flickrPhoto{ID: string(ph.ID), Upload: int64(ph.DateUpload)}
	}
	return p, nil
}

// repeats marks the photos of a page that were taken before: uploaded
// before the watermark, in its second and listed, or earlier on the same
// page (Flickr's pages do repeat a photo).
func (c flickrCursor) repeats(photos []flickrPhoto) []bool {
	out := make([]bool, len(photos))
	seen := make(map[string]bool, len(photos))
	for i, p := range photos {
		switch {
		case p.ID != "" && seen[p.ID]:
			out[i] = true
		case p.Upload == 0: // unknown: send it; repeats are harmless, gaps are not
		case p.Upload < c.MinUpload:
			out[i] = true
		case p.Upload == c.MinUpload && slices.Contains(c.IDs, p.ID):
			out[i] = true
		}
		seen[p.ID] = true
	}
	return out
}

// advance moves the watermark to the newest upload on the page.
func (c flickrCursor) advance(photos []flickrPhoto) flickrCursor {
	next := flickrCursor{MinUpload: c.MinUpload, IDs: slices.Clone(c.IDs)}
	for _, p := range photos {
		switch {
		case p.Upload > next.MinUpload:
			next = flickrCursor{MinUpload: p.Upload, IDs: []string{p.ID}}
		case p.Upload == next.MinUpload && p.ID != "" && !slices.Contains(next.IDs, p.ID):
			next.IDs = append(next.IDs, p.ID)
		}
	}
	return next
}

// flexInt reads a JSON number or a string holding one (Flickr sends both,
// even within a page). Anything else reads as 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			*n = 0
			return nil
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// flexString reads a JSON string or number as text.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	if v := strings.TrimSpace(string(b)); v != "null" {
		*s = flexString(v)
	}
	return nil
}
