// Project documents: drag-and-drop upload, ingestion status, delete.
import { api, el } from './api.js';
import { deleteButton } from './ui-common.js';

const POLL_MS = 1000;
const POLL_LIMIT = 300;

export function initDocumentsPanel({ projectId }) {
  const base = `/api/projects/${encodeURIComponent(projectId)}/documents`;
  const list = document.getElementById('document-list');
  const zone = document.getElementById('drop-zone');
  const picker = document.getElementById('document-input');
  const panel = document.getElementById('documents-panel');
  let polls = 0;
  let timer = null;

  function note(text, kind = 'error') {
    let slot = panel.querySelector('.panel-note');
    if (!slot) {
      slot = el('p', { class: 'panel-note', role: 'alert' });
      zone.after(slot);
    }
    slot.className = `panel-note ${kind}`;
    slot.textContent = text;
  }

  function item(doc) {
    return el('li', { class: 'item document', dataset: { documentId: doc.id, status: doc.status } },
      el('span', { class: 'item-name', text: doc.path }),
      el('span', { class: `badge status-${doc.status}`, text: doc.status }),
      doc.status === 'ready' ? el('span', { class: 'meta', text: `${doc.chunkCount} chunks` }) : null,
      doc.error ? el('span', { class: 'message-error', text: doc.error }) : null,
      deleteButton(doc.path, async () => {
        try { await api.del(`${base}/${doc.id}`); } catch (err) { note(err.message); }
        await refresh();
      }));
  }

  async function refresh() {
    let docs;
    try {
      docs = await api.get(base);
    } catch (err) {
      note(err.message);
      return;
    }
    list.replaceChildren(...docs.map(item));
    clearTimeout(timer);
    if (docs.some((d) => d.status === 'pending' || d.status === 'processing') && polls < POLL_LIMIT) {
      polls += 1;
      timer = setTimeout(refresh, POLL_MS);
    }
  }

  async function upload(files) {
    for (const file of files) {
      const form = new FormData();
      form.append('file', file, file.name);
      try {
        await api.upload(base, form);
        note(`Uploaded ${file.name}`, 'ok');
      } catch (err) {
        note(`${file.name}: ${err.message}`);
      }
    }
    polls = 0;
    await refresh();
  }

  zone.addEventListener('click', () => picker.click());
  zone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); picker.click(); }
  });
  picker.addEventListener('change', () => { upload([...picker.files]); picker.value = ''; });
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    upload([...event.dataTransfer.files]);
  });
  refresh();
}
