// Model output is untrusted: Markdown → HTML with marked, then DOMPurify, then our link rules.
import { marked } from '../vendor/marked/marked.esm.js';
import DOMPurify from '../vendor/dompurify/purify.es.mjs';

const SAFE_URL = /^(?:https?:|mailto:)/i;

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') || '';
    if (!SAFE_URL.test(href.trim())) node.removeAttribute('href');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
    node.setAttribute('target', '_blank');
  }
  if (node.tagName === 'IMG') {
    const src = node.getAttribute('src') || '';
    if (!/^https?:/i.test(src.trim())) node.removeAttribute('src');
    node.setAttribute('referrerpolicy', 'no-referrer');
    node.setAttribute('loading', 'lazy');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
  FORBID_ATTR: ['style', 'id', 'name'],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/** A DocumentFragment of sanitised HTML for a Markdown string. */
export function renderMarkdown(text) {
  const html = marked.parse(String(text || ''), { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, PURIFY);
}

export function setMarkdown(container, text) {
  container.replaceChildren(renderMarkdown(text));
}
export { DOMPurify };
