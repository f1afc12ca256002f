// A workspace's overview: identity, endpoints with copy buttons,
// ready-to-paste client configuration, usage against quota over time.
import * as api from '../api.js';
import { h, clear, badge, errorBox, copyButton, fmtTime, fmtNum, session, table, every } from '../ui.js';
import { timeSeries, stepFor } from '../chart.js';

function snippet(title, text) {
  return h('div', { class: 'card snippet' }, h('div', { class: 'row' }, h('h3', { style: { margin: 0 } }, title), copyButton(text)), h('pre', null, text));
}

export async function overview(main, { ws }) {
  clear(main, h('h1', null, 'Workspace'));
  let d;
  try { d = (await api.get(`/workspaces/${ws}`)).workspace; } catch (e) { main.append(errorBox(e)); return; }
  const ep = d.prometheusEndpoint.replace(/\/$/, '');
  const rw = `${ep}/api/v1/remote_write`;
  main.firstChild.textContent = d.alias ? `Workspace ${d.alias}` : 'Workspace';
  // A new workspace is CREATING for a moment: follow its status until it
  // settles, so the page never shows a stale one.
  const statusCell = h('div', null, badge(d.status.statusCode));
  const settled = (code) => code === 'ACTIVE' || code.endsWith('FAILED');
  if (!settled(d.status.statusCode)) {
    every(main, 1000, async () => {
      const now = (await api.get(`/workspaces/${ws}`)).workspace.status.statusCode;
      clear(statusCell, badge(now));
      return settled(now) ? 3600 * 1000 : 1000;
    });
  }
  main.append(h('div', { class: 'card' }, h('div', { class: 'kv', id: 'workspace-facts' },
    h('div', null, 'ID'), h('div', null, h('code', null, d.workspaceId), copyButton(d.workspaceId)),
    h('div', null, 'ARN'), h('div', null, h('code', null, d.arn), copyButton(d.arn)),
    h('div', null, 'Status'), statusCell,
    h('div', null, 'Created'), h('div', null, fmtTime(d.createdAt)),
    h('div', null, 'Query endpoint'), h('div', null, h('code', null, ep), copyButton(ep)),
    h('div', null, 'Remote write'), h('div', null, h('code', null, rw), copyButton(rw)),
    h('div', null, 'Alertmanager'), h('div', null, h('code', null, `${ep}/alertmanager`), copyButton(`${ep}/alertmanager`)),
  )));

  main.append(h('h2', null, 'Usage against quota'));
  const usage = h('div', { class: 'card', id: 'usage' }, 'Loading…');
  main.append(usage);
  try {
    const u = await api.get(`/admin/v1/workspaces/${ws}/usage`);
    const disc = Object.entries(u.usage.discardedSamples || {});
    clear(usage, h('div', { class: 'kv' },
      h('div', null, 'Ingestion rate'), h('div', null, `${fmtNum(u.usage.ingestionRate)} samples/s of ${fmtNum(u.limits.ingestion_rate)} (burst ${fmtNum(u.limits.ingestion_burst_size)})`),
      h('div', null, 'Active series'), h('div', null, `${fmtNum(u.usage.activeSeries)} of ${fmtNum(u.usage.activeSeriesLimit)} now (quota ${fmtNum(u.limits.max_active_series)})`),
      h('div', null, 'Discarded samples'), h('div', null, disc.length ? disc.map(([k, v]) => h('div', null, `${k}: ${fmtNum(v)}`)) : 'none'),
    ));
    const p = api.prom(ws);
    const end = Math.floor(Date.now() / 1000), start = end - 6 * 3600, step = stepFor(6 * 3600);
    const charts = [
      ['Ingestion rate (samples/s)', 'kansoku_usage_ingestion_rate{job="kansoku"}'],
      ['Active series', 'prometheus_tsdb_head_series{job="kansoku"}'],
      ['Discarded samples by reason (per second)', 'sum by (reason) (rate(kansoku_discarded_samples_total{job="kansoku"}[5m]))'],
    ];
    const grid = h('div', { class: 'grid' });
    usage.append(h('h3', null, 'Last 6 hours'), grid);
    for (const [title, q] of charts) {
      const el = h('div', { class: 'chart' });
      grid.append(h('div', null, h('div', { class: 'hint' }, title), el));
      p.range(q, start, end, step).then(r => timeSeries(el, r.result, { height: 180, legend: false }))
        .catch(e => el.append(errorBox(e)));
    }
  } catch (e) { clear(usage, errorBox(e)); }

  main.append(h('h2', null, 'Send metrics'));
  const region = session.region;
  main.append(
    snippet('Prometheus (prometheus.yml)', `remote_write:
  - url: ${rw}
    sigv4:
      region: ${region}
      access_key: <AWS_ACCESS_KEY_ID>
      secret_key: <AWS_SECRET_ACCESS_KEY>
    queue_config:
      retry_on_http_429: true`),
    snippet('OpenTelemetry Collector', `extensions:
  sigv4auth:
    region: ${region}
    service: aps
exporters:
  prometheusremotewrite:
    endpoint: ${rw}
    auth:
      authenticator: sigv4auth
service:
  extensions: [sigv4auth]
  pipelines:
    metrics:
      exporters: [prometheusremotewrite]`),
    snippet('Grafana Agent (static mode)', `metrics:
  configs:
    - name: default
      remote_write:
        - url: ${rw}
          sigv4:
            region: ${region}`),
    snippet('Grafana data source (Prometheus)', `URL: ${ep}
Authentication: SigV4 auth (service aps, region ${region}, access key of a user with aps:QueryMetrics)
  — or a bearer token: HTTP header "Authorization: Bearer <kansoku token create>"
Alertmanager data source URL: ${ep}/alertmanager`));
}
