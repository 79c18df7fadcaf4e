// Test harness loaded with `node --import` before a seed's own example (which stays verbatim):
// the seed's relative URLs and localhost:3000 point at the live test server, and every request
// carries the test's API key. Nothing else about fetch or WebSocket changes.
const origin = process.env.BLUEPRINT_URL;
const apiKey = process.env.BLUEPRINT_API_KEY;
if (!origin || !apiKey) throw new Error('BLUEPRINT_URL and BLUEPRINT_API_KEY are required');

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) =>
  realFetch(new URL(input, origin), { ...init, headers: { ...(init.headers || {}), 'X-API-Key': apiKey } });

if (globalThis.WebSocket) {
  const RealWebSocket = globalThis.WebSocket;
  const wsOrigin = origin.replace(/^http/, 'ws');
  globalThis.WebSocket = class extends RealWebSocket {
    constructor(url, protocols) {
      const target = new URL(url);
      super(new URL(target.pathname + target.search, wsOrigin), { protocols, headers: { 'X-API-Key': apiKey } });
      // The seed's socket never closes; end the process once the answer is done.
      this.addEventListener('message', (event) => {
        const type = JSON.parse(event.data).type;
        if (type === 'done' || type === 'error') this.close();
      });
    }
  };
}
