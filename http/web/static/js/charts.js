// Hand-written SVG charts: stacked bars over time, an hour-of-week heatmap
// and horizontal bars. Labels are SVG text nodes set with textContent.
import { h, s, clear, num, compact } from './lib.js';

/** tooltip attaches a floating tooltip to a chart container. */
function tooltip(box) {
  const t = h('div', { class: 'tooltip', hidden: true });
  box.append(t);
  return {
    show(ev, ...lines) {
      clear(t);
      lines.forEach((line, i) => { if (i) t.append(h('br')); t.append(line); });
      t.hidden = false;
      const r = box.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      const w = t.offsetWidth;
      t.style.left = `${Math.min(Math.max(0, x - w / 2), r.width - w)}px`;
      t.style.top = `${Math.max(0, y - t.offsetHeight - 12)}px`;
    },
    hide() { t.hidden = true; },
  };
}

/** niceMax rounds a maximum up to 1, 2, 2.5 or 5 × 10^n. */
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * stackedBars draws buckets (oldest first, each {start: Date, values: {key: n}})
 * as bars stacked by series ({key, label, color}). hourly says how to label time.
 */
export function stackedBars(box, buckets, series, { hourly = false, height = 260, unit = 'posts', label = 'Posts over time by kind' } = {}) {
  clear(box);
  const width = Math.max(280, box.clientWidth);
  const m = { top: 10, right: 8, bottom: 26, left: 44 };
  const iw = width - m.left - m.right, ih = height - m.top - m.bottom;
  const totals = buckets.map((b) => series.reduce((acc, sr) => acc + (b.values[sr.key] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, height, role: 'img', 'aria-label': label });
  const grid = s('g', { class: 'grid' });
  for (let i = 0; i <= 4; i++) {
    const y = m.top + ih - (ih * i) / 4;
    grid.append(s('line', { x1: m.left, x2: width - m.right, y1: y, y2: y }));
    grid.append(s('text', { x: m.left - 8, y: y + 4, 'text-anchor': 'end', text: compact((max * i) / 4) }));
  }
  svg.append(grid);
  const n = Math.max(1, buckets.length);
  const step = iw / n;
  const bw = Math.max(1, Math.min(28, step * (n > 60 ? 0.9 : 0.72)));
  const tip = tooltip(box);
  buckets.forEach((b, i) => {
    const x = m.left + i * step + (step - bw) / 2;
    let y = m.top + ih;
    for (const sr of series) {
      const v = b.values[sr.key] || 0;
      if (!v) continue;
      const bh = (ih * v) / max;
      y -= bh;
      svg.append(s('rect', { x, y, width: bw, height: Math.max(0.5, bh), fill: sr.color, rx: bw > 6 ? 2 : 0 }));
    }
    const hit = s('rect', { class: 'hit', x: m.left + i * step, y: m.top, width: step, height: ih, fill: 'transparent' });
    hit.addEventListener('mousemove', (ev) => tip.show(ev,
      h('b', { text: fmtBucket(b.start, hourly) }),
      `${num(totals[i])} ${unit}`,
      ...series.filter((sr) => b.values[sr.key]).map((sr) => `${sr.label}: ${num(b.values[sr.key])}`)));
    hit.addEventListener('mouseleave', () => tip.hide());
    svg.append(hit);
  });
  // About 7 time labels; hourly data over several days is labelled at
  // midnights only.
  const axis = s('g', { class: 'axis' });
  axis.append(s('line', { x1: m.left, x2: width - m.right, y1: m.top + ih, y2: m.top + ih }));
  const slots = Math.max(2, Math.floor(iw / 80));
  let ticks;
  if (hourly && n > 48) {
    const midnights = buckets.map((b, i) => [b, i]).filter(([b]) => b.start.getUTCHours() === 0);
    const every = Math.max(1, Math.ceil(midnights.length / slots));
    ticks = midnights.filter((_, k) => k % every === 0).map(([, i]) => i);
  } else {
    const every = Math.max(1, Math.ceil(n / slots));
    ticks = buckets.map((_, i) => i).filter((i) => i % every === 0);
  }
  for (const i of ticks) {
    const x = m.left + i * step + step / 2;
    axis.append(s('text', { x, y: height - 8, 'text-anchor': 'middle', text: fmtTick(buckets[i].start, hourly, n) }));
  }
  svg.append(axis);
  box.prepend(svg);
}

function fmtBucket(d, hourly) {
  return hourly
    ? d.toLocaleString('en', { weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' }) + ' UTC'
    : d.toLocaleDateString('en', { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });
}

function fmtTick(d, hourly, n) {
  if (hourly && n <= 48) return d.toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });
  return d.toLocaleDateString('en', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * heatmap draws the hour-of-week matrix ([7][24], Monday first, UTC);
 * unit names what the cells count, label is the chart's accessible name,
 * zero (optional) what an empty cell means, such as a privacy floor.
 */
export function heatmap(box, matrix, { unit = 'posts', label = 'Posts by hour of week', zero = '' } = {}) {
  clear(box);
  const width = Math.max(280, box.clientWidth);
  const m = { top: 6, right: 4, bottom: 22, left: 34 };
  const cw = (width - m.left - m.right) / 24;
  const ch = Math.min(36, Math.max(24, cw * 1.2));
  const height = m.top + ch * 7 + m.bottom;
  // The scale spans the quietest to the busiest hour, so the weekly
  // rhythm shows even where every hour has some posts.
  const flat = matrix.flat();
  const max = Math.max(1, ...flat);
  const min = Math.min(...flat);
  const scale = (v) => (v <= 0 ? 0 : 0.08 + (0.92 * (v - min)) / Math.max(1, max - min));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, height, role: 'img', 'aria-label': label });
  const tip = tooltip(box);
  matrix.forEach((row, d) => {
    svg.append(s('text', { x: m.left - 6, y: m.top + d * ch + ch / 2 + 4, 'text-anchor': 'end', text: DAYS[d] }));
    row.forEach((v, hr) => {
      const cell = s('rect', {
        class: 'cell', x: m.left + hr * cw + 1, y: m.top + d * ch + 1, width: Math.max(1, cw - 2), height: ch - 2, rx: 3,
        fill: heat(scale(v)),
      });
      cell.addEventListener('mousemove', (ev) => tip.show(ev, h('b', { text: `${DAYS[d]} ${String(hr).padStart(2, '0')}:00 UTC` }), v === 0 && zero ? zero : `${num(v)} ${unit}`));
      cell.addEventListener('mouseleave', () => tip.hide());
      svg.append(cell);
    });
  });
  for (let hr = 0; hr < 24; hr += 3) {
    svg.append(s('text', { x: m.left + hr * cw + cw / 2, y: height - 6, 'text-anchor': 'middle', text: `${String(hr).padStart(2, '0')}h` }));
  }
  box.prepend(svg);
}

/** heat maps 0…1 to a colour from pale pink to deep magenta. */
export function heat(t) {
  if (!(t > 0)) return '#f3f4f8';
  const stops = [[255, 236, 210], [255, 168, 120], [240, 101, 120], [194, 37, 92], [110, 20, 80]];
  const x = Math.min(0.999, Math.sqrt(t)) * (stops.length - 1);
  const i = Math.floor(x), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]} ${c[1]} ${c[2]})`;
}

/** bars draws labelled horizontal bars for items [{label, value}]. */
export function bars(box, items, { color = '#e8467c', empty = 'Nothing yet.', label = 'Ranking' } = {}) {
  clear(box);
  if (items.length === 0) { box.append(h('p', { class: 'muted', text: empty })); return; }
  const width = Math.max(260, box.clientWidth);
  const row = 28;
  const labelW = Math.min(170, width * 0.38);
  const valueW = 56;
  const height = items.length * row;
  const max = Math.max(1, ...items.map((it) => it.value));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, height, role: 'img', 'aria-label': label });
  const defs = s('defs', {}, s('linearGradient', { id: 'bar-grad', x1: 0, x2: 1 },
    s('stop', { offset: 0, 'stop-color': '#ff7a59' }), s('stop', { offset: 1, 'stop-color': color })));
  svg.append(defs);
  items.forEach((it, i) => {
    const y = i * row;
    const label = s('text', { class: 'bar-label', x: 0, y: y + row / 2 + 4, text: it.label });
    label.append(s('title', { text: it.label }));
    svg.append(label);
    const bw = Math.max(2, ((width - labelW - valueW) * it.value) / max);
    svg.append(s('rect', { x: labelW, y: y + 7, width: bw, height: row - 14, rx: 4, fill: 'url(#bar-grad)' }));
    svg.append(s('text', { class: 'bar-value', x: labelW + bw + 6, y: y + row / 2 + 4, text: num(it.value) }));
  });
  box.append(svg);
  // Long labels are cut to fit their column.
  svg.querySelectorAll('.bar-label').forEach((t, i) => {
    let text = items[i].label;
    while (t.getComputedTextLength() > labelW - 10 && text.length > 3) {
      text = text.slice(0, -2);
      t.firstChild.textContent = `${text}…`;
    }
  });
}
