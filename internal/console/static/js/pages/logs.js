// Logs: the workspace log — the warnings and errors of the workspace's
// ruler and Alertmanager and of the AWS integrations writing into it, which
// AMP sends to the CloudWatch Logs group of the logging configuration.
import * as api from '../api.js';
import { h, clear, badge, errorBox, toast, fmtTime, can, session, workspaceARN, copyButton, every } from '../ui.js';
import { refreshAgo } from './rules.js';

const PAGE = 5000;     // events per request
const KEEP = 1000;     // newest events shown
const REFRESH = 10000; // auto-refresh period

const sleep = (ms) => new Promise(r => setTimeout(r, ms));

export async function render(main, { ws, query }) {
  const base = `/workspaces/${encodeURIComponent(ws)}`;
  const wsARN = workspaceARN(ws);
  clear(main, h('h1', null, 'Workspace log'),
    h('p', { class: 'hint' }, 'Warnings and errors of the workspace\'s ruler and Alertmanager, and of AWS integrations writing into it: ',
      'what AMP sends to the CloudWatch Logs group named by the workspace\'s logging configuration.'));
  const [mayDescribe, mayCreate, mayRead] = await can([
    { action: 'aps:DescribeLoggingConfiguration', resource: wsARN },
    { action: 'aps:CreateLoggingConfiguration', resource: wsARN },
    { action: 'logs:FilterLogEvents', resource: wsARN },
  ]);

  const configEl = h('div', { id: 'logging-configuration' });
  const q = query || new URLSearchParams();
  const sel = (name, options, value) => h('select', { name, onchange: () => reload() },
    options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)));
  const component = sel('component', [['', 'All components'], ['ruler', 'Ruler'], ['alertmanager', 'Alertmanager'], ['aws', 'AWS integrations'], ['query', 'Queries (query logging)']], q.get('component') || '');
  const level = sel('level', [['', 'Warnings and errors'], ['ERROR', 'Errors only'], ['WARN', 'Warnings only']], (q.get('level') || '').toUpperCase());
  const since = sel('since', [['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['6h', 'Last 6 hours'], ['24h', 'Last 24 hours'], ['168h', 'Last 7 days']], q.get('since') || '1h');
  const search = h('input', { name: 'search', type: 'search', placeholder: 'Filter messages and fields', autocomplete: 'off', oninput: () => draw() });
  const auto = h('input', { type: 'checkbox', id: 'log-autorefresh', checked: true });
  const status = h('span', { class: 'hint', id: 'log-status' });
  const tableEl = h('div', { id: 'workspace-log-holder' });
  main.append(configEl,
    h('div', { class: 'filters', id: 'log-filters' }, component, level, since, search,
      h('label', { class: 'inline-check' }, auto, ' Auto-refresh every 10 s'),
      h('button', { id: 'refresh-log', onclick: () => reload() }, 'Refresh'), status),
    tableEl);

  let events = [];  // newest first
  let lastId = 0;
  let inflight = null; // the running poll
  let gen = 0;      // bumps when the filters change

  async function loadConfig() {
    if (!mayDescribe) { clear(configEl); return null; }
    try {
      const l = (await api.get(`${base}/logging`)).loggingConfiguration;
      const st = l.status || {};
      clear(configEl, h('div', { class: 'card row log-config' },
        h('span', null, 'Log group'), h('code', null, l.logGroupArn), badge(st.statusCode),
        st.statusReason ? h('span', { class: 'error' }, st.statusReason) : null));
      return st.statusCode;
    } catch (e) {
      if (e.status !== 404) { clear(configEl, errorBox(e)); return null; }
    }
    const group = `arn:aws:logs:${session.region}:${session.accountId}:log-group:/kansoku/${ws}:*`;
    const cmd = `aws amp create-logging-configuration --workspace-id ${ws} \\\n  --log-group-arn '${group}' \\\n  --endpoint-url ${location.origin}`;
    const err = h('div');
    clear(configEl, h('div', { class: 'card', id: 'no-logging' },
      h('p', null, h('strong', null, 'This workspace has no logging configuration, '),
        'so the warnings and errors of its ruler and Alertmanager are not kept. Create one with the AWS CLI:'),
      h('div', { class: 'row' }, h('pre', { class: 'log-cmd' }, cmd), copyButton(cmd.replace(/\\\n\s*/g, ''))),
      mayCreate ? h('div', { class: 'row', style: { marginTop: '12px' } },
        h('button', { class: 'primary', id: 'create-logging', onclick: async (e) => {
          e.target.disabled = true;
          clear(err);
          try {
            await api.send('POST', `${base}/logging`, { logGroupArn: group });
            toast('Logging configuration created');
            for (let i = 0; i < 40 && (await loadConfig()) === 'CREATING'; i++) await sleep(500);
          } catch (e2) { e.target.disabled = false; clear(err, errorBox(e2)); }
        } }, 'Create logging configuration'),
        h('span', { class: 'hint' }, 'Log group ', h('code', null, group))) : null,
      err));
    return '';
  }

  // fetchEvents reads events after afterId, page by page (the API answers
  // oldest first), keeping the newest KEEP.
  async function fetchEvents(afterId) {
    const params = { startTime: since.value, component: component.value, level: level.value, limit: PAGE };
    let out = [], last = afterId;
    for (let page = 0; page < 50; page++) {
      const r = await api.get(`/admin/v1/workspaces/${encodeURIComponent(ws)}/logs`, { ...params, afterId: last || '' });
      const evs = r.events || [];
      out = out.concat(evs).slice(-KEEP);
      if (evs.length) last = r.lastId || evs[evs.length - 1].id;
      if (evs.length < PAGE) break;
    }
    return { events: out.reverse(), lastId: last };
  }

  async function reload() {
    const my = ++gen;
    events = []; lastId = 0;
    clear(tableEl, h('p', { class: 'muted' }, 'Loading…'));
    await poll(my, true);
  }

  async function poll(my, first) {
    if (!mayRead) { clear(tableEl, h('p', { class: 'muted' }, 'You may not read this workspace\'s log (logs:FilterLogEvents).')); return; }
    if (inflight && !first) return;
    const token = {};
    inflight = token;
    try {
      const r = await fetchEvents(lastId);
      if (my !== gen) return;
      if (r.events.length || first) {
        events = r.events.concat(events).slice(0, KEEP);
        lastId = r.lastId;
        draw();
      }
      status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (my === gen) clear(tableEl, errorBox(e));
    } finally { if (inflight === token) inflight = null; }
  }

  function fieldsOf(e) {
    const msg = e.message || {};
    const f = { ...(e.fields || {}) };
    for (const [k, v] of Object.entries(msg)) if (k !== 'log' && k !== 'level') f[k] = v;
    return f;
  }

  function draw() {
    const term = search.value.trim().toLowerCase();
    const shown = term ? events.filter(e => JSON.stringify([e.message, e.fields, e.component]).toLowerCase().includes(term)) : events;
    const rows = shown.map(e => {
      const msg = e.message || {};
      const lvl = String(msg.level || e.level || '').toUpperCase();
      const t = e.timestamp || e.time;
      const fields = Object.entries(fieldsOf(e)).sort(([a], [b]) => a.localeCompare(b));
      return h('tr', { class: 'log-event', dataset: { id: String(e.id ?? ''), component: e.component || '', level: lvl } },
        h('td', { class: 'log-time' }, h('span', { title: t }, fmtTime(t))),
        h('td', null, badge(e.component || '—', `component-${e.component || 'none'}`)),
        h('td', null, badge(lvl || '—', lvl === 'ERROR' ? 'err' : lvl === 'WARN' ? 'pending' : '')),
        h('td', { class: 'log-message' },
          h('div', { class: 'log-text' }, typeof msg === 'string' ? msg : (msg.log ?? JSON.stringify(msg))),
          fields.length ? h('div', { class: 'log-fields' }, fields.map(([k, v]) => [
            h('div', { class: 'log-key' }, k), h('div', { class: 'log-value' }, typeof v === 'string' ? v : JSON.stringify(v))])) : null));
    });
    clear(tableEl,
      h('p', { class: 'hint' }, events.length >= KEEP ? `The newest ${KEEP} events.` : `${events.length} event${events.length === 1 ? '' : 's'}`, term ? `, ${shown.length} matching` : '', '.'),
      h('table', { id: 'workspace-log' },
        h('thead', null, h('tr', null, ['Time', 'Component', 'Level', 'Message and fields'].map(c => h('th', null, c)))),
        h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colSpan: 4, class: 'muted' },
          term ? 'No event matches.' : 'No warning or error in this window.')))));
  }

  await loadConfig();
  await reload();
  every(main, REFRESH, async () => {
    if (!auto.checked) return;
    await poll(gen, false);
    refreshAgo(main);
  });
}
