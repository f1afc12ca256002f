// AWS integrations, as Mackerel and Datadog set them up: a wizard (name,
// account, workspace, regions, services; then the External ID and the
// policies to paste into IAM; then the role ARN and a validation), and an
// integration's page with its status, last poll report, actions and
// settings editor.
import * as api from '../api.js';
import { h, clear, table, badge, errorBox, toast, copyButton, modal, form, fmtTime, ago, fmtNum, can, workspaceARN, kansokuARN } from '../ui.js';
import { navigate } from '../app.js';

const BASE = '/admin/v1/aws/integrations';

// Regions offered as checkboxes; any other is typed in.
const COMMON_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-north-1',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1',
];

const TAG_FILTER_HINT = 'Only resources with one of these tags, Mackerel syntax: service:foo, service:bar — quote a key or value containing ":" or ",": "service:role": "foo,bar". Empty: every resource.';

const EXTRA_TAGS_HINT = 'key=value pairs, comma-separated: added to every host of the integration and as a label of every metric (as Datadog\'s "tags added to all hosts and metrics"). Keys are label names.';

const ipath = (id) => `${BASE}/${encodeURIComponent(id)}`;

// parseExtraTags reads "env=prod, team=shop".
export function parseExtraTags(text) {
  const out = {};
  for (const part of String(text || '').split(',').map(x => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`"${part}" is not key=value`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function formatExtraTags(tags) {
  return Object.entries(tags || {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(', ');
}

function serviceTitle(s) {
  return `${s.name}: ${s.hostUnit} = 1 ${s.hostKind} host; ${s.scope === 'global' ? 'global (read from us-east-1)' : s.scope === 'both' ? 'regional and global' : 'regional'}; IAM: ${(s.actions || []).join(', ')}`;
}
const pretty = (v) => JSON.stringify(v, null, 2);

// ---------------------------------------------------------------- helpers

function spinner(text) {
  return h('span', { class: 'busy', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ', text);
}

function statusBadge(status) { return badge(status || 'UNKNOWN', status); }

function check(name, value, label, checked, attrs = {}) {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, value, checked: !!checked, ...attrs }), ' ', label);
}

function field(label, input, hint) {
  return h('div', { class: 'field' }, h('label', null, label, input), hint ? h('div', { class: 'hint' }, hint) : null);
}

// fieldError reads the field an API validation error names
// ("Value at 'tagFilter' failed to satisfy constraint: ...").
export function fieldError(err) {
  const m = /Value at '([^']+)' failed to satisfy constraint: ([\s\S]*)$/.exec(err && err.message || '');
  return m ? { field: m[1], message: m[2] } : null;
}

// markInvalid puts message next to input (and clears earlier marks in scope).
function clearMarks(scope) {
  scope.querySelectorAll('.field-error').forEach(e => e.remove());
  scope.querySelectorAll('.invalid').forEach(e => e.classList.remove('invalid'));
}
function markInvalid(el, message) {
  if (!el) return false;
  el.classList.add('invalid');
  const holder = el.closest('.field, .service-settings, fieldset') || el.parentElement;
  holder.append(h('div', { class: 'field-error' }, message));
  return true;
}

async function loadWorkspaces() {
  try { return (await api.get('/workspaces')).workspaces || []; } catch { return []; }
}

async function loadServices() {
  return api.get('/admin/v1/aws/services');
}

function wsLabel(wss, id) {
  const w = wss.find(x => x.workspaceId === id);
  return w && w.alias ? `${w.alias} (${id})` : id;
}

// parseGoDuration reads Go's duration strings ("5m0s", "1h30m") into seconds.
function parseGoDuration(s) {
  let total = 0, found = false;
  for (const m of String(s || '').matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    found = true;
    total += parseFloat(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2]];
  }
  return found ? total : 300;
}
function shortDuration(s) {
  return String(s || '').replace(/(\d)m0s$/, '$1m').replace(/(\d)h0m$/, '$1h');
}

// explain turns a status reason into what to do next.
function explain(i) {
  const r = i.statusReason || '';
  const tips = [];
  if (/AssumeRole .*denied|does not trust/i.test(r)) {
    tips.push("Check the role's trust policy: its Principal must be Kansoku's account and its condition sts:ExternalId must be exactly " + (i.externalId || 'the External ID shown') + '.');
    tips.push('IAM changes take a few seconds to propagate: retry in a moment.');
  }
  if (/without the External ID/i.test(r)) tips.push('Add the StringEquals sts:ExternalId condition of the trust policy above: without it anyone who knows the role ARN could use it through Kansoku (confused deputy).');
  if (/missing permission/i.test(r)) tips.push('Attach the permission policy shown above to the role (or the AWS managed read-only policies of the chosen services).');
  if (/belong to account/i.test(r)) tips.push(`The role must be in the integration's account ${i.awsAccountId}.`);
  if (/refused by STS/i.test(r)) tips.push('Check the access key id and secret; the key must be active.');
  if (i.status === 'OVER_PRIVILEGED') tips.push('Remove broad policies such as AdministratorAccess or PowerUserAccess from the role and attach only the permission policy, then validate again.');
  return tips;
}

// validationResult renders a validated integration's status.
function validationResult(i, onRetry, extra) {
  const retry = onRetry ? h('button', { type: 'button', id: 'retry-validation', onclick: onRetry }, 'Retry') : null;
  const tips = explain(i);
  const tipList = tips.length ? h('ul', { class: 'tips' }, tips.map(t => h('li', null, t))) : null;
  if (i.status === 'ACTIVE') {
    return h('div', { class: 'success', dataset: { status: 'ACTIVE' } },
      h('div', null, statusBadge('ACTIVE'), ' ', h('strong', null, 'The integration works.')),
      h('p', null, 'Kansoku can read the account with the least privilege it needs, and it cannot change anything. The first poll runs within a minute; resources become hosts and their CloudWatch metrics go to the workspace.'),
      extra);
  }
  if (i.status === 'OVER_PRIVILEGED') {
    return h('div', { class: 'alert-over', dataset: { status: i.status } },
      h('div', null, statusBadge(i.status), ' ', h('strong', null, 'The role may change your account: nothing is collected.')),
      h('p', null, i.statusReason), tipList, h('div', { class: 'row' }, retry, extra));
  }
  if (i.status === 'PENDING') {
    return h('div', { class: 'notice', dataset: { status: i.status } }, statusBadge(i.status), ' ', i.statusReason || 'Waiting for the role ARN.');
  }
  return h('div', { class: 'error', dataset: { status: i.status } },
    h('div', null, statusBadge(i.status), ' ', h('strong', null, 'Validation failed.')),
    h('p', null, i.statusReason || ''), tipList, h('div', { class: 'row' }, retry, extra));
}

// policyBlock shows a policy as pretty JSON with a copy button.
function policyBlock(title, policy, id, hint) {
  const text = pretty(policy);
  return h('div', { class: 'policy' },
    h('div', { class: 'row' }, h('h3', null, title), copyButton(text)),
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('pre', { id }, text));
}

// setupGuide is what the operator does in IAM: External ID, Kansoku's
// account, trust and permission policies, then the role ARN.
function setupGuide(i, p) {
  if (!p) return h('div', { class: 'error' }, 'The policies are unavailable.');
  const acct = i.awsAccountId;
  return h('div', { class: 'setup-guide' },
    h('ol', { class: 'steps' },
      h('li', null, 'In the AWS account ', h('code', null, acct), ', open IAM → Roles → Create role → "AWS account" → "Another AWS account", enter Kansoku\'s account id and tick "Require external ID" with the External ID below.'),
      h('li', null, 'Attach the permission policy below (create it as a customer managed policy): it grants exactly the read actions of the services you chose.'),
      h('li', null, 'Name the role (e.g. KansokuIntegration), create it, and paste its ARN below.'),
      h('li', null, "Make sure Kansoku's own identity may assume the role (Kansoku's own policy below).")),
    h('div', { class: 'kv' },
      h('div', null, 'External ID'), h('div', null, h('code', { id: 'external-id' }, p.externalId || i.externalId), copyButton(p.externalId || i.externalId)),
      h('div', null, "Kansoku's AWS account"), h('div', null, h('code', { id: 'kansoku-account' }, p.kansokuAccountId), copyButton(p.kansokuAccountId))),
    policyBlock('Trust policy', p.trustPolicy, 'trust-policy', 'The role trusts Kansoku\'s account only with this External ID.'),
    policyBlock('Permission policy (least privilege)', p.permissionPolicy, 'permission-policy', 'Read-only actions of the chosen services, CloudWatch and tagging.'),
    p.kansokuPolicy ? policyBlock("Kansoku's own policy", p.kansokuPolicy, 'kansoku-policy',
      `In Kansoku's account ${p.kansokuAccountId || ''}: the identity Kansoku runs as needs sts:AssumeRole on the role (attach this to it if its policies do not already allow it).`) : null,
    h('details', { class: 'full-policy' },
      h('summary', null, 'Full policy — every service Kansoku supports'),
      h('p', { class: 'hint' }, 'Use it instead to enable more services later without editing the role.'),
      h('div', { class: 'row' }, copyButton(pretty(p.fullPolicy))),
      h('pre', { id: 'full-policy' }, pretty(p.fullPolicy))));
}

// ---------------------------------------------------------------- list

export async function list(main, { query } = {}) {
  clear(main, h('h1', null, 'AWS integrations'),
    h('p', { class: 'hint' }, 'Kansoku assumes a role in your AWS account with an External ID it generated, discovers resources (they become hosts), and pulls their CloudWatch metrics into a workspace.'));
  const bar = h('div', { class: 'row', style: { marginBottom: '12px' } });
  const holder = h('div', null, spinner('Loading…'));
  main.append(bar, holder);
  const wsFilter = query && query.get('workspace') || '';
  const wss = await loadWorkspaces();
  const active = wss.filter(w => w.status && w.status.statusCode === 'ACTIVE');
  const perms = active.length ? await can(active.map(w => ({ action: 'kansoku:CreateAWSIntegration', resources: [kansokuARN('awsintegration', '*'), workspaceARN(w.workspaceId)] })))
    : await can([{ action: 'kansoku:CreateAWSIntegration', resource: kansokuARN('awsintegration', '*') }]);
  if (perms.some(Boolean)) {
    bar.append(h('button', { class: 'primary', id: 'new-integration', onclick: () => navigate('/aws/new' + (wsFilter ? `?workspace=${encodeURIComponent(wsFilter)}` : '')) }, 'New integration'));
  }
  if (wss.length > 1) {
    const sel = h('select', { name: 'workspace', 'aria-label': 'Workspace', onchange: () => navigate('/aws' + (sel.value ? `?workspace=${encodeURIComponent(sel.value)}` : '')) },
      h('option', { value: '' }, 'All workspaces'),
      wss.map(w => h('option', { value: w.workspaceId, selected: w.workspaceId === wsFilter }, w.alias || w.workspaceId)));
    bar.append(h('span', { class: 'spacer' }), sel);
  }
  let out;
  try { out = await api.get(BASE, { workspace: wsFilter }); } catch (e) { clear(holder, errorBox(e)); return; }
  const items = out.integrations || [];
  clear(holder, table([
    { title: 'Name', render: i => h('a', { href: `#/aws/${encodeURIComponent(i.id)}`, class: 'integration-link' }, i.name) },
    { title: 'Status', render: i => [statusBadge(i.status), i.status === 'OVER_PRIVILEGED' ? h('div', { class: 'hint bad' }, 'over-privileged: not collecting') : null] },
    { title: 'AWS account', render: i => h('code', null, i.awsAccountId) },
    { title: 'Regions', render: i => (i.settings.regions || []).join(', ') },
    { title: 'Services', render: i => Object.entries(i.settings.services || {}).filter(([, s]) => s.enabled).map(([k]) => k).sort().join(', ') },
    { title: 'Workspace', render: i => h('a', { href: `#/ws/${i.workspaceId}` }, wsLabel(wss, i.workspaceId)) },
    { title: 'Auth', render: i => i.authMode === 'keys' ? h('span', { class: 'hint bad', title: 'Access keys are discouraged: use a role' }, 'access key') : 'role' },
    { title: 'Last poll', render: i => i.lastPoll ? h('span', { title: fmtTime(i.lastPoll.finishedAt) }, ago(i.lastPoll.finishedAt)) : h('span', { class: 'muted' }, 'never') },
  ], items, { id: 'integrations', empty: 'No AWS integration yet.', rowData: i => ({ id: i.id, name: i.name, status: i.status }) }));
}

// ---------------------------------------------------------------- wizard

function steps(n) {
  return h('div', { class: 'wizard-steps', id: 'wizard-steps' },
    ['1. Account and services', '2. Create the IAM role', '3. Validate'].map((t, i) => h('span', { class: i + 1 === n ? 'now' : (i + 1 < n ? 'done' : '') }, t)));
}

export async function wizard(main, { query } = {}) {
  clear(main, h('h1', null, 'New AWS integration'), steps(1), spinner('Loading…'));
  let services, wss;
  try { [services, wss] = await Promise.all([loadServices(), loadWorkspaces()]); } catch (e) { main.lastChild.replaceWith(errorBox(e)); return; }
  const active = wss.filter(w => w.status && w.status.statusCode === 'ACTIVE');
  const allowed = active.length ? await can(active.map(w => ({ action: 'kansoku:CreateAWSIntegration', resources: [kansokuARN('awsintegration', '*'), workspaceARN(w.workspaceId)] }))) : [];
  const usable = active.filter((w, i) => allowed[i]);
  if (usable.length === 0) {
    clear(main, h('h1', null, 'New AWS integration'),
      errorBox(active.length ? 'You may not create AWS integrations in any workspace.' : 'Create a workspace first: the integration writes its metrics into one.'),
      h('p', null, h('a', { href: '#/workspaces' }, 'Workspaces')));
    return;
  }
  const preselect = query && query.get('workspace');
  step1(main, services.services || [], usable, preselect);
}

function step1(main, services, wss, preselect) {
  const err = h('div', { id: 'wizard-error' });
  const keysBox = h('div', { class: 'keys-box', hidden: true },
    h('div', { class: 'warning' }, h('strong', null, 'Access keys are discouraged. '),
      'A long-lived secret of your account is stored in Kansoku (encrypted) and must be rotated by hand; a role with an External ID gives temporary credentials only to Kansoku. Use keys only where roles are impossible.'),
    field('Access key ID', h('input', { name: 'accessKeyId', autocomplete: 'off', placeholder: 'AKIA…' })),
    field('Secret access key', h('input', { name: 'secretAccessKey', type: 'password', autocomplete: 'new-password' })));
  const authChanged = () => { keysBox.hidden = f.querySelector('input[name=auth]:checked').value !== 'keys'; };
  const f = h('form', { id: 'wizard-step1', class: 'card', onsubmit: submit },
    h('h2', { style: { marginTop: 0 } }, 'Account and services'),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', placeholder: 'production' }), 'To tell integrations apart, e.g. the account\'s alias.'),
    field('AWS account ID', h('input', { name: 'account', required: true, autocomplete: 'off', inputMode: 'numeric', placeholder: '123456789012', pattern: '[0-9]{12}', maxLength: 12 }), 'The 12 digits of the account to monitor.'),
    field('Workspace', h('select', { name: 'workspace' }, wss.map(w => h('option', { value: w.workspaceId, selected: w.workspaceId === preselect }, w.alias ? `${w.alias} (${w.workspaceId})` : w.workspaceId))),
      'The metrics are written into this workspace; its hosts are listed under Hosts.'),
    h('fieldset', { class: 'group', id: 'wizard-regions' }, h('legend', null, 'Regions'),
      h('div', { class: 'checks' }, COMMON_REGIONS.map(r => check('region', r, r, false))),
      field('Other regions', h('input', { name: 'otherRegions', autocomplete: 'off', placeholder: 'me-south-1, af-south-1' }), 'Comma-separated.')),
    h('fieldset', { class: 'group', id: 'wizard-services' }, h('legend', null, 'Services'),
      h('div', { class: 'checks services' }, services.map(s => h('label', { class: 'check', title: serviceTitle(s) },
        h('input', { type: 'checkbox', name: 'service', value: s.key }), ' ', s.name, ' ',
        h('span', { class: 'hint' }, `${s.hostUnit} = 1 ${s.hostKind} host · ${s.metrics.length} metrics${s.scope === 'global' ? ' · global' : ''}`)))),
      h('div', { class: 'hint' }, 'Every metric of a chosen service is collected, and new ones are added automatically; refine it on the integration\'s page. Global services (CloudFront, Route 53, Billing, S3\'s bucket list, WAF for CloudFront) are read once, from us-east-1, whatever the regions.')),
    field('Tag filter (optional)', h('input', { name: 'tagFilter', autocomplete: 'off', placeholder: 'service:foo, "service:role": "foo,bar"' }), TAG_FILTER_HINT),
    field('Tags for every host and metric (optional)', h('input', { name: 'extraTags', autocomplete: 'off', placeholder: 'env=prod, team=shop' }), EXTRA_TAGS_HINT),
    h('fieldset', { class: 'group', id: 'wizard-auth' }, h('legend', null, 'Authentication'),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'auth', value: 'role', checked: true, onchange: authChanged }), ' ',
        h('strong', null, 'IAM role with an External ID'), ' ', badge('recommended', 'ok')),
      h('label', { class: 'check' }, h('input', { type: 'radio', name: 'auth', value: 'keys', onchange: authChanged }), ' Access keys of an IAM user'),
      keysBox),
    err,
    h('div', { class: 'row', style: { marginTop: '12px' } },
      h('button', { class: 'primary', type: 'submit', id: 'create-integration' }, 'Create integration'),
      h('a', { href: '#/aws' }, 'Cancel')));
  clear(main, h('h1', null, 'New AWS integration'), steps(1), f);

  async function submit(e) {
    e.preventDefault();
    clear(err);
    clearMarks(f);
    const v = (n) => (f.querySelector(`[name=${n}]`).value || '').trim();
    const regions = [...f.querySelectorAll('input[name=region]:checked')].map(x => x.value)
      .concat(v('otherRegions').split(/[\s,]+/).filter(Boolean));
    const svcs = [...f.querySelectorAll('input[name=service]:checked')].map(x => x.value);
    const auth = f.querySelector('input[name=auth]:checked').value;
    let bad = false;
    if (!/^\d{12}$/.test(v('account'))) bad = markInvalid(f.querySelector('[name=account]'), 'An AWS account id is 12 digits.') || bad;
    if (regions.length === 0) bad = markInvalid(f.querySelector('#wizard-regions .checks'), 'Choose at least one region.') || bad;
    if (svcs.length === 0) bad = markInvalid(f.querySelector('#wizard-services .checks'), 'Choose at least one service.') || bad;
    if (auth === 'keys' && (!v('accessKeyId') || !v('secretAccessKey'))) bad = markInvalid(f.querySelector('[name=accessKeyId]'), 'Give the access key id and its secret.') || bad;
    if (bad) return;
    const body = { name: v('name'), awsAccountId: v('account'), workspaceId: v('workspace'), regions: [...new Set(regions)], services: svcs };
    let extraTags;
    try { extraTags = parseExtraTags(v('extraTags')); } catch (e3) { markInvalid(f.querySelector('[name=extraTags]'), e3.message); return; }
    if (v('tagFilter') || Object.keys(extraTags).length) {
      // The services keep the server's defaults (body.services).
      body.settings = { regions: body.regions, tagFilter: v('tagFilter'), extraTags };
    }
    if (auth === 'keys') { body.accessKeyId = v('accessKeyId'); body.secretAccessKey = f.querySelector('[name=secretAccessKey]').value; }
    const btn = f.querySelector('#create-integration');
    btn.disabled = true;
    const busy = spinner(auth === 'keys' ? 'Creating and validating…' : 'Creating…');
    btn.after(busy);
    let out;
    try {
      out = await api.send('POST', BASE, body);
    } catch (e2) {
      const fe = fieldError(e2);
      const map = { name: 'name', awsAccountId: 'account', workspaceId: 'workspace', regions: 'otherRegions', tagFilter: 'tagFilter', extraTags: 'extraTags' };
      if (fe && map[fe.field]) markInvalid(f.querySelector(`[name=${map[fe.field]}]`), fe.message);
      else if (fe && fe.field.startsWith('services')) markInvalid(f.querySelector('#wizard-services .checks'), fe.message);
      clear(err, errorBox(e2));
      return;
    } finally { btn.disabled = false; busy.remove(); }
    toast(`Integration ${out.integration.name} created`);
    if (out.integration.authMode === 'role') step2(main, out.integration, out.policies, out.policiesError);
    else step3Keys(main, out.integration);
  }
}

function step2(main, i, policies, policiesError) {
  const roleInput = h('input', { id: 'role-arn', name: 'roleArn', autocomplete: 'off', placeholder: `arn:aws:iam::${i.awsAccountId}:role/KansokuIntegration`, style: { width: '100%' } });
  const result = h('div', { id: 'validation-result', 'aria-live': 'polite' });
  const validateBtn = h('button', { class: 'primary', type: 'submit', id: 'validate-integration' }, 'Validate');
  const roleForm = h('form', { id: 'role-form', onsubmit: (e) => { e.preventDefault(); validate(); } },
    field('Role ARN', roleInput, `The ARN of the role you created in account ${i.awsAccountId}.`),
    h('div', { class: 'row', style: { marginTop: '8px' } }, validateBtn));
  const stepsEl = steps(2);
  clear(main, h('h1', null, `New AWS integration: ${i.name}`), stepsEl,
    h('div', { class: 'card', id: 'wizard-step2' },
      h('h2', { style: { marginTop: 0 } }, 'Create the IAM role'),
      h('p', null, 'The integration ', h('code', null, i.id), ' waits for its role ', statusBadge(i.status), '. Kansoku generated an External ID for it: the role must require it.'),
      policiesError ? errorBox(policiesError) : setupGuide(i, policies)),
    h('div', { class: 'card', id: 'wizard-step3' },
      h('h2', { style: { marginTop: 0 } }, 'Validate'),
      h('p', { class: 'hint' }, 'Kansoku assumes the role with the External ID, checks that it cannot be assumed without it, that every permission the services need is granted, and that the role cannot change the account (a dry-run ec2:CreateInternetGateway must be refused).'),
      roleForm, result));

  async function validate() {
    const arn = roleInput.value.trim();
    clearMarks(roleForm);
    if (!arn) { markInvalid(roleInput, 'Paste the role ARN.'); return; }
    stepsEl.replaceWith(steps(3));
    validateBtn.disabled = true;
    roleInput.disabled = true;
    clear(result, h('div', { class: 'validating' }, spinner('Validating… (AssumeRole, permissions, over-privilege check)')));
    try {
      const out = await api.send('PATCH', ipath(i.id), { roleArn: arn });
      clear(result, validationResult(out.integration, validate,
        h('button', { type: 'button', class: out.integration.status === 'ACTIVE' ? 'primary' : '', id: 'open-integration', onclick: () => navigate(`/aws/${out.integration.id}`) }, 'Open integration')));
    } catch (e) {
      const fe = fieldError(e);
      if (fe && fe.field === 'roleArn') markInvalid(roleInput, fe.message);
      clear(result, errorBox(e), h('button', { type: 'button', id: 'retry-validation', onclick: validate }, 'Retry'));
    } finally {
      validateBtn.disabled = false;
      roleInput.disabled = false;
    }
  }
}

function step3Keys(main, i) {
  const result = h('div', { id: 'validation-result' });
  const render = (x) => clear(result, validationResult(x, retry,
    h('button', { type: 'button', class: x.status === 'ACTIVE' ? 'primary' : '', id: 'open-integration', onclick: () => navigate(`/aws/${x.id}`) }, 'Open integration')));
  async function retry() {
    clear(result, h('div', { class: 'validating' }, spinner('Validating…')));
    try { render((await api.send('POST', `${ipath(i.id)}/validate`)).integration); } catch (e) { clear(result, errorBox(e), h('button', { type: 'button', id: 'retry-validation', onclick: retry }, 'Retry')); }
  }
  clear(main, h('h1', null, `New AWS integration: ${i.name}`), steps(3),
    h('div', { class: 'card', id: 'wizard-step3' }, h('h2', { style: { marginTop: 0 } }, 'Validation'),
      h('p', { class: 'hint' }, 'The access key was checked at once: identity, permissions and the over-privilege check.'), result));
  render(i);
}

// ---------------------------------------------------------------- show

export async function show(main, { id }) {
  clear(main, h('h1', null, 'AWS integration'), spinner('Loading…'));
  let i, services, wss;
  try {
    [i, services, wss] = await Promise.all([api.get(ipath(id)).then(r => r.integration), loadServices().then(s => s.services || []).catch(() => []), loadWorkspaces()]);
  } catch (e) { clear(main, h('h1', null, 'AWS integration'), errorBox(e), h('p', null, h('a', { href: '#/aws' }, 'AWS integrations'))); return; }
  const res = [kansokuARN('awsintegration', i.id), workspaceARN(i.workspaceId)];
  const [mayUpdate, mayDelete, mayPoll] = await can([
    { action: 'kansoku:UpdateAWSIntegration', resources: res },
    { action: 'kansoku:DeleteAWSIntegration', resources: res },
    { action: 'kansoku:PollAWSIntegration', resources: res },
  ]);

  const title = h('h1', null, `AWS integration ${i.name}`);
  const statusEl = h('div', { class: 'card', id: 'integration-status' });
  const actions = h('div', { class: 'row actions', style: { marginBottom: '12px' } });
  const facts = h('div', { class: 'card' });
  const reportEl = h('div', { class: 'card', id: 'poll-report' });
  const setupEl = h('div');
  const settingsEl = h('div');
  clear(main, h('p', { class: 'crumbs' }, h('a', { href: '#/aws' }, 'AWS integrations'), ' / ', i.name), title, actions, statusEl, facts,
    h('h2', null, 'Last poll'), reportEl, setupEl, h('h2', null, 'Settings'), settingsEl);

  function renderStatus(busyText) {
    clear(statusEl,
      h('div', { class: 'row' }, h('strong', null, 'Status'), statusBadge(i.status), h('span', { class: 'hint' }, `updated ${ago(i.updatedAt)}`), busyText ? spinner(busyText) : null),
      i.status === 'OVER_PRIVILEGED'
        ? h('div', { class: 'alert-over', id: 'over-privileged' },
          h('h3', null, '⚠ Over-privileged: nothing is collected'),
          h('p', null, i.statusReason),
          h('ul', { class: 'tips' }, explain(i).map(t => h('li', null, t))))
        : i.status === 'ACTIVE' ? h('p', { class: 'hint' }, 'Collecting every ' + shortDuration(i.settings.pollInterval) + '.')
          : h('div', { class: i.status === 'PENDING' ? 'notice' : 'error' }, h('p', { style: { margin: 0 } }, i.statusReason || ''),
            explain(i).length ? h('ul', { class: 'tips' }, explain(i).map(t => h('li', null, t))) : null));
  }

  function renderFacts() {
    const enabled = Object.entries(i.settings.services || {}).filter(([, s]) => s.enabled).map(([k]) => k).sort();
    clear(facts, h('div', { class: 'kv', id: 'integration-facts' },
      h('div', null, 'ID'), h('div', null, h('code', null, i.id), copyButton(i.id)),
      h('div', null, 'AWS account'), h('div', null, h('code', null, i.awsAccountId)),
      h('div', null, 'Workspace'), h('div', null, h('a', { href: `#/ws/${i.workspaceId}` }, wsLabel(wss, i.workspaceId)), ' · ',
        h('a', { href: `#/hosts?workspace=${encodeURIComponent(i.workspaceId)}&integration=${encodeURIComponent(i.id)}` }, 'its hosts')),
      h('div', null, 'Authentication'), h('div', null, i.authMode === 'role'
        ? ['role ', i.roleArn ? h('code', null, i.roleArn) : h('span', { class: 'muted' }, '(not set)')]
        : [h('span', { class: 'bad' }, 'access key '), h('code', null, i.accessKeyId), h('span', { class: 'hint' }, ' — discouraged: prefer a role')]),
      i.authMode === 'role' ? [h('div', null, 'External ID'), h('div', null, h('code', null, i.externalId), copyButton(i.externalId))] : null,
      h('div', null, 'Regions'), h('div', null, (i.settings.regions || []).join(', ')),
      h('div', null, 'Services'), h('div', null, enabled.join(', ') || '—'),
      h('div', null, 'Tag filter'), h('div', null, i.settings.tagFilter ? h('code', null, i.settings.tagFilter) : h('span', { class: 'muted' }, 'none (every resource)')),
      h('div', null, 'Tags added'), h('div', { id: 'integration-extra-tags' }, Object.keys(i.settings.extraTags || {}).length ? h('code', null, formatExtraTags(i.settings.extraTags)) : h('span', { class: 'muted' }, 'none')),
      h('div', null, 'Poll interval'), h('div', null, shortDuration(i.settings.pollInterval)),
      h('div', null, 'Created'), h('div', null, fmtTime(i.createdAt))));
  }

  function renderReport(rep) {
    if (!rep) { clear(reportEl, h('p', { class: 'muted' }, i.status === 'PENDING' ? 'No poll yet: the integration waits for its role.' : 'No poll yet.')); return; }
    const calls = Object.entries(rep.apiCalls || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const secs = parseGoDuration(i.settings.pollInterval);
    const perMonth = (rep.estimatedCostUSD || 0) * (30 * 86400 / secs);
    const took = (new Date(rep.finishedAt) - new Date(rep.startedAt)) / 1000;
    const kv = (label, key, value) => [h('div', null, label), h('div', { dataset: { key } }, value)];
    clear(reportEl,
      h('div', { class: 'kv' },
        kv('Started', 'startedAt', [fmtTime(rep.startedAt), ' ', h('span', { class: 'hint' }, `(${ago(rep.startedAt)})`)]),
        kv('Duration', 'duration', isNaN(took) ? '—' : `${took.toFixed(1)} s`),
        kv('Resources', 'resources', String(rep.resources)),
        kv('Excluded by the tag filter', 'excluded', String(rep.excluded)),
        kv('Retired', 'retired', String(rep.retired)),
        kv('Metrics requested', 'metricsRequested', String(rep.metricsRequested)),
        kv('GetMetricData calls', 'getMetricDataCalls', String(rep.getMetricDataCalls)),
        kv('Datapoints', 'datapoints', String(rep.datapoints)),
        kv('Samples written', 'samplesWritten', String(rep.samplesWritten)),
        kv('Estimated CloudWatch cost', 'estimatedCostUSD', [h('strong', null, `$${(rep.estimatedCostUSD || 0).toFixed(6)}`), ' per poll · ≈ ',
          `$${perMonth.toFixed(2)} per 30 days at one poll every ${shortDuration(i.settings.pollInterval)}`])),
      h('h3', null, 'AWS API calls'),
      table([
        { title: 'Action', render: ([k]) => h('code', null, k) },
        { title: 'Calls', class: 'right', render: ([, n]) => fmtNum(n) },
      ], calls, { id: 'api-calls', empty: 'No call.', rowData: ([k]) => ({ action: k }) }),
      rep.errors && rep.errors.length ? [h('h3', { class: 'bad' }, `Errors (${rep.errors.length})`), h('ul', { class: 'poll-errors' }, rep.errors.map(x => h('li', null, x)))] : null);
  }

  function renderSetup() {
    clear(setupEl);
    if (i.authMode !== 'role') {
      if (!mayUpdate) return;
      setupEl.append(h('h2', null, 'Access key'), h('div', { class: 'card' },
        h('div', { class: 'warning' }, 'Access keys are discouraged: create a new integration with a role when you can.'),
        form([
          { name: 'accessKeyId', label: 'New access key ID', required: true },
          { name: 'secretAccessKey', label: 'Secret access key', type: 'password', required: true, autocomplete: 'new-password' },
        ], 'Replace and validate', async v => {
          const out = await api.send('PATCH', ipath(i.id), { accessKeyId: v.accessKeyId.trim(), secretAccessKey: v.secretAccessKey });
          update(out.integration); toast(`Validated: ${out.integration.status}`);
        }, { id: 'keys-form' })));
      return;
    }
    const details = h('details', { class: 'card', id: 'iam-setup', open: i.status !== 'ACTIVE' },
      h('summary', null, h('strong', null, 'IAM role setup'), ' — External ID, trust and permission policies'), h('div', null, spinner('Loading policies…')));
    setupEl.append(details);
    api.get(`${ipath(i.id)}/policies`).then(p => {
      const body = h('div', null, setupGuide(i, p));
      if (mayUpdate) {
        const input = h('input', { id: 'role-arn', name: 'roleArn', value: i.roleArn || '', autocomplete: 'off', placeholder: `arn:aws:iam::${i.awsAccountId}:role/KansokuIntegration`, style: { width: '100%' } });
        const err = h('div');
        const f = h('form', { id: 'role-form', onsubmit: async (e) => {
          e.preventDefault(); clear(err);
          const btn = f.querySelector('button'); btn.disabled = true;
          renderStatus('Validating…');
          try { const out = await api.send('PATCH', ipath(i.id), { roleArn: input.value.trim() }); update(out.integration); toast(`Validated: ${out.integration.status}`); }
          catch (e2) { clear(err, errorBox(e2)); renderStatus(); } finally { btn.disabled = false; }
        } }, field('Role ARN', input), err, h('button', { class: 'primary', type: 'submit', id: 'save-role' }, 'Set role and validate'));
        body.append(f);
      }
      details.lastChild.replaceWith(body);
    }).catch(e => details.lastChild.replaceWith(errorBox(e)));
  }

  function update(next) {
    const hadSetupOpen = i.status;
    i = next;
    title.textContent = `AWS integration ${i.name}`;
    renderStatus();
    renderFacts();
    renderReport(i.lastPoll);
    if (hadSetupOpen !== i.status) { const d = setupEl.querySelector('details'); if (d) d.open = i.status !== 'ACTIVE'; }
  }

  // Actions.
  if (mayPoll) actions.append(h('button', { class: 'primary', id: 'poll-now', onclick: pollNow }, 'Poll now'));
  if (mayUpdate) actions.append(h('button', { id: 'validate-now', onclick: validateNow }, 'Validate'));
  if (mayDelete) actions.append(h('button', { class: 'danger', id: 'delete-integration', onclick: remove }, 'Delete'));

  async function pollNow(e) {
    const btn = e.currentTarget;
    btn.disabled = true;
    const before = i.lastPoll && i.lastPoll.startedAt;
    renderStatus('Polling… (discovery, hosts, CloudWatch GetMetricData)');
    try {
      const out = await api.send('POST', `${ipath(i.id)}/poll`);
      update(out.integration);
      renderReport(out.report);
      toast(`Polled: ${out.report.resources} resources, ${out.report.samplesWritten} samples written`);
    } catch (err) {
      if (/being polled/.test(err.message)) {
        // A scheduled poll runs: show its report once it is done.
        renderStatus('A scheduled poll is running; waiting for its report…');
        const deadline = Date.now() + 120000;
        while (Date.now() < deadline) {
          await new Promise(r => setTimeout(r, 1500));
          if (!statusEl.isConnected) return;
          try {
            const cur = (await api.get(ipath(i.id))).integration;
            if (cur.lastPoll && cur.lastPoll.startedAt !== before) { update(cur); break; }
          } catch { /* keep waiting */ }
        }
        renderStatus();
      } else {
        renderStatus();
        statusEl.append(errorBox(err));
      }
    } finally { btn.disabled = false; }
  }

  async function validateNow(e) {
    const btn = e.currentTarget;
    btn.disabled = true;
    renderStatus('Validating…');
    try { update((await api.send('POST', `${ipath(i.id)}/validate`)).integration); toast(`Validated: ${i.status}`); }
    catch (err) { renderStatus(); statusEl.append(errorBox(err)); }
    finally { btn.disabled = false; }
  }

  async function remove() {
    await modal(`Delete integration ${i.name}?`, close => h('div', null,
      h('p', null, 'Kansoku stops collecting this account. Its hosts stay (retire them on the Hosts page) and the samples already written stay in the workspace. Remove the IAM role in AWS afterwards.'),
      form([{ name: 'confirm', label: `Type the integration's name "${i.name}" to confirm`, placeholder: i.name }], 'Delete', async v => {
        if (v.confirm !== i.name) throw new Error(`Type ${i.name} to confirm.`);
        await api.send('DELETE', ipath(i.id));
        close(); toast(`Integration ${i.name} deleted`); navigate('/aws');
      }, { id: 'delete-integration-form' })));
  }

  renderStatus();
  renderFacts();
  renderReport(i.lastPoll);
  renderSetup();
  settingsEditor(settingsEl, () => i, services, mayUpdate, update);
}

// ---------------------------------------------------------------- settings

function settingsEditor(holder, current, services, editable, onSaved) {
  const i = current();
  const st = i.settings || {};
  const err = h('div', { id: 'settings-error' });
  // Collected services first, then the others.
  const on = (s) => !!((st.services || {})[s.key] || {}).enabled;
  const svcBlocks = [...services.filter(on), ...services.filter(s => !on(s))].map(s => serviceBlock(s, (st.services || {})[s.key]));
  const f = h('form', { id: 'settings-form', class: 'card', onsubmit: save },
    h('fieldset', { class: 'plain', disabled: !editable },
      editable ? null : h('p', { class: 'hint' }, 'Read-only: you may not change this integration.'),
      field('Regions', h('input', { name: 'regions', value: (st.regions || []).join(', '), autocomplete: 'off' }), 'Comma-separated, e.g. us-east-1, ap-northeast-1.'),
      field('Tag filter', h('input', { name: 'tagFilter', value: st.tagFilter || '', autocomplete: 'off', placeholder: 'service:foo, "service:role": "foo,bar"' }), TAG_FILTER_HINT),
      field('Tags for every host and metric', h('input', { name: 'extraTags', value: formatExtraTags(st.extraTags), autocomplete: 'off', placeholder: 'env=prod, team=shop' }), EXTRA_TAGS_HINT),
      field('Poll interval', h('input', { name: 'pollInterval', value: shortDuration(st.pollInterval || '5m'), autocomplete: 'off', style: { maxWidth: '120px', display: 'block' } }),
        'How often metrics are pulled (at least 1m; 5m is the default, as Mackerel). Each poll costs GetMetricData requests.'),
      h('h3', null, 'Services'),
      h('div', { class: 'services-settings' }, svcBlocks.map(b => b.el)),
      err,
      editable ? h('div', { class: 'row', style: { marginTop: '12px' } }, h('button', { class: 'primary', type: 'submit', id: 'save-settings' }, 'Save settings')) : null));
  clear(holder, f);

  async function save(e) {
    e.preventDefault();
    clear(err);
    clearMarks(f);
    const v = (n) => f.querySelector(`[name=${n}]`).value.trim();
    let extraTags;
    try { extraTags = parseExtraTags(v('extraTags')); } catch (e3) { markInvalid(f.querySelector('[name=extraTags]'), e3.message); return; }
    const settings = {
      regions: v('regions').split(/[\s,]+/).filter(Boolean),
      tagFilter: v('tagFilter'),
      extraTags,
      pollInterval: v('pollInterval') || '5m',
      services: {},
    };
    const prev = current().settings.services || {};
    let bad = false;
    for (const b of svcBlocks) {
      const ss = b.collect();
      if (!ss.enabled && !prev[b.key]) continue;
      if (ss.enabled && !ss.autoAddNewMetrics && ss.includedMetrics.length === 0) {
        bad = markInvalid(b.el.querySelector('.metrics'), 'Choose at least one metric, or turn on "add new metrics automatically".') || bad;
      }
      settings.services[b.key] = ss;
    }
    if (bad) return;
    const btn = f.querySelector('#save-settings');
    btn.disabled = true;
    const busy = spinner('Saving and validating…');
    btn.after(busy);
    try {
      const out = await api.send('PATCH', ipath(current().id), { settings });
      onSaved(out.integration);
      toast('Settings saved');
      settingsEditor(holder, current, services, editable, onSaved);
    } catch (e2) {
      const fe = fieldError(e2);
      if (fe) {
        const m = /^services\.([^.]+)\.(\w+)$/.exec(fe.field);
        let target = null;
        if (m) {
          const b = svcBlocks.find(x => x.key === m[1]);
          target = b && (b.el.querySelector(`[name=${m[2]}]`) || b.el.querySelector('.metrics'));
        } else if (fe.field === 'services') target = f.querySelector('.services-settings');
        else target = f.querySelector(`[name=${fe.field}]`);
        markInvalid(target, fe.message);
      }
      clear(err, errorBox(e2));
    } finally { btn.disabled = false; busy.remove(); }
  }
}

// serviceBlock edits one service's settings; collect() reads them back.
// Metrics are grouped as Mackerel groups them (cpu, network, per target
// group ...): a group's box checks or unchecks all of its metrics.
function serviceBlock(s, ss) {
  const known = !!ss;
  ss = ss || { ...(s.defaultSettings || { autoAddNewMetrics: true }), enabled: false };
  const excluded = new Set(ss.excludedMetrics || []);
  const included = new Set(ss.includedMetrics || []);
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: !!ss.enabled });
  const autoAdd = h('input', { type: 'checkbox', name: 'autoAddNewMetrics', checked: !!ss.autoAddNewMetrics });
  const autoRetire = h('input', { type: 'checkbox', name: 'autoRetire', checked: !!ss.autoRetire });
  const role = h('input', { name: 'defaultRole', value: ss.defaultRole || '', autocomplete: 'off', placeholder: 'Service:Role, e.g. shop:web' });
  const tagFilter = s.tagged ? h('input', { name: 'tagFilter', value: ss.tagFilter || '', autocomplete: 'off', placeholder: 'team:shop' }) : null;
  const modeHint = h('div', { class: 'hint' });
  const groups = new Map();
  for (const m of s.metrics) {
    if (!groups.has(m.group)) groups.set(m.group, []);
    groups.get(m.group).push(m);
  }
  const metricBoxes = [];
  const groupEls = [...groups.entries()].map(([g, metrics]) => {
    const boxes = metrics.map(m => {
      const on = ss.autoAddNewMetrics ? !excluded.has(m.key) : (included.size === 0 || included.has(m.key));
      const label = h('label', { class: 'check metric', title: m.key },
        h('input', { type: 'checkbox', name: 'metric', value: m.key, checked: on, dataset: { group: g } }), ' ',
        m.api ? `${m.metric} (from the API)` : `${m.metric} (${m.stat})`, m.set && m.key.includes(':') ? h('span', { class: 'hint' }, ` · per ${m.set.replace(/_/g, ' ')}`) : null);
      metricBoxes.push(label);
      return label;
    });
    const all = h('input', { type: 'checkbox', name: 'metric-group', value: g });
    const syncGroup = () => {
      const n = boxes.filter(l => l.firstChild.checked).length;
      all.checked = n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    };
    all.addEventListener('change', () => { boxes.forEach(l => { l.firstChild.checked = all.checked; }); syncGroup(); });
    boxes.forEach(l => l.firstChild.addEventListener('change', syncGroup));
    syncGroup();
    return h('div', { class: 'metric-group', dataset: { group: g } },
      h('label', { class: 'check group-title' }, all, ' ', h('strong', null, g.replace(/_/g, ' ')), ' ', h('span', { class: 'hint' }, `${boxes.length}`)),
      h('div', { class: 'checks' }, boxes));
  });
  const setAll = (on) => { metricBoxes.forEach(l => { l.firstChild.checked = on; l.firstChild.dispatchEvent(new Event('change')); }); };
  const body = h('div', { class: 'service-body' },
    h('p', { class: 'hint' }, serviceTitle(s)),
    field('Default role', role, `Given to ${s.name} hosts without a kansoku-integration or mackerel-integration tag.`),
    tagFilter ? field(`Tag filter for ${s.name}`, tagFilter, `Only ${s.name} resources with one of these tags, beside the integration's filter (as Datadog's "to hosts with tag"). Same syntax.`) : null,
    h('label', { class: 'check' }, autoAdd, ' Add new metrics automatically'),
    modeHint,
    h('div', { class: 'metrics' },
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'small', onclick: () => setAll(true) }, 'All'), h('button', { type: 'button', class: 'small', onclick: () => setAll(false) }, 'None')),
      groupEls),
    h('label', { class: 'check' }, autoRetire, ' Retire hosts automatically when their resource is deleted'),
    h('div', { class: 'hint' }, s.defaultSettings && s.defaultSettings.autoRetire
      ? 'On by default, as in Mackerel.'
      : 'Mackerel offers automatic retirement only for EC2, RDS and ElastiCache; here it is off by default.'));
  let el = null;
  const sync = () => {
    body.hidden = !enabled.checked;
    if (el) el.classList.toggle('off', !enabled.checked);
    modeHint.textContent = autoAdd.checked
      ? 'Every metric is collected, also those CloudWatch adds later; unchecked ones are excluded.'
      : 'Only the checked metrics are collected; new ones are not added.';
  };
  enabled.addEventListener('change', sync);
  autoAdd.addEventListener('change', sync);
  el = h('fieldset', { class: 'service-settings', dataset: { service: s.key } },
    h('legend', null, h('label', { class: 'check' }, enabled, ' ', h('strong', null, s.name), ' ', h('span', { class: 'hint' }, `${s.hostUnit} · ${s.hostKind} hosts · ${s.metrics.length} metrics${known ? '' : ' · not collected'}`))),
    body);
  sync();
  return {
    key: s.key, el,
    collect() {
      const checked = metricBoxes.filter(l => l.firstChild.checked).map(l => l.firstChild.value);
      const unchecked = metricBoxes.filter(l => !l.firstChild.checked).map(l => l.firstChild.value);
      const out = { enabled: enabled.checked, autoAddNewMetrics: autoAdd.checked, autoRetire: autoRetire.checked };
      if (role.value.trim()) out.defaultRole = role.value.trim();
      if (tagFilter && tagFilter.value.trim()) out.tagFilter = tagFilter.value.trim();
      if (autoAdd.checked) out.excludedMetrics = unchecked; else out.includedMetrics = checked;
      return out;
    },
  };
}
