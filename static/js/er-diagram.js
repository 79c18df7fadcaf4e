// The domain model as a Mermaid erDiagram. Every name and label from the model is untrusted:
// identifiers are reduced to [A-Za-z0-9_], labels are quoted with quotes and markup removed,
// and Mermaid runs with securityLevel 'strict' (no click handlers, labels as text).

const CARDINALITY = {
  'one-to-one': '||--||',
  'one-to-many': '||--o{',
  'many-to-one': '}o--||',
  'many-to-many': '}o--o{',
};

export function mermaidIdentifier(name, fallback = 'Entity') {
  let id = String(name ?? '').replace(/[^A-Za-z0-9_]/g, '_').slice(0, 64);
  if (!/^[A-Za-z]/.test(id)) id = `${fallback}_${id}`;
  return id;
}

export function mermaidLabel(text) {
  return String(text ?? '').replace(/["\\`<>{}[\]#;&\r\n]/g, ' ').trim().slice(0, 60) || 'has';
}

export function erDiagramSource(domainModel) {
  const lines = ['erDiagram'];
  const entities = (domainModel && domainModel.entities) || {};
  const names = new Map();
  for (const name of Object.keys(entities)) names.set(name, mermaidIdentifier(name));
  for (const [name, entity] of Object.entries(entities)) {
    const fields = (entity && entity.fields) || {};
    const rows = Object.entries(fields).map(([field, def]) => {
      const type = mermaidIdentifier((def && def.type) || 'string', 'type');
      const key = field === 'id' ? ' PK' : (def && def.unique ? ' UK' : '');
      return `    ${type} ${mermaidIdentifier(field, 'field')}${key}`;
    });
    lines.push(rows.length ? `  ${names.get(name)} {\n${rows.join('\n')}\n  }` : `  ${names.get(name)} {\n  }`);
  }
  for (const rel of (domainModel && domainModel.relationships) || []) {
    const from = names.get(rel.from) || mermaidIdentifier(rel.from);
    const to = names.get(rel.to) || mermaidIdentifier(rel.to);
    const arrow = CARDINALITY[rel.type] || '}o--o{';
    lines.push(`  ${from} ${arrow} ${to} : "${mermaidLabel(rel.name || rel.type)}"`);
  }
  return lines.join('\n');
}

let mermaidPromise = null;
let renderCount = 0;

function loadMermaid() {
  if (!mermaidPromise) {
    mermaidPromise = import('../vendor/mermaid/mermaid.esm.min.mjs').then((module) => {
      const mermaid = module.default;
      mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral',
                           er: { useMaxWidth: true }, htmlLabels: false, flowchart: { htmlLabels: false } });
      return mermaid;
    });
  }
  return mermaidPromise;
}

/** Draw the model into ``container``; returns false when there is nothing to draw. */
export async function drawErDiagram(container, domainModel, purify) {
  const entities = (domainModel && domainModel.entities) || {};
  if (!Object.keys(entities).length) {
    container.replaceChildren();
    container.dataset.rendered = '0';
    return false;
  }
  const mermaid = await loadMermaid();
  renderCount += 1;
  const { svg } = await mermaid.render(`er-diagram-${renderCount}`, erDiagramSource(domainModel));
  // Mermaid's strict mode already sanitises; the SVG goes through DOMPurify once more before it is inserted.
  const fragment = purify.sanitize(svg, { USE_PROFILES: { svg: true, svgFilters: true }, ADD_TAGS: ['style'],
                                         RETURN_DOM_FRAGMENT: true });
  container.replaceChildren(fragment);
  container.dataset.rendered = String(renderCount);
  return true;
}
