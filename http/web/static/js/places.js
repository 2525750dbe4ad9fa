// Places page: the workspace's places on a map and in a list with their
// post counts; draw a venue (centre + radius) or a geofence (polygon),
// edit, group, delete, import GeoJSON. Sensitive places (marked, or by a
// category on the operator's deny list) are never in audiences or targeting;
// the list and the map mark them so nobody mistakes them for targetable.
import { api, h, clear, num, toast, placeCounts, ApiError, can } from './lib.js';
import { createMap, shape, bounds, center, tip } from './map.js';

const L = window.L;
const $ = (id) => document.getElementById(id);

const COUNT_DAYS = 30;
const LIST_PAGE = 150;

const STYLE = {
  venue: { color: '#e8467c', weight: 1.5, fillColor: '#e8467c', fillOpacity: 0.18 },
  geofence: { color: '#7048e8', weight: 1.5, fillColor: '#7048e8', fillOpacity: 0.14 },
  selected: { color: '#141b2f', weight: 3, fillOpacity: 0.3 },
  draft: { color: '#f76707', weight: 2.5, dashArray: '6 5', fillColor: '#f76707', fillOpacity: 0.15 },
  // A deny area: a red dotted outline over the kind's fill, unlike the
  // draft's orange dashes.
  sensitive: { color: '#c92a2a', dashArray: '2 5', lineCap: 'round' },
};

/** restricted: the place is sensitive, marked or by its category. */
const restricted = (p) => Boolean(p.sensitive || p.sensitive_category);

/** sensitiveWhy says why a place is sensitive, or '' when it is not. */
function sensitiveWhy(p) {
  if (p.sensitive_category) return 'Sensitive by its category (deny list)';
  if (p.sensitive) return 'Sensitive area — never in audiences or targeting';
  return '';
}

const state = {
  places: [],
  counts: new Map(),
  layers: new Map(), // place id → {group, marker, shape}
  selected: null,
  search: '',
  group: '',
  showAll: false,
  draw: null, // {mode, ...} while drawing
  draft: null, // the drawn shape awaiting a name: {layer, body}
};

const map = createMap($('map'));
map.doubleClickZoom.disable(); // double-click finishes polygons; zoom has buttons and wheel

init().catch((err) => toast(err.message, 'error'));

async function init() {
  const { places } = await api('/v1/places');
  state.places = places;
  for (const p of places) addLayer(p);
  fitAll();
  renderGroups();
  renderList();
  renderCategories();
  await refreshCounts(places.map((p) => p.id));
}

async function refreshCounts(ids) {
  if (ids.length === 0) return;
  const from = new Date(Date.now() - COUNT_DAYS * 86400e3);
  try {
    const counts = await placeCounts(ids, from);
    for (const id of ids) state.counts.set(id, counts.get(id) || { posts: 0, authors: 0 });
    renderList();
  } catch (err) {
    toast(`Post counts: ${err.message}`, 'error');
  }
}

// ---- map layers

function styleFor(p) {
  const base = p.center ? STYLE.venue : STYLE.geofence;
  const st = state.selected === p.id ? { ...base, ...STYLE.selected } : base;
  // Selected or not, a deny area keeps its red dots (selection thickens them).
  return restricted(p) ? { ...st, ...STYLE.sensitive, weight: Math.max(st.weight, 2) } : st;
}

function addLayer(p) {
  const st = styleFor(p);
  const marker = L.circleMarker(center(p), { radius: 5, color: '#fff', weight: 1.5, fillColor: st.color, fillOpacity: 1 });
  const outline = shape(p, st);
  const group = L.featureGroup([outline, marker]).addTo(map);
  const sub = [p.category, p.brand, restricted(p) ? 'sensitive' : ''].filter(Boolean).join(' · ');
  group.bindTooltip(tip(p.name, sub), { className: 'place-tip', direction: 'top', offset: [0, -6] });
  group.on('click', (e) => {
    if (state.draw) return; // clicks belong to the drawing
    L.DomEvent.stopPropagation(e);
    select(p.id, false);
  });
  state.layers.set(p.id, { group, marker, outline });
}

function removeLayer(id) {
  const l = state.layers.get(id);
  if (l) map.removeLayer(l.group);
  state.layers.delete(id);
}

function restyle(id) {
  const p = state.places.find((x) => x.id === id);
  const l = state.layers.get(id);
  if (!p || !l) return;
  const st = styleFor(p);
  l.outline.setStyle(st);
  l.marker.setStyle({ fillColor: st.color, radius: state.selected === id ? 7 : 5 });
  if (state.selected === id) l.group.bringToFront();
}

function fitAll() {
  const visible = filtered();
  if (visible.length === 0) return;
  let b = bounds(visible[0]);
  for (const p of visible) b = b.extend(bounds(p));
  map.fitBounds(b, { padding: [30, 30], maxZoom: 15 });
}

function applyMapFilter() {
  const show = new Set(filtered().map((p) => p.id));
  for (const [id, l] of state.layers) {
    if (show.has(id)) { if (!map.hasLayer(l.group)) l.group.addTo(map); }
    else if (map.hasLayer(l.group)) map.removeLayer(l.group);
  }
}

// ---- list

function matches(p) {
  if (state.group && !p.groups.includes(state.group)) return false;
  if (!state.search) return true;
  const hay = [p.name, p.category, p.brand, ...p.groups, restricted(p) ? 'sensitive' : ''].join(' ').toLowerCase();
  return state.search.split(/\s+/).every((w) => hay.includes(w));
}

function filtered() {
  return state.places.filter(matches);
}

function renderList() {
  const list = $('place-list');
  clear(list);
  const items = filtered().sort((a, b) =>
    (state.counts.get(b.id)?.posts ?? -1) - (state.counts.get(a.id)?.posts ?? -1) || a.name.localeCompare(b.name));
  $('place-count').textContent = state.places.length ? num(state.places.length) : '';
  $('map-legend').hidden = !state.places.some(restricted);
  const max = Math.max(1, ...items.map((p) => state.counts.get(p.id)?.posts || 0));
  const shown = state.showAll ? items : items.slice(0, LIST_PAGE);
  // The selected place is always listed, even a new one with no posts yet.
  const sel = items.find((p) => p.id === state.selected);
  if (sel && !shown.includes(sel)) shown.unshift(sel);
  for (const p of shown) {
    const c = state.counts.get(p.id);
    const bar = h('div', { class: 'bar' });
    bar.style.width = c ? `${Math.max(2, (56 * c.posts) / max)}px` : '0';
    list.append(h('li', {
      class: restricted(p) ? 'sensitive' : null,
      dataset: { id: p.id },
      role: 'option',
      'aria-selected': state.selected === p.id ? 'true' : 'false',
      tabindex: 0,
      on: {
        click: () => select(p.id, true),
        keydown: (e) => { if (e.key === 'Enter') select(p.id, true); },
      },
    },
    h('span', { class: p.center ? 'dot' : 'dot geofence', 'aria-hidden': 'true' }),
    h('div', { class: 'info' },
      h('div', { class: 'name' }, h('span', { class: 'nm', text: p.name }),
        restricted(p) ? h('span', { class: 'badge-sensitive', title: sensitiveWhy(p), text: 'sensitive' }) : null),
      h('div', { class: 'meta' }, [p.category, p.brand].filter(Boolean).join(' · ') || (p.center ? 'Venue' : 'Geofence'),
        p.groups.slice(0, 2).map((g) => h('span', { class: 'tag', text: g })))),
    h('div', { class: 'posts' }, c ? num(c.posts) : '…', h('small', { text: 'posts' }), bar)));
  }
  if (!state.showAll && items.length > LIST_PAGE) {
    list.append(h('li', { class: 'list-more' },
      h('button', { type: 'button', class: 'btn btn-sm', on: { click: () => { state.showAll = true; renderList(); } } },
        `Show all ${num(items.length)}`)));
  }
  if (items.length === 0) {
    list.append(h('li', { class: 'list-more muted' },
      state.places.length ? 'No place matches.'
        : can('places:write') ? 'No places yet: draw a venue or a geofence on the map, or import GeoJSON.' : 'No places yet.'));
  }
}

function renderGroups() {
  const box = $('group-chips');
  clear(box);
  const counts = new Map();
  for (const p of state.places) for (const g of p.groups) counts.set(g, (counts.get(g) || 0) + 1);
  const groups = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 16);
  for (const [g, n] of groups) {
    box.append(h('button', {
      type: 'button', class: 'chip', 'aria-pressed': state.group === g ? 'true' : 'false',
      on: { click: () => { state.group = state.group === g ? '' : g; state.showAll = false; renderGroups(); renderList(); applyMapFilter(); fitAll(); } },
    }, g, h('span', { class: 'muted', text: String(n) })));
  }
}

function renderCategories() {
  const dl = $('categories');
  clear(dl);
  const cats = [...new Set(state.places.map((p) => p.category).filter(Boolean))].sort();
  for (const c of cats) dl.append(h('option', { value: c }));
}

let searching;
$('place-search').addEventListener('input', (e) => {
  state.search = e.target.value.trim().toLowerCase();
  state.showAll = false;
  renderList();
  applyMapFilter();
  // Once typing pauses, the map shows what the search found.
  clearTimeout(searching);
  searching = setTimeout(() => { if (state.search && filtered().length) fitAll(); }, 400);
});

// ---- selection and the editor

function select(id, fly) {
  cancelDraw();
  const prev = state.selected;
  state.selected = id;
  if (prev) restyle(prev);
  restyle(id);
  const p = state.places.find((x) => x.id === id);
  if (!p) return;
  if (fly) map.flyToBounds(bounds(p), { padding: [60, 60], maxZoom: 16, duration: 0.6 });
  openEditor(p);
  for (const li of $('place-list').children) li.setAttribute('aria-selected', li.dataset.id === String(id) ? 'true' : 'false');
  const li = $('place-list').querySelector(`li[data-id="${id}"]`);
  if (li && !fly) li.scrollIntoView({ block: 'nearest' });
}

function deselect() {
  const prev = state.selected;
  state.selected = null;
  if (prev) restyle(prev);
  for (const li of $('place-list').children) li.setAttribute('aria-selected', 'false');
}

const form = $('editor');

function openEditor(p) {
  form.hidden = false;
  const isNew = !p.id;
  // A role that may not change places sees them, read-only.
  const editable = can('places:write');
  for (const name of ['name', 'category', 'brand', 'groups']) form.elements[name].readOnly = !editable;
  form.elements.sensitive.disabled = !editable; // hidden too (data-needs); a checkbox has no readOnly
  $('editor-cancel').textContent = editable ? 'Cancel' : 'Close';
  $('editor-title').textContent = isNew ? 'New place' : editable ? 'Edit place' : 'Place';
  $('editor-shape').textContent = describeShape(p);
  form.elements.name.value = p.name || '';
  form.elements.category.value = p.category || '';
  form.elements.brand.value = p.brand || '';
  form.elements.groups.value = (p.groups || []).join(', ');
  form.elements.sensitive.checked = Boolean(p.sensitive);
  // The category's deny-list status is the operator's, not the place's: it
  // is said, not offered as a control. A role that cannot see the checkbox
  // is told about a marked place here too.
  const note = p.sensitive_category ? sensitiveWhy(p) : !editable && p.sensitive ? sensitiveWhy(p) : '';
  $('editor-sensitive-note').textContent = note;
  $('editor-sensitive-note').hidden = !note;
  $('editor-delete').hidden = isNew;
  $('editor-live').hidden = isNew;
  if (!isNew) $('editor-live').href = `/app/feed?place=${p.id}`;
  $('editor-save').textContent = isNew ? 'Save place' : 'Save changes';
  if (isNew && editable) form.elements.name.focus();
}

function describeShape(p) {
  if (p.center) return `Venue · ${num(Math.round(p.radius_m))} m radius · ${p.center.lat.toFixed(5)}, ${p.center.lon.toFixed(5)}`;
  const rings = p.geometry?.type === 'MultiPolygon' ? p.geometry.coordinates.length : 1;
  const pts = p.geometry?.type === 'Polygon' ? p.geometry.coordinates[0].length - 1 : null;
  return `Geofence · ${rings > 1 ? `${rings} polygons` : `${pts} corners`}`;
}

function closeEditor() {
  form.hidden = true;
  if (state.draft) { map.removeLayer(state.draft.layer); state.draft = null; }
}

function formBody() {
  const groups = form.elements.groups.value.split(',').map((g) => g.trim()).filter(Boolean);
  return {
    name: form.elements.name.value.trim(),
    category: form.elements.category.value.trim(),
    brand: form.elements.brand.value.trim(),
    groups,
    sensitive: form.elements.sensitive.checked,
  };
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = formBody();
  if (!body.name) { form.elements.name.focus(); return; }
  const save = $('editor-save');
  save.disabled = true;
  try {
    if (state.draft) {
      const p = await api('/v1/places', { method: 'POST', body: { ...body, ...state.draft.body }, action: 'add places' });
      map.removeLayer(state.draft.layer);
      state.draft = null;
      state.places.push(p);
      addLayer(p);
      toast(`Saved “${p.name}”. Matching stored posts…`);
      afterChange();
      select(p.id, false);
      refreshCounts([p.id]);
    } else if (state.selected) {
      const p = await api(`/v1/places/${state.selected}`, { method: 'PATCH', body, action: 'change places' });
      const i = state.places.findIndex((x) => x.id === p.id);
      state.places[i] = p;
      removeLayer(p.id);
      addLayer(p);
      toast(`Saved “${p.name}”.`);
      afterChange();
      select(p.id, false);
    }
  } catch (err) {
    toast(err.message, 'error');
  } finally {
    save.disabled = false;
  }
});

$('editor-cancel').addEventListener('click', () => { closeEditor(); deselect(); });

$('editor-delete').addEventListener('click', async () => {
  const p = state.places.find((x) => x.id === state.selected);
  if (!p || !window.confirm(`Delete “${p.name}”? Its post matches go too.`)) return;
  try {
    await api(`/v1/places/${p.id}`, { method: 'DELETE', action: 'delete places' });
    removeLayer(p.id);
    state.places = state.places.filter((x) => x.id !== p.id);
    state.counts.delete(p.id);
    state.selected = null;
    closeEditor();
    afterChange();
    toast(`Deleted “${p.name}”.`);
  } catch (err) {
    toast(err.message, 'error');
  }
});

function afterChange() {
  renderGroups();
  renderList();
  renderCategories();
}

// ---- drawing

const hint = $('map-hint');

function showHint(text, finish = false) {
  hint.hidden = false;
  $('map-hint-text').textContent = text;
  $('draw-finish').hidden = !finish;
}

function startDraw(mode) {
  cancelDraw();
  closeEditor();
  deselect();
  state.draw = { mode, points: [], layers: L.layerGroup().addTo(map) };
  document.body.classList.add('drawing');
  $('draw-circle').setAttribute('aria-pressed', mode === 'circle' ? 'true' : 'false');
  $('draw-polygon').setAttribute('aria-pressed', mode === 'polygon' ? 'true' : 'false');
  showHint(mode === 'circle' ? 'Click the centre of the venue' : 'Click to place each corner of the geofence');
  map.on('click', onDrawClick);
  map.on('mousemove', onDrawMove);
  map.on('dblclick', onDrawDblClick);
}

function cancelDraw() {
  const d = state.draw;
  if (!d) return;
  map.off('click', onDrawClick);
  map.off('mousemove', onDrawMove);
  map.off('dblclick', onDrawDblClick);
  map.removeLayer(d.layers);
  state.draw = null;
  hint.hidden = true;
  document.body.classList.remove('drawing');
  $('draw-circle').setAttribute('aria-pressed', 'false');
  $('draw-polygon').setAttribute('aria-pressed', 'false');
}

function onDrawClick(e) {
  const d = state.draw;
  if (d.mode === 'circle') {
    if (!d.center) {
      d.center = e.latlng;
      // Start at ~40 px so the circle is visible before the mouse moves.
      const px = map.latLngToContainerPoint(e.latlng);
      d.circle = L.circle(e.latlng, { radius: map.distance(e.latlng, map.containerPointToLatLng(px.add([40, 0]))), ...STYLE.draft }).addTo(d.layers);
      L.circleMarker(e.latlng, { radius: 4, color: '#f76707', fillOpacity: 1 }).addTo(d.layers);
      showHint('Click again to set the radius');
      return;
    }
    const radius = Math.max(10, Math.round(map.distance(d.center, e.latlng)));
    const c = d.center;
    cancelDraw();
    draftReady(L.circle(c, { radius, ...STYLE.draft }),
      { center: { lat: round(c.lat), lon: round(c.lng) }, radius_m: radius },
      { center: { lat: c.lat, lon: c.lng }, radius_m: radius });
    return;
  }
  // Polygon: a click on the first corner closes it.
  if (d.points.length >= 3) {
    const first = map.latLngToContainerPoint(d.points[0]);
    if (first.distanceTo(map.latLngToContainerPoint(e.latlng)) < 12) { finishPolygon(); return; }
  }
  d.points.push(e.latlng);
  L.circleMarker(e.latlng, { radius: d.points.length === 1 ? 6 : 4, color: '#f76707', weight: 2, fillColor: '#fff', fillOpacity: 1 }).addTo(d.layers);
  if (!d.poly) d.poly = L.polygon([], STYLE.draft).addTo(d.layers);
  d.poly.setLatLngs(d.points);
  showHint(d.points.length < 3 ? `Corner ${d.points.length}: keep clicking` : `${d.points.length} corners: click the first corner or Finish`, d.points.length >= 3);
}

function onDrawMove(e) {
  const d = state.draw;
  if (d.mode === 'circle' && d.center) d.circle.setRadius(Math.max(10, map.distance(d.center, e.latlng)));
  if (d.mode === 'polygon' && d.points.length > 0) {
    if (!d.rubber) d.rubber = L.polyline([], { ...STYLE.draft, fill: false, interactive: false }).addTo(d.layers);
    d.rubber.setLatLngs([d.points[d.points.length - 1], e.latlng, d.points[0]]);
  }
}

function onDrawDblClick() {
  const d = state.draw;
  // The double-click's two clicks added the same corner twice.
  if (d && d.mode === 'polygon') {
    if (d.points.length > 3) d.points.pop();
    if (d.points.length >= 3) finishPolygon();
  }
}

function finishPolygon() {
  const pts = state.draw.points.map((p) => [round(p.lng), round(p.lat)]);
  cancelDraw();
  const ring = [...pts, pts[0]];
  const geometry = { type: 'Polygon', coordinates: [ring] };
  draftReady(L.polygon(pts.map(([lon, lat]) => [lat, lon]), STYLE.draft), { geometry }, { geometry });
}

function draftReady(layer, body, shapeInfo) {
  layer.addTo(map);
  state.draft = { layer, body };
  openEditor({ ...shapeInfo, name: '', groups: [] });
}

const round = (x) => Math.round(x * 1e6) / 1e6;

$('draw-circle').addEventListener('click', () => (state.draw?.mode === 'circle' ? cancelDraw() : startDraw('circle')));
$('draw-polygon').addEventListener('click', () => (state.draw?.mode === 'polygon' ? cancelDraw() : startDraw('polygon')));
$('draw-finish').addEventListener('click', () => { if (state.draw?.points.length >= 3) finishPolygon(); });
$('draw-cancel').addEventListener('click', cancelDraw);
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  if (state.draw) cancelDraw();
  else if (state.draft) closeEditor();
});

// ---- import

$('import-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  const box = $('import-result');
  try {
    const text = await file.text();
    const res = await api('/v1/places/import', { method: 'POST', body: text, contentType: 'application/geo+json', action: 'import places' });
    clear(box).hidden = false;
    box.append(closeButton(box), h('strong', { text: `Imported ${num(res.created)} place${res.created === 1 ? '' : 's'} from ${file.name}` }),
      res.rejected ? h('span', { class: 'muted', text: ` · ${num(res.rejected)} rejected` }) : null);
    const bad = res.items.filter((it) => it.status !== 'created').slice(0, 8);
    if (bad.length) box.append(h('ul', {}, bad.map((it) => h('li', { text: `Feature ${it.index}: ${it.message}` }))));
    const { places } = await api('/v1/places');
    const known = new Set(state.places.map((p) => p.id));
    const added = places.filter((p) => !known.has(p.id));
    state.places = places;
    for (const p of added) addLayer(p);
    afterChange();
    if (added.length) {
      let b = bounds(added[0]);
      for (const p of added) b = b.extend(bounds(p));
      map.fitBounds(b, { padding: [40, 40], maxZoom: 15 });
      refreshCounts(added.map((p) => p.id));
    }
  } catch (err) {
    if (err instanceof ApiError && err.lacksScope) { toast(err.message, 'error'); return; }
    clear(box).hidden = false;
    box.append(closeButton(box), h('strong', { text: 'Import failed: ' }), err instanceof ApiError ? err.message : 'the file could not be read.');
  }
});

function closeButton(box) {
  return h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', on: { click: () => { box.hidden = true; } } }, '×');
}
