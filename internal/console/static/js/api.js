// The console's API client: every call goes to Kansoku's own APIs with the
// session cookie; changes carry the CSRF token.

let csrfToken = '';
let onSignedOut = () => {};

export function setCSRF(token) { csrfToken = token || ''; }
export function setSignedOutHandler(fn) { onSignedOut = fn; }

export class APIError extends Error {
  constructor(status, message, type) { super(message); this.status = status; this.type = type; }
}

async function parse(resp) {
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!resp.ok) {
    const type = resp.headers.get('X-Amzn-ErrorType') || (body && (body.errorType || body.__type)) || '';
    const msg = (body && (body.message || body.error || body.Message)) || text || resp.statusText;
    if (resp.status === 403 && /MissingAuthenticationToken|UnrecognizedClient/.test(type)) onSignedOut(msg);
    throw new APIError(resp.status, msg, type);
  }
  return body;
}

function url(path, query) {
  const u = new URL(path, location.origin);
  if (query) for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach(x => u.searchParams.append(k, x)); else u.searchParams.set(k, v);
  }
  return u;
}

export async function get(path, query) {
  return parse(await fetch(url(path, query), { credentials: 'same-origin', headers: { Accept: 'application/json' } }));
}

export async function send(method, path, body, query) {
  const init = { method, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrfToken, Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return parse(await fetch(url(path, query), init));
}

// Prometheus API helpers for one workspace; they return the response's
// data (with warnings and infos as data.warnings / data.infos when present).
export function prom(ws) {
  const base = `/workspaces/${encodeURIComponent(ws)}/api/v1`;
  const data = (p) => p.then(b => ((b.warnings || b.infos) ? { ...b.data, warnings: b.warnings, infos: b.infos } : b.data));
  return {
    query: (q, time, stats) => data(get(`${base}/query`, { query: q, time, stats: stats ? 'all' : '' })),
    range: (q, start, end, step, stats) => data(get(`${base}/query_range`, { query: q, start, end, step, stats: stats ? 'all' : '' })),
    labels: (match) => data(get(`${base}/labels`, { 'match[]': match })),
    values: (name, match) => data(get(`${base}/label/${encodeURIComponent(name)}/values`, { 'match[]': match })),
    metadata: () => data(get(`${base}/metadata`)),
    rules: () => data(get(`${base}/rules`)),
    alerts: () => data(get(`${base}/alerts`)),
  };
}

export function alertmanager(ws) {
  const base = `/workspaces/${encodeURIComponent(ws)}/alertmanager/api/v2`;
  return {
    alerts: () => get(`${base}/alerts`),
    groups: () => get(`${base}/alerts/groups`),
    silences: () => get(`${base}/silences`),
    createSilence: (s) => send('POST', `${base}/silences`, s),
    expireSilence: (id) => send('DELETE', `${base}/silence/${encodeURIComponent(id)}`),
    status: () => get(`${base}/status`),
  };
}
