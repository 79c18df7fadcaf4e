// Reads one Blueprint UI-message stream with the `ai` package's own parsing, as useChat does.
//
// usage: node aisdk_read.mjs '{"url", "method"?, "headers"?, "body"?}'
//        node aisdk_read.mjs '{"stdin": true}' < frames   (an encoder's output, without a server)
// prints one JSON line: {status, streamHeader, chunks, invalid, errors, message}
//   chunks  — every chunk, parsed and validated with uiMessageChunkSchema (parseJsonEventStream)
//   invalid — chunks the schema rejected (must be empty)
//   message — the final UIMessage that readUIMessageStream built from the chunks
import { Readable } from 'node:stream';
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema } from 'ai';

const request = JSON.parse(process.argv[2]);
const response = request.stdin
  ? new Response(Readable.toWeb(process.stdin), {
      headers: { 'x-vercel-ai-ui-message-stream': 'v1' },
    })
  : await fetch(request.url, {
      method: request.method ?? 'POST',
      headers: request.headers ?? {},
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs ?? 30000),
    });
const result = {
  status: response.status,
  streamHeader: response.headers.get('x-vercel-ai-ui-message-stream'),
  chunks: [],
  invalid: [],
  errors: [],
  message: null,
};
if (response.status !== 200 || !response.body) {
  result.body = await response.text();
  console.log(JSON.stringify(result));
  process.exit(0);
}

const parsed = parseJsonEventStream({ stream: response.body, schema: uiMessageChunkSchema });
const chunks = parsed.pipeThrough(
  new TransformStream({
    transform(item, controller) {
      if (!item.success) {
        result.invalid.push({ raw: item.rawValue ?? null, error: String(item.error).slice(0, 300) });
        return;
      }
      result.chunks.push(item.value);
      controller.enqueue(item.value);
    },
  }),
);
for await (const message of readUIMessageStream({
  stream: chunks,
  onError: error => result.errors.push(String(error?.message ?? error)),
})) {
  result.message = message;
}
console.log(JSON.stringify(result));
