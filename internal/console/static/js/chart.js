// Charts: uPlot (the library Prometheus 3's UI uses) for time series,
// small SVG/DOM panels for gauges and stats.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, clear, fmtNum } from './ui.js';

const palette = ['#1f6feb', '#d1495b', '#2a9d8f', '#e9a23b', '#7b61ff', '#3d8fd1', '#c05621', '#2f855a', '#b83280', '#4a5568'];

export function seriesName(metric) {
  const m = { ...metric };
  const name = m.__name__ || '';
  delete m.__name__;
  const labels = Object.keys(m).sort().map(k => `${k}="${m[k]}"`).join(', ');
  return labels ? `${name}{${labels}}` : (name || '{}');
}

// toAligned turns a Prometheus matrix into uPlot's aligned columns.
export function toAligned(result) {
  const xs = new Set();
  for (const s of result) for (const [t] of s.values || []) xs.add(t);
  const x = [...xs].sort((a, b) => a - b);
  const idx = new Map(x.map((t, i) => [t, i]));
  const cols = result.map(s => {
    const col = new Array(x.length).fill(null);
    for (const [t, v] of s.values || []) col[idx.get(t)] = parseFloat(v);
    return col;
  });
  return [x, ...cols];
}

// timeSeries draws a line or bar chart of a matrix into el; drag to zoom
// (onZoom(start, end) lets the caller re-query), double-click to reset.
export function timeSeries(el, result, opts = {}) {
  clear(el);
  if (!result || result.length === 0) { el.append(h('p', { class: 'muted' }, 'No data.')); return null; }
  const shown = result.slice(0, opts.maxSeries || 50);
  const data = toAligned(shown);
  const bars = opts.type === 'bar';
  const series = [{}].concat(shown.map((s, i) => ({
    label: seriesName(s.metric),
    stroke: palette[i % palette.length],
    fill: bars ? palette[i % palette.length] + '99' : undefined,
    width: 1.5,
    paths: bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
    points: { show: false },
    value: (u, v) => (v === null ? '—' : fmtNum(v)),
  })));
  const width = Math.max(300, el.clientWidth || el.parentElement?.clientWidth || 800);
  const u = new uPlot({
    width, height: opts.height || 280, series, legend: { show: opts.legend !== false, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    axes: [{}, { values: (u, vals) => vals.map(fmtNum), size: 60 }],
    hooks: {
      setSelect: [u2 => {
        if (u2.select.width > 5 && opts.onZoom) {
          const a = u2.posToVal(u2.select.left, 'x'), b = u2.posToVal(u2.select.left + u2.select.width, 'x');
          opts.onZoom(a, b);
        }
      }],
    },
  }, data, el);
  if (result.length > shown.length) el.append(h('p', { class: 'hint' }, `Showing ${shown.length} of ${result.length} series.`));
  return u;
}

function lastValue(result) {
  if (!result || result.length === 0) return null;
  const s = result[0];
  if (s.value) return parseFloat(s.value[1]);
  if (s.values && s.values.length) return parseFloat(s.values[s.values.length - 1][1]);
  return null;
}

function thresholdColor(v, thresholds) {
  const colors = ['#1a7f37', '#b26b00', '#c62828'];
  let c = colors[0];
  (thresholds || []).forEach((t, i) => { if (v >= t) c = colors[Math.min(i + 1, 2)]; });
  return c;
}

// stat shows the first series' value large.
export function stat(el, result, opts = {}) {
  const v = lastValue(result);
  clear(el, h('div', { class: 'stat', style: { color: v === null ? '' : thresholdColor(v, opts.thresholds) } },
    v === null ? '—' : fmtNum(v) + (opts.unit ? ' ' + opts.unit : '')),
  result && result.length > 1 ? h('div', { class: 'hint', style: { textAlign: 'center' } }, `first of ${result.length} series`) : null);
}

// gauge draws the first series' value on a half circle between min and max.
export function gauge(el, result, opts = {}) {
  const v = lastValue(result);
  const min = opts.min ?? 0, max = opts.max ?? 100;
  const frac = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / (max - min || 1)));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 200 120');
  svg.setAttribute('width', '220');
  const arc = (f, color, w) => {
    const a = Math.PI * (1 - f), x = 100 + 80 * Math.cos(a), y = 100 - 80 * Math.sin(a);
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', `M 20 100 A 80 80 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`);
    p.setAttribute('fill', 'none'); p.setAttribute('stroke', color); p.setAttribute('stroke-width', w);
    return p;
  };
  svg.append(arc(1, '#e3e6eb', 14));
  if (v !== null && frac > 0) svg.append(arc(frac, thresholdColor(v, opts.thresholds), 14));
  const t = document.createElementNS(ns, 'text');
  t.setAttribute('x', '100'); t.setAttribute('y', '95'); t.setAttribute('text-anchor', 'middle');
  t.setAttribute('font-size', '24'); t.setAttribute('font-weight', '700');
  t.textContent = v === null ? '—' : fmtNum(v) + (opts.unit ? ' ' + opts.unit : '');
  svg.append(t);
  clear(el, h('div', { class: 'gauge' }, svg), h('div', { class: 'hint', style: { textAlign: 'center' } }, `${fmtNum(min)} – ${fmtNum(max)}`));
}

// parseDuration reads 15m, 1h, 6h, 7d into seconds.
export function parseDuration(s) {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(s || '');
  if (!m) return 3600;
  return parseInt(m[1], 10) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]];
}

// stepFor picks a step giving ~250 points over a range.
export function stepFor(rangeSeconds) {
  return Math.max(15, Math.ceil(rangeSeconds / 250));
}
