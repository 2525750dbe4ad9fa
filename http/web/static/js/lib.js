// Shared helpers of the dashboard pages.
//
// Every piece of text that comes from the API (captions, handles, names,
// hashtags, place names) reaches the page through h()/s(), which set
// textContent and attributes only. Nothing here assigns innerHTML.

/** meta returns the content of <meta name=NAME>, or "". */
export function meta(name) {
  const m = document.querySelector(`meta[name="${name}"]`);
  return m ? m.content : '';
}

/** ApiError is a failed API call; message is the server's user-safe text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }

  /** denied: the session's role lacks the scope the call needs. */
  get lacksScope() {
    return this.status === 403 && this.body?.reason === 'scope';
  }
}

/**
 * can reports whether the signed-in role may use scope ("places:write"):
 * the page lists the session's scopes on <body data-scopes>. Controls that
 * need a scope are hidden by app.css; this is for what scripts build.
 */
export function can(scope) {
  return (document.body.dataset.scopes || '').split(/\s+/).includes(scope);
}

/** denied says that the role cannot do action ("delete places"). */
export function denied(action = 'do this') {
  const role = document.body.dataset.role || 'current';
  return `Your role (${role}) cannot ${action}; ask a workspace owner.`;
}

/**
 * api calls the geopulse API with the session cookie. Writes carry the
 * page's CSRF token; a 401 means the session ended, so it goes to sign-in.
 * action names what the call does ("save places"), for the message when
 * the role may not: the server's names the scope, which people do not
 * know by name.
 */
export async function api(path, { method = 'GET', body, contentType = 'application/json', signal, action } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = meta('csrf-token');
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType;
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal });
  if (res.status === 401) {
    location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, 'Your session has ended.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data && data.error;
    const e = new ApiError(res.status, (err && err.message) || `Request failed (${res.status}).`, err);
    if (e.lacksScope) e.message = denied(action);
    throw e;
  }
  return data;
}

/**
 * h builds an HTML element. attrs: class, text, dataset (object), on
 * (object of listeners), hidden, and any other attribute. Children are
 * nodes or strings (as text), nulls are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** s builds an SVG element, like h. */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'class') el.setAttribute('class', v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

const nf = new Intl.NumberFormat('en');
const cf = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
/** num formats 12345 as "12,345". */
export const num = (n) => nf.format(n || 0);
/** compact formats 12345 as "12.3K". */
export const compact = (n) => cf.format(n || 0);

/** ago says how long before now t was: "just now", "5 min ago", "3 h ago", "Jun 3". */
export function ago(t, now = Date.now()) {
  const sec = Math.max(0, (now - t) / 1000);
  if (sec < 45) return 'just now';
  if (sec < 3600) return `${Math.round(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.round(sec / 3600)} h ago`;
  return new Date(t).toLocaleDateString('en', { month: 'short', day: 'numeric' });
}

/** left says how long until t: "5 h 12 min left", "expired". */
export function left(t, now = Date.now()) {
  const min = Math.floor((t - now) / 60000);
  if (min <= 0) return 'expired';
  if (min < 60) return `${min} min left`;
  const hrs = Math.floor(min / 60);
  return `${hrs} h ${min % 60} min left`;
}

/** KINDS are the post kinds in the API's order, with their colours. */
export const KINDS = [
  { key: 'photo', label: 'Photo', color: '#4c6ef5' },
  { key: 'video', label: 'Video', color: '#7950f2' },
  { key: 'story', label: 'Story', color: '#f76707' },
  { key: 'reel', label: 'Reel', color: '#e64980' },
  { key: 'text', label: 'Text', color: '#868e96' },
];
export const kindOf = (k) => KINDS.find((x) => x.key === k) || KINDS[0];

const ICONS = {
  photo: [['path', { d: 'M4 8h3.5l2-3h5l2 3H20v11H4z' }], ['circle', { cx: 12, cy: 13, r: 3.5 }]],
  video: [['rect', { x: 3, y: 6, width: 12, height: 12, rx: 2 }], ['path', { d: 'M15 10.5l6-3.5v10l-6-3.5z' }]],
  story: [['circle', { cx: 12, cy: 12, r: 8.5, 'stroke-dasharray': '4 2.5' }], ['path', { d: 'M12 8v8M8 12h8' }]],
  reel: [['rect', { x: 3.5, y: 5, width: 17, height: 14, rx: 2 }], ['path', { d: 'M3.5 9.5h17M8 5l2.5 4.5M13.5 5l2.5 4.5M10.5 12.5v4l3.5-2z' }]],
  text: [['path', { d: 'M5 6h14M5 10h14M5 14h10M5 18h7' }]],
  pin: [['path', { d: 'M12 21s-6.5-6.2-6.5-11a6.5 6.5 0 0 1 13 0c0 4.8-6.5 11-6.5 11z' }], ['circle', { cx: 12, cy: 10, r: 2.3 }]],
  heart: [['path', { d: 'M12 20s-7.5-4.6-7.5-10A4.3 4.3 0 0 1 12 7.6 4.3 4.3 0 0 1 19.5 10c0 5.4-7.5 10-7.5 10z' }]],
  comment: [['path', { d: 'M4 5h16v11H9l-5 4z' }]],
  eye: [['path', { d: 'M2.5 12S6 5.5 12 5.5 21.5 12 21.5 12 18 18.5 12 18.5 2.5 12 2.5 12z' }], ['circle', { cx: 12, cy: 12, r: 2.8 }]],
};

/** icon returns a stroked 24×24 SVG icon. */
export function icon(name, cls = 'icon') {
  const parts = ICONS[name] || ICONS.photo;
  return s('svg', { viewBox: '0 0 24 24', class: cls, 'aria-hidden': 'true' }, parts.map(([t, a]) => s(t, a)));
}

/** verifiedBadge is the blue check shown next to verified accounts. */
export function verifiedBadge() {
  return s('svg', { viewBox: '0 0 24 24', class: 'verified', role: 'img', 'aria-label': 'Verified' },
    s('circle', { cx: 12, cy: 12, r: 10, fill: '#4c6ef5' }),
    s('path', { d: 'M7.5 12.5l3 3 6-6.5', fill: 'none', stroke: '#fff', 'stroke-width': 2.2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

/** initials of a name or handle: "Jane Doe" → "JD". */
export function initials(name) {
  const words = String(name || '?').replace(/[^\p{L}\p{N}\s]/gu, ' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]][0] || '';
  const second = words.length > 1 ? [...words[words.length - 1]][0] : ([...words[0]][1] || '');
  return (first + second).toUpperCase();
}

/** hue returns a stable colour for a string, for avatars. */
export function hue(str) {
  let x = 0;
  for (const ch of String(str)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${x % 360} 55% 52%)`;
}

/**
 * avatar is a round avatar: initials on a colour, with the picture laid
 * over it only once it has loaded (offline, the initials stay).
 */
export function avatar(author) {
  const name = author.display_name || author.handle || '?';
  const el = h('div', { class: 'avatar', 'aria-hidden': 'true' }, initials(name));
  el.style.background = hue(author.handle || name);
  lazyImage(el, author.avatar_url);
  return el;
}

/** lazyImage adds <img src=url> to box, shown when it loads and dropped when it fails. */
export function lazyImage(box, url) {
  if (!url || !/^https?:\/\//i.test(url)) return;
  const img = h('img', { alt: '', loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer' });
  img.addEventListener('load', () => img.classList.add('loaded'));
  img.addEventListener('error', () => img.remove());
  img.src = url;
  box.append(img);
}

/** toast shows a short message in the corner. */
export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast ${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3500);
}

/** chunks splits a list into pieces of n. */
export function chunks(list, n) {
  const out = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

/**
 * placeCounts returns Map(place id → {posts, authors}) for the places over
 * [from, to), asking the analytics endpoint for 1,000 places at a time (its
 * leaderboard's largest page), so a workspace of up to 1,000 places costs
 * one aggregate query rather than one per hundred.
 */
export async function placeCounts(ids, from, to, signal) {
  const out = new Map();
  const pages = await Promise.all(chunks(ids, 1000).map((part) => {
    const q = new URLSearchParams({ place: part.join(','), limit: '1000', from: from.toISOString() });
    if (to) q.set('to', to.toISOString());
    return api('/v1/analytics?' + q, { signal });
  }));
  for (const page of pages) for (const p of page.places) out.set(p.place_id, { posts: p.posts, authors: p.authors });
  return out;
}

/** isoNoMillis formats a Date as RFC 3339 without fractions, as the API likes. */
export function iso(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
