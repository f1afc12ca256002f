// The query explorer: a PromQL editor completing metric names, label names
// and label values; instant and range queries drawn as a graph (uPlot) and
// a table; the engine's sample statistics; errors and warnings inline; the
// query kept in the URL; "Add to dashboard".
import * as api from '../api.js';
import { h, clear, table, errorBox, toast, modal, form, fmtTime, can, workspaceARN } from '../ui.js';
import { timeSeries, parseDuration } from '../chart.js';

export const RANGES = ['5m', '15m', '1h', '3h', '6h', '12h', '24h', '2d', '7d'];
export const PANEL_TYPES = ['line', 'bar', 'gauge', 'stat'];

// autoStep gives ~250 points over a range, down to 1s for short windows.
export function autoStep(rangeSeconds) { return Math.max(1, Math.ceil(rangeSeconds / 250)); }

// collectErrors keeps the page's uncaught errors in window.__errors, for
// the end-to-end tests (and for whoever opens the devtools).
export function collectErrors() {
  if (window.__errors) return;
  window.__errors = [];
  window.addEventListener('error', e => window.__errors.push(String(e.message || e)));
  window.addEventListener('unhandledrejection', e => window.__errors.push(String((e.reason && e.reason.message) || e.reason)));
}
collectErrors();

// onLeave runs fn once the console has moved to another page (the router
// replaces the page's elements on every hashchange).
export function onLeave(el, fn) {
  const check = () => { if (!document.contains(el)) { window.removeEventListener('hashchange', check); fn(); } };
  window.addEventListener('hashchange', check);
}

// cleanPanel keeps only the fields the dashboards API accepts.
export function cleanPanel(p) {
  const out = { title: p.title || '', type: p.type, query: p.query };
  if (p.unit) out.unit = p.unit;
  if (typeof p.min === 'number') out.min = p.min;
  if (typeof p.max === 'number') out.max = p.max;
  if (Array.isArray(p.thresholds) && p.thresholds.length) out.thresholds = p.thresholds;
  return out;
}

// fmtDuration writes seconds the way Prometheus does (1h30m, 45s).
export function fmtDuration(s) {
  s = Math.round(s);
  if (s <= 0) return '0s';
  let out = '';
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= n) { out += Math.floor(s / n) + u; s %= n; }
  }
  return out;
}

// fmtWindow writes a zoomed window briefly: times only when it is today.
export function fmtWindow(start, end) {
  const a = new Date(start * 1000), b = new Date(end * 1000), today = new Date().toDateString();
  const one = (d) => (d.toDateString() === today ? d.toLocaleTimeString() : d.toLocaleString());
  return `${one(a)} – ${one(b)}`;
}

// asSeries turns any query result into a list of series for tables, stat
// and gauge panels (a scalar or a string becomes one series without labels).
export function asSeries(data) {
  if (!data) return [];
  if (data.resultType === 'scalar' || data.resultType === 'string') return [{ metric: {}, value: data.result }];
  return data.result || [];
}

const FUNCTIONS = ['abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil',
  'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year',
  'days_in_month', 'deg', 'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg', 'histogram_count',
  'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase',
  'info', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time',
  'min_over_time', 'minute', 'month', 'pi', 'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets',
  'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time',
  'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year'];
const AGGREGATIONS = ['avg', 'bottomk', 'count', 'count_values', 'group', 'limit_ratio', 'limitk', 'max', 'min', 'quantile',
  'stddev', 'stdvar', 'sum', 'topk'];
const KEYWORDS = ['and', 'bool', 'by', 'group_left', 'group_right', 'ignoring', 'offset', 'on', 'or', 'unless', 'without'];

// completionContext reads the text before the caret and says what may be
// completed there: a metric (or function) name, a label name, a label value.
export function completionContext(text) {
  let quote = '', brace = -1, bracket = -1;
  const parens = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#') { const nl = text.indexOf('\n', i); if (nl < 0) return null; i = nl; }
    else if (c === '{') brace = i;
    else if (c === '}') brace = -1;
    else if (c === '(') parens.push(i);
    else if (c === ')') parens.pop();
    else if (c === '[') bracket = i;
    else if (c === ']') bracket = -1;
  }
  if (brace >= 0) {
    const seg = text.slice(brace + 1);
    const metric = (/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(text.slice(0, brace)) || [])[1] || '';
    if (quote) {
      const m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(["'`])([^"'`]*)$/.exec(seg);
      if (!m) return null;
      return { kind: 'value', metric, label: m[1], prefix: m[4], from: text.length - m[4].length, quote: m[3] };
    }
    let m = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*$/.exec(seg);
    if (m) return { kind: 'value', metric, label: m[1], prefix: '', from: text.length, quote: '' };
    m = /(?:^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(seg);
    if (m) return { kind: 'label', metric, prefix: m[1] || '', from: text.length - (m[1] || '').length, inBraces: true };
    return null;
  }
  if (quote || bracket >= 0) return null;
  if (parens.length && /\b(by|without|on|ignoring|group_left|group_right)\s*$/.test(text.slice(0, parens[parens.length - 1]))) {
    const m = /(?:\(|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(text);
    return m ? { kind: 'label', metric: '', prefix: m[1] || '', from: text.length - (m[1] || '').length, inBraces: false } : null;
  }
  const m = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(text);
  if (!m) return null;
  const from = text.length - m[0].length;
  if (from > 0 && /[0-9.]/.test(text[from - 1])) return null; // 5m, 1e3
  return { kind: 'metric', prefix: m[0], from };
}

// completer fetches (once per page) what the workspace has to complete.
function completer(p) {
  const cache = new Map();
  const once = (key, fn) => {
    if (!cache.has(key)) cache.set(key, fn().catch(e => { cache.delete(key); throw e; }));
    return cache.get(key);
  };
  const sel = (metric) => (metric ? [`{__name__="${metric}"}`] : undefined);
  const names = () => once('names', () => p.values('__name__').then(d => d || []));
  const meta = () => once('meta', () => p.metadata().then(d => d || {}).catch(() => ({})));
  const labels = (metric) => once('labels|' + metric, () => p.labels(sel(metric)).then(d => d || []));
  const values = (label, metric) => once(`values|${label}|${metric}`, () => p.values(label, sel(metric)).then(d => d || []));
  const rank = (list, prefix, kind, detail) => {
    const lp = prefix.toLowerCase();
    const starts = [], has = [];
    for (const v of list) {
      const lv = String(v).toLowerCase();
      if (lv.startsWith(lp)) starts.push(v); else if (lp && lv.includes(lp)) has.push(v);
    }
    return { starts: starts.map(v => ({ value: v, kind, detail: detail ? detail(v) : '' })), has: has.map(v => ({ value: v, kind, detail: detail ? detail(v) : '' })) };
  };
  return {
    names,
    async suggest(ctx) {
      if (ctx.kind === 'metric') {
        const [ns, md] = await Promise.all([names(), meta()]);
        const info = (n) => md[n] || md[n.replace(/_(total|bucket|sum|count|created)$/, '')];
        const m = rank(ns, ctx.prefix, 'metric', n => { const i = info(n); return i && i[0] ? i[0].type : ''; });
        const f = rank(FUNCTIONS, ctx.prefix, 'function');
        const a = rank(AGGREGATIONS, ctx.prefix, 'aggregation');
        const k = rank(KEYWORDS, ctx.prefix, 'keyword');
        const out = [...m.starts, ...a.starts, ...f.starts, ...k.starts, ...m.has];
        out.forEach(o => { if (o.kind === 'metric') { const i = info(o.value); if (i && i[0]) o.help = i[0].help; } });
        return out.length === 1 && out[0].value === ctx.prefix ? [] : out;
      }
      if (ctx.kind === 'label') {
        const r = rank((await labels(ctx.metric)).filter(l => !(ctx.inBraces && l === '__name__' && ctx.metric)), ctx.prefix, 'label');
        return [...r.starts, ...r.has];
      }
      const r = rank(await values(ctx.label, ctx.metric), ctx.prefix, 'value');
      return [...r.starts, ...r.has];
    },
  };
}

// caretLeft measures where the caret is, horizontally, inside a textarea.
function caretLeft(ta) {
  const cs = getComputedStyle(ta);
  const m = document.createElement('div');
  for (const p of ['fontFamily', 'fontSize', 'fontWeight', 'letterSpacing', 'lineHeight', 'paddingLeft', 'paddingRight',
    'paddingTop', 'borderLeftWidth', 'borderRightWidth', 'tabSize']) m.style[p] = cs[p];
  Object.assign(m.style, { position: 'absolute', visibility: 'hidden', whiteSpace: 'pre-wrap', overflowWrap: 'break-word',
    boxSizing: 'border-box', width: ta.offsetWidth + 'px', top: '0', left: '0' });
  const before = ta.value.slice(0, ta.selectionStart);
  const line = before.slice(before.lastIndexOf('\n') + 1);
  m.textContent = line;
  const mark = document.createElement('span');
  mark.textContent = '\u200b';
  m.append(mark);
  document.body.append(m);
  const x = mark.offsetLeft;
  m.remove();
  return Math.min(x, Math.max(0, ta.offsetWidth - 300));
}

// promqlEditor wires completion and Ctrl/Cmd+Enter into a textarea.
function promqlEditor(ta, box, comp, onRun) {
  let items = [], sel = 0, ctx = null, seq = 0;
  const close = () => { box.hidden = true; items = []; ctx = null; };
  const grow = () => { ta.rows = Math.min(12, Math.max(2, ta.value.split('\n').length)); };
  const draw = () => {
    clear(box, items.slice(0, 60).map((it, i) => h('div', {
      role: 'option', class: i === sel ? 'sel' : '', title: it.help || '',
      dataset: { value: it.value, kind: it.kind },
      onmousedown: (e) => { e.preventDefault(); sel = i; accept(); },
    }, h('span', { class: 'ac-value' }, it.value), h('span', { class: 'ac-kind' }, it.detail || it.kind))));
    const s = box.children[sel];
    if (s) s.scrollIntoView({ block: 'nearest' });
  };
  async function update() {
    grow();
    const mine = ++seq;
    const c = completionContext(ta.value.slice(0, ta.selectionStart));
    if (!c || ta.selectionStart !== ta.selectionEnd) { close(); return; }
    let list;
    try { list = await comp.suggest(c); } catch { close(); return; }
    if (mine !== seq || document.activeElement !== ta) return;
    if (!list.length) { close(); return; }
    ctx = c; items = list; sel = 0;
    box.style.left = caretLeft(ta) + 'px';
    box.style.top = (ta.offsetTop + ta.offsetHeight + 2) + 'px';
    box.hidden = false;
    draw();
  }
  function accept() {
    const it = items[sel];
    if (!it || !ctx) return;
    const caret = ta.selectionStart;
    let after = ta.value.slice(caret);
    // Replace the rest of the word under the caret too.
    const tail = /^[a-zA-Z0-9_:]*/.exec(after)[0];
    if (ctx.kind !== 'value') after = after.slice(tail.length);
    let ins = it.value, again = false;
    if (it.kind === 'function' || it.kind === 'aggregation') ins += '(';
    else if (it.kind === 'keyword') ins += ' ';
    else if (it.kind === 'label' && ctx.inBraces) { ins += '="'; again = true; }
    else if (it.kind === 'value') {
      const q = ctx.quote || '"';
      const esc = q === '`' ? ins : ins.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), '\\' + q);
      const rest = after.indexOf(q) >= 0 && ctx.quote ? after.slice(0, after.indexOf(q)) : '';
      after = after.slice(ctx.quote && after.indexOf(q) >= 0 ? rest.length + 1 : 0);
      ins = (ctx.quote ? '' : q) + esc + q;
    }
    const before = ta.value.slice(0, ctx.from);
    ta.value = before + ins + after;
    const pos = before.length + ins.length;
    ta.setSelectionRange(pos, pos);
    close();
    ta.dispatchEvent(new Event('change'));
    if (again) update();
  }
  ta.addEventListener('input', update);
  ta.addEventListener('blur', () => { seq++; close(); });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); seq++; close(); onRun(); return; }
    if (box.hidden || !items.length) {
      if (e.key === ' ' && e.ctrlKey) { e.preventDefault(); update(); }
      return;
    }
    const n = Math.min(items.length, 60);
    if (e.key === 'ArrowDown') { e.preventDefault(); sel = (sel + 1) % n; draw(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); sel = (sel - 1 + n) % n; draw(); }
    else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); accept(); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); seq++; close(); }
  });
  ta.addEventListener('keyup', (e) => { if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) { if (!box.hidden) update(); } });
  grow();
  return { close };
}

function seriesCell(metric) {
  const m = { ...metric };
  const name = m.__name__ || '';
  delete m.__name__;
  const keys = Object.keys(m).sort();
  return h('span', { class: 'series-name' }, name ? h('b', null, name) : null, keys.length || !name ? '{' : '',
    keys.map((k, i) => [i ? ', ' : '', h('span', { class: 'label-name' }, k), '="', h('span', { class: 'label-value' }, m[k]), '"']),
    keys.length || !name ? '}' : '');
}

export async function render(main, { ws, query }) {
  const p = api.prom(ws);
  const arn = workspaceARN(ws);
  const base = `/admin/v1/workspaces/${encodeURIComponent(ws)}/dashboards`;
  const state = {
    q: query.get('q') || '',
    mode: query.get('mode') === 'instant' ? 'instant' : 'range',
    range: query.get('range') || '1h',
    step: query.get('step') || '',
    start: parseFloat(query.get('start')) || 0,
    end: parseFloat(query.get('end')) || 0,
  };
  if (!(state.start && state.end && state.end > state.start)) { state.start = 0; state.end = 0; }
  clear(main, h('h1', null, 'Query'));
  const [mayQuery, mayPut, mayList] = await can([
    { action: 'aps:QueryMetrics', resource: arn }, { action: 'kansoku:PutDashboard', resource: arn },
    { action: 'kansoku:ListDashboards', resource: arn }]);

  const ta = h('textarea', { id: 'promql', rows: 2, spellcheck: false, autocomplete: 'off', 'aria-label': 'PromQL expression',
    placeholder: 'PromQL, e.g. rate(kansoku_http_requests_total[5m]) — Ctrl+Enter runs, Tab completes' }, state.q);
  const box = h('div', { class: 'autocomplete', id: 'promql-suggest', role: 'listbox', hidden: true });
  const modeSel = h('select', { id: 'query-mode', 'aria-label': 'Mode' },
    h('option', { value: 'range', selected: state.mode === 'range' }, 'Range'),
    h('option', { value: 'instant', selected: state.mode === 'instant' }, 'Instant'));
  const rangeSel = h('select', { id: 'query-range', 'aria-label': 'Range' });
  const stepIn = h('input', { id: 'query-step', placeholder: 'auto', size: 6, value: state.step, 'aria-label': 'Step', title: 'Resolution: a step such as 15s, or empty for about 250 points' });
  const endInfo = h('span', { class: 'hint', id: 'query-end' });
  const resetZoom = h('button', { type: 'button', id: 'reset-zoom', hidden: true, onclick: () => { state.start = state.end = 0; syncControls(); run(); } }, 'Reset zoom');
  const runBtn = h('button', { class: 'primary', id: 'run-query', type: 'button', onclick: () => run() }, 'Run');
  const addBtn = mayPut ? h('button', { id: 'add-to-dashboard', type: 'button', onclick: addToDashboard }, 'Add to dashboard') : null;
  const errEl = h('div', { id: 'query-error' });
  const warnEl = h('div', { id: 'query-warnings' });
  const statsEl = h('div', { id: 'query-stats', class: 'hint' });
  const addedEl = h('div', { id: 'query-added' });
  const graphEl = h('div', { id: 'query-graph', class: 'chart' });
  const graphCard = h('div', { class: 'card' }, h('h3', { class: 'query-section' }, 'Graph'), graphEl);
  const tableEl = h('div', { id: 'query-table' });
  let plot = null;
  onLeave(graphEl, () => { if (plot) { plot.destroy(); plot = null; } });

  if (!mayQuery) main.append(h('div', { class: 'notice' }, 'You are not allowed aps:QueryMetrics on this workspace: queries will be refused.'));
  main.append(
    h('div', { class: 'card' },
      h('div', { class: 'promql-wrap' }, ta, box),
      h('div', { class: 'row query-controls' },
        h('label', { class: 'inline' }, 'Mode ', modeSel),
        h('label', { class: 'inline' }, 'Range ', rangeSel),
        h('label', { class: 'inline' }, 'Step ', stepIn),
        endInfo, resetZoom,
        h('span', { class: 'spacer' }),
        addBtn, runBtn),
      errEl, warnEl, statsEl, addedEl),
    graphCard,
    h('div', { class: 'card' }, h('h3', { class: 'query-section' }, 'Table'), tableEl));

  const comp = completer(p);
  const editor = promqlEditor(ta, box, comp, () => run());
  comp.names().catch(() => {}); // warm the cache

  function syncControls() {
    const custom = state.start && state.end;
    const opts = RANGES.includes(state.range) ? RANGES : [state.range, ...RANGES];
    clear(rangeSel, custom ? h('option', { value: '', selected: true }, 'zoomed') : null,
      opts.map(r => h('option', { value: r, selected: !custom && r === state.range }, r)));
    rangeSel.disabled = state.mode !== 'range';
    stepIn.disabled = state.mode !== 'range';
    resetZoom.hidden = !custom || state.mode !== 'range';
    endInfo.textContent = state.mode !== 'range' ? 'at now'
      : custom ? fmtWindow(state.start, state.end) : 'ending now';
    graphCard.hidden = state.mode !== 'range';
  }

  function saveHash() {
    const sp = new URLSearchParams();
    if (state.q) sp.set('q', state.q);
    sp.set('mode', state.mode);
    sp.set('range', state.range);
    if (state.step) sp.set('step', state.step);
    if (state.start && state.end) { sp.set('start', String(state.start)); sp.set('end', String(state.end)); }
    history.replaceState(history.state, '', `#/ws/${encodeURIComponent(ws)}/query?${sp}`);
  }

  function window_() {
    if (state.start && state.end) return [state.start, state.end];
    const end = Date.now() / 1000;
    return [end - parseDuration(state.range), end];
  }

  function showStats(st, took, extra) {
    const s = (st && st.samples) || {};
    const total = s.totalQueryableSamples ?? 0, peak = s.peakSamples ?? 0;
    const evalMs = st && st.timings && typeof st.timings.execTotalTime === 'number' ? st.timings.execTotalTime * 1000 : took;
    clear(statsEl,
      h('span', { dataset: { total: String(total) }, id: 'stat-total-samples' }, `Samples queried: ${total.toLocaleString()}`), ' · ',
      h('span', { dataset: { peak: String(peak) }, id: 'stat-peak-samples' }, `peak samples in memory: ${peak.toLocaleString()}`), ' · ',
      `${evalMs < 10 ? evalMs.toFixed(1) : Math.round(evalMs)} ms`, extra ? ` · ${extra}` : '');
  }

  // promCall is api.prom's query with the response's infos kept too
  // (Prometheus 3 puts annotations such as "might not be a counter" there).
  async function promCall(endpoint, params) {
    const body = await api.get(`/workspaces/${encodeURIComponent(ws)}/api/v1/${endpoint}`, params);
    return { ...body.data, warnings: body.warnings, infos: body.infos };
  }

  let runSeq = 0;
  async function run() {
    editor.close();
    const q = ta.value.trim();
    state.q = q;
    state.step = stepIn.value.trim();
    saveHash();
    clear(errEl); clear(warnEl);
    if (!q) { clear(statsEl); return; }
    const mine = ++runSeq;
    runBtn.disabled = true;
    clear(statsEl, 'Running…');
    const t0 = performance.now();
    try {
      let data, extra = '', start = 0, end = 0;
      if (state.mode === 'range') {
        [start, end] = window_();
        let step = autoStep(end - start);
        if (state.step) {
          step = /^\d+(\.\d+)?$/.test(state.step) ? parseFloat(state.step) : parseDuration(state.step);
          if (!/^\d+(\.\d+)?$/.test(state.step) && !/^\d+(s|m|h|d|w)$/.test(state.step)) throw new Error(`step "${state.step}": write a duration such as 15s or 1m, or leave it empty`);
        }
        data = await promCall('query_range', { query: q, start: start.toFixed(3), end: end.toFixed(3), step, stats: 'all' });
        extra = `step ${fmtDuration(step)}`;
      } else {
        data = await promCall('query', { query: q, stats: 'all' });
      }
      if (mine !== runSeq) return;
      const series = asSeries(data);
      showStats(data.stats, performance.now() - t0, `${extra ? extra + ' · ' : ''}${data.resultType === 'scalar' || data.resultType === 'string' ? data.resultType : series.length + ' series'}`);
      clear(warnEl,
        (data.warnings || []).map(w => h('div', { class: 'query-warning' }, 'Warning: ' + w)),
        (data.infos || []).map(w => h('div', { class: 'notice query-info' }, 'Info: ' + w)));
      if (plot) { plot.destroy(); plot = null; }
      if (state.mode === 'range') {
        plot = timeSeries(graphEl, data.resultType === 'matrix' ? data.result : [], {
          type: 'line', height: 320,
          onZoom: (a, b) => { state.start = Math.floor(a); state.end = Math.ceil(b); syncControls(); run(); },
        });
        // Show the whole window asked for, not just where there is data.
        if (plot) plot.setScale('x', { min: start, max: end });
      } else clear(graphEl);
      drawTable(data, series);
    } catch (e) {
      if (mine !== runSeq) return;
      clear(statsEl);
      clear(errEl, errorBox(e));
      if (plot) { plot.destroy(); plot = null; }
      clear(graphEl);
      clear(tableEl);
    } finally {
      if (mine === runSeq) runBtn.disabled = false;
    }
  }

  function drawTable(data, series) {
    const max = 1000;
    const rows = series.slice(0, max);
    const last = (s) => (s.value ? s.value : s.values && s.values.length ? s.values[s.values.length - 1] : null);
    const cols = [
      { title: 'Series', render: s => (data.resultType === 'scalar' || data.resultType === 'string' ? h('i', null, data.resultType) : seriesCell(s.metric)) },
      { title: state.mode === 'range' ? 'Last value' : 'Value', class: 'right mono', render: s => {
        if (data.resultType === 'matrix' && state.mode !== 'range') {
          return (s.values || []).slice(-10).map(([t, v]) => h('div', null, `${v} @${t}`));
        }
        const v = last(s);
        if (!v) return s.histogram || s.histograms ? 'native histogram' : '—';
        return h('span', { title: fmtTime(v[0]) }, String(v[1]));
      } },
    ];
    if (state.mode === 'range') cols.push({ title: 'At', class: 'muted', render: s => { const v = last(s); return v ? fmtTime(v[0]) : '—'; } });
    clear(tableEl, table(cols, rows, { empty: 'Empty result.', class: 'query-result' }),
      series.length > max ? h('p', { class: 'hint' }, `Showing ${max} of ${series.length} series.`) : null);
  }

  let lastDashboard = '';
  async function addToDashboard() {
    const q = ta.value.trim();
    if (!q) { toast('Write a query first.'); return; }
    let dashboards = [];
    if (mayList) {
      try { dashboards = (await api.get(base)).dashboards || []; } catch { dashboards = []; }
    }
    await modal('Add to dashboard', close => {
      const f = form([
        { name: 'title', label: 'Panel title', value: q.length <= 80 ? q : '', placeholder: 'Requests per second' },
        { name: 'type', label: 'Panel type', type: 'select', value: state.mode === 'range' ? 'line' : 'stat',
          options: [{ value: 'line', label: 'Line graph' }, { value: 'bar', label: 'Bar graph' }, { value: 'gauge', label: 'Gauge' }, { value: 'stat', label: 'Stat (single value)' }] },
        { name: 'dashboard', label: 'Dashboard', type: 'select', value: lastDashboard && dashboards.some(d => d.id === lastDashboard) ? lastDashboard : '',
          options: [{ value: '', label: 'New dashboard…' }, ...dashboards.map(d => ({ value: d.id, label: d.title }))] },
        { name: 'newTitle', label: 'New dashboard title', placeholder: 'My dashboard' },
      ], 'Add panel', async v => {
        const panel = { title: v.title.trim(), type: v.type, query: q };
        let d;
        if (!v.dashboard) {
          const title = v.newTitle.trim();
          if (!title) throw new Error('Give the new dashboard a title.');
          d = (await api.send('POST', base, { title, timeRange: state.mode === 'range' && RANGES.includes(state.range) ? state.range : '1h', refresh: '', panels: [panel] })).dashboard;
        } else {
          for (let attempt = 0; ; attempt++) {
            const cur = (await api.get(`${base}/${encodeURIComponent(v.dashboard)}`)).dashboard;
            try {
              d = (await api.send('PUT', `${base}/${encodeURIComponent(v.dashboard)}`, {
                title: cur.title, timeRange: cur.timeRange, refresh: cur.refresh, version: cur.version,
                panels: [...(cur.panels || []).map(cleanPanel), panel] })).dashboard;
              break;
            } catch (e) {
              if (e.status !== 409 || attempt >= 2) throw e; // changed meanwhile: read it again
            }
          }
        }
        close();
        lastDashboard = d.id;
        toast(`Added to ${d.title}`);
        clear(addedEl, h('div', { class: 'notice' }, `Panel added to `,
          h('a', { id: 'added-link', href: `#/ws/${encodeURIComponent(ws)}/dashboards/${encodeURIComponent(d.id)}` }, d.title), '.'));
      }, { id: 'add-panel-form', extra: h('button', { type: 'button', onclick: () => close() }, 'Cancel') });
      const newField = f.elements.newTitle.closest('.field');
      const sync = () => { newField.hidden = f.elements.dashboard.value !== ''; };
      f.elements.dashboard.addEventListener('change', sync);
      sync();
      return f;
    });
  }

  modeSel.addEventListener('change', () => { state.mode = modeSel.value; syncControls(); if (ta.value.trim()) run(); else saveHash(); });
  rangeSel.addEventListener('change', () => {
    if (!rangeSel.value) return;
    state.range = rangeSel.value; state.start = state.end = 0; syncControls(); if (ta.value.trim()) run(); else saveHash();
  });
  stepIn.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); run(); } });
  syncControls();
  if (state.q) run();
  ta.focus();
  ta.setSelectionRange(ta.value.length, ta.value.length);
}
