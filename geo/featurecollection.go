package geo

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/geopulse/geopulse"
)

// rawFeatureCollection and rawFeature keep members raw so that each one is
// checked on its own and one bad feature never spoils the others.
type rawFeatureCollection struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
}

type rawFeature struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// ParseFeatureCollection parses a GeoJSON FeatureCollection for bulk import
// into places (WorkspaceID and ID left 0, BBox set from the shape).
// Polygon/MultiPolygon features become geofences (Geometry set to the
// feature's geometry JSON, compacted); Point features become venues with
// properties.radius_m (default 100). Properties: name (required), category,
// brand, groups (array of strings), sensitive (boolean: a sensitive area,
// never in audiences or targeting).
//
// It returns one place per feature and errs with one entry per feature (nil
// when that feature is fine; a bad feature's place is nil). A document that
// is not a FeatureCollection at all returns a single top-level error (places
// nil, errs = [that error]). Errors are *geopulse.Error with Code EINVALID;
// per-feature messages start with the feature's position, "features[3]: ".
func ParseFeatureCollection(data []byte) (places []*geopulse.Place, errs []error) {
	if !json.Valid(data) {
		return nil, []error{geopulse.Reject(geopulse.ReasonMalformedJSON, "document is not valid JSON")}
	}
	var fc rawFeatureCollection
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		return nil, []error{geopulse.Reject(geopulse.ReasonInvalidField,
			`document is not a GeoJSON FeatureCollection: expected {"type": "FeatureCollection", "features": [...]}`)}
	}
	places = make([]*geopulse.Place, len(fc.Features))
	errs = make([]error, len(fc.Features))
	for i, raw := range fc.Features {
		p, err := parseFeature(raw)
		if err != nil {
			errs[i] = geopulse.Reject(geopulse.ErrorReason(err), "features[%d]: %s", i, geopulse.ErrorMessage(err))
			continue
		}
		places[i] = p
	}
	return places, errs
}

// parseFeature turns one feature into a place whose shape has been validated.
func parseFeature(raw json.RawMessage) (*geopulse.Place, error) {
	var f rawFeature
	if err := json.Unmarshal(raw, &f); err != nil || f.Type != "Feature" {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, `not a GeoJSON Feature: expected {"type": "Feature", "geometry": ..., "properties": ...}`)
	}
	p := &geopulse.Place{}
	if err := parseProperties(f.Properties, p); err != nil {
		return nil, err
	}
	if len(f.Geometry) == 0 || bytes.Equal(f.Geometry, []byte("null")) {
		return nil, invalidGeometry("feature has no geometry: use Point, Polygon or MultiPolygon")
	}
	var env rawGeometry
	if err := json.Unmarshal(f.Geometry, &env); err != nil {
		return nil, invalidGeometry(`geometry must be a GeoJSON object with "type" and "coordinates"`)
	}
	switch env.Type {
	case "Point":
		var pos position
		if err := json.Unmarshal(env.Coordinates, &pos); err != nil || len(pos) < 2 || pos[0] == nil || pos[1] == nil {
			return nil, invalidGeometry("coordinates of a Point must be a [lon, lat] position")
		}
		p.Center = &geopulse.LatLon{Lat: *pos[1], Lon: *pos[0]}
	case "Polygon", "MultiPolygon":
		var buf bytes.Buffer
		if err := json.Compact(&buf, f.Geometry); err != nil {
			return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "geometry is not valid JSON")
		}
		p.Geometry = json.RawMessage(buf.Bytes())
		p.RadiusM = 0
	default:
		return nil, invalidGeometry("geometry type %q is not supported: use Point (a venue), Polygon or MultiPolygon", truncate(env.Type, 40))
	}
	s, err := NewShape(p)
	if err != nil {
		return nil, err
	}
	p.BBox = s.BBox()
	return p, nil
}

// rawProperties holds the members a place is built from; pointers and raw
// values tell "absent" from "wrong type" so each gets its own message.
type rawProperties struct {
	Name      json.RawMessage `json:"name"`
	Category  json.RawMessage `json:"category"`
	Brand     json.RawMessage `json:"brand"`
	Groups    json.RawMessage `json:"groups"`
	Sensitive json.RawMessage `json:"sensitive"`
	RadiusM   json.RawMessage `json:"radius_m"`
}

func parseProperties(raw json.RawMessage, p *geopulse.Place) error {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return geopulse.Reject(geopulse.ReasonMissingField, "properties.name is required")
	}
	var props rawProperties
	if err := json.Unmarshal(raw, &props); err != nil {
		return geopulse.Reject(geopulse.ReasonInvalidField, "properties must be a JSON object")
	}
	if isAbsent(props.Name) {
		return geopulse.Reject(geopulse.ReasonMissingField, "properties.name is required")
	}
	if err := json.Unmarshal(props.Name, &p.Name); err != nil {
		return geopulse.Reject(geopulse.ReasonInvalidField, "properties.name must be a string")
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return geopulse.Reject(geopulse.ReasonMissingField, "properties.name must not be empty")
	}
	if !isAbsent(props.Category) {
		if err := json.Unmarshal(props.Category, &p.Category); err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "properties.category must be a string")
		}
	}
	if !isAbsent(props.Brand) {
		if err := json.Unmarshal(props.Brand, &p.Brand); err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "properties.brand must be a string")
		}
	}
	if !isAbsent(props.Groups) {
		var groups []*string
		if err := json.Unmarshal(props.Groups, &groups); err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "properties.groups must be an array of strings")
		}
		for _, g := range groups {
			if g == nil {
				return geopulse.Reject(geopulse.ReasonInvalidField, "properties.groups must be an array of strings")
			}
			if s := strings.TrimSpace(*g); s != "" {
				p.Groups = append(p.Groups, s)
			}
		}
	}
	// Only a JSON boolean: guessing what "no" or 0 means could leave a
	// clinic targetable, so anything else rejects the feature.
	if !isAbsent(props.Sensitive) {
		if err := json.Unmarshal(props.Sensitive, &p.Sensitive); err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "properties.sensitive must be true or false")
		}
	}
	p.RadiusM = DefaultRadiusM
	if !isAbsent(props.RadiusM) {
		if err := json.Unmarshal(props.RadiusM, &p.RadiusM); err != nil {
			return geopulse.Reject(geopulse.ReasonInvalidField, "properties.radius_m must be a number of metres")
		}
	}
	return nil
}

// isAbsent reports whether a member was missing or null.
func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}
