// Rules: the workspace's rule-groups namespaces (AMP's control plane) with
// the ruler's view of their groups and rules (/api/v1/rules), upload, edit
// and delete of rule files, and the workspace's Alertmanager definition.
import * as api from '../api.js';
import { h, clear, badge, errorBox, toast, modal, ago, can, workspaceARN, every } from '../ui.js';

// b64encode encodes text as UTF-8 then base64 (AMP's blob members).
export function b64encode(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// b64decode decodes base64 to bytes and reads them as UTF-8.
export function b64decode(b64) {
  const bin = atob(b64 || '');
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

const transitional = (code) => code === 'CREATING' || code === 'UPDATING' || code === 'DELETING';
const sleep = (ms) => new Promise(r => setTimeout(r, ms));

// toDate reads RFC 3339 strings and AWS epoch seconds.
export function toDate(t) {
  if (t === undefined || t === null || t === '') return null;
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return isNaN(d) || d.getFullYear() < 2000 ? null : d;
}

const validTime = (t) => toDate(t) !== null;

// agoSpan shows "12s ago" with the exact time as a tooltip.
export function agoSpan(t, never = 'never') {
  const d = toDate(t);
  if (!d) return h('span', { class: 'muted' }, never);
  return h('span', { title: d.toLocaleString(), dataset: { ago: d.toISOString() } }, ago(d));
}

// refreshAgo updates every agoSpan under el in place.
export function refreshAgo(el) {
  for (const s of el.querySelectorAll('[data-ago]')) s.textContent = ago(s.dataset.ago);
}

function fmtSeconds(s) {
  if (s === undefined || s === null || isNaN(s)) return '—';
  if (s === 0) return '0';
  if (s < 0.001) return `${Math.round(s * 1e6)} µs`;
  if (s < 1) return `${Math.round(s * 1e5) / 100} ms`;
  return `${Math.round(s * 100) / 100} s`;
}

function labelChips(labels, skip = []) {
  return Object.entries(labels || {}).filter(([k]) => !skip.includes(k))
    .map(([k, v]) => h('span', { class: 'label-chip' }, `${k}="${v}"`));
}

// fileField is a file picker that reads a file client-side into textarea.
function fileField(textarea, onName) {
  const input = h('input', { type: 'file', class: 'file-pick', accept: '.yml,.yaml,.txt,text/*', onchange: async () => {
    const f = input.files && input.files[0];
    if (!f) return;
    textarea.value = await f.text();
    if (onName) onName(f.name);
  } });
  return h('label', { class: 'file-label' }, 'Or read a file from this computer ', input);
}

export async function render(main, { ws }) {
  const base = `/workspaces/${encodeURIComponent(ws)}`;
  const wsARN = workspaceARN(ws);
  const nsARN = (name) => wsARN.replace(/:workspace\//, ':rulegroupsnamespace/') + '/' + name;
  clear(main, h('h1', null, 'Rules'),
    h('p', { class: 'hint' }, 'Rule-groups namespaces hold Prometheus rule files (recording and alerting rules). ',
      'The workspace\'s ruler evaluates the ACTIVE ones and sends firing alerts to the workspace\'s Alertmanager.'));

  const [mayList, mayCreate, mayCreateAny, mayListRules, mayDescribeAM, mayPutAM, mayCreateAM] = await can([
    { action: 'aps:ListRuleGroupsNamespaces', resource: wsARN },
    { action: 'aps:CreateRuleGroupsNamespace', resource: wsARN },
    { action: 'aps:CreateRuleGroupsNamespace', resource: nsARN('*') },
    { action: 'aps:ListRules', resource: wsARN },
    { action: 'aps:DescribeAlertManagerDefinition', resource: wsARN },
    { action: 'aps:PutAlertManagerDefinition', resource: wsARN },
    { action: 'aps:CreateAlertManagerDefinition', resource: wsARN },
  ]);

  const bar = h('div', { class: 'row', style: { marginBottom: '12px' } });
  if (mayCreate || mayCreateAny) bar.append(h('button', { class: 'primary', id: 'upload-namespace', onclick: () => editNamespace(null) }, 'Upload namespace'));
  bar.append(h('button', { id: 'refresh-rules', onclick: () => load() }, 'Refresh'));
  const updated = h('span', { class: 'hint' });
  bar.append(updated);
  const holder = h('div', { id: 'namespaces' }, h('p', { class: 'muted' }, 'Loading…'));
  const amHolder = h('div', { class: 'card', id: 'alertmanager-definition' }, h('p', { class: 'muted' }, 'Loading…'));
  main.append(bar, holder, h('h2', null, 'Alertmanager definition'), amHolder);

  let nsPerms = new Map(); // namespace ARN -> {describe, put, delete}
  let lastSig = '';
  let cards = new Map(); // name -> rules holder element

  async function load() {
    let namespaces = null, nsErr = null, groups = [], rulesErr = null;
    const [nsRes, rulesRes] = await Promise.allSettled([
      mayList ? api.get(`${base}/rulegroupsnamespaces`) : Promise.reject(new Error('You may not list this workspace\'s rule-groups namespaces (aps:ListRuleGroupsNamespaces).')),
      mayListRules ? api.prom(ws).rules() : Promise.reject(new Error('You may not read the ruler\'s state (aps:ListRules).')),
    ]);
    if (nsRes.status === 'fulfilled') {
      namespaces = nsRes.value.ruleGroupsNamespaces || [];
      // List pages (AMP's maxResults); follow nextToken.
      let next = nsRes.value.nextToken;
      while (next) {
        const more = await api.get(`${base}/rulegroupsnamespaces`, { nextToken: next });
        namespaces.push(...(more.ruleGroupsNamespaces || []));
        next = more.nextToken;
      }
    } else nsErr = nsRes.reason;
    if (rulesRes.status === 'fulfilled') groups = rulesRes.value.groups || [];
    else rulesErr = rulesRes.reason;

    // Without the namespace list, show the ruler's groups by file.
    if (!namespaces) namespaces = [...new Set(groups.map(g => g.file))].map(name => ({ name, arn: nsARN(name), status: { statusCode: '' } }));
    namespaces.sort((a, b) => a.name.localeCompare(b.name));
    const missing = namespaces.filter(n => !nsPerms.has(n.arn));
    if (missing.length) {
      const p = await can(missing.flatMap(n => [
        { action: 'aps:DescribeRuleGroupsNamespace', resource: n.arn },
        { action: 'aps:PutRuleGroupsNamespace', resource: n.arn },
        { action: 'aps:DeleteRuleGroupsNamespace', resource: n.arn },
      ]));
      missing.forEach((n, i) => nsPerms.set(n.arn, { describe: p[3 * i], put: p[3 * i + 1], del: p[3 * i + 2] }));
    }
    const sig = JSON.stringify([nsErr && nsErr.message, rulesErr && rulesErr.message,
      namespaces.map(n => [n.name, n.status.statusCode, n.status.statusReason, n.modifiedAt])]);
    if (sig !== lastSig) {
      lastSig = sig;
      cards = new Map();
      clear(holder,
        nsErr ? errorBox(nsErr) : null,
        rulesErr ? errorBox(rulesErr) : null,
        namespaces.length === 0 ? h('p', { class: 'muted' }, 'No rule-groups namespace yet. Upload a Prometheus rule file to create one.') : null,
        namespaces.map(namespaceCard));
    }
    for (const [name, el] of cards) {
      const ns = namespaces.find(n => n.name === name);
      clear(el, groupsView(groups.filter(g => g.file === name), ns));
    }
    const known = new Set(namespaces.map(n => n.name));
    const orphans = groups.filter(g => !known.has(g.file));
    let other = holder.querySelector('.orphan-groups');
    if (orphans.length) {
      if (!other) holder.append(other = h('div', { class: 'card orphan-groups' }));
      clear(other, h('h3', null, 'Other rule groups'), groupsView(orphans, null));
    } else if (other) other.remove();
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    return namespaces.some(n => transitional(n.status.statusCode)) ? 1000 : 5000;
  }

  function namespaceCard(n) {
    const p = nsPerms.get(n.arn) || {};
    const st = n.status || {};
    const rules = h('div', { class: 'ns-rules' });
    cards.set(n.name, rules);
    return h('div', { class: 'card namespace', dataset: { name: n.name, status: st.statusCode || '' } },
      h('div', { class: 'row' },
        h('h3', { class: 'ns-name' }, n.name),
        st.statusCode ? badge(st.statusCode) : null,
        validTime(n.modifiedAt) ? h('span', { class: 'hint' }, 'modified ', agoSpan(n.modifiedAt)) : null,
        h('span', { class: 'spacer' }),
        p.describe && p.put && st.statusCode !== 'DELETING' ? h('button', { class: 'edit-namespace', onclick: () => editNamespace(n) }, 'Edit') : null,
        p.describe && !p.put ? h('button', { class: 'view-namespace', onclick: () => viewNamespace(n) }, 'View file') : null,
        p.del && st.statusCode !== 'DELETING' ? h('button', { class: 'danger delete-namespace', onclick: () => removeNamespace(n) }, 'Delete') : null),
      st.statusReason ? h('div', { class: 'error namespace-reason' }, st.statusReason) : null,
      st.statusCode === 'UPDATE_FAILED' ? h('div', { class: 'hint' }, 'The last upload was rejected; the previous rule file stays in force.') : null,
      rules);
  }

  function groupsView(groups, ns) {
    if (groups.length === 0) {
      const code = ns && ns.status && ns.status.statusCode;
      let msg = 'The ruler has no group from this namespace yet.';
      if (code === 'CREATION_FAILED') msg = 'Not loaded: the rule file was rejected.';
      else if (code === 'CREATING' || code === 'UPDATING') msg = 'Being validated and loaded…';
      else if (code === 'DELETING') msg = 'Being deleted.';
      return h('p', { class: 'muted' }, msg);
    }
    return groups.map(g => h('div', { class: 'rule-group', dataset: { group: g.name } },
      h('div', { class: 'rule-group-head' },
        h('strong', null, g.name),
        h('span', { class: 'hint' }, ` every ${fmtSeconds(g.interval)} · last evaluation `, agoSpan(g.lastEvaluation), ` · took ${fmtSeconds(g.evaluationTime)}`)),
      h('table', { class: 'rules' },
        h('thead', null, h('tr', null, ['Rule', 'Type', 'Query', 'Health', 'State', 'Last evaluation', 'Evaluation time', 'Last error'].map(t => h('th', null, t)))),
        h('tbody', null, (g.rules || []).map(ruleRow)))));
  }

  function ruleRow(r) {
    const alerting = r.type === 'alerting';
    const active = alerting ? (r.alerts || []).length : 0;
    return h('tr', { class: 'rule', dataset: { name: r.name, health: r.health || 'unknown', type: r.type, state: r.state || '' } },
      h('td', null, h('strong', null, r.name),
        alerting && r.duration ? h('div', { class: 'hint' }, `for ${fmtSeconds(r.duration)}`) : null,
        labelChips(r.labels).length ? h('div', null, labelChips(r.labels)) : null),
      h('td', null, alerting ? 'alerting' : 'recording'),
      h('td', { class: 'rule-query' }, h('code', null, r.query)),
      h('td', null, badge(r.health || 'unknown', r.health === 'ok' ? 'ok' : r.health === 'err' ? 'err' : 'unknown')),
      h('td', null, alerting ? [badge(r.state || 'inactive'), h('div', { class: 'hint' }, `${active} active alert${active === 1 ? '' : 's'}`)] : h('span', { class: 'muted' }, '—')),
      h('td', null, agoSpan(r.lastEvaluation)),
      h('td', null, fmtSeconds(r.evaluationTime)),
      h('td', { class: 'rule-error' }, r.lastError || ''));
  }

  async function describeNamespace(name) {
    return (await api.get(`${base}/rulegroupsnamespaces/${encodeURIComponent(name)}`)).ruleGroupsNamespace;
  }

  async function viewNamespace(n) {
    const d = await describeNamespace(n.name);
    await modal(`Rule file of ${n.name}`, () => h('pre', { class: 'rule-file' }, b64decode(d.data)));
  }

  // editNamespace uploads a new namespace (n null) or a new file for n,
  // then follows the namespace's status until it settles.
  async function editNamespace(n) {
    let current = '';
    if (n) {
      try { current = b64decode((await describeNamespace(n.name)).data); } catch (e) { toast(`Cannot read ${n.name}: ${e.message}`); return; }
    }
    let exists = !!n;
    await modal(n ? `Edit namespace ${n.name}` : 'Upload rule-groups namespace', close => {
      const nameInput = h('input', { name: 'name', required: true, value: n ? n.name : '', readOnly: !!n, autocomplete: 'off', placeholder: 'my-rules' });
      const ta = h('textarea', { name: 'data', rows: 18, spellcheck: 'false', required: true,
        placeholder: 'groups:\n- name: example\n  rules:\n  - alert: HighErrorRate\n    expr: rate(errors_total[5m]) > 1' }, current);
      const status = h('div', { class: 'namespace-status' });
      const submit = h('button', { class: 'primary', type: 'submit' }, n ? 'Save' : 'Upload');
      const f = h('form', { id: 'namespace-form', onsubmit: async (e) => {
        e.preventDefault();
        const name = nameInput.value.trim();
        submit.disabled = true;
        clear(status);
        try {
          if (!ta.value.trim()) throw new Error('The rule file is empty.');
          const data = b64encode(ta.value);
          let r;
          if (exists) r = await api.send('PUT', `${base}/rulegroupsnamespaces/${encodeURIComponent(name)}`, { data });
          else {
            r = await api.send('POST', `${base}/rulegroupsnamespaces`, { name, data });
            exists = true;
            nameInput.readOnly = true;
            submit.textContent = 'Save';
          }
          let st = r.status || {};
          showStatus(status, st);
          const deadline = Date.now() + 60000;
          while (transitional(st.statusCode) && Date.now() < deadline) {
            await sleep(500);
            st = (await describeNamespace(name)).status || {};
            showStatus(status, st);
          }
          load().catch(() => {});
          if (st.statusCode === 'ACTIVE') { close(); toast(`Namespace ${name} is ACTIVE`); }
        } catch (e2) {
          clear(status, errorBox(e2));
        } finally { submit.disabled = false; }
      } },
      h('div', { class: 'field' }, h('label', null, 'Name', nameInput),
        h('div', { class: 'hint' }, 'Letters, digits, "-", "." and "_"; rule groups appear with this name as their file.')),
      h('div', { class: 'field' }, h('label', null, 'Rule file (Prometheus YAML)', ta), fileField(ta, fname => {
        if (!nameInput.value && !nameInput.readOnly) nameInput.value = fname.replace(/\.(ya?ml|txt)$/i, '').replace(/[^-.0-9A-Za-z_]/g, '-').replace(/^[^0-9A-Za-z]+/, '');
      })),
      status,
      h('div', { class: 'row', style: { marginTop: '12px' } }, submit, h('button', { type: 'button', class: 'cancel', onclick: () => close() }, 'Close')));
      return f;
    });
  }

  function showStatus(el, st) {
    const code = st.statusCode || '';
    if (transitional(code)) clear(el, h('div', { class: 'notice' }, badge(code), ' Validating and loading…'));
    else if (code === 'ACTIVE') clear(el, h('div', { class: 'notice' }, badge(code)));
    else clear(el, h('div', { class: 'error status-reason' }, h('strong', null, code), st.statusReason ? `: ${st.statusReason}` : ''));
  }

  async function removeNamespace(n) {
    await modal(`Delete rule-groups namespace ${n.name}?`, close => h('div', null,
      h('p', null, 'Its rules stop being evaluated and the alerts they fire resolve. This cannot be undone.'),
      h('div', { class: 'row', style: { marginTop: '12px' } },
        h('button', { class: 'danger', id: 'delete-namespace-confirm', onclick: async (e) => {
          e.target.disabled = true;
          try {
            await api.send('DELETE', `${base}/rulegroupsnamespaces/${encodeURIComponent(n.name)}`);
            close(); toast(`Deleting ${n.name}…`); load().catch(() => {});
          } catch (err) { e.target.disabled = false; e.target.parentNode.after(errorBox(err)); }
        } }, 'Delete'),
        h('button', { onclick: () => close() }, 'Cancel'))));
  }

  // The Alertmanager definition.
  let amSig = '';
  async function loadAM() {
    if (!mayDescribeAM) {
      amSig = '';
      clear(amHolder, h('p', { class: 'muted' }, 'You may not view the Alertmanager definition (aps:DescribeAlertManagerDefinition).'));
      return 0;
    }
    let d = null;
    try {
      d = (await api.get(`${base}/alertmanager/definition`)).alertManagerDefinition;
    } catch (e) {
      if (e.status !== 404) { amSig = ''; clear(amHolder, errorBox(e)); return 0; }
    }
    if (!d) {
      if (amSig === 'none') return 0;
      amSig = 'none';
      clear(amHolder, h('p', { id: 'no-alertmanager-definition' }, 'This workspace has no Alertmanager definition: alerts from alerting rules are not routed or notified, and cannot be silenced.'),
        mayCreateAM ? h('button', { class: 'primary', id: 'edit-alertmanager', onclick: () => editAM(null) }, 'Create definition') : null);
      return 0;
    }
    const sig = JSON.stringify([d, mayPutAM]);
    if (sig === amSig) return transitional((d.status || {}).statusCode) ? 1000 : 0;
    amSig = sig;
    const st = d.status || {};
    let text = '';
    try { text = b64decode(d.data); } catch { text = '(not valid base64)'; }
    clear(amHolder,
      h('div', { class: 'row' }, badge(st.statusCode), validTime(d.modifiedAt) ? h('span', { class: 'hint' }, 'modified ', agoSpan(d.modifiedAt)) : null,
        h('span', { class: 'spacer' }),
        mayPutAM && !transitional(st.statusCode) ? h('button', { id: 'edit-alertmanager', onclick: () => editAM(text) }, 'Edit definition') : null),
      st.statusReason ? h('div', { class: 'error am-reason' }, st.statusReason) : null,
      st.statusCode === 'UPDATE_FAILED' ? h('div', { class: 'hint' }, 'The last upload was rejected; the previous definition stays in force.') : null,
      h('pre', { class: 'am-file' }, text));
    return transitional(st.statusCode) ? 1000 : 0;
  }

  async function editAM(current) {
    const create = current === null;
    await modal(create ? 'Create Alertmanager definition' : 'Edit Alertmanager definition', close => {
      const ta = h('textarea', { name: 'data', rows: 20, spellcheck: 'false', required: true }, create ? `alertmanager_config: |
  route:
    receiver: default
    group_by: [alertname]
    group_wait: 30s
  receivers:
  - name: default
` : current);
      const status = h('div', { class: 'am-status' });
      const submit = h('button', { class: 'primary', type: 'submit' }, create ? 'Create' : 'Save');
      let exists = !create;
      return h('form', { id: 'alertmanager-form', onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        clear(status);
        try {
          const r = await api.send(exists ? 'PUT' : 'POST', `${base}/alertmanager/definition`, { data: b64encode(ta.value) });
          exists = true;
          let st = r.status || {};
          showStatus(status, st);
          const deadline = Date.now() + 60000;
          while (transitional(st.statusCode) && Date.now() < deadline) {
            await sleep(500);
            st = ((await api.get(`${base}/alertmanager/definition`)).alertManagerDefinition || {}).status || {};
            showStatus(status, st);
          }
          loadAM().catch(() => {});
          if (st.statusCode === 'ACTIVE') { close(); toast('Alertmanager definition is ACTIVE'); }
        } catch (e2) { clear(status, errorBox(e2)); } finally { submit.disabled = false; }
      } },
      h('div', { class: 'field' }, h('label', null, 'Definition (AMP format: the Alertmanager configuration under alertmanager_config, optional template_files)', ta), fileField(ta)),
      status,
      h('div', { class: 'row', style: { marginTop: '12px' } }, submit, h('button', { type: 'button', class: 'cancel', onclick: () => close() }, 'Close')));
    });
  }

  try { await load(); } catch (e) { clear(holder, errorBox(e)); }
  await loadAM();
  every(main, 5000, async () => {
    const a = await load().catch(e => { clear(holder, errorBox(e)); return 5000; });
    const b = await loadAM();
    refreshAgo(main);
    return Math.min(a || 5000, b || 5000);
  });
}
