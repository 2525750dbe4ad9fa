#!/usr/bin/env bash
# Vendors the dashboard's third-party front-end files into
# http/web/static/vendor/, at pinned versions, with their licences.
#
# Each package is fetched from the npm registry with `npm pack` (a tarball,
# no install scripts run) and unpacked with tar; only the minified builds
# and data the dashboard loads are copied. The result is committed, so
# building and running geopulse needs neither node nor the network: run this
# script only to change a version, then review and commit the diff.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET=leaflet@1.9.4                # map (BSD-2-Clause)
WORLD_ATLAS=world-atlas@2.0.2        # Natural Earth country outlines, TopoJSON (ISC; data public domain)
TOPOJSON_CLIENT=topojson-client@3.1.0 # TopoJSON → GeoJSON in the browser (ISC)

out=http/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch PKG@VERSION: unpacks the tarball into $work/NAME/package.
fetch() {
	local spec=$1 name=${1%@*}
	mkdir -p "$work/$name"
	(cd "$work/$name" && npm pack --silent "$spec" >/dev/null)
	tar -xzf "$work/$name"/*.tgz -C "$work/$name"
}

fetch "$LEAFLET"
fetch "$WORLD_ATLAS"
fetch "$TOPOJSON_CLIENT"

rm -rf "$out"
mkdir -p "$out/leaflet/images" "$out/world-atlas" "$out/topojson-client"

src=$work/leaflet/package
cp "$src/dist/leaflet.js" "$src/dist/leaflet.css" "$src/LICENSE" "$out/leaflet/"
cp "$src"/dist/images/*.png "$out/leaflet/images/"
# The build ends with a source-map comment; the map is not vendored.
sed -i '/^\/\/# sourceMappingURL=/d' "$out/leaflet/leaflet.js"

src=$work/world-atlas/package
cp "$src/countries-50m.json" "$src/LICENSE" "$out/world-atlas/"

src=$work/topojson-client/package
cp "$src/dist/topojson-client.min.js" "$src/LICENSE" "$out/topojson-client/"

cat >"$out/VERSIONS" <<VERSIONS
# Written by scripts/vendor-web.sh from the npm registry; each directory
# holds its package's LICENSE.
leaflet          ${LEAFLET#*@}   map library (BSD-2-Clause)
world-atlas      ${WORLD_ATLAS#*@}   countries-50m.json, Natural Earth data (public domain; package ISC)
topojson-client  ${TOPOJSON_CLIENT#*@}   TopoJSON to GeoJSON (ISC)
VERSIONS

du -sh "$out"
