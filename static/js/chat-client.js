// A browser client for Blueprint's native chat API with seed 004's hook surface:
// messages, isStreaming, sessionId, error, sendMessage, stopStream, clearMessages
// (+ subscribe, onChunk / onComplete / onError / onEvent callbacks, history and resume).
//
// Transport. Messages are sent over the WebSocket /api/chat/{projectId}/ws by default: a run
// outlives its socket, so a reload or a closed tab never stops an answer (POST …/messages over
// SSE cancels the run when the connection closes, as seed 001 documents). A page that finds a
// run still streaming — after a reload, in a second tab, or when its socket dropped — follows it
// with GET /api/runs/{runId}/stream?after=<last seq it applied>, which replays from Postgres and
// then tails live, and does not cancel anything when it is closed. Every event carries its seq,
// and an event at or below the last applied seq of its run is ignored, so replays never duplicate
// text. Stop is POST /api/chat/{projectId}/stop and works from any tab.
import { ApiError, csrfToken, errorFromBody, readSSE } from './api.js';

const TERMINAL = new Set(['error', 'session.task_complete']);
const RESUME_ATTEMPTS = 5;

let counter = 0;
function localId(prefix) {
  counter += 1;
  const random = (globalThis.crypto && crypto.randomUUID) ? crypto.randomUUID() : `${Date.now()}-${counter}`;
  return `${prefix}-${random}`;
}

export function messageFromHistory(row) {
  const parts = row.parts || {};
  return {
    id: row.id,
    role: row.role,
    content: row.content || '',
    createdAt: new Date(row.createdAt),
    isStreaming: row.status === 'streaming',
    status: row.status,
    runId: row.runId || null,
    model: row.model || '',
    usage: row.usage || null,
    cost: row.cost ?? null,
    sources: Array.isArray(parts.sources) ? parts.sources : [],
    reasoning: typeof parts.reasoning === 'string' ? parts.reasoning : '',
    error: null,
    lastSeq: 0,
  };
}

export class ChatClient {
  /**
   * @param {object} options
   * @param {string} options.projectId  project id (or slug)
   * @param {string} [options.chatId]   chat to talk in; without it the project's default chat (then sessionId = its id)
   * @param {string} [options.model]    model name (GET /api/models)
   * @param {'websocket'|'sse'} [options.transport]  'sse' = POST …/messages (closing it cancels the run)
   * @param {string} [options.baseUrl]  '' for same origin
   * @param {object} [options.headers]  extra headers for fetch (e.g. X-API-Key for programs; SSE transport only)
   */
  constructor(options = {}) {
    this.options = { baseUrl: '', transport: 'websocket', headers: {}, ...options };
    this.projectId = options.projectId;
    this.state = { messages: [], isStreaming: false, sessionId: options.chatId || null, error: null,
                   runId: null, hasMore: false, cursor: null };
    this.listeners = new Set();
    this.eventListeners = new Set();
    this.socket = null;
    this.socketReady = null;
    this.pending = null; // {resolve, assistantId, userId} while a sent message waits for run.started
    this.done = null; // resolves when the followed run ends
    this.followers = new Map(); // runId -> AbortController of an SSE follower
    this.seqByRun = new Map();
    this.closed = false;
  }

  // --- the hook surface -------------------------------------------------------------
  get messages() { return this.state.messages; }
  get isStreaming() { return this.state.isStreaming; }
  get sessionId() { return this.state.sessionId; }
  get error() { return this.state.error; }
  get runId() { return this.state.runId; }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every canonical event of the followed runs (dsl.update, rag.sources, plan.step, …). */
  onEvent(listener) {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  clearMessages() {
    this.state = { ...this.state, messages: [], error: null, hasMore: false, cursor: null };
    this._notify({ reset: true });
  }

  async sendMessage(content, { model, clientMessageId } = {}) {
    const text = typeof content === 'string' ? content : '';
    if (!text.trim()) {
      return this._fail(new ApiError(400, 'invalid_request', 'text: a message cannot be empty.', { field: 'text' }));
    }
    if (this.state.isStreaming) {
      return this._fail(new ApiError(409, 'busy', 'An answer is still streaming; stop it first.'));
    }
    const user = { id: localId('local-user'), role: 'user', content: text, createdAt: new Date(), isStreaming: false,
                   status: 'complete', runId: null, usage: null, cost: null, sources: [], reasoning: '', error: null };
    const assistant = { id: localId('local-assistant'), role: 'assistant', content: '', createdAt: new Date(),
                        isStreaming: true, status: 'streaming', runId: null, usage: null, cost: null, sources: [],
                        reasoning: '', error: null, lastSeq: 0 };
    this.state = { ...this.state, error: null, isStreaming: true, messages: [...this.state.messages, user, assistant] };
    this._notify({ changed: [user.id, assistant.id] });
    const frame = { type: 'message', text, clientMessageId: clientMessageId || localId('c') };
    if (this.state.sessionId) frame.chatId = this.state.sessionId;
    const chosen = model || this.options.model;
    if (chosen) frame.model = chosen;
    const finished = new Promise((resolve) => { this.done = resolve; });
    const started = new Promise((resolve) => { this.pending = { resolve, userId: user.id, assistantId: assistant.id }; });
    try {
      if (this.options.transport === 'sse') {
        this._sendOverSSE(frame);
      } else {
        const socket = await this._socket();
        socket.send(JSON.stringify(frame));
      }
    } catch (err) {
      this._rejectPending(err instanceof ApiError ? err : new ApiError(0, 'network_error', String(err && err.message || err)));
    }
    const ok = await started;
    if (!ok) return { ok: false, error: this.state.error };
    await finished;
    return { ok: !this.state.error, error: this.state.error };
  }

  async stopStream() {
    const chatId = this.state.sessionId;
    if (!chatId) return null;
    const response = await fetch(`${this.options.baseUrl}/api/chat/${encodeURIComponent(this.projectId)}/stop`, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken(), ...this.options.headers },
      body: JSON.stringify({ chatId }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw errorFromBody(response.status, body);
    return body;
  }

  // --- history and resume ---------------------------------------------------------------

  /** Load the newest page; when its last answer is still streaming, follow that run live. */
  async loadHistory({ limit = 30, resumeActive = true } = {}) {
    const page = await this._historyPage(null, limit);
    const messages = page.messages.map(messageFromHistory);
    const active = [...messages].reverse().find((m) => m.role === 'assistant' && m.status === 'streaming' && m.runId);
    if (active && resumeActive) {
      // The stored partial text is replaced by a replay of the run's events from seq 1.
      active.content = '';
      active.reasoning = '';
      active.sources = [];
    }
    this.state = { ...this.state, messages, hasMore: page.hasMore, cursor: page.nextCursor };
    this._notify({ reset: true });
    if (active && resumeActive) this.resume(active.runId, { after: 0 });
    return { hasMore: page.hasMore, activeRunId: active ? active.runId : null };
  }

  /** Prepend the page before the oldest loaded message. */
  async loadOlder({ limit = 30 } = {}) {
    if (!this.state.hasMore || !this.state.cursor) return 0;
    const page = await this._historyPage(this.state.cursor, limit);
    const known = new Set(this.state.messages.map((m) => m.id));
    const older = page.messages.map(messageFromHistory).filter((m) => !known.has(m.id));
    this.state = { ...this.state, messages: [...older, ...this.state.messages], hasMore: page.hasMore,
                   cursor: page.nextCursor };
    this._notify({ prepended: older.map((m) => m.id) });
    return older.length;
  }

  /** Follow a run (replay after ``after``, then live) without cancelling it when closed. */
  async resume(runId, { after } = {}) {
    if (this.followers.has(runId)) return;
    const start = after ?? this.seqByRun.get(runId) ?? 0;
    if (start < (this.seqByRun.get(runId) ?? 0)) this.seqByRun.set(runId, start);
    this.state = { ...this.state, isStreaming: true, runId };
    this._notify({});
    const controller = new AbortController();
    this.followers.set(runId, controller);
    try {
      for (let attempt = 0; attempt < RESUME_ATTEMPTS && !controller.signal.aborted; attempt += 1) {
        const since = this.seqByRun.get(runId) ?? start;
        try {
          const response = await fetch(
            `${this.options.baseUrl}/api/runs/${encodeURIComponent(runId)}/stream?after=${since}`,
            { credentials: 'same-origin', headers: { Accept: 'text/event-stream', ...this.options.headers },
              signal: controller.signal });
          if (!response.ok) {
            const body = await response.json().catch(() => null);
            throw errorFromBody(response.status, body);
          }
          for await (const frame of readSSE(response, controller.signal)) {
            if (frame.data && typeof frame.data === 'object') this._handleRunEvent(frame.data);
          }
          if (this._runEnded(runId)) return;
        } catch (err) {
          if (controller.signal.aborted) return;
          if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
            this._setError(err);
            this._finishRun(runId);
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
      }
      if (!this._runEnded(runId)) {
        this._setError(new ApiError(0, 'stream_lost', 'The connection to the answer was lost. Reload to resume.', { retry: true }));
        this._finishRun(runId);
      }
    } finally {
      this.followers.delete(runId);
    }
  }

  close() {
    this.closed = true;
    for (const controller of this.followers.values()) controller.abort();
    this.followers.clear();
    if (this.socket) this.socket.close();
  }

  // --- internals ---------------------------------------------------------------------------

  async _historyPage(before, limit) {
    const params = new URLSearchParams({ limit: String(limit) });
    if (this.state.sessionId) params.set('chatId', this.state.sessionId);
    if (before) params.set('before', before);
    const response = await fetch(
      `${this.options.baseUrl}/api/chat/${encodeURIComponent(this.projectId)}/messages?${params}`,
      { credentials: 'same-origin', headers: { Accept: 'application/json', ...this.options.headers } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw errorFromBody(response.status, body);
    return body;
  }

  _socket() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    if (this.socketReady) return this.socketReady;
    const base = this.options.baseUrl || window.location.origin;
    const url = `${base.replace(/^http/, 'ws')}/api/chat/${encodeURIComponent(this.projectId)}/ws`;
    this.socketReady = new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => { this.socket = socket; this.socketReady = null; resolve(socket); });
      socket.addEventListener('message', (message) => {
        let frame;
        try { frame = JSON.parse(message.data); } catch { return; }
        this._handleSocketFrame(frame);
      });
      socket.addEventListener('close', () => {
        const wasOpen = this.socket === socket;
        this.socket = null;
        this.socketReady = null;
        if (!wasOpen) reject(new ApiError(0, 'network_error', 'Could not connect to the chat socket.', { retry: true }));
        // A message sent but not yet acknowledged by run.started: report it instead of waiting forever.
        if (wasOpen && this.pending) {
          this._rejectPending(new ApiError(0, 'network_error', 'The connection closed before the answer started.',
                                           { retry: true }));
        }
        // A run in flight keeps going on the server: follow it over SSE from the last seq seen.
        const runId = this.state.runId;
        if (!this.closed && runId && this.state.isStreaming && !this.followers.has(runId)) this.resume(runId);
      });
    });
    return this.socketReady;
  }

  _handleSocketFrame(frame) {
    if (!frame || typeof frame !== 'object') return;
    if (typeof frame.seq === 'number' && frame.runId) {
      this._handleRunEvent(frame);
    } else if (frame.type === 'error') {
      // A frame the server could not act on (validation, rate limit, credit …): no run started.
      this._rejectPending(errorFromBody(0, frame));
    }
  }

  async _sendOverSSE(frame) {
    const controller = new AbortController();
    const body = { ...frame };
    delete body.type;
    try {
      const response = await fetch(`${this.options.baseUrl}/api/chat/${encodeURIComponent(this.projectId)}/messages`, {
        method: 'POST', credentials: 'same-origin', signal: controller.signal,
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'X-CSRFToken': csrfToken(),
                   ...this.options.headers },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        const data = await response.json().catch(() => null);
        const err = errorFromBody(response.status, data);
        const retryAfter = response.headers.get('retry-after');
        if (err.retryAfter == null && retryAfter) err.retryAfter = Number(retryAfter);
        this._rejectPending(err);
        return;
      }
      for await (const item of readSSE(response, controller.signal)) {
        if (item.data && typeof item.data === 'object') this._handleRunEvent(item.data);
      }
    } catch (err) {
      this._rejectPending(new ApiError(0, 'network_error', String(err && err.message || err), { retry: true }));
    }
  }

  _rejectPending(err) {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.state = {
      ...this.state, isStreaming: false,
      messages: this.state.messages.filter((m) => m.id !== pending.userId && m.id !== pending.assistantId),
    };
    this._setError(err);
    this._notify({ reset: true });
    pending.resolve(false);
    if (this.done) { const done = this.done; this.done = null; done(); }
  }

  _handleRunEvent(event) {
    const runId = event.runId;
    const last = this.seqByRun.get(runId) ?? 0;
    if (event.seq <= last) return; // already applied (replay overlap)
    this.seqByRun.set(runId, event.seq);
    const changed = [];
    let message = this.state.messages.find((m) => m.runId === runId && m.role === 'assistant');
    if (event.type === 'run.started') {
      if (!message && this.pending) {
        const pending = this.pending;
        this.pending = null;
        message = this.state.messages.find((m) => m.id === pending.assistantId);
        const user = this.state.messages.find((m) => m.id === pending.userId);
        if (user) { user.id = event.userMessageId; user.runId = runId; changed.push(user.id); }
        pending.resolve(true);
      }
      if (!message) message = this.state.messages.find((m) => m.id === event.assistantMessageId);
      if (!message) {
        message = { id: event.assistantMessageId, role: 'assistant', content: '', createdAt: new Date(),
                    isStreaming: true, status: 'streaming', sources: [], reasoning: '', usage: null, cost: null,
                    error: null };
        this.state.messages = [...this.state.messages, message];
      }
      message.id = event.assistantMessageId;
      message.runId = runId;
      message.model = event.model;
      message.isStreaming = true;
      message.status = 'streaming';
      this.state.sessionId = this.state.sessionId || event.chatId;
      this.state.runId = runId;
      this.state.isStreaming = true;
    }
    if (message) {
      message.lastSeq = event.seq;
      switch (event.type) {
        case 'assistant.message_delta':
          message.content += event.delta;
          if (this.options.onChunk) this.options.onChunk(event.delta);
          break;
        case 'assistant.reasoning_delta':
          message.reasoning += event.delta;
          break;
        case 'rag.sources':
          message.sources = Array.isArray(event.sources) ? event.sources : [];
          break;
        case 'session.usage_info':
          message.usage = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
          message.cost = event.cost;
          break;
        case 'assistant.message':
          if (typeof event.text === 'string') message.content = event.text;
          break;
        case 'error':
          message.status = 'error';
          message.error = { code: event.error, message: event.message, retry: Boolean(event.retry) };
          break;
        case 'session.task_complete':
          message.status = event.status === 'stopped' ? 'stopped' : 'complete';
          break;
        default:
          break;
      }
      if (TERMINAL.has(event.type)) message.isStreaming = false;
      changed.push(message.id);
    }
    for (const listener of this.eventListeners) {
      try { listener(event); } catch (err) { console.error(err); }
    }
    if (event.type === 'error') {
      this._setError(new ApiError(0, event.error, event.message, { retry: event.retry }));
    }
    if (TERMINAL.has(event.type)) {
      this._finishRun(runId);
      if (event.type === 'session.task_complete' && this.options.onComplete && message) {
        this.options.onComplete(message.content, this.state.sessionId);
      }
    }
    this._notify({ changed });
  }

  _runEnded(runId) {
    const message = this.state.messages.find((m) => m.runId === runId && m.role === 'assistant');
    return Boolean(message && !message.isStreaming);
  }

  _finishRun(runId) {
    const controller = this.followers.get(runId);
    if (controller) controller.abort();
    if (this.state.runId === runId) this.state.isStreaming = false;
    const message = this.state.messages.find((m) => m.runId === runId && m.role === 'assistant');
    if (message) message.isStreaming = false;
    if (this.done) { const done = this.done; this.done = null; done(); }
    this._notify({ changed: message ? [message.id] : [] });
  }

  _setError(err) {
    this.state.error = err;
    if (this.options.onError) this.options.onError(err);
  }

  _fail(err) {
    this._setError(err);
    this._notify({});
    return Promise.resolve({ ok: false, error: err });
  }

  _notify(change) {
    const detail = { changed: new Set(change.changed || []), prepended: change.prepended || [], reset: Boolean(change.reset) };
    for (const listener of this.listeners) {
      try { listener(this.state, detail); } catch (err) { console.error(err); }
    }
  }
}
