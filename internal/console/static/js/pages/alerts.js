// Alerts & silences: the ruler's pending and firing alerts, the workspace
// Alertmanager's alert groups (active, suppressed) and its silences, with
// silence creation from an alert and expiry.
import * as api from '../api.js';
import { h, clear, badge, errorBox, toast, modal, fmtTime, ago, can, session, workspaceARN, every } from '../ui.js';
import { refreshAgo, toDate, agoSpan } from './rules.js';

const validTime = (t) => toDate(t) !== null;

// until says how far ahead t is ("in 2h").
function until(t) {
  const s = Math.round((new Date(t).getTime() - Date.now()) / 1000);
  if (s <= 0) return ago(t);
  if (s < 60) return `in ${s}s`;
  if (s < 3600) return `in ${Math.round(s / 60)}m`;
  if (s < 86400) return `in ${Math.round(s / 3600)}h`;
  return `in ${Math.round(s / 86400)}d`;
}

function labelChips(labels, skip = []) {
  return Object.entries(labels || {}).filter(([k]) => !skip.includes(k)).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => h('span', { class: 'label-chip' }, `${k}="${v}"`));
}

const quote = (v) => JSON.stringify(String(v));

export function matcherText(m) {
  const op = m.isEqual === false ? (m.isRegex ? '!~' : '!=') : (m.isRegex ? '=~' : '=');
  return `${m.name}${op}${quote(m.value)}`;
}

// parseMatchers reads one matcher per line: name="value", name!="value",
// name=~"regex", name!~"regex" (quotes optional).
export function parseMatchers(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (!line) continue;
    const m = /^("(?:[^"\\]|\\.)*"|[^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`matcher "${line}": write name="value" (or !=, =~, !~)`);
    const unq = (s) => {
      s = s.trim();
      if (s.startsWith('"')) {
        try { return JSON.parse(s); } catch { throw new Error(`matcher "${line}": bad quoting`); }
      }
      return s;
    };
    const name = unq(m[1]);
    const value = unq(m[3]);
    if (!name) throw new Error(`matcher "${line}": no label name`);
    out.push({ name, value, isRegex: m[2].endsWith('~'), isEqual: !m[2].startsWith('!') });
  }
  if (out.length === 0) throw new Error('Give at least one matcher.');
  return out;
}

// parseDuration reads Prometheus-style durations: 2h, 1h30m, 3d, 90m.
export function parseDuration(text) {
  const units = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, y: 31536000000 };
  const t = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  let total = 0, used = '', m;
  while ((m = re.exec(t))) { total += parseFloat(m[1]) * units[m[2]]; used += m[0]; }
  if (!t || used !== t || total <= 0) throw new Error(`duration "${text}": write e.g. 2h, 30m or 1d12h`);
  return total;
}

function matches(matchers, labels) {
  return matchers.every(m => {
    const v = (labels || {})[m.name] ?? '';
    let ok;
    if (m.isRegex) { try { ok = new RegExp(`^(?:${m.value})$`).test(v); } catch { return false; } } else ok = v === m.value;
    return m.isEqual === false ? !ok : ok;
  });
}

function markRows(tbl, cls, rows, data) {
  if (!rows.length) return tbl;
  tbl.querySelectorAll('tbody > tr').forEach((tr, i) => { tr.classList.add(cls); Object.assign(tr.dataset, data(rows[i])); });
  return tbl;
}

function simpleTable(columns, rows, opts = {}) {
  return h('table', { id: opts.id, class: opts.class },
    h('thead', null, h('tr', null, columns.map(c => h('th', null, c.title)))),
    h('tbody', null, rows.length === 0
      ? h('tr', null, h('td', { colSpan: columns.length, class: 'muted' }, opts.empty || 'Nothing.'))
      : rows.map(r => h('tr', null, columns.map(c => h('td', { class: c.class }, c.render(r)))))));
}

const stateOrder = { firing: 0, pending: 1, active: 0, suppressed: 1, unprocessed: 2, expired: 3 };

export async function render(main, { ws }) {
  const wsARN = workspaceARN(ws);
  const prom = api.prom(ws);
  const am = api.alertmanager(ws);
  clear(main, h('h1', null, 'Alerts & silences'));
  const [mayAlerts, mayGroups, maySilences, mayPutSilence, mayExpire] = await can([
    { action: 'aps:ListAlerts', resource: wsARN },
    { action: 'aps:ListAlertManagerAlertGroups', resource: wsARN },
    { action: 'aps:ListAlertManagerSilences', resource: wsARN },
    { action: 'aps:PutAlertManagerSilences', resource: wsARN },
    { action: 'aps:DeleteAlertManagerSilence', resource: wsARN },
  ]);

  const updated = h('span', { class: 'hint' });
  const noAM = h('div');
  const newSilence = h('button', { id: 'new-silence', onclick: () => silenceForm({}) }, 'New silence');
  newSilence.hidden = true;
  const alertsEl = h('div', { id: 'alerts' }, h('p', { class: 'muted' }, 'Loading…'));
  const groupsEl = h('div', { id: 'alert-groups' }, h('p', { class: 'muted' }, 'Loading…'));
  const silencesEl = h('div', { id: 'silences' }, h('p', { class: 'muted' }, 'Loading…'));
  main.append(
    h('div', { class: 'row', style: { marginBottom: '8px' } }, h('button', { id: 'refresh-alerts', onclick: () => load(true) }, 'Refresh'), updated),
    noAM,
    h('h2', null, 'Alerts from the rules'),
    h('p', { class: 'hint' }, 'Pending and firing alerts of the workspace\'s alerting rules, as the ruler evaluates them.'),
    alertsEl,
    h('h2', null, 'Alertmanager alert groups'),
    h('p', { class: 'hint' }, 'The alerts the workspace\'s Alertmanager received, grouped by its route: suppressed ones are silenced or inhibited.'),
    groupsEl,
    h('div', { class: 'row', style: { marginTop: '20px' } }, h('h2', { style: { margin: 0 } }, 'Silences'), mayPutSilence ? newSilence : null),
    silencesEl);

  let amAlerts = []; // the Alertmanager's alerts (from the groups), for the silence preview
  let amMissing = false;
  const sigs = {};

  // show replaces el's content when the data's signature changed.
  function show(key, el, sig, build) {
    if (sigs[key] === sig) return;
    sigs[key] = sig;
    clear(el, build());
  }

  async function load(force) {
    if (force) for (const k of Object.keys(sigs)) delete sigs[k];
    const notPermitted = (what, action) => Promise.reject(Object.assign(new Error(`You may not list ${what} (${action}).`), { status: 403 }));
    const [pa, gr, si] = await Promise.allSettled([
      mayAlerts ? prom.alerts() : notPermitted('the rules\' alerts', 'aps:ListAlerts'),
      mayGroups ? am.groups() : notPermitted('the Alertmanager\'s alert groups', 'aps:ListAlertManagerAlertGroups'),
      maySilences ? am.silences() : notPermitted('silences', 'aps:ListAlertManagerSilences'),
    ]);
    amMissing = [gr, si].some(r => r.status === 'rejected' && r.reason.status === 404);
    show('noam', noAM, String(amMissing), () => amMissing ? h('div', { class: 'notice', id: 'no-alertmanager' },
      'This workspace has no Alertmanager definition, so alerts from its rules are not routed, grouped, notified or silenced. ',
      h('a', { href: `#/ws/${encodeURIComponent(ws)}/rules`, class: 'rules-link' }, 'Create one on the Rules page'), '.') : null);
    newSilence.hidden = amMissing;

    const groups = gr.status === 'fulfilled' ? (gr.value || []) : [];
    amAlerts = groups.flatMap(g => g.alerts || []);
    const statusByLabels = new Map(amAlerts.map(a => [labelsKey(a.labels), a.status || {}]));

    // The ruler's alerts.
    if (pa.status === 'rejected') show('alerts', alertsEl, 'err:' + pa.reason.message, () => errorBox(pa.reason));
    else {
      const alerts = [...(pa.value.alerts || [])].sort((a, b) => (stateOrder[a.state] ?? 9) - (stateOrder[b.state] ?? 9) ||
        (a.labels.alertname || '').localeCompare(b.labels.alertname || '') || labelsKey(a.labels).localeCompare(labelsKey(b.labels)));
      const sig = JSON.stringify([amMissing, alerts.map(a => [a.labels, a.annotations, a.state, a.activeAt, statusByLabels.get(labelsKey(a.labels))])]);
      show('alerts', alertsEl, sig, () => markRows(simpleTable([
        { title: 'State', render: a => {
          const st = statusByLabels.get(labelsKey(a.labels));
          if (!st || st.state !== 'suppressed') return badge(a.state);
          return [badge(a.state), ' ', (st.silencedBy || []).length ? badge('silenced', 'suppressed') : badge('inhibited', 'suppressed')];
        } },
        { title: 'Alert', render: a => h('strong', null, a.labels.alertname || '(no alertname)') },
        { title: 'Labels', render: a => labelChips(a.labels, ['alertname']) },
        { title: 'Summary', render: a => annotationSummary(a.annotations) },
        { title: 'Active since', render: a => validTime(a.activeAt) ? [fmtTime(a.activeAt), h('div', { class: 'hint' }, agoSpan(a.activeAt, '—'))] : '—' },
        { title: 'Value', render: a => h('code', null, fmtValue(a.value)) },
        { title: '', class: 'right', render: a => mayPutSilence && !amMissing && ((statusByLabels.get(labelsKey(a.labels)) || {}).silencedBy || []).length === 0
          ? h('button', { class: 'silence-alert', onclick: () => silenceForm(a.labels) }, 'Silence') : null },
      ], alerts, { empty: 'No pending or firing alert.' }), 'alert', alerts, a => ({ alertname: a.labels.alertname || '', state: a.state })));
    }

    // The Alertmanager's groups.
    if (gr.status === 'rejected') {
      show('groups', groupsEl, 'err:' + gr.reason.message, () => gr.reason.status === 404
        ? h('p', { class: 'muted' }, 'No Alertmanager: no alert groups.') : errorBox(gr.reason));
    } else {
      const gs = [...groups].sort((a, b) => labelsKey(a.labels).localeCompare(labelsKey(b.labels)));
      const sig = JSON.stringify(gs.map(g => [g.receiver && g.receiver.name, g.labels,
        (g.alerts || []).map(a => [a.fingerprint, a.labels, a.status, a.annotations])]));
      show('groups', groupsEl, sig, () => gs.length === 0 ? h('p', { class: 'muted' }, 'The Alertmanager has no alert.') : gs.map(g => {
        const alerts = [...(g.alerts || [])].sort((a, b) => (stateOrder[a.status.state] ?? 9) - (stateOrder[b.status.state] ?? 9) ||
          labelsKey(a.labels).localeCompare(labelsKey(b.labels)));
        return h('div', { class: 'card alert-group', dataset: { receiver: (g.receiver && g.receiver.name) || '' } },
          h('div', { class: 'row' },
            h('span', null, 'Receiver ', h('strong', null, (g.receiver && g.receiver.name) || '—')),
            h('span', { class: 'hint' }, 'grouped by '),
            Object.keys(g.labels || {}).length ? labelChips(g.labels) : h('span', { class: 'muted' }, '(all alerts)')),
          markRows(simpleTable([
            { title: 'State', render: a => badge(a.status.state, a.status.state) },
            { title: 'Alert', render: a => h('strong', null, a.labels.alertname || '') },
            { title: 'Labels', render: a => labelChips(a.labels, ['alertname']) },
            { title: 'Summary', render: a => annotationSummary(a.annotations) },
            { title: 'Silenced / inhibited by', render: a => [
              (a.status.silencedBy || []).map(id => h('div', { class: 'mono silenced-by' }, 'silence ', h('code', null, id))),
              (a.status.inhibitedBy || []).map(fp => h('div', { class: 'mono inhibited-by' }, 'alert ', h('code', null, fp))),
            ] },
            { title: 'Since', render: a => agoSpan(a.startsAt, '—') },
            { title: '', class: 'right', render: a => mayPutSilence && a.status.state !== 'suppressed'
              ? h('button', { class: 'silence-alert', onclick: () => silenceForm(a.labels) }, 'Silence') : null },
          ], alerts, { class: 'am-alerts', empty: 'No alert.' }), 'am-alert', alerts,
          a => ({ alertname: a.labels.alertname || '', state: a.status.state, fingerprint: a.fingerprint || '' })));
      }));
    }

    // Silences.
    if (si.status === 'rejected') {
      show('silences', silencesEl, 'err:' + si.reason.message, () => si.reason.status === 404
        ? h('p', { class: 'muted' }, 'No Alertmanager: no silences.') : errorBox(si.reason));
    } else {
      const ss = [...(si.value || [])].sort((a, b) => (stateOrder[a.status.state] ?? 9) - (stateOrder[b.status.state] ?? 9) ||
        new Date(b.updatedAt || b.startsAt) - new Date(a.updatedAt || a.startsAt));
      const sig = JSON.stringify(ss.map(s => [s.id, s.status, s.matchers, s.endsAt, s.comment]));
      show('silences', silencesEl, sig, () => markRows(simpleTable([
        { title: 'State', render: s => badge(s.status.state, `silence-${s.status.state}`) },
        { title: 'Matchers', render: s => s.matchers.map(m => h('span', { class: 'label-chip' }, matcherText(m))) },
        { title: 'Created by', render: s => s.createdBy },
        { title: 'Comment', render: s => s.comment },
        { title: 'Starts', render: s => h('span', { title: fmtTime(s.startsAt) }, s.status.state === 'pending' ? until(s.startsAt) : fmtTime(s.startsAt)) },
        { title: 'Ends', render: s => [fmtTime(s.endsAt), h('div', { class: 'hint' }, until(s.endsAt))] },
        { title: '', class: 'right', render: s => [
          h('code', { class: 'hint', title: 'Silence ID' }, s.id.slice(0, 8)), ' ',
          mayExpire && s.status.state !== 'expired' ? h('button', { class: 'expire-silence', onclick: (e) => expire(s, e.target) }, 'Expire') : null,
        ] },
      ], ss, { empty: 'No silence.' }), 'silence', ss, s => ({ id: s.id, state: s.status.state })));
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  async function expire(s, btn) {
    btn.disabled = true;
    try {
      await am.expireSilence(s.id);
      toast('Silence expired');
    } catch (e) { toast(`Expire failed: ${e.message}`); btn.disabled = false; }
    await load().catch(() => {});
  }

  async function silenceForm(labels) {
    const lines = Object.entries(labels || {}).sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)))
      .map(([k, v]) => `${k}=${quote(v)}`);
    await modal('New silence', close => {
      const mt = h('textarea', { name: 'matchers', rows: Math.max(3, lines.length + 1), spellcheck: 'false', required: true, placeholder: 'alertname="HighErrorRate"\nseverity=~"page|critical"' }, lines.join('\n'));
      const dur = h('input', { name: 'duration', value: '2h', required: true, autocomplete: 'off' });
      const by = h('input', { name: 'createdBy', value: session.user, readOnly: true });
      const comment = h('input', { name: 'comment', autocomplete: 'off', placeholder: 'Why: maintenance, known issue, ticket…' });
      const endHint = h('div', { class: 'hint' });
      const preview = h('div', { class: 'hint silence-preview' });
      const err = h('div');
      const submit = h('button', { class: 'primary', type: 'submit' }, 'Create silence');
      const update = () => {
        try { endHint.textContent = `Ends ${fmtTime(new Date(Date.now() + parseDuration(dur.value)))}`; } catch (e) { endHint.textContent = e.message; }
        try {
          const ms = parseMatchers(mt.value);
          const n = amAlerts.filter(a => matches(ms, a.labels)).length;
          preview.textContent = `Matches ${n} of the Alertmanager's ${amAlerts.length} current alert${amAlerts.length === 1 ? '' : 's'}.`;
        } catch (e) { preview.textContent = e.message; }
      };
      mt.addEventListener('input', update);
      dur.addEventListener('input', update);
      update();
      return h('form', { id: 'silence-form', onsubmit: async (e) => {
        e.preventDefault();
        clear(err);
        submit.disabled = true;
        try {
          const matchers = parseMatchers(mt.value);
          const ms = parseDuration(dur.value);
          if (!comment.value.trim()) throw new Error('Give a comment.');
          const start = new Date();
          const r = await am.createSilence({ matchers, startsAt: start.toISOString(), endsAt: new Date(start.getTime() + ms).toISOString(),
            createdBy: by.value || session.user, comment: comment.value.trim() });
          close();
          toast(`Silence ${(r && r.silenceID) || ''} created`);
          await load().catch(() => {});
        } catch (e2) { clear(err, errorBox(e2)); } finally { submit.disabled = false; }
      } },
      h('div', { class: 'field' }, h('label', null, 'Matchers', mt), h('div', { class: 'hint' }, 'One per line: name="value", name!="value", name=~"regex", name!~"regex".'), preview),
      h('div', { class: 'field' }, h('label', null, 'Duration', dur), endHint),
      h('div', { class: 'field' }, h('label', null, 'Created by', by)),
      h('div', { class: 'field' }, h('label', null, 'Comment', comment)),
      err,
      h('div', { class: 'row', style: { marginTop: '12px' } }, submit, h('button', { type: 'button', onclick: () => close() }, 'Cancel')));
    });
  }

  try { await load(); } catch (e) { main.append(errorBox(e)); }
  every(main, 10000, async () => { await load(); refreshAgo(main); });
}

function labelsKey(labels) {
  return Object.entries(labels || {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${quote(v)}`).join(',');
}

function annotationSummary(ann) {
  const a = ann || {};
  const text = a.summary || a.description || a.message || Object.values(a)[0] || '';
  const all = Object.entries(a).map(([k, v]) => `${k}: ${v}`).join('\n');
  return text ? h('span', { title: all, class: 'annotation' }, text) : h('span', { class: 'muted' }, '—');
}

function fmtValue(v) {
  if (v === undefined || v === null || v === '') return '—';
  const n = Number(v);
  if (isNaN(n)) return String(v);
  return String(Math.round(n * 1e4) / 1e4);
}
