// Package source holds the connectors, one subpackage per platform or format;
// each turns a platform's payload into canonical posts (*geopulse.Post).
//
// The package itself holds what every connector shares: Item and Format
// (the shape of a decoder's output), LineReader (NDJSON lines with
// positions and limits) and CheckJSON (a malformed payload's offset).
// canonical.Normalize is the one validator: connectors pass the posts they
// build through it.
//
// Subpackage canonical is the format every intake path speaks (POST /v1/posts,
// file import, simulator output); platform connectors translate into it or
// directly into geopulse.Post values with the same invariants.
package source
