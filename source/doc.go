// Package source holds the connectors, one subpackage per platform or format;
// each turns a platform's payload into canonical posts (*geopulse.Post).
//
// Subpackage canonical is the format every intake path speaks (POST /v1/posts,
// file import, simulator output); platform connectors translate into it or
// directly into geopulse.Post values with the same invariants.
package source
