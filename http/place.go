package http

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
)

// placeJSON is a place as the API shows it. Exactly one shape is set: a
// venue has center and radius_m (geometry null), a geofence has geometry
// (center and radius_m null).
type placeJSON struct {
	ID       int64            `json:"id"`
	Name     string           `json:"name"`
	Category string           `json:"category"`
	Brand    string           `json:"brand"`
	Groups   []string         `json:"groups"`
	Center   *geopulse.LatLon `json:"center"`
	RadiusM  *float64         `json:"radius_m"`
	Geometry json.RawMessage  `json:"geometry"`
	BBox     [4]float64       `json:"bbox"` // minLon, minLat, maxLon, maxLat, as in GeoJSON
	// Sensitive: marked as a sensitive area; SensitiveCategory: its
	// category is on the deny list. Either way it is never targeted.
	Sensitive         bool      `json:"sensitive"`
	SensitiveCategory bool      `json:"sensitive_category"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func newPlaceJSON(p *geopulse.Place) placeJSON {
	out := placeJSON{
		ID:        p.ID,
		Name:      p.Name,
		Category:  p.Category,
		Brand:     p.Brand,
		Groups:    orEmpty(p.Groups),
		Sensitive: p.Sensitive, SensitiveCategory: p.SensitiveCategory,
		BBox:      [4]float64{p.BBox.MinLon, p.BBox.MinLat, p.BBox.MaxLon, p.BBox.MaxLat},
		CreatedAt: p.CreatedAt.UTC(),
		UpdatedAt: p.UpdatedAt.UTC(),
	}
	if p.Center != nil {
		c, r := *p.Center, p.RadiusM
		out.Center, out.RadiusM = &c, &r
	}
	if len(p.Geometry) > 0 {
		out.Geometry = p.Geometry
	}
	return out
}

// placeRequest is the body of POST and PATCH /v1/places[/{id}]. Absent or
// null members are unset: on create they take their zero value, on update
// they stay unchanged.
type placeRequest struct {
	Name      *string          `json:"name"`
	Category  *string          `json:"category"`
	Brand     *string          `json:"brand"`
	Groups    *[]string        `json:"groups"`
	Sensitive *bool            `json:"sensitive"`
	Center    *geopulse.LatLon `json:"center"`
	RadiusM   *float64         `json:"radius_m"`
	Geometry  json.RawMessage  `json:"geometry"`
}

// geometry returns the request's geometry, or nil when absent or null.
func (req *placeRequest) geometry() json.RawMessage {
	g := bytes.TrimSpace(req.Geometry)
	if len(g) == 0 || bytes.Equal(g, []byte("null")) {
		return nil
	}
	return g
}

func (req *placeRequest) place(workspaceID int64) *geopulse.Place {
	p := &geopulse.Place{WorkspaceID: workspaceID, Center: req.Center, Geometry: req.geometry()}
	if req.Name != nil {
		p.Name = *req.Name
	}
	if req.Category != nil {
		p.Category = *req.Category
	}
	if req.Brand != nil {
		p.Brand = *req.Brand
	}
	if req.Sensitive != nil {
		p.Sensitive = *req.Sensitive
	}
	if req.Groups != nil {
		p.Groups = *req.Groups
	}
	if req.RadiusM != nil {
		p.RadiusM = *req.RadiusM
	}
	return p
}

func (req *placeRequest) update() geopulse.PlaceUpdate {
	upd := geopulse.PlaceUpdate{
		Name:      req.Name,
		Category:  req.Category,
		Brand:     req.Brand,
		Groups:    req.Groups,
		Sensitive: req.Sensitive,
		Center:    req.Center,
		RadiusM:   req.RadiusM,
	}
	if g := req.geometry(); g != nil {
		upd.Geometry = &g
	}
	return upd
}

// decodePlaceRequest reads a place body.
func (s *Server) decodePlaceRequest(w http.ResponseWriter, r *http.Request) (*placeRequest, error) {
	if err := checkContentType(r, "application/json"); err != nil {
		return nil, err
	}
	body, err := s.body(w, r)
	if err != nil {
		return nil, err
	}
	var req placeRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// handleCreatePlace creates a place of the workspace; the place service
// backfills it, so its feed shows stored history at once.
func (s *Server) handleCreatePlace(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	req, err := s.decodePlaceRequest(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := req.place(ws.ID)
	if err := s.Places.CreatePlace(r.Context(), p); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/places/"+formatID(p.ID))
	s.writeJSON(w, r, http.StatusCreated, newPlaceJSON(p))
}

type placesResponse struct {
	Places []placeJSON `json:"places"`
}

// handleFindPlaces lists the workspace's places, optionally of one group
// or category.
func (s *Server) handleFindPlaces(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	q := r.URL.Query()
	// Stores compare these as text, which cannot hold invalid UTF-8
	// (DuckDB fails the query): refuse it here, the same for every store.
	for _, p := range []string{"group", "category"} {
		if !utf8.ValidString(q.Get(p)) {
			s.Error(w, r, paramError(p, "%s must be UTF-8 text.", p))
			return
		}
	}
	places, err := s.Places.FindPlaces(r.Context(), geopulse.PlaceFilter{
		WorkspaceID: ws.ID,
		Group:       q.Get("group"),
		Category:    q.Get("category"),
	})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := placesResponse{Places: make([]placeJSON, len(places))}
	for i, p := range places {
		res.Places[i] = newPlaceJSON(p)
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) handleGetPlace(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.Places.FindPlaceByID(r.Context(), ws.ID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newPlaceJSON(p))
}

// handleUpdatePlace applies a partial update (JSON merge semantics without
// deletion: members that are absent or null stay unchanged).
func (s *Server) handleUpdatePlace(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	req, err := s.decodePlaceRequest(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.Places.UpdatePlace(r.Context(), ws.ID, id, req.update())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newPlaceJSON(p))
}

func (s *Server) handleDeletePlace(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Places.DeletePlace(r.Context(), ws.ID, id); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// placeItemResult is one feature's entry in an import answer.
type placeItemResult struct {
	Index   int    `json:"index"`
	Status  string `json:"status"`
	ID      int64  `json:"id,omitempty"`
	Code    string `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

type importResponse struct {
	Created  int               `json:"created"`
	Rejected int               `json:"rejected"`
	Items    []placeItemResult `json:"items"`
}

// handleImportPlaces creates one place per feature of a GeoJSON
// FeatureCollection. Like ingest, every feature gets one answer and a bad
// feature does not stop the others.
func (s *Server) handleImportPlaces(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	if err := checkContentType(r, "application/geo+json", "application/json"); err != nil {
		s.Error(w, r, err)
		return
	}
	body, err := s.body(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data, err := io.ReadAll(body)
	if err != nil {
		s.Error(w, r, jsonError(err))
		return
	}
	places, errs := geo.ParseFeatureCollection(data)
	if places == nil && len(errs) == 1 {
		s.Error(w, r, errs[0]) // not a FeatureCollection at all
		return
	}
	res := importResponse{Items: make([]placeItemResult, len(places))}
	for i, p := range places {
		if i < len(errs) && errs[i] != nil {
			res.Items[i] = s.rejectedPlace(r, i, errs[i])
			continue
		}
		p.WorkspaceID = ws.ID
		// A store failure is reported per feature too, rather than failing
		// the request: creating a place is not idempotent, so the client
		// must learn exactly which features were created before it retries.
		if err := s.Places.CreatePlace(r.Context(), p); err != nil {
			res.Items[i] = s.rejectedPlace(r, i, err)
			continue
		}
		res.Items[i] = placeItemResult{Index: i, Status: statusCreated, ID: p.ID}
	}
	for _, it := range res.Items {
		if it.Status == statusCreated {
			res.Created++
		} else {
			res.Rejected++
		}
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

func (s *Server) rejectedPlace(r *http.Request, index int, err error) placeItemResult {
	it := s.rejected(r.Context(), index, err)
	return placeItemResult{Index: index, Status: statusRejected, Code: it.Code, Reason: it.Reason, Message: it.Message}
}
