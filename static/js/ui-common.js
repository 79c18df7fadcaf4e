// Small pieces the pages share: banners, inline rename, two-step delete.
import { api, el } from './api.js';

export function showBanner(slot, { kind = 'error', text, action = null, code = '' }) {
  const banner = el('div', { class: `banner ${kind}`, dataset: { code } }, el('span', { class: 'banner-text', text }));
  if (action) banner.append(el('button', { type: 'button', onclick: action.onClick, text: action.label }));
  banner.append(el('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', text: '×',
                               onclick: () => banner.remove() }));
  slot.replaceChildren(banner);
  return banner;
}

export function clearBanner(slot) {
  slot.replaceChildren();
}

/** A name that becomes an input on "Rename"; ``save(newName)`` persists it. */
export function renameControls(label, current, save) {
  const button = el('button', { type: 'button', class: 'secondary', text: 'Rename', 'aria-label': `Rename ${current}` });
  button.addEventListener('click', () => {
    const input = el('input', { value: current, 'aria-label': 'New name', maxlength: '200' });
    const ok = el('button', { type: 'button', text: 'Save' });
    const form = el('span', { class: 'rename' }, input, ok);
    label.replaceWith(form);
    button.hidden = true;
    input.focus();
    const commit = async () => {
      const name = input.value.trim();
      if (!name) return;
      await save(name);
    };
    ok.addEventListener('click', commit);
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { event.preventDefault(); commit(); }
      if (event.key === 'Escape') { form.replaceWith(label); button.hidden = false; }
    });
  });
  return button;
}

/** "Delete" asks once more in place (no window.confirm: nothing on these pages opens a dialog). */
export function deleteButton(name, onConfirm) {
  const button = el('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${name}` });
  let armed = false;
  button.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      button.textContent = 'Confirm delete';
      button.setAttribute('aria-label', `Confirm deleting ${name}`);
      return;
    }
    button.disabled = true;
    await onConfirm();
  });
  return button;
}

/** Built-in modes plus the project's custom modes; a server without the modes endpoint has none. */
export async function loadModes(projectId, select, current) {
  let custom = [];
  try {
    const data = await api.get(`/api/projects/${encodeURIComponent(projectId)}/modes`);
    const rows = Array.isArray(data) ? data : (data && (data.modes || data.results)) || [];
    custom = rows.map((row) => (typeof row === 'string' ? row : row.name)).filter(Boolean);
  } catch { /* 404 until custom modes exist on this server */ }
  const names = ['chat', 'plan', 'build', ...custom.filter((n) => !['chat', 'plan', 'build'].includes(n))];
  // A choice made while the list was loading survives the rebuild.
  const keep = current || select.value;
  select.replaceChildren(...names.map((name) => el('option', { value: name, text: name })));
  if (keep && names.includes(keep)) select.value = keep;
}

