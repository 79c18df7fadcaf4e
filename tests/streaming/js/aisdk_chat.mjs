// Drives the `ai` package's own Chat (the class behind useChat, without React) against Blueprint
// through DefaultChatTransport, so the request bodies are exactly the ones useChat sends.
//
// usage: node aisdk_chat.mjs '{"api", "headers", "chatId", "messages"?, "steps": [...]}'
//   steps: {"send": "text"} | {"regenerate": true} | {"resume": true}
// prints one JSON line: {requests: [{url, method, body}], messages, status, error, finishes}
import { AbstractChat, DefaultChatTransport } from 'ai';

class NodeChatState {
  constructor(messages = []) {
    this.status = 'ready';
    this.error = undefined;
    this.messages = messages;
  }
  pushMessage(message) {
    this.messages = this.messages.concat(message);
  }
  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }
  replaceMessage(index, message) {
    this.messages = [...this.messages.slice(0, index), this.snapshot(message), ...this.messages.slice(index + 1)];
  }
  snapshot(value) {
    return structuredClone(value);
  }
}

class NodeChat extends AbstractChat {
  constructor({ messages, ...init }) {
    super({ ...init, state: new NodeChatState(messages) });
  }
}

const input = JSON.parse(process.argv[2]);
const requests = [];
const finishes = [];
const recordingFetch = async (url, init) => {
  requests.push({ url: String(url), method: init?.method ?? 'GET', body: init?.body ? JSON.parse(init.body) : null });
  return fetch(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(30000) });
};
const chat = new NodeChat({
  id: input.chatId,
  messages: input.messages ?? [],
  transport: new DefaultChatTransport({ api: input.api, headers: input.headers, fetch: recordingFetch }),
  onFinish: ({ message, isError, isAbort, finishReason }) =>
    finishes.push({ messageId: message.id, isError, isAbort, finishReason }),
});
for (const step of input.steps) {
  if (step.send !== undefined) await chat.sendMessage({ text: step.send });
  else if (step.regenerate) await chat.regenerate();
  else if (step.resume) await chat.resumeStream();
  if (chat.status === 'error') break;
}
console.log(
  JSON.stringify({
    requests,
    messages: chat.messages,
    status: chat.status,
    error: chat.error ? String(chat.error.message ?? chat.error) : null,
    finishes,
  }),
);
