// Dashboards: the workspace's list (create, import, delete) and one
// dashboard's panels (line and bar graphs over its time range, gauges and
// stats of instant queries) with auto-refresh, an editor and JSON export.
import * as api from '../api.js';
import { h, clear, table, errorBox, toast, modal, form, copyButton, fmtTime, can, workspaceARN } from '../ui.js';
import { timeSeries, stat, gauge, parseDuration } from '../chart.js';
import { navigate } from '../app.js';
import { RANGES, PANEL_TYPES, autoStep, cleanPanel, asSeries, collectErrors, fmtWindow, onLeave } from './query.js';

collectErrors();

const REFRESHES = ['', '10s', '30s', '1m', '5m', '15m', '30m', '1h'];
const TYPE_LABELS = { line: 'Line graph', bar: 'Bar graph', gauge: 'Gauge', stat: 'Stat' };

// One auto-refresh timer for the whole console: a new page stops it.
let timer = null;
function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

const basePath = (ws) => `/admin/v1/workspaces/${encodeURIComponent(ws)}/dashboards`;

// exportDoc is the dashboard as a portable document (what import takes).
function exportDoc(d) {
  return { title: d.title, timeRange: d.timeRange, refresh: d.refresh || '', panels: (d.panels || []).map(cleanPanel) };
}

// importDoc reads an exported dashboard (or a {"dashboard": {...}} API
// response) back into a create request.
function importDoc(text) {
  let o;
  try { o = JSON.parse(text); } catch (e) { throw new Error(`Not JSON: ${e.message}`); }
  if (o && typeof o === 'object' && o.dashboard && typeof o.dashboard === 'object') o = o.dashboard;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('Paste a JSON object: a dashboard exported with "Export JSON".');
  if (o.panels !== undefined && !Array.isArray(o.panels)) throw new Error('"panels" must be a list.');
  const panels = (o.panels || []).map((p, i) => {
    if (!p || typeof p !== 'object') throw new Error(`panels[${i}] must be an object.`);
    for (const k of ['min', 'max']) if (p[k] !== undefined && p[k] !== null && typeof p[k] !== 'number') throw new Error(`panels[${i}].${k} must be a number.`);
    if (p.thresholds !== undefined && p.thresholds !== null && (!Array.isArray(p.thresholds) || p.thresholds.some(t => typeof t !== 'number'))) throw new Error(`panels[${i}].thresholds must be a list of numbers.`);
    return cleanPanel({ title: String(p.title || ''), type: String(p.type || ''), query: String(p.query || ''), unit: p.unit ? String(p.unit) : '', min: p.min, max: p.max, thresholds: p.thresholds });
  });
  return { title: String(o.title || ''), timeRange: String(o.timeRange || '1h'), refresh: String(o.refresh || ''), panels };
}

export async function list(main, { ws }) {
  stopTimer();
  const base = basePath(ws);
  const arn = workspaceARN(ws);
  clear(main, h('h1', null, 'Dashboards'));
  const [mayPut, mayDelete] = await can([{ action: 'kansoku:PutDashboard', resource: arn }, { action: 'kansoku:DeleteDashboard', resource: arn }]);
  const bar = h('div', { class: 'row', style: { marginBottom: '12px' } });
  if (mayPut) {
    bar.append(
      h('button', { class: 'primary', id: 'create-dashboard', type: 'button', onclick: create }, 'Create dashboard'),
      h('button', { id: 'import-dashboard', type: 'button', onclick: importJSON }, 'Import JSON'));
  }
  const holder = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  main.append(bar, holder);

  async function load() {
    let ds;
    try { ds = (await api.get(base)).dashboards || []; } catch (e) { clear(holder, errorBox(e)); return; }
    clear(holder, table([
      { title: 'Title', render: d => h('a', { href: `#/ws/${encodeURIComponent(ws)}/dashboards/${encodeURIComponent(d.id)}`, class: 'dashboard-link' }, d.title) },
      { title: 'Panels', render: d => (d.panels || []).length ? (d.panels || []).map(p => h('span', { class: 'badge panel-kind' }, p.type)) : h('span', { class: 'muted' }, 'none') },
      { title: 'Time range', render: d => d.timeRange },
      { title: 'Refresh', render: d => d.refresh || 'off' },
      { title: 'Updated', render: d => fmtTime(d.updatedAt) },
      { title: '', class: 'right', render: d => (mayDelete ? h('button', { class: 'danger delete', type: 'button', onclick: () => remove(d) }, 'Delete') : null) },
    ], ds, { id: 'dashboards', empty: mayPut ? 'No dashboard yet: create one, or add a query to one from the Query page.' : 'No dashboard yet.',
      rowData: d => ({ id: d.id, title: d.title }) }));
  }

  async function create() {
    await modal('Create dashboard', close => form([
      { name: 'title', label: 'Title', required: true, placeholder: 'Service overview' },
      { name: 'timeRange', label: 'Time range', type: 'select', options: RANGES, value: '1h' },
    ], 'Create', async v => {
      const d = (await api.send('POST', base, { title: v.title, timeRange: v.timeRange, refresh: '', panels: [] })).dashboard;
      close();
      toast(`Dashboard ${d.title} created`);
      navigate(`/ws/${ws}/dashboards/${d.id}?edit=1`);
    }, { id: 'create-dashboard-form', extra: h('button', { type: 'button', onclick: () => close() }, 'Cancel') }));
  }

  async function importJSON() {
    await modal('Import dashboard', close => form([
      { name: 'json', label: 'Dashboard JSON', type: 'textarea', rows: 14, required: true, placeholder: '{"title": "…", "timeRange": "1h", "panels": [{"title": "…", "type": "line", "query": "…"}]}',
        hint: 'Paste what "Export JSON" gave, from this workspace or another one.' },
      { name: 'title', label: 'Title', placeholder: 'keep the exported title' },
    ], 'Import', async v => {
      const doc = importDoc(v.json);
      if (v.title.trim()) doc.title = v.title.trim();
      const d = (await api.send('POST', base, doc)).dashboard;
      close();
      toast(`Imported ${d.title}`);
      navigate(`/ws/${ws}/dashboards/${d.id}`);
    }, { id: 'import-dashboard-form', extra: h('button', { type: 'button', onclick: () => close() }, 'Cancel') }));
  }

  async function remove(d) {
    await modal(`Delete dashboard ${d.title}?`, close => h('div', null,
      h('p', null, `Its ${(d.panels || []).length} panel(s) go with it; the metrics stay. This cannot be undone.`),
      form([], 'Delete', async () => {
        await api.send('DELETE', `${base}/${encodeURIComponent(d.id)}`);
        close(); toast('Dashboard deleted'); load();
      }, { id: 'delete-dashboard-form', extra: h('button', { type: 'button', onclick: () => close() }, 'Cancel') })));
  }

  await load();
}

// numberField reads an optional number typed by the user.
function numberField(raw, what) {
  const s = String(raw ?? '').trim();
  if (!s) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`${what}: "${s}" is not a number.`);
  return n;
}

export async function show(main, { ws, id, query }) {
  stopTimer();
  const base = basePath(ws);
  const url = `${base}/${encodeURIComponent(id)}`;
  const arn = workspaceARN(ws);
  const p = api.prom(ws);
  clear(main, h('p', { class: 'muted' }, 'Loading…'));
  const [mayPut] = await can([{ action: 'kansoku:PutDashboard', resource: arn }]);
  let dash;
  try { dash = (await api.get(url)).dashboard; } catch (e) {
    clear(main, h('h1', null, 'Dashboard'), errorBox(e), h('p', null, h('a', { href: `#/ws/${encodeURIComponent(ws)}/dashboards` }, '← Dashboards')));
    return;
  }
  const view = {
    range: query.get('range') || dash.timeRange || '1h',
    refresh: query.has('refresh') ? query.get('refresh') : (dash.refresh || ''),
    zoom: null,
  };
  let editing = false, draft = null;
  let charts = [];
  let drawSeq = 0;

  const titleEl = h('h1', { id: 'dashboard-title' }, dash.title);
  const rangeSel = h('select', { id: 'time-range', 'aria-label': 'Time range' });
  const refreshSel = h('select', { id: 'refresh', 'aria-label': 'Auto-refresh' });
  const resetZoom = h('button', { type: 'button', id: 'reset-zoom', hidden: true, onclick: () => { view.zoom = null; syncControls(); refreshAll(); } }, 'Reset zoom');
  const refreshBtn = h('button', { type: 'button', id: 'refresh-now', title: 'Refresh now', onclick: () => refreshAll() }, 'Refresh');
  const editBtn = mayPut ? h('button', { type: 'button', id: 'edit-dashboard', onclick: () => startEdit() }, 'Edit') : null;
  const exportBtn = h('button', { type: 'button', id: 'export-dashboard', onclick: () => exportJSON() }, 'Export JSON');
  const viewControls = h('div', { class: 'row dash-controls' },
    h('label', { class: 'inline' }, 'Range ', rangeSel),
    h('label', { class: 'inline' }, 'Refresh ', refreshSel),
    resetZoom, refreshBtn, editBtn, exportBtn);
  const info = h('div', { class: 'hint', id: 'dashboard-info' });
  const errEl = h('div', { id: 'dashboard-error' });
  const grid = h('div', { id: 'dashboard-panels', class: 'dash-grid' });
  const editor = h('div', { id: 'dashboard-editor', hidden: true });

  clear(main,
    h('p', { class: 'dash-crumbs' }, h('a', { href: `#/ws/${encodeURIComponent(ws)}/dashboards` }, '← Dashboards')),
    h('div', { class: 'row dash-head' }, titleEl, h('span', { class: 'spacer' }), viewControls),
    info, errEl, grid, editor);

  onLeave(grid, () => { charts.forEach(c => c && c.destroy()); charts = []; });

  function syncControls() {
    const ranges = RANGES.includes(view.range) ? RANGES : [view.range, ...RANGES];
    clear(rangeSel, view.zoom ? h('option', { value: '', selected: true }, 'zoomed') : null,
      ranges.map(r => h('option', { value: r, selected: !view.zoom && r === view.range }, r === dash.timeRange ? `${r} (default)` : r)));
    const refs = REFRESHES.includes(view.refresh) ? REFRESHES : [...REFRESHES, view.refresh];
    clear(refreshSel, refs.map(r => h('option', { value: r, selected: r === view.refresh }, r || 'off')));
    resetZoom.hidden = !view.zoom;
    info.textContent = (view.zoom ? fmtWindow(view.zoom[0], view.zoom[1]) : `Last ${view.range}`) +
      (view.refresh ? `, refreshing every ${view.refresh}` : '') + ` · version ${dash.version}, saved ${fmtTime(dash.updatedAt)}`;
    const sp = new URLSearchParams();
    if (view.range !== dash.timeRange) sp.set('range', view.range);
    if (view.refresh !== (dash.refresh || '')) sp.set('refresh', view.refresh);
    const qs = sp.toString();
    history.replaceState(history.state, '', `#/ws/${encodeURIComponent(ws)}/dashboards/${encodeURIComponent(id)}${qs ? '?' + qs : ''}`);
    startTimer();
  }

  function startTimer() {
    stopTimer();
    if (!view.refresh || editing) return;
    const ms = Math.max(5, parseDuration(view.refresh)) * 1000;
    const mine = setInterval(() => {
      // The page changed: stop for good.
      if (!document.contains(grid) || !location.hash.startsWith(`#/ws/${encodeURIComponent(ws)}/dashboards/${encodeURIComponent(id)}`)) {
        clearInterval(mine);
        if (timer === mine) timer = null;
        charts.forEach(c => c && c.destroy());
        charts = [];
        return;
      }
      if (!document.hidden && !editing) refreshAll();
    }, ms);
    timer = mine;
  }

  function timeWindow() {
    if (view.zoom) return view.zoom;
    const end = Date.now() / 1000;
    return [end - parseDuration(view.range), end];
  }

  function drawPanels() {
    charts.forEach(c => c && c.destroy());
    charts = [];
    const panels = dash.panels || [];
    if (!panels.length) {
      clear(grid, h('div', { class: 'card muted empty-dashboard' }, mayPut ? 'No panel yet: click Edit to add one, or use "Add to dashboard" on the Query page.' : 'No panel yet.'));
      return;
    }
    clear(grid, panels.map((pn, i) => h('div', { class: 'card panel', dataset: { type: pn.type, index: String(i) } },
      h('div', { class: 'panel-head' },
        h('h3', { class: 'panel-title', title: pn.query }, pn.title || pn.query, pn.unit && (pn.type === 'line' || pn.type === 'bar') ? h('span', { class: 'muted' }, ` (${pn.unit})`) : null),
        h('a', { class: 'panel-explore', title: 'Open in the query explorer',
          href: `#/ws/${encodeURIComponent(ws)}/query?${new URLSearchParams({ q: pn.query, mode: pn.type === 'line' || pn.type === 'bar' ? 'range' : 'instant', range: RANGES.includes(view.range) ? view.range : '1h' })}` }, 'Explore')),
      h('div', { class: 'panel-body' + (pn.type === 'line' || pn.type === 'bar' ? ' chart' : '') }, h('p', { class: 'muted' }, 'Loading…')))));
    refreshAll();
  }

  function refreshAll() {
    const mine = ++drawSeq;
    const [start, end] = timeWindow();
    const step = autoStep(end - start);
    (dash.panels || []).forEach((pn, i) => {
      const el = grid.querySelector(`.panel[data-index="${i}"] .panel-body`);
      if (el) loadPanel(pn, i, el, start, end, step, mine);
    });
  }

  async function loadPanel(pn, i, el, start, end, step, mine) {
    try {
      if (pn.type === 'line' || pn.type === 'bar') {
        const d = await p.range(pn.query, start.toFixed(3), end.toFixed(3), step);
        if (mine !== drawSeq || !document.contains(el)) return;
        if (charts[i]) charts[i].destroy();
        charts[i] = timeSeries(el, d.resultType === 'matrix' ? d.result : [], {
          type: pn.type, height: 220,
          onZoom: (a, b) => { view.zoom = [Math.floor(a), Math.ceil(b)]; syncControls(); refreshAll(); },
        });
        if (charts[i]) charts[i].setScale('x', { min: start, max: end });
        warn(el, d);
      } else {
        const d = await p.query(pn.query, view.zoom ? end.toFixed(3) : undefined);
        if (mine !== drawSeq || !document.contains(el)) return;
        const res = asSeries(d);
        if (pn.type === 'gauge') gauge(el, res, { min: pn.min, max: pn.max, unit: pn.unit, thresholds: pn.thresholds });
        else stat(el, res, { unit: pn.unit, thresholds: pn.thresholds });
        warn(el, d);
      }
    } catch (e) {
      if (mine !== drawSeq || !document.contains(el)) return;
      if (charts[i]) { charts[i].destroy(); charts[i] = null; }
      clear(el, errorBox(e));
    }
  }

  function warn(el, d) {
    if (d.warnings && d.warnings.length) el.append(h('div', { class: 'query-warning' }, d.warnings.join('\n')));
  }

  async function exportJSON() {
    const text = JSON.stringify(exportDoc(dash), null, 2);
    const href = URL.createObjectURL(new Blob([text + '\n'], { type: 'application/json' }));
    const file = (dash.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dashboard') + '.json';
    await modal(`Export ${dash.title}`, close => h('div', { id: 'export-modal' },
      h('p', { class: 'hint' }, 'Import it in any workspace from Dashboards → Import JSON.'),
      h('textarea', { id: 'export-json', rows: 16, readOnly: true, spellcheck: false }, text),
      h('div', { class: 'row', style: { marginTop: '12px' } },
        copyButton(text),
        h('a', { class: 'button', id: 'download-dashboard', href, download: file }, `Download ${file}`),
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', id: 'close-export', onclick: () => close() }, 'Close'))));
    URL.revokeObjectURL(href);
  }

  // The editor works on a draft: text fields as typed, numbers read on save.
  function startEdit() {
    editing = true;
    stopTimer();
    draft = {
      title: dash.title, timeRange: dash.timeRange, refresh: dash.refresh || '',
      panels: (dash.panels || []).map(pn => ({
        title: pn.title || '', type: pn.type, query: pn.query, unit: pn.unit || '',
        min: pn.min ?? '', max: pn.max ?? '', thresholds: (pn.thresholds || []).join(', '),
      })),
    };
    clear(errEl);
    viewControls.hidden = true;
    grid.hidden = true;
    editor.hidden = false;
    drawEditor();
  }

  function stopEdit() {
    editing = false;
    draft = null;
    editor.hidden = true;
    clear(editor);
    viewControls.hidden = false;
    grid.hidden = false;
    clear(errEl);
    info.after(errEl);
    titleEl.textContent = dash.title;
    syncControls();
    drawPanels();
  }

  function input(attrs, get, set) {
    const el = h(attrs.tag || 'input', { ...attrs, tag: undefined, value: attrs.tag === 'textarea' ? undefined : String(get() ?? '') },
      attrs.tag === 'textarea' ? String(get() ?? '') : null);
    el.addEventListener('input', () => set(el.value));
    el.addEventListener('change', () => set(el.value));
    return el;
  }

  function drawEditor(focusIndex) {
    const ranges = RANGES.includes(draft.timeRange) ? RANGES : [draft.timeRange, ...RANGES];
    const refs = REFRESHES.includes(draft.refresh) ? REFRESHES : [...REFRESHES, draft.refresh];
    const rangeEd = h('select', { id: 'edit-time-range' }, ranges.map(r => h('option', { value: r, selected: r === draft.timeRange }, r)));
    rangeEd.addEventListener('change', () => { draft.timeRange = rangeEd.value; });
    const refreshEd = h('select', { id: 'edit-refresh' }, refs.map(r => h('option', { value: r, selected: r === draft.refresh }, r || 'off')));
    refreshEd.addEventListener('change', () => { draft.refresh = refreshEd.value; });
    const n = draft.panels.length;
    const move = (i, d) => { const [x] = draft.panels.splice(i, 1); draft.panels.splice(i + d, 0, x); drawEditor(i + d); };
    clear(editor, h('div', { class: 'card' },
      h('div', { class: 'field' }, h('label', null, 'Title', input({ id: 'edit-title', required: true }, () => draft.title, v => { draft.title = v; }))),
      h('div', { class: 'row' },
        h('label', { class: 'inline' }, 'Default time range ', rangeEd),
        h('label', { class: 'inline' }, 'Default refresh ', refreshEd))),
    h('div', { id: 'panel-editor' }, draft.panels.map((pn, i) => {
      const typeSel = h('select', { name: 'type' }, PANEL_TYPES.map(t => h('option', { value: t, selected: t === pn.type }, TYPE_LABELS[t])));
      const minMax = h('div', { class: 'row gauge-only' },
        h('label', { class: 'inline' }, 'Min ', input({ name: 'min', size: 8, placeholder: '0' }, () => pn.min, v => { pn.min = v; })),
        h('label', { class: 'inline' }, 'Max ', input({ name: 'max', size: 8, placeholder: '100' }, () => pn.max, v => { pn.max = v; })));
      const thr = h('label', { class: 'inline value-only' }, 'Thresholds ', input({ name: 'thresholds', size: 14, placeholder: 'e.g. 80, 90' }, () => pn.thresholds, v => { pn.thresholds = v; }));
      const syncType = () => {
        minMax.hidden = pn.type !== 'gauge';
        thr.hidden = pn.type !== 'gauge' && pn.type !== 'stat';
      };
      typeSel.addEventListener('change', () => { pn.type = typeSel.value; syncType(); });
      syncType();
      return h('div', { class: 'card panel-edit', dataset: { index: String(i) } },
        h('div', { class: 'row' },
          h('strong', null, `Panel ${i + 1}`), h('span', { class: 'spacer' }),
          h('button', { type: 'button', class: 'move-up', title: 'Move up', disabled: i === 0, onclick: () => move(i, -1) }, '↑ Up'),
          h('button', { type: 'button', class: 'move-down', title: 'Move down', disabled: i === n - 1, onclick: () => move(i, 1) }, '↓ Down'),
          h('button', { type: 'button', class: 'remove-panel', onclick: () => { draft.panels.splice(i, 1); drawEditor(); } }, 'Remove')),
        h('div', { class: 'row' },
          h('label', { class: 'inline grow' }, 'Title ', input({ name: 'title', placeholder: 'defaults to the query' }, () => pn.title, v => { pn.title = v; })),
          h('label', { class: 'inline' }, 'Type ', typeSel),
          h('label', { class: 'inline' }, 'Unit ', input({ name: 'unit', size: 8, placeholder: 'req/s' }, () => pn.unit, v => { pn.unit = v; }))),
        h('label', null, 'Query', input({ tag: 'textarea', name: 'query', rows: 2, spellcheck: false, placeholder: 'PromQL' }, () => pn.query, v => { pn.query = v; })),
        h('div', { class: 'row' }, minMax, thr));
    })),
    errEl,
    h('div', { class: 'row edit-actions' },
      h('button', { type: 'button', id: 'add-panel', onclick: () => { draft.panels.push({ title: '', type: 'line', query: '', unit: '', min: '', max: '', thresholds: '' }); drawEditor(draft.panels.length - 1); } }, '+ Add panel'),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', id: 'cancel-edit', onclick: () => stopEdit() }, 'Cancel'),
      h('button', { type: 'button', class: 'primary', id: 'save-dashboard', onclick: (e) => save(e.currentTarget) }, 'Save')));
    if (focusIndex !== undefined) {
      const el = editor.querySelector(`.panel-edit[data-index="${focusIndex}"]`);
      if (el) { el.scrollIntoView({ block: 'nearest' }); const q = el.querySelector('textarea'); if (q && !q.value) q.focus(); }
    }
  }

  async function save(btn) {
    clear(errEl);
    editor.querySelectorAll('.panel-edit.invalid').forEach(el => el.classList.remove('invalid'));
    let body;
    try {
      body = {
        title: draft.title.trim(), timeRange: draft.timeRange, refresh: draft.refresh, version: dash.version,
        panels: draft.panels.map((pn, i) => cleanPanel({
          title: pn.title.trim(), type: pn.type, query: pn.query.trim(), unit: pn.unit.trim(),
          min: numberField(pn.min, `Panel ${i + 1} min`), max: numberField(pn.max, `Panel ${i + 1} max`),
          thresholds: String(pn.thresholds).split(/[\s,;]+/).filter(Boolean).map(t => numberField(t, `Panel ${i + 1} thresholds`)),
        })),
      };
    } catch (e) { clear(errEl, errorBox(e)); return; }
    btn.disabled = true;
    try {
      dash = (await api.send('PUT', url, body)).dashboard;
      toast('Dashboard saved');
      view.range = draft.timeRange; view.refresh = draft.refresh; view.zoom = null;
      stopEdit();
    } catch (e) {
      if (e.status === 409) {
        clear(errEl, h('div', { class: 'error', role: 'alert' },
          'Someone else saved this dashboard since you opened it, so yours was not saved. Reload the dashboard to get their version, then make your change again. ',
          h('button', { type: 'button', id: 'reload-dashboard', onclick: () => show(main, { ws, id, query: new URLSearchParams() }) }, 'Reload'),
          h('div', { class: 'hint' }, e.message)));
      } else {
        clear(errEl, errorBox(e));
        const m = /panels\[(\d+)\]/.exec(e.message || '');
        const el = m && editor.querySelector(`.panel-edit[data-index="${m[1]}"]`);
        if (el) el.classList.add('invalid');
      }
      errEl.scrollIntoView({ block: 'nearest' });
    } finally { btn.disabled = false; }
  }

  rangeSel.addEventListener('change', () => { if (!rangeSel.value) return; view.range = rangeSel.value; view.zoom = null; syncControls(); refreshAll(); });
  refreshSel.addEventListener('change', () => { view.refresh = refreshSel.value; syncControls(); });
  syncControls();
  if (query.get('edit') === '1' && mayPut) startEdit(); else drawPanels();
}
