// The audit trail: control-plane calls, IAM changes, sign-ins and denied
// requests as CloudTrail-like events, newest first, filtered and paged;
// a row opens the event's JSON.
import * as api from '../api.js';
import { h, clear, table, badge, errorBox, copyButton, modal, fmtTime, ago } from '../ui.js';

// Since: the API takes Go durations ("24h"), so days are written in hours.
const SINCE = [['15m', 'last 15 minutes'], ['1h', 'last hour'], ['6h', 'last 6 hours'], ['24h', 'last 24 hours'],
  ['168h', 'last 7 days'], ['720h', 'last 30 days'], ['2160h', 'last 90 days']];
const FILTERS = ['eventName', 'eventSource', 'user', 'resource', 'errors', 'since'];
const PAGE = 50;

const COMMON_EVENTS = ['ConsoleLogin', 'CreateWorkspace', 'DeleteWorkspace', 'UpdateWorkspaceAlias', 'CreateRuleGroupsNamespace', 'PutRuleGroupsNamespace',
  'CreateAlertManagerDefinition', 'PutAlertManagerDefinition', 'CreateAWSIntegration', 'UpdateAWSIntegration',
  'PollAWSIntegration', 'DeleteAWSIntegration', 'RetireHost', 'CreateUser', 'CreateAccessKey', 'DeleteAccessKey', 'AttachUserPolicy'];

export async function render(main, { query } = {}) {
  const state = { since: '24h' };
  for (const k of FILTERS) if (query && query.get(k)) state[k] = query.get(k);
  clear(main, h('h1', null, 'Audit trail'),
    h('p', { class: 'hint' }, 'Every change, sign-in and refused request, as CloudTrail records them. Newest first; click an event to see its record.'));

  const input = (name, label, placeholder, attrs = {}) => h('label', { class: 'filter' }, label,
    h('input', { name, value: state[name] || '', placeholder, autocomplete: 'off', onchange: changed, oninput: debounced, ...attrs }));
  const filters = h('form', { id: 'audit-filters', class: 'filters', onsubmit: (e) => { e.preventDefault(); changed(); } },
    input('eventName', 'Event name', 'CreateWorkspace', { list: 'audit-event-names' }),
    h('datalist', { id: 'audit-event-names' }, COMMON_EVENTS.map(n => h('option', { value: n }))),
    h('label', { class: 'filter' }, 'Source', h('select', { name: 'eventSource', onchange: changed },
      [['', 'Any'], ['aps.amazonaws.com', 'aps (workspaces, metrics)'], ['iam.amazonaws.com', 'iam (users, keys, policies)'], ['kansoku', 'kansoku (sign-in, AWS integrations, hosts)'], ['cloudtrail.amazonaws.com', 'cloudtrail']]
        .map(([v, l]) => h('option', { value: v, selected: v === (state.eventSource || '') }, l)))),
    input('user', 'User', 'admin'),
    input('resource', 'Resource', 'ARN contains…'),
    h('label', { class: 'filter' }, 'Since', h('select', { name: 'since', onchange: changed },
      SINCE.map(([v, l]) => h('option', { value: v, selected: v === state.since }, l)))),
    h('label', { class: 'check filter-check' }, h('input', { type: 'checkbox', name: 'errors', checked: state.errors === 'true', onchange: changed }), ' Errors only'),
    h('button', { type: 'button', id: 'audit-refresh', onclick: () => load(tokens[page]) }, 'Refresh'));
  const holder = h('div');
  const pager = h('div', { class: 'row pager' });
  main.append(filters, holder, pager);

  // Paging: tokens[i] is the token of page i (newest first).
  let tokens = [''];
  let page = 0;
  let timer = null;
  function debounced() { clearTimeout(timer); timer = setTimeout(changed, 400); }

  function changed() {
    clearTimeout(timer);
    for (const k of FILTERS) {
      const el = filters.querySelector(`[name=${k}]`);
      state[k] = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
    }
    const q = new URLSearchParams();
    for (const k of FILTERS) if (state[k] && !(k === 'since' && state[k] === '24h')) q.set(k, state[k]);
    const qs = q.toString();
    history.replaceState(null, '', '#/audit' + (qs ? '?' + qs : ''));
    tokens = [''];
    page = 0;
    load('');
  }

  let seq = 0;
  async function load(token) {
    const mine = ++seq;
    const params = { startTime: state.since || '24h', maxResults: PAGE, eventName: state.eventName, eventSource: state.eventSource,
      userName: state.user, resource: state.resource, errorsOnly: state.errors === 'true' ? 'true' : '', nextToken: token };
    let out;
    try { out = await api.get('/admin/v1/audit', params); } catch (e) { if (mine === seq) { clear(holder, errorBox(e)); clear(pager); } return; }
    if (mine !== seq) return;
    const events = out.events || [];
    const tbl = table([
      { title: 'Time', class: 'nowrap', render: e => [h('span', { title: e.eventTime }, fmtTime(e.eventTime)), h('div', { class: 'hint' }, ago(e.eventTime))] },
      { title: 'Event', render: e => [h('strong', { class: 'event-name' }, e.eventName || '—'), h('div', { class: 'hint' }, (e.eventSource || '').replace('.amazonaws.com', ''))] },
      { title: 'User', render: e => userOf(e) },
      { title: 'Source IP', render: e => h('code', null, e.sourceIPAddress || '—') },
      { title: 'Error code', render: e => e.errorCode ? badge(e.errorCode, 'err') : h('span', { class: 'muted' }, '—') },
      { title: 'Resource', render: e => (e.resources || []).length ? h('code', { class: 'resource' }, e.resources[0].ARN) : h('span', { class: 'muted' }, '—') },
    ], events, { id: 'audit-events', class: 'clickable', empty: 'No event matches.', rowData: e => ({ eventId: e.eventID || '', eventName: e.eventName || '' }) });
    if (events.length) {
      tbl.querySelectorAll('tbody tr').forEach((tr, i) => {
        tr.classList.add('audit-event');
        if (events[i].errorCode) tr.classList.add('failed');
        tr.tabIndex = 0;
        tr.addEventListener('click', () => showEvent(events[i]));
        tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') showEvent(events[i]); });
      });
    }
    clear(holder, tbl);
    const next = out.nextToken || '';
    clear(pager,
      h('button', { type: 'button', id: 'audit-prev', disabled: page === 0, onclick: () => { page--; load(tokens[page]); } }, '← Newer'),
      h('span', { class: 'hint' }, `Page ${page + 1} · ${events.length} event${events.length === 1 ? '' : 's'}`),
      h('button', { type: 'button', id: 'audit-next', disabled: !next, onclick: () => { page++; tokens[page] = next; tokens.length = page + 1; load(next); } }, 'Older →'));
  }

  await load('');
}

function userOf(e) {
  const u = e.userIdentity || {};
  if (u.userName) return [u.userName, u.authMethod ? h('div', { class: 'hint' }, u.authMethod) : null];
  if (u.accessKeyId) return h('span', { class: 'muted' }, `? ${u.accessKeyId}`);
  return h('span', { class: 'muted' }, u.type || '—');
}

function showEvent(e) {
  const text = JSON.stringify(e, null, 2);
  const closed = modal(`${e.eventName} · ${fmtTime(e.eventTime)}`, close => h('div', { id: 'audit-event' },
    h('div', { class: 'row' }, e.errorCode ? badge(e.errorCode, 'err') : badge('ok', 'ok'), h('span', { class: 'spacer' }), copyButton(text),
      h('button', { type: 'button', id: 'close-event', onclick: () => close() }, 'Close')),
    e.errorMessage ? h('div', { class: 'error' }, e.errorMessage) : null,
    h('pre', { id: 'audit-event-json', class: 'event-json' }, text)));
  // The record is wide: give the dialog more room.
  const dlg = document.getElementById('audit-event');
  if (dlg) dlg.closest('.modal').classList.add('audit-wide');
  return closed;
}
