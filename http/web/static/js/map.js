// The map: Leaflet over an offline basemap of country outlines (Natural
// Earth via world-atlas, TopoJSON turned into GeoJSON here), plus the tile
// service an operator configured, if any.
//
// Leaflet puts string tooltips and attributions into innerHTML, so this
// module gives it DOM nodes for anything that holds data.
import { meta, h } from './lib.js';

const L = window.L;

/** createMap makes a map in el; the basemap loads in the background. */
export function createMap(el, options = {}) {
  const map = L.map(el, {
    zoomControl: true,
    minZoom: 2,
    maxZoom: 19,
    worldCopyJump: true,
    zoomSnap: 0.5,
    preferCanvas: false,
    ...options,
  });
  map.attributionControl.setPrefix(false);
  map.setView([30, 10], 2);
  map.createPane('basemap').style.zIndex = 250;

  const tileURL = meta('gp-tile-url');
  if (tileURL) {
    L.tileLayer(tileURL, { maxZoom: 19, attribution: escapeText(meta('gp-tile-attribution')) }).addTo(map);
  }
  loadBasemap(map, !tileURL);
  return map;
}

// escapeText makes operator-configured text safe for Leaflet's attribution,
// which is HTML.
function escapeText(t) {
  return String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function loadBasemap(map, fill) {
  try {
    const res = await fetch(meta('gp-assets'), { credentials: 'same-origin' });
    const topo = await res.json();
    const countries = window.topojson.feature(topo, topo.objects.countries);
    for (const f of countries.features) unwrapAntimeridian(f.geometry);
    L.geoJSON(countries, {
      pane: 'basemap',
      interactive: false,
      style: {
        color: fill ? '#b9c2cf' : '#7a8699',
        weight: 0.8,
        fillColor: '#f8f6f1',
        fillOpacity: fill ? 1 : 0,
      },
    }).addTo(map);
    map.attributionControl.addAttribution('Natural Earth');
  } catch (err) {
    console.warn('basemap', err);
  }
}

// unwrapAntimeridian shifts the western half of rings that cross 180° (Fiji,
// Chukotka) by 360°, so Leaflet does not draw them as lines across the world.
function unwrapAntimeridian(g) {
  if (!g) return;
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  for (const poly of polys) {
    for (const ring of poly) {
      let crosses = false;
      for (let i = 1; i < ring.length; i++) if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) { crosses = true; break; }
      if (crosses) for (const pt of ring) if (pt[0] < 0) pt[0] += 360;
    }
  }
}

/** center returns a place's centre as [lat, lon]: a venue's centre or its bbox's middle. */
export function center(place) {
  if (place.center) return [place.center.lat, place.center.lon];
  const [minLon, minLat, maxLon, maxLat] = place.bbox;
  return [(minLat + maxLat) / 2, (minLon + maxLon) / 2];
}

/** bounds returns a place's bounding box as Leaflet bounds. */
export function bounds(place) {
  const [minLon, minLat, maxLon, maxLat] = place.bbox;
  return L.latLngBounds([minLat, minLon], [maxLat, maxLon]);
}

/** shape draws a place's true shape: a circle in metres or its polygon. */
export function shape(place, style) {
  if (place.center) return L.circle([place.center.lat, place.center.lon], { radius: place.radius_m, ...style });
  return L.geoJSON(place.geometry, { style: () => style });
}

/** tip is a tooltip body: a bold first line and a muted second, as text. */
export function tip(title, sub) {
  return h('div', {}, h('div', { text: title }), sub ? h('small', { text: sub }) : null);
}
