// Parse a Mermaid diagram (read from stdin) with Mermaid's own parser, headless.
// Mermaid sanitises with DOMPurify, which needs a DOM: jsdom provides one.
// Exit 0 and print the diagram type when it parses; exit 1 with the parser's message if not.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let text = "";
for await (const chunk of process.stdin) text += chunk;
try {
  const result = await mermaid.parse(text);
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(String(error && error.message ? error.message : error));
  process.exit(1);
}
