// Audiences: describe the people who post at the workspace's places by
// criteria (places, groups, window, hours, interests, followers…), preview
// what they are like, save the definition (each save is a new version),
// compare two, see how they move between places, export them as segments,
// and the places' foot traffic.
//
// Every number here comes from the API after the privacy floor of package
// audience: rows of fewer than k authors are absent, counts carry noise and
// are rounded. The page says so wherever something is missing, and never
// tries to recompute what the floor took out.
import { api, h, clear, num, compact, iso, toast, meta, chunks, can, denied } from './lib.js';
import { heatmap, bars, stackedBars } from './charts.js';

const $ = (id) => document.getElementById(id);
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const TRAFFIC_DAYS = 30;
const TRAFFIC_ROWS = 25; // shown before "Show all"
const MAX_CHECKS = 300; // place rows in the list; search finds the rest
const HIDDEN = 'hidden: fewer than k authors';

const form = $('builder');
const state = {
  places: [],
  byID: new Map(),
  selected: new Set(), // place ids
  groups: new Set(),
  hours: new Set(),
  weekdays: new Set(),
  exclude: new Set(), // audience ids
  kept: {}, // criteria the form has no field for (from, to, categories), kept on save
  audiences: [],
  editing: null, // the loaded saved audience: {id, version, name, latest}
  privacy: null,
  main: null, // {title, sub, data}
  other: null, // the compared audience, the same shape
  preview: null, // AbortController of the running preview
  redraw: [], // chart drawers, called again when the window is resized
  traffic: [],
  trafficAll: false,
};

const restricted = (p) => Boolean(p && (p.sensitive || p.sensitive_category));


async function init() {
  renderHourChips();
  renderWeekdayChips();
  const [placesRes, audiences, privacy] = await Promise.all([
    api('/v1/places'),
    loadAudiences(),
    // The floors, to state them before the first preview; a role that may
    // not read settings still gets them with every answer.
    api('/v1/settings/privacy').catch(() => null),
  ]);
  state.privacy = privacy;
  state.places = placesRes.places.sort((a, b) => a.name.localeCompare(b.name));
  for (const p of state.places) state.byID.set(p.id, p);
  renderPlaces();
  renderGroups();
  loadTraffic();
  const want = Number(new URL(location.href).searchParams.get('audience'));
  const a = audiences.find((x) => x.id === want);
  if (a) load(a);
}

// ---- the builder

function chip(label, pressed, onToggle, attrs = {}) {
  return h('button', {
    type: 'button', class: 'chip', 'aria-pressed': pressed ? 'true' : 'false', ...attrs,
    on: { click: (e) => { const on = e.currentTarget.getAttribute('aria-pressed') !== 'true'; e.currentTarget.setAttribute('aria-pressed', String(on)); onToggle(on); } },
  }, label);
}

const toggle = (set, v) => (on) => (on ? set.add(v) : set.delete(v));

function renderHourChips() {
  const box = clear($('hour-chips'));
  for (let hr = 0; hr < 24; hr++) {
    box.append(chip(String(hr).padStart(2, '0'), state.hours.has(hr), toggle(state.hours, hr),
      { 'aria-label': `${String(hr).padStart(2, '0')}:00 to ${String(hr).padStart(2, '0')}:59 UTC`, dataset: { hour: hr } }));
  }
}

function renderWeekdayChips() {
  const box = clear($('weekday-chips'));
  DAYS.forEach((d, i) => box.append(chip(d.slice(0, 3), state.weekdays.has(i + 1), toggle(state.weekdays, i + 1),
    { 'aria-label': d, dataset: { weekday: i + 1 } })));
}

function renderGroups() {
  const names = [...new Set(state.places.flatMap((p) => p.groups || []))].sort();
  for (const g of state.groups) if (!names.includes(g)) names.push(g); // a saved audience's group that is gone
  const box = clear($('group-chips'));
  for (const g of names) box.append(chip(g, state.groups.has(g), toggle(state.groups, g), { dataset: { group: g } }));
  $('group-empty').hidden = names.length > 0;
  const sel = $('cv-group');
  const keep = sel.value;
  clear(sel).append(h('option', { value: '', text: 'Choose a group' }));
  for (const g of names) sel.append(h('option', { value: g, text: g }));
  sel.value = names.includes(keep) ? keep : '';
}

function renderPlaces() {
  const list = clear($('place-checks'));
  const needle = $('place-search').value.trim().toLowerCase();
  const items = state.places.filter((p) => !needle || `${p.name} ${p.category || ''} ${p.brand || ''} ${(p.groups || []).join(' ')}`.toLowerCase().includes(needle));
  // Chosen places first, sensitive ones last: the selection stays in view.
  const rank = (p) => (state.selected.has(p.id) ? 0 : restricted(p) ? 2 : 1);
  items.sort((a, b) => rank(a) - rank(b));
  for (const p of items.slice(0, MAX_CHECKS)) {
    const sensitive = restricted(p);
    const box = h('input', { type: 'checkbox', value: p.id, disabled: sensitive, 'aria-describedby': sensitive ? `sens-${p.id}` : null });
    box.checked = !sensitive && state.selected.has(p.id);
    box.addEventListener('change', () => { toggle(state.selected, p.id)(box.checked); summarize(); });
    list.append(h('li', { class: sensitive ? 'sensitive' : null },
      h('label', { title: sensitive ? 'Sensitive places never count towards audiences.' : null }, box,
        h('span', { class: 'pl-name', text: p.name }),
        sensitive
          ? h('span', { class: 'pl-note', id: `sens-${p.id}`, text: 'sensitive: cannot be targeted' })
          : h('span', { class: 'pl-cat', text: p.category || '' }))));
  }
  if (items.length > MAX_CHECKS) list.append(h('li', { class: 'more muted small', text: `${num(items.length - MAX_CHECKS)} more: search to find them` }));
  if (items.length === 0) list.append(h('li', { class: 'more muted small', text: needle ? 'No place matches.' : 'No places yet: add some on the Places page.' }));
  summarize();
}

function summarize() {
  const n = state.selected.size;
  $('place-summary').textContent = n === 0 ? 'All places' : n === 1 ? state.byID.get([...state.selected][0])?.name || '1 place' : `${num(n)} places`;
  $('place-clear').hidden = n === 0;
}

$('place-search').addEventListener('input', renderPlaces);
$('place-clear').addEventListener('click', () => { state.selected.clear(); renderPlaces(); });

function renderExclude() {
  const list = clear($('exclude-checks'));
  const others = state.audiences.filter((a) => a.id !== state.editing?.id);
  for (const a of others) {
    const box = h('input', { type: 'checkbox', value: a.id });
    box.checked = state.exclude.has(a.id);
    box.addEventListener('change', () => toggle(state.exclude, a.id)(box.checked));
    list.append(h('li', {}, h('label', {}, box, h('span', { class: 'pl-name', text: a.name }), h('span', { class: 'pl-cat', text: `v${a.version}` }))));
  }
  list.hidden = others.length === 0;
  $('exclude-empty').hidden = others.length > 0;
}

// FormError is a criterion the API would refuse; it names its field.
class FormError extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

function intField(name, label, lo, hi) {
  const el = form.elements[name];
  const raw = el.value.trim();
  if (raw === '') return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < lo || (hi !== undefined && v > hi)) {
    throw new FormError(hi === undefined ? `${label} must be a whole number of at least ${lo}.` : `${label} must be a whole number from ${lo} to ${num(hi)}.`, el);
  }
  return v;
}

const terms = (name) => [...new Set(form.elements[name].value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))];

/** criteria reads the form into the API's criteria; it throws FormError. */
function criteria() {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const c = { ...state.kept };
  const places = [...state.selected].filter((id) => state.byID.has(id) && !restricted(state.byID.get(id)));
  if (places.length) c.places = places.sort((a, b) => a - b);
  if (state.groups.size) c.groups = [...state.groups].sort();
  const days = intField('within_days', 'Window', 1, 3660);
  if (days !== undefined) c.within_days = days;
  const posts = intField('min_posts', 'Min posts', 1, 10000);
  if (posts !== undefined) c.min_posts = posts;
  if (state.hours.size) c.hours = [...state.hours].sort((a, b) => a - b);
  if (state.weekdays.size) c.weekdays = [...state.weekdays].sort((a, b) => a - b);
  for (const name of ['interests', 'brands', 'languages']) {
    const list = terms(name);
    if (list.some((t) => t.length > 200)) throw new FormError('Each term must be at most 200 characters.', form.elements[name]);
    if (list.length) c[name] = list;
  }
  const fmin = intField('followers_min', 'Followers from', 0);
  const fmax = intField('followers_max', 'Followers to', 0);
  if (fmax && fmin && fmax < fmin) throw new FormError('Followers to must be at least Followers from (or empty for no limit).', form.elements.followers_max);
  if (fmin || fmax) c.followers = { min: fmin || 0, max: fmax || 0 };
  const exclude = [...state.exclude].filter((id) => id !== state.editing?.id && state.audiences.some((a) => a.id === id));
  if (exclude.length) c.exclude = exclude.sort((a, b) => a - b);
  return c;
}

/** formCriteria is criteria(), or null after showing why the form has none. */
function formCriteria() {
  try {
    const c = criteria();
    showFormError(null);
    return c;
  } catch (err) {
    showFormError(err);
    return null;
  }
}

function showFormError(err) {
  const box = $('builder-error');
  if (!err) { box.hidden = true; return; }
  box.textContent = err.message;
  box.hidden = false;
  if (err.field) { err.field.setAttribute('aria-invalid', 'true'); err.field.focus(); }
}

/** fill puts saved criteria into the form. */
function fill(name, c) {
  const f = form.elements;
  f.name.value = name || '';
  state.selected = new Set(c.places || []);
  state.groups = new Set(c.groups || []);
  state.hours = new Set(c.hours || []);
  state.weekdays = new Set(c.weekdays || []);
  state.exclude = new Set(c.exclude || []);
  f.within_days.value = c.within_days || '';
  f.min_posts.value = c.min_posts || '';
  f.interests.value = (c.interests || []).join(', ');
  f.brands.value = (c.brands || []).join(', ');
  f.languages.value = (c.languages || []).join(', ');
  f.followers_min.value = c.followers?.min || '';
  f.followers_max.value = c.followers?.max || '';
  // Criteria set through the API that the form has no field for survive a save.
  state.kept = {};
  for (const k of ['from', 'to', 'categories']) if (c[k] !== undefined) state.kept[k] = c[k];
  $('place-search').value = '';
  renderPlaces();
  renderGroups();
  renderHourChips();
  renderWeekdayChips();
  renderExclude();
  showFormError(null);
}

form.addEventListener('submit', (e) => { e.preventDefault(); preview(); });
$('save').addEventListener('click', () => save(false));
$('save-new').addEventListener('click', () => save(true));
$('new-audience').addEventListener('click', () => {
  state.editing = null;
  fill('', {});
  renderEditing();
  renderSaved();
  history.replaceState(null, '', location.pathname);
  form.elements.name.focus();
});

// ---- saved audiences

async function loadAudiences() {
  const { audiences } = await api('/v1/audiences');
  state.audiences = audiences.sort((a, b) => a.name.localeCompare(b.name));
  renderSaved();
  renderExclude();
  renderCompare();
  return state.audiences;
}

function renderSaved() {
  const list = clear($('saved-list'));
  for (const a of state.audiences) {
    const current = state.editing?.id === a.id;
    list.append(h('li', { class: 'saved-item', 'aria-current': current ? 'true' : null, dataset: { id: a.id } },
      h('button', { type: 'button', class: 'saved-load', title: `Load “${a.name}”`, on: { click: () => load(a) } },
        h('span', { class: 'saved-name', text: a.name }),
        h('span', { class: 'muted small', text: `saved ${new Date(a.created_at).toLocaleDateString('en', { month: 'short', day: 'numeric', year: 'numeric' })}${a.created_by ? ` by ${a.created_by}` : ''}` })),
      h('span', { class: 'tag', text: `v${a.version}` }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm btn-danger', 'aria-label': `Delete ${a.name}`, dataset: { needs: 'audiences:write' }, on: { click: () => remove(a) } }, 'Delete')));
  }
  $('saved-empty').hidden = state.audiences.length > 0;
  if (!can('audiences:write')) $('saved-empty').textContent = 'None yet.';
}

function renderEditing() {
  const e = state.editing;
  $('editing').hidden = !e;
  $('save-new').hidden = !e;
  $('save').textContent = e ? 'Save version' : 'Save';
  if (!e) return;
  $('editing-name').textContent = e.name;
  const tag = clear($('editing-version'));
  if (e.latest > 1) {
    // Older versions can be looked at; saving one makes it the latest.
    const sel = h('select', { class: 'version-select', 'aria-label': 'Version', on: { change: (ev) => loadVersion(e.id, Number(ev.target.value)) } });
    for (let v = e.latest; v >= 1; v--) sel.append(h('option', { value: v, text: v === e.latest ? `v${v} (latest)` : `v${v}` }));
    sel.value = String(e.version);
    tag.append(sel);
  } else {
    tag.append(`v${e.version}`);
  }
}

function load(a) {
  state.editing = { id: a.id, version: a.version, latest: a.version, name: a.name };
  fill(a.name, a.criteria || {});
  renderEditing();
  renderSaved();
  history.replaceState(null, '', `?audience=${a.id}`);
  preview();
}

async function loadVersion(id, version) {
  try {
    const a = await api(`/v1/audiences/${id}?version=${version}`);
    state.editing = { ...state.editing, version: a.version, name: a.name };
    fill(a.name, a.criteria || {});
    renderEditing();
    preview();
  } catch (err) {
    toast(err.message, 'error');
  }
}

async function save(asNew) {
  let c;
  try {
    const name = form.elements.name.value.trim();
    if (!name) throw new FormError('Give the audience a name to save it.', form.elements.name);
    c = criteria();
    showFormError(null);
    const body = { name, criteria: c };
    const e = state.editing;
    busy($('save'), true);
    const a = e && !asNew
      ? await api(`/v1/audiences/${e.id}`, { method: 'PUT', body, action: 'save audiences' })
      : await api('/v1/audiences', { method: 'POST', body, action: 'save audiences' });
    state.editing = { id: a.id, version: a.version, latest: a.version, name: a.name };
    history.replaceState(null, '', `?audience=${a.id}`);
    await loadAudiences();
    renderEditing();
    toast(`Saved “${a.name}”, version ${a.version}.`);
  } catch (err) {
    if (err instanceof FormError) showFormError(err);
    else toast(err.message, 'error');
  } finally {
    busy($('save'), false);
  }
}

async function remove(a) {
  if (!confirm(`Delete the audience “${a.name}” and all its versions? Audiences that exclude it stop doing so.`)) return;
  try {
    await api(`/v1/audiences/${a.id}`, { method: 'DELETE', action: 'delete audiences' });
    if (state.editing?.id === a.id) {
      state.editing = null;
      renderEditing();
      history.replaceState(null, '', location.pathname);
    }
    state.exclude.delete(a.id);
    if (Number($('compare').value) === a.id) { $('compare').value = ''; state.other = null; renderInsights(); }
    await loadAudiences();
    toast(`Deleted “${a.name}”.`);
  } catch (err) {
    toast(err.message, 'error');
  }
}

function busy(btn, on) {
  btn.disabled = on;
  btn.setAttribute('aria-busy', on ? 'true' : 'false');
}

// ---- insight

async function preview() {
  const c = formCriteria();
  if (!c) return;
  if (state.preview) state.preview.abort();
  state.preview = new AbortController();
  const signal = state.preview.signal;
  const box = clear($('insights'));
  box.setAttribute('aria-busy', 'true');
  box.append(h('div', { class: 'card wide' }, h('div', { class: 'skeleton' })));
  busy($('preview'), true);
  const title = form.elements.name.value.trim() || 'These criteria';
  try {
    // The compared audience failing (deleted meanwhile) leaves this one standing.
    const [data, other] = await Promise.all([
      api('/v1/audiences/insight', { method: 'POST', body: { criteria: c }, signal }),
      compareID() ? insightOf(compareID(), signal).catch((err) => {
        if (err.name !== 'AbortError') toast(`Compare: ${err.message}`, 'error');
        return null;
      }) : null,
    ]);
    state.main = { title, sub: describe(c), data };
    state.other = other;
    renderInsights();
    $('insight-status').textContent = data.suppressed ? floorMessage(data.floor) : `Insight ready: ${num(data.authors)} authors.`;
  } catch (err) {
    if (err.name === 'AbortError') return;
    clear(box).append(h('p', { class: 'card wide empty-card muted', text: `No insight: ${err.message}` }));
    toast(err.message, 'error');
  } finally {
    if (!signal.aborted) { box.removeAttribute('aria-busy'); busy($('preview'), false); }
  }
}

const compareID = () => Number($('compare').value) || 0;

async function insightOf(id, signal) {
  const a = state.audiences.find((x) => x.id === id);
  const data = await api('/v1/audiences/insight', { method: 'POST', body: { audience_id: id }, signal });
  return { title: a ? a.name : `Audience ${id}`, sub: a ? `Saved, v${a.version} · ${describe(a.criteria || {})}` : '', data };
}

function renderCompare() {
  const sel = $('compare');
  const keep = sel.value;
  clear(sel).append(h('option', { value: '', text: 'Nobody' }));
  for (const a of state.audiences) sel.append(h('option', { value: a.id, text: `${a.name} (v${a.version})` }));
  sel.value = state.audiences.some((a) => String(a.id) === keep) ? keep : '';
  sel.disabled = state.audiences.length === 0;
}

$('compare').addEventListener('change', async () => {
  const id = compareID();
  if (!id) { state.other = null; renderInsights(); return; }
  if (!state.main) { preview(); return; }
  try {
    state.other = await insightOf(id);
    renderInsights();
  } catch (err) {
    toast(err.message, 'error');
  }
});

/** describe sums criteria up in a line, for the insight's heading. */
function describe(c) {
  const parts = [];
  if (c.places?.length) parts.push(c.places.length === 1 ? state.byID.get(c.places[0])?.name || '1 place' : `${num(c.places.length)} places`);
  if (c.groups?.length) parts.push(`groups ${c.groups.join(', ')}`);
  if (!c.places?.length && !c.groups?.length) parts.push('all places');
  parts.push(c.from ? `from ${c.from.slice(0, 10)}` : `last ${num(c.within_days || 90)} days`);
  if (c.min_posts > 1) parts.push(`${num(c.min_posts)}+ posts`);
  if (c.hours?.length) parts.push(`${c.hours.length} hours`);
  if (c.weekdays?.length) parts.push(c.weekdays.map((d) => DAYS[d - 1]?.slice(0, 3)).join(' '));
  for (const k of ['interests', 'brands', 'languages']) if (c[k]?.length) parts.push(c[k].join(', '));
  if (c.followers) parts.push(`${compact(c.followers.min)}${c.followers.max ? `–${compact(c.followers.max)}` : '+'} followers`);
  if (c.exclude?.length) parts.push(`excluding ${c.exclude.length}`);
  return parts.join(' · ');
}

function renderInsights() {
  const box = clear($('insights'));
  state.redraw = [];
  box.classList.toggle('compare', Boolean(state.main && state.other));
  if (!state.main) {
    box.append(h('p', { class: 'card wide empty-card muted', text: 'Set criteria and press Preview to see who this audience is.' }));
    return;
  }
  const views = [insightView(state.main), state.other ? insightView(state.other) : null].filter(Boolean);
  box.append(...views.map((v) => v.el));
  // Charts size themselves to their box, so they are drawn once in the page.
  for (const v of views) { v.draw(); state.redraw.push(v.draw); }
  $('insight-title').textContent = state.other ? 'Insight, side by side' : 'Insight';
}

let resizing;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { for (const d of state.redraw) d(); }, 150);
});

function floorText(f) {
  if (!f) return '';
  const rounding = f.rounding > 1 ? `rounded to multiples of ${num(f.rounding)}` : 'not rounded';
  return `Privacy floor: rows of fewer than k = ${num(f.min_authors)} authors are hidden; counts carry Laplace noise (ε = ${f.epsilon}) and are ${rounding}.`;
}

function floorMessage(f) {
  return `Below the privacy floor (k = ${num(f?.min_authors ?? state.privacy?.min_authors ?? 0)}): nothing can be shown`;
}

function kpi(label, value, sub, cls) {
  return h('div', { class: 'kpi' }, h('div', { class: 'label', text: label }), h('div', { class: `value ${cls || ''}`, text: value }), h('div', { class: 'sub', text: sub }));
}

function hiddenValue() {
  return h('abbr', { title: HIDDEN, text: '–' });
}

/** insightView builds one insight; draw() fills its charts once it is in the page. */
function insightView({ title, sub, data: d }) {
  const el = h('article', { class: 'insight', 'aria-label': `Insight: ${title}` },
    h('div', { class: 'insight-head wide' }, h('h3', { text: title }), h('span', { class: 'muted small', text: sub })));
  const foot = h('p', { class: 'floor-note wide muted small', text: floorText(d.floor) });
  if (d.suppressed) {
    el.append(h('div', { class: 'kpi wide suppressed' },
      h('div', { class: 'label', text: 'Size' }),
      h('p', { class: 'floor-message', role: 'status', text: floorMessage(d.floor) }),
      h('div', { class: 'sub', text: 'The audience has too few authors to describe without pointing at people. Widen the criteria.' })), foot);
    return { el, draw() {} };
  }
  const newN = d.new ?? null, ret = d.returning ?? null;
  // Noise is drawn per count, so a part may come out a little larger than the whole.
  const share = (v) => (v !== null && d.authors > 0 ? `${Math.min(100, Math.round((100 * v) / d.authors))}% of the audience` : HIDDEN);
  const kpis = h('div', { class: 'kpis wide' },
    kpi('Size', num(d.authors), 'distinct authors', 'size-value'),
    newN === null ? h('div', { class: 'kpi' }, h('div', { class: 'label', text: 'New' }), h('div', { class: 'value' }, hiddenValue()), h('div', { class: 'sub', text: 'first posts at your places' })) : kpi('New', num(newN), `${share(newN)}, first seen in the window`),
    ret === null ? h('div', { class: 'kpi' }, h('div', { class: 'label', text: 'Returning' }), h('div', { class: 'value' }, hiddenValue()), h('div', { class: 'sub', text: 'posted there before too' })) : kpi('Returning', num(ret), `${share(ret)}, posted there before too`));
  el.append(kpis);

  const cards = [];
  const card = (name, hint, cls = '') => {
    const chart = h('div', { class: 'chart' });
    el.append(h('section', { class: `card ${cls}` },
      h('div', { class: 'card-head' }, h('h4', { text: name }), hint ? h('span', { class: 'muted small', text: hint }) : null), chart));
    return chart;
  };
  const termItems = (list) => (list || []).map((t) => ({ label: t.term, value: t.authors }));
  const lists = [
    ['Interests', 'From what they post about', termItems(d.interests)],
    ['Brands', 'Named or seen in their posts', termItems(d.brands)],
    ['Categories', 'Of the places they post at', termItems(d.categories)],
    ['Languages', 'Main language', termItems(d.languages)],
    ['Homes', 'Where they live, city level', (d.homes || []).map((x) => ({ label: x.home, value: x.authors }))],
    ['Your places', 'Authors per place, in the window', (d.places || []).map((x) => ({ label: x.name, value: x.authors }))],
  ];
  for (const [name, hint, items] of lists) {
    const chart = card(name, hint);
    cards.push(() => bars(chart, items.slice(0, 10), { empty: `Nothing above the floor (k = ${num(d.floor?.min_authors)}).`, label: `${name}: authors` }));
  }

  const how = card('When they post', 'Hour of week, UTC · grey: fewer than k authors or none', 'wide how');
  cards.push(() => {
    const m = Array.from({ length: 7 }, () => Array(24).fill(0));
    for (const slot of d.hour_of_week || []) {
      if (slot.weekday >= 1 && slot.weekday <= 7 && slot.hour >= 0 && slot.hour < 24) m[slot.weekday - 1][slot.hour] = slot.authors;
    }
    let best = null;
    m.forEach((row, di) => row.forEach((v, hr) => { if (v > 0 && (!best || v > best.v)) best = { v, di, hr }; }));
    const label = best
      ? `Authors by hour of week, UTC. Busiest: ${DAYS[best.di]} ${String(best.hr).padStart(2, '0')}:00 with ${num(best.v)} authors.`
      : 'Authors by hour of week, UTC: every hour is below the privacy floor.';
    heatmap(how, m, { unit: 'authors', label, zero: HIDDEN });
  });

  const followers = card('Followers', 'Authors per follower range');
  cards.push(() => bars(followers, (d.followers || []).map((b) => ({ label: span(b.span), value: b.authors })),
    { empty: `Nothing above the floor (k = ${num(d.floor?.min_authors)}).`, label: 'Authors per follower range' }));

  const trend = card('Weekly trend', 'Active authors per week (Monday, UTC)');
  cards.push(() => {
    const weeks = (d.trend || []).map((w) => ({ start: new Date(w.week), values: { authors: w.authors } })).sort((a, b) => a.start - b.start);
    if (weeks.length === 0) { clear(trend).append(h('p', { class: 'muted', text: `Every week is below the floor (k = ${num(d.floor?.min_authors)}).` })); return; }
    stackedBars(trend, weeks, [{ key: 'authors', label: 'Authors', color: '#e8467c' }], { height: 180, unit: 'authors', label: 'Active authors per week' });
  });
  el.append(foot);
  return { el, draw() { for (const c of cards) c(); } };
}

function span(s) {
  if (!s) return '';
  return s.max ? `${compact(s.min)}–${compact(s.max)}` : `${compact(s.min)}+`;
}

// ---- exports

$('exports').addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-kind]');
  if (btn) download(btn);
});

async function download(btn) {
  const status = $('export-status');
  const c = formCriteria();
  if (!c) return;
  const { kind, format } = btn.dataset;
  busy(btn, true);
  status.hidden = false;
  status.className = 'export-status small muted';
  status.textContent = `Preparing ${btn.textContent}…`;
  try {
    // Not api(): the answer is a file, not JSON.
    const res = await fetch('/v1/audiences/export', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: '*/*', 'X-CSRF-Token': meta('csrf-token') },
      body: JSON.stringify({ criteria: c, kind, format }),
    });
    if (res.status === 401) {
      location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
      return;
    }
    if (!res.ok) {
      const err = (await res.json().catch(() => null))?.error;
      if (res.status === 403 && err?.reason === 'scope') {
        status.hidden = true;
        toast(denied('export audiences'), 'error');
        return;
      }
      if (err?.reason === 'below_floor') {
        const floor = state.privacy?.segment_floor;
        status.className = 'export-status small floor-message';
        status.textContent = `Below the export floor${floor ? ` (at least ${num(floor)} authors)` : ''}: this audience is too small to export. Nothing was downloaded.`;
        return;
      }
      throw new Error(err?.message || `Export failed (${res.status}).`);
    }
    const blob = await res.blob();
    const name = fileName(res.headers.get('Content-Disposition')) || `audience-${kind}.${format === 'meta' ? 'json' : format}`;
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
    status.className = 'export-status small';
    status.textContent = `Downloaded ${name} (${compact(blob.size)} bytes).`;
  } catch (err) {
    status.className = 'export-status small error-text';
    status.textContent = err.message;
  } finally {
    busy(btn, false);
  }
}

/** fileName reads the file name of a Content-Disposition header. */
function fileName(header) {
  if (!header) return '';
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  let name = '';
  if (star) {
    try { name = decodeURIComponent(star[1]); } catch { name = ''; }
  }
  if (!name) name = /filename\s*=\s*"?([^";]+)"?/i.exec(header)?.[1] || '';
  return name.replace(/[/\\\u0000-\u001f]/g, '_').slice(0, 200);
}

// ---- cross-visitation

$('cv-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const group = $('cv-group').value;
  const out = $('cv-result');
  if (!group) { $('cv-group').focus(); return; }
  const c = formCriteria();
  if (!c) return;
  busy($('cv-show'), true);
  clear(out).append(h('div', { class: 'skeleton' }));
  try {
    const d = await api('/v1/audiences/cross-visitation', { method: 'POST', body: { criteria: c, group } });
    renderMatrix(out, d, group);
  } catch (err) {
    clear(out).append(h('p', { class: 'muted', text: err.message }));
  } finally {
    busy($('cv-show'), false);
  }
});

function renderMatrix(out, d, group) {
  clear(out);
  if (d.suppressed) {
    out.append(h('p', { class: 'floor-message', role: 'status', text: floorMessage(d.floor) }), h('p', { class: 'floor-note muted small', text: floorText(d.floor) }));
    return;
  }
  const places = d.places || [];
  // The size and the matrix may share the name "authors"; the matrix is
  // the one that is a list.
  const counts = d.authors_matrix || (Array.isArray(d.authors) ? d.authors : []);
  const share = d.share || [];
  if (places.length === 0) { out.append(h('p', { class: 'muted', text: 'No places in this group can be shown (sensitive places are left out).' })); return; }
  const cell = (i, j) => {
    const v = share[i]?.[j];
    if (v === null || v === undefined) return h('td', { class: 'n hidden-cell', title: HIDDEN }, h('span', { 'aria-hidden': 'true', text: '–' }), h('span', { class: 'visually-hidden', text: HIDDEN }));
    const n = counts[i]?.[j];
    const td = h('td', { class: `n${i === j ? ' diag' : ''}`, title: n !== null && n !== undefined ? `${num(n)} authors at both` : null, text: `${Math.round(v * 100)}%` });
    if (i !== j) td.style.background = `rgba(232, 70, 124, ${(0.06 + 0.6 * v).toFixed(3)})`;
    return td;
  };
  const table = h('table', { class: 'rank matrix' },
    h('caption', { class: 'visually-hidden', text: `Cross-visitation in the group ${group}: share of each row place's audience who also posted at the column place` }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Place' }), h('th', { scope: 'col', class: 'n', text: 'Authors' }),
      places.map((p) => h('th', { scope: 'col', class: 'n col-name', title: p.name, text: p.name })))),
    h('tbody', {}, places.map((p, i) => h('tr', {},
      h('th', { scope: 'row', class: 'nm', title: p.name, text: p.name }),
      p.authors ? h('td', { class: 'n', text: num(p.authors) }) : h('td', { class: 'n', title: HIDDEN, text: '–' }),
      places.map((_, j) => cell(i, j))))));
  out.append(table, h('p', { class: 'floor-note muted small', text: floorText(d.floor) }));
}

// ---- foot traffic

async function loadTraffic() {
  const box = $('foot-traffic');
  // Sensitive places are never reported; they are not asked for.
  const ids = state.places.filter((p) => !restricted(p)).map((p) => p.id);
  if (ids.length === 0) { clear(box).append(h('p', { class: 'muted', text: 'No places to report on.' })); return; }
  const to = new Date(Math.ceil(Date.now() / 3600e3) * 3600e3);
  const from = new Date(to - TRAFFIC_DAYS * 86400e3);
  try {
    // A hundred places a call keeps each URL short.
    const pages = await Promise.all(chunks(ids, 100).map((part) => {
      const q = new URLSearchParams({ from: iso(from), to: iso(to) });
      for (const id of part) q.append('place', id);
      return api(`/v1/foot-traffic?${q}`);
    }));
    state.traffic = pages.flatMap((p) => p.places || []).sort((a, b) => b.posters - a.posters || a.name.localeCompare(b.name));
    renderTraffic();
  } catch (err) {
    clear(box).append(h('p', { class: 'muted', text: `Foot traffic: ${err.message}` }));
  }
}

function renderTraffic() {
  const box = clear($('foot-traffic'));
  const rows = state.traffic;
  if (rows.length === 0) { box.append(h('p', { class: 'muted', text: 'No place had enough posters in the last 30 days to be shown.' })); return; }
  const shown = state.trafficAll ? rows : rows.slice(0, TRAFFIC_ROWS);
  const max = Math.max(1, ...rows.map((r) => r.posters));
  const pct = (v) => (v === null || v === undefined ? h('td', { class: 'n', title: HIDDEN }, hiddenValue()) : h('td', { class: 'n', text: `${Math.round(v * 100)}%` }));
  const table = h('table', { class: 'rank traffic' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Place' }), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Bar' })),
      h('th', { scope: 'col', class: 'n', text: 'Posters' }),
      h('th', { scope: 'col', class: 'n', title: 'Share of posters with two visits or more', text: 'Repeat' }),
      h('th', { scope: 'col', class: 'n', title: 'Share of posters living more than 50 km away', text: 'Out of town' }),
      h('th', { scope: 'col', class: 'n', title: 'Median time from first to last post of a visit', text: 'Dwell' }))),
    h('tbody', {}, shown.map((r) => {
      const bar = h('div', { class: 'bar' });
      bar.style.width = `${(100 * r.posters) / max}%`;
      return h('tr', {},
        h('td', { class: 'nm', title: r.name }, h('a', { href: `/app/feed?place=${r.place_id}`, text: r.name })),
        h('td', { class: 'barcell' }, bar),
        h('td', { class: 'n', text: num(r.posters) }),
        pct(r.repeat_rate),
        pct(r.out_of_town_share),
        r.dwell_seconds === null || r.dwell_seconds === undefined ? h('td', { class: 'n', title: HIDDEN }, hiddenValue()) : h('td', { class: 'n', text: duration(r.dwell_seconds) }));
    })));
  box.append(table);
  if (rows.length > TRAFFIC_ROWS) {
    box.append(h('div', { class: 'list-more' }, h('button', {
      type: 'button', class: 'btn btn-sm', 'aria-expanded': state.trafficAll ? 'true' : 'false',
      on: { click: () => { state.trafficAll = !state.trafficAll; renderTraffic(); } },
    }, state.trafficAll ? `Show the top ${TRAFFIC_ROWS}` : `Show all ${num(rows.length)} places`)));
  }
  if (state.privacy) box.append(h('p', { class: 'floor-note muted small', text: `Places with fewer than k = ${num(state.privacy.min_authors)} posters are left out; counts carry noise (ε = ${state.privacy.epsilon}).` }));
}

function duration(sec) {
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}

// Last: init uses the helpers and listeners above.
init().catch((err) => toast(err.message, 'error'));
