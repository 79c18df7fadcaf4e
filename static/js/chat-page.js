// The chat view: conversation (ChatClient), composer, banners, and the side panels.
import { api, el, formatCost } from './api.js';
import { ChatClient } from './chat-client.js';
import { setMarkdown } from './markdown.js';
import { clearBanner, loadModes, showBanner } from './ui-common.js';
import { initDomainPanel } from './domain-panel.js';
import { initDocumentsPanel } from './documents-panel.js';
import { initPlanPanel } from './plan-panel.js';

const { projectId, chatId, chatMode } = document.body.dataset;
const list = document.getElementById('message-list');
const scroller = document.getElementById('messages');
const olderButton = document.getElementById('load-older');
const form = document.getElementById('composer');
const input = document.getElementById('composer-input');
const fieldError = document.getElementById('composer-error');
const sendButton = document.getElementById('send-button');
const stopButton = document.getElementById('stop-button');
const banner = document.getElementById('banner');
const modeSelect = document.getElementById('mode-select');
const modelSelect = document.getElementById('model-select');
const chatUsage = document.getElementById('chat-usage');
const sourceDialog = document.getElementById('source-dialog');

const client = new ChatClient({ projectId, chatId });
window.blueprintChat = client; // for debugging in the console and for the browser tests' waits
const nodes = new WeakMap(); // message object -> {li, key}
let rateLimitedUntil = 0;
let countdownTimer = null;
let lastSentText = '';

// --- rendering --------------------------------------------------------------------------

function renderKey(m) {
  return [m.id, m.content.length, m.status, m.isStreaming, (m.sources || []).length, m.cost, m.error && m.error.code]
    .join('|');
}

function usageLine(m) {
  if (!m.usage) return null;
  const text = `${m.usage.inputTokens ?? 0} in · ${m.usage.outputTokens ?? 0} out · ${formatCost(m.cost)}`;
  return el('p', { class: 'usage', 'aria-label': `Usage: ${text}`, text });
}

function sourcesBlock(m) {
  if (!m.sources || !m.sources.length) return null;
  const items = m.sources.map((source, index) => el('li', {},
    el('button', { type: 'button', class: 'citation', 'aria-label': `Open source ${index + 1}: ${source.path}`,
                   onclick: () => openSource(source) },
      `[${index + 1}] ${source.path}`)));
  return el('div', { class: 'sources' }, el('p', { class: 'meta', text: 'Sources' }), el('ol', {}, items));
}

function openSource(source) {
  document.getElementById('source-dialog-title').textContent = source.path || 'Source';
  const score = typeof source.score === 'number' ? source.score.toFixed(3) : '';
  document.getElementById('source-dialog-meta').textContent = `${source.docType || ''} · score ${score}`;
  document.getElementById('source-dialog-text').textContent = source.snippet || source.text || '';
  sourceDialog.showModal();
}

function fillMessage(li, m) {
  const body = el('div', { class: 'message-body' });
  if (m.role === 'assistant') setMarkdown(body, m.content);
  else body.textContent = m.content;
  const head = el('p', { class: 'message-role', text: m.role === 'assistant' ? `Blueprint${m.model ? ` · ${m.model}` : ''}` : 'You' });
  const parts = [head, body];
  if (m.isStreaming) parts.push(el('span', { class: 'cursor', 'aria-hidden': 'true', text: '▊' }));
  if (m.status === 'stopped') parts.push(el('p', { class: 'badge muted', text: 'stopped' }));
  if (!m.error && (m.status === 'error' || m.status === 'interrupted')) {
    parts.push(el('p', { class: 'message-error', role: 'note', text: `This answer ended early (${m.status}).` }));
  }
  if (m.error) parts.push(el('p', { class: 'message-error', role: 'note', text: `${m.error.code}: ${m.error.message}` }));
  parts.push(sourcesBlock(m), usageLine(m));
  li.replaceChildren(...parts.filter(Boolean));
  li.className = `message ${m.role} ${m.status || ''}`;
  li.dataset.messageId = m.id;
  li.dataset.status = m.status || '';
  li.setAttribute('aria-busy', m.isStreaming ? 'true' : 'false');
}

function render(state, detail) {
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const previousHeight = scroller.scrollHeight;
  const ordered = [];
  for (const m of state.messages) {
    let entry = nodes.get(m);
    if (!entry) {
      entry = { li: el('li', { role: 'article' }), key: '' };
      nodes.set(m, entry);
    }
    const key = renderKey(m);
    if (entry.key !== key) {
      fillMessage(entry.li, m);
      entry.key = key;
    }
    ordered.push(entry.li);
  }
  const current = [...list.children];
  if (current.length !== ordered.length || current.some((node, i) => node !== ordered[i])) list.replaceChildren(...ordered);
  olderButton.hidden = !state.hasMore;
  streamingControls(state.isStreaming);
  chatTotals(state.messages);
  if (detail.prepended && detail.prepended.length) scroller.scrollTop += scroller.scrollHeight - previousHeight;
  else if (atBottom || detail.reset) scroller.scrollTop = scroller.scrollHeight;
}

let frame = 0;
let pending = { changed: new Set(), prepended: [], reset: false };
client.subscribe((state, detail) => {
  pending.reset ||= detail.reset;
  pending.prepended.push(...detail.prepended);
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const batch = pending;
    pending = { changed: new Set(), prepended: [], reset: false };
    render(client.state, batch);
  });
});

function streamingControls(streaming) {
  stopButton.hidden = !streaming;
  sendButton.disabled = streaming || Date.now() < rateLimitedUntil;
  document.body.dataset.streaming = streaming ? 'true' : 'false';
}

function chatTotals(messages) {
  let cost = 0; let input = 0; let output = 0;
  for (const m of messages) {
    if (!m.usage) continue;
    cost += Number(m.cost) || 0;
    input += m.usage.inputTokens || 0;
    output += m.usage.outputTokens || 0;
  }
  chatUsage.textContent = input || output ? `This chat: ${input} in · ${output} out · ${formatCost(cost)}` : '';
}

// --- errors --------------------------------------------------------------------------------

function startCountdown(seconds) {
  rateLimitedUntil = Date.now() + seconds * 1000;
  clearInterval(countdownTimer);
  const tick = () => {
    const left = Math.max(0, Math.ceil((rateLimitedUntil - Date.now()) / 1000));
    const textNode = banner.querySelector('.banner-text');
    if (textNode) textNode.textContent = `Rate limited: you can send again in ${left} s.`;
    if (left <= 0) {
      clearInterval(countdownTimer);
      clearBanner(banner);
    }
    streamingControls(client.isStreaming);
  };
  showBanner(banner, { kind: 'warning', code: 'RATE_LIMITED', text: '' });
  tick();
  countdownTimer = setInterval(tick, 1000);
}

function showError(err) {
  if (!err) return;
  if (err.field && ['text', 'body', 'model', 'temperature', 'maxTokens', 'attachments'].includes(err.field)) {
    fieldError.textContent = err.message;
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  switch (err.code) {
    case 'RATE_LIMITED':
      startCountdown(Number(err.retryAfter) || 60);
      break;
    case 'credit_exhausted':
      showBanner(banner, { code: err.code, text: 'Out of credit: this workspace has used its credit limit. Ask an owner to raise it.' });
      break;
    case 'INVALID_MODEL':
      fieldError.textContent = err.message;
      break;
    case 'no_provider':
      showBanner(banner, { code: err.code, text: `No AI provider is configured: ${err.message}` });
      break;
    default: {
      const down = ['model_unavailable', 'provider_timeout', 'stream_interrupted', 'interrupted', 'network_error',
                    'stream_lost', 'provider_error'].includes(err.code);
      const text = down ? `The AI provider is not answering (${err.code}): ${err.message}` : `${err.code}: ${err.message}`;
      const action = err.retry && lastSentText
        ? { label: 'Retry', onClick: () => { clearBanner(banner); send(lastSentText); } } : null;
      showBanner(banner, { code: err.code, text, action });
    }
  }
}

// --- sending, stopping, keyboard ----------------------------------------------------------------

async function send(text) {
  fieldError.textContent = '';
  input.removeAttribute('aria-invalid');
  if (Date.now() < rateLimitedUntil) return;
  if (!text.trim()) {
    fieldError.textContent = 'Write a message first.';
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  lastSentText = text;
  input.value = '';
  clearBanner(banner);
  const result = await client.sendMessage(text, { model: modelSelect.value || undefined });
  if (!result.ok && !client.state.messages.some((m) => m.content === text && m.role === 'user')) input.value = text;
  if (!result.ok) showError(result.error);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  send(input.value);
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (!client.isStreaming) send(input.value);
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && client.isStreaming && !sourceDialog.open) {
    event.preventDefault();
    stop();
  }
});

async function stop() {
  stopButton.disabled = true;
  try {
    await client.stopStream();
  } catch (err) {
    showError(err);
  } finally {
    stopButton.disabled = false;
  }
}
stopButton.addEventListener('click', stop);

// --- history ------------------------------------------------------------------------------------

async function loadOlder() {
  olderButton.disabled = true;
  try {
    await client.loadOlder();
  } finally {
    olderButton.disabled = false;
  }
}
olderButton.addEventListener('click', loadOlder);
scroller.addEventListener('scroll', () => {
  if (scroller.scrollTop < 40 && client.state.hasMore && !olderButton.disabled) loadOlder();
});

// A tab that is idle notices a run another tab (or a program) started in this chat and follows it.
async function watchForRuns() {
  if (document.visibilityState !== 'visible' || client.isStreaming) return;
  try {
    const params = new URLSearchParams({ chatId, limit: '1' });
    const page = await api.get(`/api/chat/${encodeURIComponent(projectId)}/messages?${params}`);
    const last = page.messages[page.messages.length - 1];
    if (last && last.status === 'streaming' && last.runId && !client.isStreaming) await client.loadHistory();
  } catch { /* the next tick tries again */ }
}

// --- header controls ----------------------------------------------------------------------------

async function loadModels() {
  try {
    const data = await api.get('/api/models');
    const available = data.models.filter((m) => m.available);
    modelSelect.replaceChildren(...available.map((m) => el('option', { value: m.id, text: `${m.id} (${m.provider})` })));
    const chat = await api.get(`/api/chats/${encodeURIComponent(chatId)}`);
    const preferred = chat.defaultModel || data.default;
    if (available.some((m) => m.id === preferred)) modelSelect.value = preferred;
  } catch (err) {
    showError(err);
  }
}

modeSelect.addEventListener('change', async () => {
  try {
    await api.patch(`/api/chats/${encodeURIComponent(chatId)}`, { mode: modeSelect.value });
    document.body.dataset.chatMode = modeSelect.value;
  } catch (err) {
    showError(err);
  }
});

// --- start ----------------------------------------------------------------------------------------

client.options.onError = () => {};
client.onEvent((event) => {
  if (event.type === 'error') showError({ code: event.error, message: event.message, retry: event.retry });
});

async function start() {
  await Promise.all([loadModes(projectId, modeSelect, chatMode), loadModels()]);
  initDomainPanel({ client, chatId });
  initDocumentsPanel({ projectId });
  initPlanPanel({ client, projectId, chatId });
  try {
    await client.loadHistory();
  } catch (err) {
    showError(err);
  }
  document.body.dataset.ready = 'true';
  setInterval(watchForRuns, 3000);
}

start();
