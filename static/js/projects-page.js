import { api, el } from './api.js';
import { deleteButton, renameControls, showBanner } from './ui-common.js';

const list = document.getElementById('project-list');
const empty = document.getElementById('project-empty');
const banner = document.getElementById('banner');
const form = document.getElementById('project-create');

function projectItem(project) {
  const link = el('a', { href: `/projects/${encodeURIComponent(project.id)}/`, class: 'item-name', text: project.name });
  const li = el('li', { class: 'item', dataset: { projectId: project.id } }, link);
  li.append(
    renameControls(link, project.name, async (name) => {
      await guarded(() => api.patch(`/api/projects/${project.id}`, { name }));
      await refresh();
    }),
    deleteButton(project.name, async () => {
      await guarded(() => api.del(`/api/projects/${project.id}`));
      await refresh();
    }),
  );
  return li;
}

async function guarded(action) {
  try {
    return await action();
  } catch (err) {
    showBanner(banner, { text: err.message, code: err.code });
    throw err;
  }
}

async function refresh() {
  const data = await guarded(() => api.get('/api/projects'));
  list.replaceChildren(...data.projects.map(projectItem));
  empty.hidden = data.projects.length > 0;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = form.elements.name;
  const name = input.value.trim();
  if (!name) return;
  await guarded(() => api.post('/api/projects', { name }));
  input.value = '';
  await refresh();
});

refresh();
