// The console: sign-in, layout and the router. Pages live in pages/*.js and
// export render(main, params).
import * as api from './api.js';
import { h, clear, errorBox, session, forgetPermissions } from './ui.js';

const root = document.getElementById('app');

// Routes: pattern (hash path) -> page module and function.
const routes = [
  ['/workspaces', 'workspaces', 'list'],
  ['/ws/:ws', 'workspace', 'overview'],
  ['/ws/:ws/query', 'query', 'render'],
  ['/ws/:ws/rules', 'rules', 'render'],
  ['/ws/:ws/alerts', 'alerts', 'render'],
  ['/ws/:ws/dashboards', 'dashboards', 'list'],
  ['/ws/:ws/dashboards/:id', 'dashboards', 'show'],
  ['/ws/:ws/logs', 'logs', 'render'],
  ['/hosts', 'hosts', 'list'],
  ['/hosts/:id', 'hosts', 'show'],
  ['/aws', 'aws', 'list'],
  ['/aws/new', 'aws', 'wizard'],
  ['/aws/:id', 'aws', 'show'],
  ['/audit', 'audit', 'render'],
];

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, mod, fn] of routes) {
    const pp = pattern.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    pp.forEach((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(parts[i]);
      else if (p !== parts[i]) ok = false;
    });
    if (ok) return { mod, fn, params };
  }
  return null;
}

export function navigate(path) { location.hash = '#' + path; }

function currentPath() {
  const raw = location.hash.replace(/^#/, '') || '/workspaces';
  const [path, query] = raw.split('?');
  return { path, query: new URLSearchParams(query || '') };
}

function navLink(href, label, active) {
  return h('a', { href: '#' + href, class: active ? 'active' : '' }, label);
}

function layout(path) {
  const ws = path.startsWith('/ws/') ? path.split('/')[2] : '';
  const main = h('main', { class: 'main', id: 'main' });
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
    h('div', { class: 'section' }, 'Metrics'),
    navLink('/workspaces', 'Workspaces', path === '/workspaces'),
    ws ? [
      h('div', { class: 'section' }, 'Workspace'),
      navLink(`/ws/${ws}`, 'Overview', path === `/ws/${ws}`),
      navLink(`/ws/${ws}/query`, 'Query', path.endsWith('/query')),
      navLink(`/ws/${ws}/dashboards`, 'Dashboards', path.includes('/dashboards')),
      navLink(`/ws/${ws}/rules`, 'Rules', path.endsWith('/rules')),
      navLink(`/ws/${ws}/alerts`, 'Alerts & silences', path.endsWith('/alerts')),
      navLink(`/ws/${ws}/logs`, 'Logs', path.endsWith('/logs')),
    ] : null,
    h('div', { class: 'section' }, 'AWS'),
    navLink('/aws', 'AWS integrations', path.startsWith('/aws')),
    navLink('/hosts', 'Hosts', path.startsWith('/hosts')),
    h('div', { class: 'section' }, 'Account'),
    navLink('/audit', 'Audit trail', path === '/audit'));
  clear(root,
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/workspaces' }, 'Kansoku'),
      h('span', { class: 'who' }, `account ${session.accountId} · ${session.region}`),
      h('span', { class: 'spacer' }),
      h('span', { class: 'who', id: 'signed-in-user' }, session.user),
      h('button', { id: 'sign-out', onclick: signOut }, 'Sign out')),
    h('div', { class: 'layout' }, nav, main));
  return main;
}

let renderSeq = 0;
async function route() {
  const { path, query } = currentPath();
  if (!session.user) return;
  const m = match(path);
  const main = layout(path);
  const seq = ++renderSeq;
  if (!m) { clear(main, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/workspaces' }, 'Workspaces'))); return; }
  try {
    const mod = await import(`./pages/${m.mod}.js`);
    if (seq !== renderSeq) return;
    await mod[m.fn](main, { ...m.params, query });
  } catch (e) {
    if (seq === renderSeq) main.append(errorBox(e));
  }
}

async function signOut() {
  try { await api.send('DELETE', '/console/api/session'); } catch { /* already gone */ }
  session.user = '';
  forgetPermissions();
  showLogin('Signed out.');
}

function showLogin(message) {
  session.user = '';
  api.setCSRF('');
  const err = h('div');
  const keyForm = h('form', { id: 'login-key', onsubmit: (e) => {
    e.preventDefault();
    const creds = { accessKeyId: keyForm.accessKeyId.value.trim(), secretAccessKey: keyForm.secretAccessKey.value };
    const token = keyForm.sessionToken.value.trim();
    if (token) creds.sessionToken = token; // temporary credentials (aws sts assume-role)
    login(creds);
  } },
    h('label', null, 'Access key ID', h('input', { name: 'accessKeyId', autocomplete: 'username', required: true, style: { width: '100%' } })),
    h('label', null, 'Secret access key', h('input', { name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true, style: { width: '100%' } })),
    h('label', null, 'Session token (temporary credentials only)', h('input', { name: 'sessionToken', type: 'password', autocomplete: 'off', style: { width: '100%' } })),
    h('div', { class: 'row', style: { marginTop: '12px' } }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')));
  const pwForm = h('form', { id: 'login-password', onsubmit: (e) => { e.preventDefault(); login({ user: pwForm.user.value.trim(), password: pwForm.password.value }); } },
    h('label', null, 'User', h('input', { name: 'user', autocomplete: 'username', required: true, style: { width: '100%' } })),
    h('label', null, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, style: { width: '100%' } })),
    h('div', { class: 'row', style: { marginTop: '12px' } }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')));
  async function login(creds) {
    clear(err);
    try {
      const s = await api.send('POST', '/console/api/session', creds);
      start(s);
    } catch (e) { clear(err, errorBox(e)); }
  }
  clear(root, h('div', { class: 'login card' },
    h('h1', null, 'Sign in to Kansoku'),
    message ? h('div', { class: 'notice' }, message) : null,
    err,
    h('p', { class: 'hint' }, 'With an access key (the admin key is in ', h('code', null, 'admin-credentials'), ' in the data directory) …'),
    keyForm,
    h('p', { class: 'hint', style: { marginTop: '20px' } }, '… or a console password set with ', h('code', null, 'kansoku console set-password'), '.'),
    pwForm));
}

function start(s) {
  Object.assign(session, { user: s.user, arn: s.arn, accountId: s.accountId, region: s.region });
  api.setCSRF(s.csrfToken);
  forgetPermissions();
  route();
}

api.setSignedOutHandler((msg) => { if (session.user) showLogin(msg); });
window.addEventListener('hashchange', route);

(async () => {
  try {
    start(await api.get('/console/api/session'));
  } catch {
    showLogin();
  }
})();
