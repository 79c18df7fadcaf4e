import { api, el } from './api.js';
import { deleteButton, loadModes, renameControls, showBanner } from './ui-common.js';

const projectId = document.body.dataset.projectId;
const list = document.getElementById('chat-list');
const banner = document.getElementById('banner');
const form = document.getElementById('chat-create');
const modeSelect = document.getElementById('chat-mode');

async function guarded(action) {
  try {
    return await action();
  } catch (err) {
    showBanner(banner, { text: err.message, code: err.code });
    throw err;
  }
}

function chatItem(chat) {
  const title = chat.title || 'Untitled chat';
  const link = el('a', { href: `/projects/${encodeURIComponent(projectId)}/chats/${encodeURIComponent(chat.id)}/`,
                         class: 'item-name', text: title });
  return el('li', { class: 'item', dataset: { chatId: chat.id } },
    link,
    el('span', { class: 'badge', text: chat.mode }),
    chat.isDefault ? el('span', { class: 'badge muted', text: 'default' }) : null,
    renameControls(link, title, async (name) => {
      await guarded(() => api.patch(`/api/chats/${chat.id}`, { title: name }));
      await refresh();
    }),
    deleteButton(title, async () => {
      await guarded(() => api.del(`/api/chats/${chat.id}`)).catch(() => null);
      await refresh();
    }),
  );
}

async function refresh() {
  const data = await guarded(() => api.get(`/api/projects/${encodeURIComponent(projectId)}/chats`));
  list.replaceChildren(...data.chats.map(chatItem));
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const title = form.elements.title.value.trim();
  const body = { mode: modeSelect.value };
  if (title) body.title = title;
  const chat = await guarded(() => api.post(`/api/projects/${encodeURIComponent(projectId)}/chats`, body));
  form.elements.title.value = '';
  window.location.assign(`/projects/${encodeURIComponent(projectId)}/chats/${encodeURIComponent(chat.id)}/`);
});

loadModes(projectId, modeSelect);  // keeps what the user picked while it loads
refresh();
