// Hosts, as Mackerel shows them: every resource an AWS integration found
// (EC2 instances are standard hosts, the rest micro hosts), filtered by
// workspace, service, role, status, kind, integration and tag; a host's page
// with its metadata, identifiers, roles, tags, graphs and retirement.
import * as api from '../api.js';
import { h, clear, table, badge, errorBox, toast, copyButton, modal, fmtTime, ago, can, workspaceARN, kansokuARN } from '../ui.js';
import { timeSeries, stepFor } from '../chart.js';
import { navigate } from '../app.js';

const STATUSES = ['working', 'standby', 'poweroff', 'retired'];
const FILTERS = ['workspace', 'product', 'service', 'role', 'status', 'kind', 'integration', 'tag', 'retired'];

const hpath = (id) => `/admin/v1/hosts/${encodeURIComponent(id)}`;

function spinner(text) {
  return h('span', { class: 'busy', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ', text);
}

function statusBadge(s) { return badge(s || 'unknown', s); }

function roleBadges(roles, ws) {
  return (roles || []).map(r => h('a', { class: 'pill role', href: `#/hosts?${new URLSearchParams(ws ? { workspace: ws, role: r } : { role: r })}` }, r));
}

// promString quotes a PromQL label value.
function promString(s) { return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'; }

async function loadWorkspaces() {
  try { return (await api.get('/workspaces')).workspaces || []; } catch { return []; }
}

// ---------------------------------------------------------------- list

export async function list(main, { query } = {}) {
  const state = {};
  for (const k of FILTERS) state[k] = (query && query.get(k)) || '';
  clear(main, h('h1', null, 'Hosts'),
    h('p', { class: 'hint' }, 'Every resource AWS integrations discovered. EC2 instances are standard hosts; load balancers, databases, functions, queues and tables are micro hosts.'));
  const filters = h('form', { id: 'host-filters', class: 'filters host-filters', onsubmit: (e) => { e.preventDefault(); changed(); } });
  const count = h('div', { class: 'hint', id: 'host-count' });
  const holder = h('div', null, spinner('Loading…'));
  main.append(filters, count, holder);

  const [wss, svcOut, intOut] = await Promise.all([
    loadWorkspaces(),
    api.get('/admin/v1/aws/services').catch(() => ({ services: [] })),
    api.get('/admin/v1/aws/integrations').catch(() => ({ integrations: [] })),
  ]);
  const services = svcOut.services || [];
  const integrations = intOut.integrations || [];
  const roleList = h('datalist', { id: 'host-role-options' });

  const sel = (name, label, options) => h('label', { class: 'filter' }, label,
    h('select', { name, onchange: changed },
      h('option', { value: '' }, 'Any'),
      options.map(o => h('option', { value: o.value, selected: o.value === state[name] }, o.label))));
  const input = (name, label, placeholder, attrs = {}) => h('label', { class: 'filter' }, label,
    h('input', { name, value: state[name], placeholder, autocomplete: 'off', onchange: changed, oninput: debounced, ...attrs }));
  clear(filters,
    sel('workspace', 'Workspace', wss.map(w => ({ value: w.workspaceId, label: w.alias || w.workspaceId }))),
    sel('product', 'Product', services.map(s => ({ value: s.key, label: s.name }))),
    input('service', 'Service', 'shop'),
    input('role', 'Role', 'Service:Role', { list: 'host-role-options' }),
    sel('status', 'Status', STATUSES.map(s => ({ value: s, label: s }))),
    sel('kind', 'Type', [{ value: 'standard', label: 'standard' }, { value: 'micro', label: 'micro' }]),
    sel('integration', 'Integration', integrations.map(i => ({ value: i.id, label: i.name }))),
    input('tag', 'Tag', 'key or key=value'),
    h('label', { class: 'check filter-check' }, h('input', { type: 'checkbox', name: 'retired', checked: state.retired === 'true', onchange: changed }), ' Show retired'),
    h('button', { type: 'button', id: 'reset-host-filters', onclick: () => { for (const k of FILTERS) state[k] = ''; navigate('/hosts'); } }, 'Reset'),
    roleList);

  let timer = null;
  function debounced() { clearTimeout(timer); timer = setTimeout(changed, 400); }

  function readFilters() {
    for (const k of FILTERS) {
      const el = filters.querySelector(`[name=${k}]`);
      if (!el) continue;
      state[k] = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
    }
  }

  function changed() {
    clearTimeout(timer);
    readFilters();
    const q = new URLSearchParams();
    for (const k of FILTERS) if (state[k]) q.set(k, state[k]);
    const qs = q.toString();
    // Keep the filters in the address without re-rendering the page.
    history.replaceState(null, '', '#/hosts' + (qs ? '?' + qs : ''));
    load();
  }

  async function loadRoles() {
    const wsIDs = state.workspace ? [state.workspace] : wss.map(w => w.workspaceId);
    const all = new Set();
    await Promise.all(wsIDs.slice(0, 20).map(ws => api.get(`/admin/v1/workspaces/${encodeURIComponent(ws)}/roles`)
      .then(r => (r.roles || []).forEach(x => all.add(x))).catch(() => {})));
    clear(roleList, [...all].sort().map(r => h('option', { value: r })));
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = {};
    for (const k of FILTERS) if (state[k] && k !== 'retired') params[k] = state[k];
    if (state.retired === 'true') params.retired = 'true';
    let out;
    try { out = await api.get('/admin/v1/hosts', params); } catch (e) { if (mine === seq) clear(holder, errorBox(e)); return; }
    if (mine !== seq) return;
    const hosts = (out.hosts || []).sort((a, b) => a.name.localeCompare(b.name));
    const wsName = (id) => { const w = wss.find(x => x.workspaceId === id); return w && w.alias ? w.alias : id; };
    count.textContent = `${hosts.length} host${hosts.length === 1 ? '' : 's'}`;
    const productName = (k) => { const p = services.find(x => x.key === k); return p ? p.name : k; };
    const tbl = table([
      { title: 'Name', render: x => h('a', { href: `#/hosts/${encodeURIComponent(x.id)}`, class: 'host-link' }, x.name) },
      { title: 'Product', render: x => h('span', { title: x.product }, productName(x.product)) },
      { title: 'Details', render: x => hostSummary(x, services) },
      { title: 'Type', render: x => h('span', { class: `kind ${x.kind}` }, x.kind) },
      { title: 'Status', render: x => statusBadge(x.retiredAt ? 'retired' : x.status) },
      { title: 'Roles', render: x => roleBadges(x.roles, x.workspaceId) },
      { title: 'Region', render: x => x.region },
      { title: 'Workspace', render: x => wsName(x.workspaceId) },
      { title: 'Last seen', render: x => h('span', { title: fmtTime(x.lastSeenAt) }, ago(x.lastSeenAt)) },
    ], hosts, { id: 'hosts', empty: 'No host matches.', rowData: x => ({ id: x.id, name: x.name, product: x.product, kind: x.kind, status: x.retiredAt ? 'retired' : x.status }) });
    if (hosts.length) tbl.querySelectorAll('tbody tr').forEach(tr => { tr.classList.add('host'); if (tr.dataset.status === 'retired') tr.classList.add('retired'); });
    clear(holder, tbl);
  }

  await Promise.all([load(), loadRoles()]);
}

// ---------------------------------------------------------------- show

const RANGES = [['1h', 3600], ['3h', 10800], ['6h', 21600], ['24h', 86400]];

export async function show(main, { id }) {
  clear(main, h('h1', null, 'Host'), spinner('Loading…'));
  let host, wss, services;
  try {
    [host, wss, services] = await Promise.all([api.get(hpath(id)).then(r => r.host), loadWorkspaces(),
      api.get('/admin/v1/aws/services').then(r => r.services || []).catch(() => [])]);
  } catch (e) { clear(main, h('h1', null, 'Host'), errorBox(e), h('p', null, h('a', { href: '#/hosts' }, 'Hosts'))); return; }
  const [mayRetire] = await can([{ action: 'kansoku:RetireHost', resources: [kansokuARN('host', host.id), workspaceARN(host.workspaceId)] }]);
  const retired = !!host.retiredAt;
  const catalog = new Map(services.flatMap(s => s.metrics.map(m => [m.name, m])));
  const product = services.find(s => s.key === host.product);
  const labels = (product && product.labels) || {};
  const ws = wss.find(w => w.workspaceId === host.workspaceId);

  const actions = h('div', { class: 'row actions', style: { marginBottom: '12px' } });
  if (mayRetire && !retired) actions.append(h('button', { class: 'danger', id: 'retire-host', onclick: retire }, 'Retire'));

  const kv = (label, value) => [h('div', null, label), h('div', null, value)];
  const md = Object.entries(host.metadata || {}).sort(([a], [b]) => a.localeCompare(b));
  const metadata = h('div', { class: 'card', id: 'host-metadata' },
    h('div', { class: 'kv' },
      kv('ID', [h('code', null, host.id), copyButton(host.id)]),
      kv('Status', [statusBadge(retired ? 'retired' : host.status), host.deletionDetectedAt && !retired ? h('span', { class: 'hint bad' }, ` resource deleted ${ago(host.deletionDetectedAt)}`) : null]),
      kv('Type', `${host.kind} host · ${product ? `${product.name} (${product.hostUnit})` : host.product}`),
      kv('Workspace', h('a', { href: `#/ws/${host.workspaceId}` }, ws && ws.alias ? `${ws.alias} (${host.workspaceId})` : host.workspaceId)),
      kv('AWS account', h('code', null, host.awsAccountId || '—')),
      kv('Region', host.region || '—'),
      kv('ARN', host.arn ? [h('code', null, host.arn), copyButton(host.arn)] : '—'),
      kv('First seen', fmtTime(host.firstSeenAt)),
      kv('Last seen', [fmtTime(host.lastSeenAt), ' ', h('span', { class: 'hint' }, `(${ago(host.lastSeenAt)})`)]),
      host.deletionDetectedAt ? kv('Deletion detected', fmtTime(host.deletionDetectedAt)) : null,
      retired ? kv('Retired', fmtTime(host.retiredAt)) : null),
    md.length ? [h('h3', null, 'Metadata'), h('div', { class: 'kv metadata' }, md.map(([k, v]) => kv(labels[k] || k, h('span', { dataset: { key: k } }, v))))] : null);

  const identifiers = h('div', { class: 'card', id: 'host-identifiers' },
    h('p', { class: 'hint', style: { marginTop: 0 } }, 'Series remote-written with a custom_identifier label equal to one of these attach to this host.'),
    (host.identifiers || []).length ? h('ul', { class: 'plain-list' }, host.identifiers.map(x => h('li', null, h('code', null, x), copyButton(x)))) : h('span', { class: 'muted' }, 'none'));
  const tags = Object.entries(host.tags || {}).sort(([a], [b]) => a.localeCompare(b));
  const rolesAndTags = h('div', { class: 'card', id: 'host-roles' },
    h('div', { class: 'kv' },
      kv('Roles', (host.roles || []).length ? roleBadges(host.roles, host.workspaceId) : h('span', { class: 'muted' }, 'none')),
      kv('Tags', tags.length ? tags.map(([k, v]) => h('a', { class: 'pill tag', href: `#/hosts?${new URLSearchParams({ workspace: host.workspaceId, tag: `${k}=${v}` })}` }, `${k}=${v}`)) : h('span', { class: 'muted' }, 'none')),
      kv('Integrations', (host.integrations || []).length ? h('ul', { class: 'plain-list', id: 'host-integrations' }, host.integrations.map(l => h('li', null,
        h('a', { href: `#/aws/${encodeURIComponent(l.integration)}` }, l.integration),
        l.excluded ? h('span', { class: 'hint' }, ' — excluded by the tag filter (not collected)') : null,
        l.deletionDetectedAt ? h('span', { class: 'hint bad' }, ` — resource gone since ${fmtTime(l.deletionDetectedAt)}`) : null))) : h('span', { class: 'muted' }, 'none'))));

  const graphs = h('div', { id: 'host-graphs' });
  const rangeBar = h('div', { class: 'row range-bar' });
  let range = 10800;
  const drawRangeBar = () => clear(rangeBar, RANGES.map(([label, secs]) => h('button', { type: 'button', class: secs === range ? 'small primary' : 'small', onclick: () => { range = secs; drawRangeBar(); loadGraphs(); } }, label)));
  drawRangeBar();

  clear(main, h('p', { class: 'crumbs' }, h('a', { href: '#/hosts' }, 'Hosts'), ' / ', host.name),
    h('h1', null, host.name, ' ', statusBadge(retired ? 'retired' : host.status), ' ', h('span', { class: `kind ${host.kind}` }, host.kind)),
    actions,
    retired ? h('div', { class: 'notice' }, `This host was retired ${ago(host.retiredAt)}: it is no longer listed, and a new host is created if the resource shows up again.`) : null,
    h('div', { class: 'host-layout' },
      h('aside', { class: 'host-side' },
        metadata,
        h('h3', null, 'Roles, tags and integrations'), rolesAndTags,
        h('h3', null, 'Identifiers'), identifiers),
      h('section', { class: 'host-main' },
        h('div', { class: 'row' }, h('h2', { style: { margin: 0 } }, 'Metrics'), h('span', { class: 'spacer' }), rangeBar),
        h('p', { class: 'hint' }, 'CloudWatch publishes datapoints minutes after their period ends, so the last minutes are always empty.'),
        graphs)));

  let gseq = 0;
  async function loadGraphs() {
    const mine = ++gseq;
    clear(graphs, spinner('Finding the host\'s series…'));
    const p = api.prom(host.workspaceId);
    const sel = `host_id=${promString(host.id)}`;
    let names;
    try {
      const r = await p.query(`count by (__name__) (last_over_time({${sel}}[${Math.round(range / 60)}m]))`);
      names = (r.result || []).map(s => s.metric.__name__).filter(Boolean).sort();
    } catch (e) { if (mine === gseq) clear(graphs, errorBox(e)); return; }
    if (mine !== gseq) return;
    if (names.length === 0) { clear(graphs, h('p', { class: 'muted', id: 'no-metrics' }, 'No metric in this range yet: the integration writes them at its next poll.')); return; }
    const grid = h('div', { class: 'grid host-graph-grid' });
    clear(graphs, grid);
    const end = Math.floor(Date.now() / 1000), start = end - range, step = stepFor(range);
    const jobs = names.map(name => {
      const chart = h('div', { class: 'host-chart' }, spinner('Loading…'));
      grid.append(h('div', { class: 'card host-graph', dataset: { metric: name } },
        h('div', { class: 'graph-title', title: name }, prettyMetric(name, catalog)),
        h('div', { class: 'hint mono' }, name), chart));
      return () => p.range(`{__name__=${promString(name)}, ${sel}}`, start, end, step)
        .then(r => { if (mine === gseq) timeSeries(chart, r.result, { height: 170, legend: (r.result || []).length > 1 }); })
        .catch(e => { if (mine === gseq) clear(chart, errorBox(e)); });
    });
    // At most four queries at a time.
    const run = async () => { while (jobs.length && mine === gseq) await jobs.shift()(); };
    await Promise.all([run(), run(), run(), run()]);
  }

  async function retire() {
    await modal(`Retire ${host.name}?`, close => {
      const err = h('div');
      const btn = h('button', { class: 'danger', id: 'confirm-retire', onclick: async () => {
        btn.disabled = true; clear(err);
        try {
          await api.send('POST', `${hpath(host.id)}/retire`);
          close(); toast(`${host.name} retired`); navigate('/hosts');
        } catch (e) { clear(err, errorBox(e)); btn.disabled = false; }
      } }, 'Retire');
      return h('div', { id: 'retire-dialog' },
        h('p', null, 'A retired host leaves the host list and its identifiers no longer attach series to it; its samples stay. If the AWS resource still exists, the next poll creates a new host for it.'),
        err,
        h('div', { class: 'row' }, btn, h('button', { onclick: () => close() }, 'Cancel')));
    });
  }

  loadGraphs();
}

// hostSummary is the one or two facts of a host that tell it apart, by
// product (its instance type, engine, node type, destination ...).
const SUMMARY_KEYS = ['instance_type', 'engine', 'node_type', 'instance_class', 'runtime', 'type', 'destination', 'protocol', 'scope',
  'performance_mode', 'mode', 'dns_name', 'domain_name', 'health_checks', 'job_queues', 'budgets'];
function hostSummary(x, services) {
  const p = services.find(s => s.key === x.product);
  const labels = (p && p.labels) || {};
  const md = x.metadata || {};
  const parts = SUMMARY_KEYS.filter(k => md[k]).slice(0, 2).map(k => h('span', { class: 'summary', title: labels[k] || k }, md[k]));
  return parts.length ? parts.flatMap((e, i) => i ? [' · ', e] : [e]) : h('span', { class: 'muted' }, '—');
}

// prettyMetric names a series family by its CloudWatch metric and
// statistic when the catalog knows it ("CPUUtilization (Average)").
function prettyMetric(name, catalog) {
  const c = catalog.get(name);
  if (c) return c.api ? c.metric : `${c.metric} (${c.stat})`;
  const m = /^aws_[a-z0-9]+_(.+)_(average|sum|maximum|minimum|samplecount|p\d+(?:_\d+)?)$/.exec(name);
  return m ? `${m[1]} (${m[2]})` : name;
}
