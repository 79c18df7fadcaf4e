// REST helpers for the UI: same-origin fetch with the session cookie and Django's CSRF token.

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || 'http_error';
    this.field = extra.field || null;
    this.retryAfter = extra.retryAfter ?? null;
    this.retry = Boolean(extra.retry);
    this.extra = extra;
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

// Both error shapes of the API: REST's {error: {code, message, …}} and seed 001's {error: code, message, …}.
export function errorFromBody(status, body) {
  if (body && typeof body === 'object' && body.error !== undefined) {
    if (typeof body.error === 'object' && body.error !== null) {
      const { code, message, ...extra } = body.error;
      return new ApiError(status, code, message, extra);
    }
    const { error, message, ...extra } = body;
    return new ApiError(status, String(error), message, extra);
  }
  return new ApiError(status, status === 404 ? 'not_found' : 'http_error', `HTTP ${status}`, { notJson: true });
}

export async function request(method, url, { json, form, signal, headers = {} } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers }, signal };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRFToken'] = csrfToken();
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  const response = await fetch(url, init);
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const err = errorFromBody(response.status, body);
    if (!type.includes('json')) err.extra.notJson = true;
    const retryAfter = response.headers.get('retry-after');
    if (err.retryAfter == null && retryAfter) err.retryAfter = Number(retryAfter);
    throw err;
  }
  return body;
}

export const api = {
  get: (url, opts) => request('GET', url, opts),
  post: (url, json, opts = {}) => request('POST', url, { ...opts, json }),
  patch: (url, json, opts = {}) => request('PATCH', url, { ...opts, json }),
  del: (url, opts) => request('DELETE', url, opts),
  upload: (url, form, opts = {}) => request('POST', url, { ...opts, form }),
};

// Parse a text/event-stream body from fetch into {id, event, data} frames (comments are skipped).
export async function* readSSE(response, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    while (true) {
      if (signal && signal.aborted) return;
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let id = null; let event = null; const data = [];
        for (const line of frame.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const key = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (key === 'data') data.push(value);
          else if (key === 'id') id = value;
          else if (key === 'event') event = value;
        }
        if (data.length) {
          const raw = data.join('\n');
          let parsed = raw;
          try { parsed = JSON.parse(raw); } catch { /* a non-JSON frame stays text */ }
          yield { id, event, data: parsed };
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}

// Text nodes only: every string from the API (titles, names, model output) is untrusted.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatCost(cost) {
  const value = Number(cost) || 0;
  return `$${value.toFixed(value && value < 0.01 ? 6 : 4)}`;
}
