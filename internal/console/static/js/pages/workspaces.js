// Workspaces: list, create (alias, tags), rename, delete with a typed
// confirmation, as the AMP console does.
import * as api from '../api.js';
import { h, clear, table, badge, errorBox, modal, form, toast, fmtTime, can, session } from '../ui.js';
import { navigate } from '../app.js';

function parseTags(text) {
  const tags = {};
  for (const line of (text || '').split(/[\n,]/)) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf('=');
    if (i <= 0) throw new Error(`tag "${t}": write key=value`);
    tags[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return tags;
}

export async function list(main) {
  clear(main, h('h1', null, 'Workspaces'));
  const [mayCreate] = await can([{ action: 'aps:CreateWorkspace' }]);
  const bar = h('div', { class: 'row', style: { marginBottom: '12px' } });
  if (mayCreate) bar.append(h('button', { class: 'primary', id: 'create-workspace', onclick: create }, 'Create workspace'));
  const holder = h('div');
  main.append(bar, holder);

  async function load() {
    let out;
    try { out = await api.get('/workspaces'); } catch (e) { clear(holder, errorBox(e)); return; }
    const wss = out.workspaces || [];
    const perms = await can(wss.flatMap(w => [{ action: 'aps:UpdateWorkspaceAlias', resource: w.arn }, { action: 'aps:DeleteWorkspace', resource: w.arn }]));
    clear(holder, table([
      { title: 'Alias', render: w => h('a', { href: `#/ws/${w.workspaceId}`, class: 'ws-link' }, w.alias || '(no alias)') },
      { title: 'ID', render: w => h('code', null, w.workspaceId) },
      { title: 'Status', render: w => badge(w.status.statusCode) },
      { title: 'Created', render: w => fmtTime(w.createdAt) },
      { title: 'Tags', render: w => Object.entries(w.tags || {}).map(([k, v]) => h('span', { class: 'badge', style: { marginRight: '4px' } }, `${k}=${v}`)) },
      { title: '', class: 'right', render: (w) => {
        const i = wss.indexOf(w);
        return [
          perms[2 * i] ? h('button', { class: 'rename', onclick: () => rename(w) }, 'Rename') : null, ' ',
          perms[2 * i + 1] ? h('button', { class: 'danger delete', onclick: () => remove(w) }, 'Delete') : null,
        ];
      } },
    ], wss, { id: 'workspaces', empty: 'No workspace yet.', rowData: w => ({ id: w.workspaceId, alias: w.alias || '' }) }));
  }

  async function create() {
    await modal('Create workspace', close => form([
      { name: 'alias', label: 'Alias', placeholder: 'my-team', hint: 'Optional, not unique (AMP semantics).' },
      { name: 'tags', label: 'Tags', type: 'textarea', rows: 3, placeholder: 'team=payments\nenv=prod', hint: 'key=value, one per line.' },
    ], 'Create', async v => {
      const body = { tags: parseTags(v.tags) };
      if (v.alias) body.alias = v.alias;
      const r = await api.send('POST', '/workspaces', body);
      close();
      toast(`Workspace ${r.workspaceId} is being created`);
      navigate(`/ws/${r.workspaceId}`);
    }, { id: 'create-workspace-form' }));
  }

  async function rename(w) {
    await modal(`Rename ${w.workspaceId}`, close => form([{ name: 'alias', label: 'Alias', value: w.alias || '' }], 'Save', async v => {
      await api.send('POST', `/workspaces/${w.workspaceId}/alias`, { alias: v.alias });
      close(); toast('Renamed'); load();
    }, { id: 'rename-form' }));
  }

  async function remove(w) {
    await modal(`Delete workspace ${w.alias || w.workspaceId}?`, close => h('div', null,
      h('p', null, 'This deletes the workspace and all its data: samples, rules, the Alertmanager definition. It cannot be undone.'),
      form([{ name: 'confirm', label: 'Type "delete" to confirm', placeholder: 'delete' }], 'Delete', async v => {
        if (v.confirm !== 'delete') throw new Error('Type delete to confirm.');
        await api.send('DELETE', `/workspaces/${w.workspaceId}`);
        close(); toast('Deleting…'); load();
      }, { id: 'delete-form' })));
  }

  await load();
}
