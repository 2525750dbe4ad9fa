// Live feed: the newest posts at the selected places, then every new one as
// it arrives, over server-sent events (GET /v1/posts/stream). Filters are
// the API's: kind, hashtag, caption text, minimum followers, places.
import { api, h, clear, num, compact, ago, left, KINDS, kindOf, icon, avatar, verifiedBadge, lazyImage, toast } from './lib.js';

const $ = (id) => document.getElementById(id);
const MAX_CARDS = 60;
const FIRST_PAGE = 24;
const MAX_QUEUE = 40; // arrivals waiting to be shown; older ones are dropped (they were counted)
const PER_TICK = 2;
const TICK_MS = 800;

const state = {
  places: [],
  names: new Map(),
  byID: new Map(),
  selected: new Set(),
  kinds: new Set(),
  seen: new Set(),
  es: null,
  load: null, // AbortController of the current first page
  paused: false,
  queue: [],
  arrivals: [], // arrival times, for the rate
};

const url = new URL(location.href);
for (const id of (url.searchParams.get('place') || '').split(',')) if (/^\d+$/.test(id)) state.selected.add(Number(id));
for (const k of (url.searchParams.get('kind') || '').split(',')) if (KINDS.some((x) => x.key === k)) state.kinds.add(k);
const form = $('filters');
form.elements.hashtag.value = url.searchParams.get('hashtag') || '';
form.elements.q.value = url.searchParams.get('q') || '';
form.elements.min_followers.value = url.searchParams.get('min_followers') || '';

renderKinds();
init().catch((err) => toast(err.message, 'error'));

async function init() {
  const { places } = await api('/v1/places');
  state.places = places.sort((a, b) => a.name.localeCompare(b.name));
  for (const p of places) { state.names.set(p.id, p.name); state.byID.set(p.id, p); }
  renderPlaces();
  restart();
}

// ---- filters

function query() {
  const q = new URLSearchParams();
  if (state.selected.size) q.set('place', [...state.selected].join(','));
  if (state.kinds.size) q.set('kind', [...state.kinds].join(','));
  const tag = form.elements.hashtag.value.trim().replace(/^#/, '');
  if (tag) q.set('hashtag', tag);
  const text = form.elements.q.value.trim();
  if (text) q.set('q', text);
  if (form.elements.min_followers.value) q.set('min_followers', form.elements.min_followers.value);
  return q;
}

function renderKinds() {
  const box = $('kind-chips');
  clear(box);
  for (const k of KINDS) {
    const sw = h('span', { class: 'swatch' });
    sw.style.background = k.color;
    box.append(h('button', {
      type: 'button', class: 'chip', 'aria-pressed': state.kinds.has(k.key) ? 'true' : 'false', dataset: { kind: k.key },
      on: { click: () => { state.kinds.has(k.key) ? state.kinds.delete(k.key) : state.kinds.add(k.key); renderKinds(); restart(); } },
    }, sw, k.label));
  }
}

function renderPlaces() {
  const list = $('place-checks');
  const needle = $('place-search').value.trim().toLowerCase();
  clear(list);
  // Selected places first, then the rest, so the selection is always in view.
  const items = state.places.filter((p) => !needle || `${p.name} ${p.category} ${p.brand}`.toLowerCase().includes(needle));
  items.sort((a, b) => Number(state.selected.has(b.id)) - Number(state.selected.has(a.id)));
  for (const p of items.slice(0, 300)) {
    const box = h('input', { type: 'checkbox', value: p.id });
    box.checked = state.selected.has(p.id);
    box.addEventListener('change', () => {
      box.checked ? state.selected.add(p.id) : state.selected.delete(p.id);
      summarize();
      restart();
    });
    list.append(h('li', {}, h('label', {}, box, h('span', { class: 'pl-name', text: p.name }), h('span', { class: 'pl-cat', text: p.category }))));
  }
  summarize();
}

function summarize() {
  const n = state.selected.size;
  $('place-summary').textContent = n === 0 ? 'All places' : n === 1 ? state.names.get([...state.selected][0]) || '1 place' : `${n} places`;
  $('place-clear').hidden = n === 0;
}

$('place-search').addEventListener('input', renderPlaces);
// On a phone the filters fold away behind a button.
$('filters-toggle').addEventListener('click', () => {
  const open = $('filters').closest('.panel').classList.toggle('open');
  $('filters-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
});
$('place-clear').addEventListener('click', () => { state.selected.clear(); renderPlaces(); restart(); });
let typing;
form.addEventListener('input', (e) => {
  if (e.target.id === 'place-search' || e.target.type === 'checkbox') return;
  clearTimeout(typing);
  typing = setTimeout(restart, 350);
});
form.addEventListener('submit', (e) => { e.preventDefault(); restart(); });

// ---- loading and streaming

async function restart() {
  const q = query();
  history.replaceState(null, '', q.toString() ? `?${q}` : location.pathname);
  if (state.es) state.es.close();
  if (state.load) state.load.abort();
  state.load = new AbortController();
  state.seen.clear();
  state.queue = [];
  updateQueueButton();
  setStatus('', 'Loading…');
  const cards = $('cards');
  let page;
  try {
    page = await api(`/v1/posts?${q}&limit=${FIRST_PAGE}`, { signal: state.load.signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    setStatus('off', 'Offline');
    toast(err.message, 'error');
    return;
  }
  clear(cards);
  for (const p of page.posts) {
    state.seen.add(p.id);
    cards.append(card(p, false));
  }
  $('empty').hidden = page.posts.length > 0;
  // Resume from the newest post shown: nothing between the page and the
  // stream is missed (the boundary post comes twice and is dropped).
  // An empty page leaves the start to the server's clock.
  if (page.posts.length) q.set('since', page.posts[0].taken_at);
  const es = new EventSource(`/v1/posts/stream?${q}`);
  state.es = es;
  es.addEventListener('open', () => setStatus('on', 'Live'));
  es.addEventListener('error', () => setStatus('off', es.readyState === EventSource.CLOSED ? 'Disconnected' : 'Reconnecting…'));
  es.addEventListener('post', (ev) => {
    let p;
    try { p = JSON.parse(ev.data); } catch { return; }
    if (state.seen.has(p.id)) return;
    state.seen.add(p.id);
    state.arrivals.push(Date.now());
    updateRate();
    state.queue.push(p);
    if (state.queue.length > MAX_QUEUE) state.queue.splice(0, state.queue.length - MAX_QUEUE);
    if (state.paused || scrolledAway()) updateQueueButton();
  });
}

// The pump moves arrivals from the queue onto the page a few at a time,
// oldest first: a busy workspace gets a steady, readable flow instead of a
// blur, and a quiet one sees each post within a second.
setInterval(() => {
  if (state.paused || scrolledAway() || state.queue.length === 0) {
    updateQueueButton();
    return;
  }
  show(state.queue.splice(0, PER_TICK));
  updateQueueButton();
}, TICK_MS);

// scrolledAway: a reader further down the feed is not pushed around by
// new cards; they wait behind the "new posts" button.
function scrolledAway() {
  return document.querySelector('.feed-pane').scrollTop > 120 || window.scrollY > 400;
}

function show(posts) {
  const cards = $('cards');
  for (const p of posts) cards.prepend(card(p, true));
  while (cards.children.length > MAX_CARDS) cards.lastElementChild.remove();
  $('empty').hidden = cards.children.length > 0;
}

function updateQueueButton() {
  const b = $('new-posts');
  b.hidden = state.queue.length === 0 || !(state.paused || scrolledAway());
  b.textContent = `${num(state.queue.length)} new post${state.queue.length === 1 ? '' : 's'} · show`;
}

$('new-posts').addEventListener('click', () => {
  show(state.queue.splice(0).slice(-MAX_CARDS));
  updateQueueButton();
  document.querySelector('.feed-pane').scrollTo({ top: 0, behavior: 'smooth' });
});

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  $('pause').setAttribute('aria-pressed', state.paused ? 'true' : 'false');
  if (!state.paused && state.queue.length) { show(state.queue.splice(0).slice(-MAX_CARDS)); updateQueueButton(); }
});

function setStatus(cls, text) {
  $('live-status').className = `live-status ${cls}`;
  $('live-text').textContent = text;
}

// The rate line and the stories' countdowns are refreshed every few seconds.
function updateRate() {
  const cutoff = Date.now() - 60e3;
  state.arrivals = state.arrivals.filter((t) => t > cutoff);
  const n = state.arrivals.length;
  $('live-rate').textContent = state.es && state.es.readyState === EventSource.OPEN && n ? `${num(n)} new in the last minute` : '';
}

setInterval(() => {
  updateRate();
  for (const b of document.querySelectorAll('.badge.story[data-expires]')) updateStory(b);
  for (const t of document.querySelectorAll('time[data-at]')) t.textContent = ago(Date.parse(t.dataset.at));
}, 5000);

function updateStory(b) {
  const text = left(Date.parse(b.dataset.expires));
  b.lastChild.textContent = text;
  b.classList.toggle('expired', text === 'expired');
}

// ---- a post card

// placeName names where a post is: the workspace's venue if it lies in one
// (the most specific), else a geofence, else the source's own place name.
function placeName(p) {
  const mine = p.place_ids.map((id) => state.byID.get(id)).filter(Boolean);
  const venue = mine.find((pl) => pl.center);
  return (venue || mine[0])?.name || p.location.name || '';
}

function card(p, fresh) {
  const kind = kindOf(p.kind);
  const media = h('div', { class: `media k-${kind.key}` }, icon(kind.key, 'ph'));
  lazyImage(media, p.media[0]);
  const badges = h('div', { class: 'badges' }, h('span', { class: 'badge', text: kind.label }));
  if (p.kind === 'story') {
    const b = h('span', { class: 'badge story', title: 'Stories disappear at the source; geopulse deletes them then too' }, h('span', { text: '' }));
    if (p.expires_at) { b.dataset.expires = p.expires_at; updateStory(b); } else b.lastChild.textContent = 'Story';
    if (p.expired) { b.classList.add('expired'); b.lastChild.textContent = 'expired'; }
    badges.append(b);
  }
  media.append(badges);
  if (p.media.length > 1) media.append(h('span', { class: 'badge count', text: `1 / ${p.media.length}` }));

  const a = p.author;
  const who = h('div', { class: 'who' },
    h('div', { class: 'dn' }, h('span', { text: a.display_name || a.handle || 'Unknown' }), a.verified ? verifiedBadge() : null),
    h('div', { class: 'handle', text: a.handle ? `@${a.handle}` : '' }));
  const author = h('div', { class: 'author' }, avatar(a), who,
    h('div', { class: 'followers', title: `${num(a.followers)} followers` }, compact(a.followers), h('small', { text: 'followers' })));

  const body = h('div', { class: 'post-body' }, author);
  if (p.caption) body.append(h('p', { class: 'caption', text: p.caption }));
  if (p.hashtags.length) body.append(h('div', { class: 'hashtags' }, p.hashtags.slice(0, 12).map((t) => h('span', { text: `#${t}` }))));
  // Image labels (objects, scenes, text) will arrive with the vision
  // workers; the slot renders them as soon as the API carries them.
  const labels = Array.isArray(p.labels) ? p.labels : [];
  body.append(h('div', { class: 'labels', hidden: labels.length === 0 },
    labels.slice(0, 8).map((l) => h('span', { class: 'tag', text: typeof l === 'string' ? l : (l.label || l.name || '') }))));

  const where = placeName(p);
  const metaRow = h('div', { class: 'post-meta' });
  if (where) metaRow.append(h('span', { class: 'where', title: where }, where));
  metaRow.append(h('time', { datetime: p.taken_at, dataset: { at: p.taken_at }, title: new Date(p.taken_at).toLocaleString(), text: ago(Date.parse(p.taken_at)) }));
  if (p.likes) metaRow.append(h('span', { title: 'Likes' }, `♥ ${compact(p.likes)}`));
  if (p.comments) metaRow.append(h('span', { title: 'Comments' }, `💬 ${compact(p.comments)}`));
  if (p.views) metaRow.append(h('span', { title: 'Views' }, `▶ ${compact(p.views)}`));
  body.append(metaRow);

  return h('article', { class: fresh ? 'card-post fresh' : 'card-post', dataset: { id: p.id, kind: p.kind } }, media, body);
}
