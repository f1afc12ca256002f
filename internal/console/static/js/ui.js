// Small DOM helpers: the console has no framework and no build step.
import * as api from './api.js';

// h(tag, attrs, ...children): attrs may hold on<event> handlers, class,
// style objects and dataset; children are nodes, strings or arrays.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) { el.replaceChildren(); append(el, children); return el; }

export function table(columns, rows, opts = {}) {
  return h('table', { class: opts.class, id: opts.id },
    h('thead', null, h('tr', null, columns.map(c => h('th', { class: c.class }, c.title)))),
    h('tbody', null, rows.length === 0
      ? h('tr', null, h('td', { colSpan: columns.length, class: 'muted' }, opts.empty || 'Nothing yet.'))
      : rows.map(r => h('tr', { dataset: opts.rowData ? opts.rowData(r) : undefined }, columns.map(c => h('td', { class: c.class }, c.render(r)))))));
}

export function badge(text, cls) { return h('span', { class: `badge ${cls || text}` }, text); }

export function errorBox(err) { return h('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)); }

export function toast(msg) {
  const t = h('div', { class: 'toast', role: 'status' }, msg);
  const others = document.querySelectorAll('.toast').length;
  t.style.bottom = `${20 + others * 52}px`; // stack, do not overlap
  document.body.append(t);
  setTimeout(() => t.remove(), 3500);
}

export function copyButton(text) {
  return h('button', { class: 'copy', type: 'button', title: 'Copy', onclick: async (e) => {
    e.preventDefault();
    try { await navigator.clipboard.writeText(typeof text === 'function' ? text() : text); toast('Copied'); }
    catch { toast('Copy failed: select and copy by hand'); }
  } }, 'Copy');
}

// modal shows a dialog; body(close) builds its content. Resolves when closed.
export function modal(title, body) {
  return new Promise(resolve => {
    const close = (v) => { bg.remove(); resolve(v); };
    const bg = h('div', { class: 'modal-bg', onclick: (e) => { if (e.target === bg) close(); } },
      h('div', { class: 'modal', role: 'dialog', 'aria-label': title }, h('h2', null, title), body(close)));
    document.body.append(bg);
    const first = bg.querySelector('input, textarea, select');
    if (first) first.focus();
  });
}

// form builds a form from fields and calls onSubmit(values); errors show inline.
export function form(fields, submitLabel, onSubmit, opts = {}) {
  const err = h('div');
  const inputs = {};
  const f = h('form', { id: opts.id, onsubmit: async (e) => {
    e.preventDefault();
    clear(err);
    const values = {};
    for (const [k, el] of Object.entries(inputs)) values[k] = el.type === 'checkbox' ? el.checked : el.value;
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    try { await onSubmit(values); } catch (e2) { clear(err, errorBox(e2)); } finally { btn.disabled = false; }
  } },
  fields.map(fd => {
    let input;
    if (fd.type === 'textarea') input = h('textarea', { name: fd.name, rows: fd.rows || 8, placeholder: fd.placeholder, required: fd.required }, fd.value || '');
    else if (fd.type === 'select') input = h('select', { name: fd.name }, fd.options.map(o => h('option', { value: o.value ?? o, selected: (o.value ?? o) === fd.value }, o.label ?? o)));
    else input = h('input', { name: fd.name, type: fd.type || 'text', value: fd.value ?? '', placeholder: fd.placeholder, required: fd.required,
      autocomplete: fd.autocomplete || 'off', checked: fd.type === 'checkbox' ? !!fd.value : undefined });
    inputs[fd.name] = input;
    return h('div', { class: 'field' }, h('label', null, fd.label, input), fd.hint ? h('div', { class: 'hint' }, fd.hint) : null);
  }),
  err,
  h('div', { class: 'row', style: { marginTop: '12px' } }, h('button', { class: 'primary', type: 'submit' }, submitLabel), opts.extra));
  return f;
}

export function fmtTime(t) {
  if (!t) return '—';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (isNaN(d) || d.getFullYear() < 2000) return '—';
  return d.toLocaleString();
}

export function ago(t) {
  if (!t) return '—';
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function fmtNum(v) {
  if (v === null || v === undefined || isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  if (a !== 0 && a < 0.01) return v.toExponential(2);
  return Math.round(v * 100) / 100 + '';
}

// Permissions: the console asks the server which actions the user may do
// and shows only the buttons that would work.
// A check names one resource, or several (resources) that must all be
// allowed: an integration or host and its workspace.
const permCache = new Map();
const permKey = c => c.action + '|' + (c.resources ? c.resources.join(',') : (c.resource || ''));
export async function can(checks) {
  const missing = checks.filter(c => !permCache.has(permKey(c)));
  if (missing.length) {
    const r = await api.send('POST', '/console/api/permissions', { checks: missing });
    missing.forEach((c, i) => permCache.set(permKey(c), r.allowed[i]));
  }
  return checks.map(c => permCache.get(permKey(c)));
}
export function forgetPermissions() { permCache.clear(); }

// Session-wide context (account, region, user) set after sign-in.
export const session = { user: '', arn: '', accountId: '', region: '' };

export function workspaceARN(ws) { return `arn:aws:aps:${session.region}:${session.accountId}:workspace/${ws}`; }
// Kansoku's own resources (integrations, hosts, limits).
export function kansokuARN(kind, id) { return `arn:aws:kansoku:${session.region}:${session.accountId}:${kind}/${id}`; }

// every runs fn every ms milliseconds while main is on the page (the router
// replaces main when the page changes); fn may return a shorter delay.
export function every(main, ms, fn) {
  const tick = async () => {
    if (!main.isConnected) return;
    let next = ms;
    if (!document.hidden) {
      try { next = (await fn()) || ms; } catch { /* shown by fn; retry next time */ }
    }
    if (main.isConnected) setTimeout(tick, next);
  };
  setTimeout(tick, ms);
}
