// Analytics: totals, volume by kind over time, hour of week, top hashtags,
// the place leaderboard, top authors and a heat layer of posts per place,
// for a time range and a group of places.
import { api, h, clear, num, compact, KINDS, avatar, verifiedBadge, placeCounts, iso, toast } from './lib.js';
import { stackedBars, heatmap, bars, heat } from './charts.js';
import { createMap, center, tip } from './map.js';

const L = window.L;
const $ = (id) => document.getElementById(id);
const RANGES = { '24h': 1, '7d': 7, '30d': 30, '90d': 90 };
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const url = new URL(location.href);
const range0 = url.searchParams.get('range');
const state = {
  range: range0 in RANGES || range0 === 'custom' ? range0 : '7d',
  from: url.searchParams.get('from') || '',
  to: url.searchParams.get('to') || '',
  group: url.searchParams.get('group') || '',
  places: [],
  data: null,
  counts: null,
  abort: null,
};

const map = createMap($('heat-map'), { scrollWheelZoom: false, minZoom: 1 });
const heatLayer = L.featureGroup().addTo(map);

init().catch((err) => toast(err.message, 'error'));

async function init() {
  const { places } = await api('/v1/places');
  state.places = places;
  const groups = [...new Set(places.flatMap((p) => p.groups))].sort();
  const sel = $('group');
  for (const g of groups) sel.append(h('option', { value: g, text: g }));
  sel.value = groups.includes(state.group) ? state.group : '';
  state.group = sel.value;
  renderRange();
  load();
}

// ---- range and filters

function window_() {
  if (state.range === 'custom' && state.from && state.to) {
    const from = new Date(`${state.from}T00:00:00Z`);
    const to = new Date(Date.parse(`${state.to}T00:00:00Z`) + 86400e3);
    return { from, to, hourly: to - from <= 3 * 86400e3 };
  }
  const days = RANGES[state.range] || 7;
  // Whole buckets: hours for a week or less, UTC days beyond.
  const hourly = days <= 7;
  const unit = hourly ? 3600e3 : 86400e3;
  const to = new Date(Math.ceil(Date.now() / unit) * unit);
  return { from: new Date(to - days * 86400e3), to, hourly };
}

function renderRange() {
  for (const b of $('range').querySelectorAll('button')) b.setAttribute('aria-pressed', b.dataset.range === state.range ? 'true' : 'false');
  const custom = $('custom-range');
  custom.hidden = state.range !== 'custom';
  if (state.range === 'custom') {
    const w = window_();
    custom.elements.from.value = state.from || iso(new Date(Date.now() - 14 * 86400e3)).slice(0, 10);
    custom.elements.to.value = state.to || iso(w.to).slice(0, 10);
  }
}

$('range').addEventListener('click', (e) => {
  const r = e.target.closest('button')?.dataset.range;
  if (!r) return;
  state.range = r;
  renderRange();
  if (r !== 'custom') load();
});
$('custom-range').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = e.target.elements;
  if (!f.from.value || !f.to.value || f.from.value > f.to.value) { toast('Pick a start date before the end date.', 'error'); return; }
  state.from = f.from.value;
  state.to = f.to.value;
  load();
});
$('group').addEventListener('change', (e) => { state.group = e.target.value; load(); });

function placeIDs() {
  return state.group ? state.places.filter((p) => p.groups.includes(state.group)).map((p) => p.id) : [];
}

// ---- loading

async function load() {
  const w = window_();
  const q = new URLSearchParams({ range: state.range });
  if (state.range === 'custom') { q.set('from', state.from); q.set('to', state.to); }
  if (state.group) q.set('group', state.group);
  history.replaceState(null, '', `?${q}`);

  if (state.abort) state.abort.abort();
  state.abort = new AbortController();
  const signal = state.abort.signal;
  for (const id of ['volume-chart', 'heatmap', 'hashtags', 'interests', 'brands', 'labels', 'leaderboard', 'authors']) clear($(id)).append(h('div', { class: 'skeleton' }));

  const ids = placeIDs();
  const aq = new URLSearchParams({ from: iso(w.from), to: iso(w.to), interval: w.hourly ? 'hour' : 'day', limit: '10' });
  if (ids.length) aq.set('place', ids.join(','));
  // The charts come from one call and show as soon as it answers; the
  // per-place counts behind the heat layer take several calls and follow.
  // They are asked for afterwards, so they do not slow the charts down.
  const scope = ids.length ? ids : state.places.map((p) => p.id);
  try {
    const data = await api(`/v1/analytics?${aq}`, { signal });
    state.data = { ...data, window: w };
    state.counts = null;
    render();
    state.counts = await placeCounts(scope, w.from, w.to, signal);
    renderKPIs(state.data);
    renderHeat();
  } catch (err) {
    if (err.name !== 'AbortError') toast(err.message, 'error');
  }
}

function render() {
  const d = state.data;
  renderKPIs(d);
  renderVolume(d);
  heatmap($('heatmap'), d.hour_of_week);
  renderTerms(d);
  renderLeaderboard(d);
  renderAuthors(d);
}

let resizing;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { if (state.data) { renderVolume(state.data); heatmap($('heatmap'), state.data.hour_of_week); renderTerms(state.data); } }, 150);
});

// renderTerms draws the top lists: hashtags, and what the posts show and
// say (interests, brands, objects in the pictures).
function renderTerms(d) {
  const terms = (list, prefix = '') => (list || []).map((t) => ({ label: `${prefix}${t.term}`, value: t.posts }));
  bars($('hashtags'), terms(d.top_hashtags, '#'), { empty: 'No hashtags in this range.' });
  bars($('interests'), terms(d.top_interests), { empty: 'No interests in this range.' });
  bars($('brands'), terms(d.top_brands), { empty: 'No brands in this range.' });
  bars($('labels'), terms(d.top_labels), { empty: 'No labelled pictures in this range (the vision workers label pictures of posts at your places).' });
}

function renderKPIs(d) {
  const box = clear($('kpis'));
  let best = [0, 0, -1];
  d.hour_of_week.forEach((row, day) => row.forEach((v, hr) => { if (v > best[2]) best = [day, hr, v]; }));
  const active = state.counts ? [...state.counts.values()].filter((c) => c.posts > 0).length : null;
  const stories = d.volume.filter((v) => v.kind === 'story').reduce((a, v) => a + v.posts, 0);
  const kpi = (label, value, sub) => h('div', { class: 'kpi' }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }), h('div', { class: 'sub', text: sub }));
  const days = Math.max(1, (d.window.to - d.window.from) / 86400e3);
  box.append(
    kpi('Posts', num(d.posts), `${compact(d.posts / days)} a day`),
    kpi('Authors', num(d.authors), d.authors ? `${(d.posts / d.authors).toFixed(1)} posts each` : '—'),
    kpi('Active places', active === null ? '…' : num(active), `of ${num(placeIDs().length || state.places.length)} places`),
    kpi('Busiest hour', best[2] > 0 ? `${DAYS[best[0]].slice(0, 3)} ${String(best[1]).padStart(2, '0')}:00` : '—',
      d.posts ? `UTC · stories ${Math.round((100 * stories) / d.posts)}% of posts` : 'UTC'),
  );
}

function renderVolume(d) {
  const w = d.window;
  const step = w.hourly ? 3600e3 : 86400e3;
  const byStart = new Map();
  for (let t = Math.floor(w.from / step) * step; t < w.to; t += step) byStart.set(t, { start: new Date(t), values: {} });
  for (const v of d.volume) {
    const t = Date.parse(v.start);
    if (!byStart.has(t)) byStart.set(t, { start: new Date(t), values: {} });
    byStart.get(t).values[v.kind] = (byStart.get(t).values[v.kind] || 0) + v.posts;
  }
  const buckets = [...byStart.values()].sort((a, b) => a.start - b.start);
  const used = KINDS.filter((k) => buckets.some((b) => b.values[k.key]));
  const legend = clear($('volume-legend'));
  for (const k of used) {
    const sw = h('i');
    sw.style.background = k.color;
    legend.append(h('span', {}, sw, k.label));
  }
  stackedBars($('volume-chart'), buckets, used.length ? used : KINDS, { hourly: w.hourly });
}

function renderLeaderboard(d) {
  const box = clear($('leaderboard'));
  if (d.places.length === 0) { box.append(h('p', { class: 'muted', text: 'No posts at these places in this range.' })); return; }
  const max = Math.max(1, ...d.places.map((p) => p.posts));
  const rows = d.places.map((p, i) => {
    const bar = h('div', { class: 'bar' });
    bar.style.width = `${(100 * p.posts) / max}%`;
    return h('tr', {},
      h('td', { class: 'pos', text: String(i + 1) }),
      h('td', { class: 'nm', title: p.name }, h('a', { href: `/app/feed?place=${p.place_id}`, text: p.name })),
      h('td', { class: 'barcell' }, bar),
      h('td', { class: 'n', text: num(p.posts) }),
      h('td', { class: 'n muted', text: num(p.authors) }));
  });
  box.append(h('table', { class: 'rank' },
    h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: 'Place' }), h('th', {}), h('th', { class: 'n', text: 'Posts' }), h('th', { class: 'n', text: 'Authors' }))),
    h('tbody', {}, rows)));
}

function renderAuthors(d) {
  const box = clear($('authors'));
  if (d.top_authors.length === 0) { box.append(h('p', { class: 'muted', text: 'No authors in this range.' })); return; }
  const rows = d.top_authors.map((a, i) => h('tr', {},
    h('td', { class: 'pos', text: String(i + 1) }),
    h('td', { class: 'nm' }, h('div', { class: 'author' }, avatar(a.author),
      h('div', { class: 'who' },
        h('div', { class: 'dn' }, h('span', { text: a.author.display_name || a.author.handle }), a.author.verified ? verifiedBadge() : null),
        h('div', { class: 'handle', text: a.author.handle ? `@${a.author.handle}` : '' })))),
    h('td', { class: 'n', text: compact(a.author.followers) }),
    h('td', { class: 'n', text: num(a.posts) })));
  box.append(h('table', { class: 'rank' },
    h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: 'Author' }), h('th', { class: 'n', text: 'Followers' }), h('th', { class: 'n', text: 'Posts here' }))),
    h('tbody', {}, rows)));
}

// renderHeat shows where the activity is: places with posts, merged into
// one circle when they would overlap at the current zoom (a city at world
// view), each circle's area and colour growing with its posts.
let heatRows = [];
function renderHeat() {
  map.invalidateSize(); // the card may have changed size since the map was made
  const byID = new Map(state.places.map((p) => [p.id, p]));
  heatRows = [...state.counts.entries()]
    .filter(([id, c]) => c.posts > 0 && byID.has(id))
    .map(([id, c]) => ({ p: byID.get(id), c }));
  if (heatRows.length === 0) { heatLayer.clearLayers(); return; }
  const b = L.latLngBounds(heatRows.map((r) => center(r.p)));
  map.fitBounds(b, { padding: [24, 24], maxZoom: 13, animate: false });
  drawHeat();
}

map.on('zoomend', drawHeat);

function drawHeat() {
  heatLayer.clearLayers();
  const cell = 34; // px: closer places share a circle
  const cells = new Map();
  const zoom = map.getZoom();
  for (const r of heatRows) {
    const pt = map.project(center(r.p), zoom);
    const k = `${Math.floor(pt.x / cell)}:${Math.floor(pt.y / cell)}`;
    const c = cells.get(k) || { posts: 0, authors: 0, x: 0, y: 0, rows: [] };
    c.posts += r.c.posts;
    c.authors += r.c.authors;
    c.x += pt.x * r.c.posts;
    c.y += pt.y * r.c.posts;
    c.rows.push(r);
    cells.set(k, c);
  }
  const list = [...cells.values()].sort((a, b) => b.posts - a.posts);
  const max = Math.max(1, list[0]?.posts || 1);
  for (const c of list) {
    const t = c.posts / max;
    const at = map.unproject([c.x / c.posts, c.y / c.posts], zoom);
    c.rows.sort((a, b) => b.c.posts - a.c.posts);
    const top = c.rows[0].p;
    const label = c.rows.length === 1
      ? tip(top.name, `${num(c.posts)} posts · ${num(c.authors)} authors`)
      : tip(`${num(c.rows.length)} places · ${num(c.posts)} posts`, `busiest: ${top.name}`);
    L.circleMarker(at, {
      radius: 5 + 19 * Math.sqrt(t), color: '#fff', weight: 1.5, fillColor: heat(0.2 + 0.8 * t), fillOpacity: 0.88,
    }).bindTooltip(label, { className: 'place-tip', direction: 'top' })
      .on('click', () => {
        if (c.rows.length === 1) location.assign(`/app/feed?place=${top.id}`);
        else map.flyToBounds(L.latLngBounds(c.rows.map((r) => center(r.p))), { padding: [30, 30], maxZoom: 14 });
      })
      .addTo(heatLayer);
  }
}
