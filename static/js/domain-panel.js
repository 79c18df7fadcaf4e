// The live domain model: entities, relationships, phase, readiness, ER diagram, versions and diffs, exports.
import { api, el } from './api.js';
import { drawErDiagram } from './er-diagram.js';
import { DOMPurify } from './markdown.js';

const EXTENSIONS = { sql: 'sql', django: 'py', typescript: 'ts', mermaid: 'mmd', jsonschema: 'json', openapi: 'json' };

export function initDomainPanel({ client, chatId }) {
  const base = `/api/chats/${encodeURIComponent(chatId)}/domain-model`;
  const phase = document.getElementById('domain-phase');
  const readiness = document.getElementById('domain-readiness');
  const readinessBar = document.getElementById('domain-readiness-bar');
  const version = document.getElementById('domain-version');
  const entities = document.getElementById('domain-entities');
  const relationships = document.getElementById('domain-relationships');
  const diagram = document.getElementById('domain-diagram');
  const versions = document.getElementById('domain-versions');
  const diff = document.getElementById('domain-diff');
  let drawn = -1;
  let drawing = Promise.resolve();

  for (const link of document.querySelectorAll('#domain-panel .exports a')) {
    const format = link.dataset.format;
    link.href = `${base}/export?format=${format}`;
    link.setAttribute('download', `domain-model.${EXTENSIONS[format] || 'txt'}`);
  }

  function show(payload, { final }) {
    const model = payload.domainModel || { entities: {}, relationships: [] };
    if (payload.phase) phase.textContent = payload.phase;
    if (typeof payload.readiness === 'number') {
      readiness.textContent = String(payload.readiness);
      readinessBar.value = payload.readiness;
    }
    if (typeof payload.version === 'number' && final) version.textContent = String(payload.version);
    entities.replaceChildren(...Object.entries(model.entities || {}).map(([name, entity]) => el('li', { class: 'entity' },
      el('strong', { text: name }),
      el('ul', {}, Object.entries((entity && entity.fields) || {}).map(([field, def]) =>
        el('li', { text: `${field}: ${(def && def.type) || '?'}${def && def.required ? ' (required)' : ''}` }))))));
    relationships.replaceChildren(...(model.relationships || []).map((rel) =>
      el('li', { text: `${rel.from} ${rel.type} ${rel.to}${rel.name ? ` (${rel.name})` : ''}` })));
    if (final && payload.version !== drawn) {
      drawn = payload.version;
      drawing = drawing.then(() => drawErDiagram(diagram, model, DOMPurify)).catch((err) => {
        diagram.replaceChildren(el('p', { class: 'message-error', text: `Diagram unavailable: ${err.message || err}` }));
      });
      refreshVersions();
    }
  }

  async function showDiff(to) {
    const data = await api.get(`${base}/diff?from=${Math.max(0, to - 1)}&to=${to}`);
    const lines = [`v${data.from} → v${data.to}`];
    const d = data.diff || {};
    for (const name of (d.entities && d.entities.added) || []) lines.push(`+ entity ${name}`);
    for (const name of (d.entities && d.entities.removed) || []) lines.push(`- entity ${name}`);
    for (const name of (d.entities && d.entities.changed) || []) lines.push(`~ entity ${name}`);
    for (const kind of ['added', 'removed', 'changed']) {
      const mark = { added: '+', removed: '-', changed: '~' }[kind];
      for (const f of (d.fields && d.fields[kind]) || []) lines.push(`${mark} field ${f.entity}.${f.field}`);
      for (const r of (d.relationships && d.relationships[kind]) || []) lines.push(`${mark} relationship ${r.from} → ${r.to} (${r.type})`);
    }
    diff.textContent = lines.join('\n');
  }

  async function refreshVersions() {
    try {
      const data = await api.get(`${base}/versions`);
      versions.replaceChildren(...data.versions.map((v) => el('li', {},
        el('button', { type: 'button', class: 'link', onclick: () => showDiff(v.version),
                       'aria-label': `Show the changes of version ${v.version}` },
          `v${v.version} · ${v.phase} · readiness ${v.readiness} · +${v.changes.added} ~${v.changes.changed} -${v.changes.removed}`))));
    } catch { /* the panel keeps the last list */ }
  }

  client.onEvent((event) => {
    if (event.type === 'dsl.update') show(event, { final: !event.partial });
    else if (event.type === 'dsl.phase' && event.phase) phase.textContent = event.phase;
  });

  api.get(base).then((payload) => show(payload, { final: true })).catch(() => {});
}
