"""The Vercel AI SDK UI-message stream (``x-vercel-ai-ui-message-stream: v1``), as ``useChat`` reads it.

Each canonical event becomes zero or more UI-message chunks, one ``data: {json}`` SSE frame
each; the stream ends with ``data: [DONE]``. The chunk shapes are those of the ``ai``
package's ``uiMessageChunkSchema`` (ai 7.x). The protocol wants text and reasoning in blocks
(``*-start`` / ``*-delta`` / ``*-end`` sharing an id) and model calls in steps, which the
canonical events leave implicit, so one encoder per stream keeps that state.
"""

from __future__ import annotations

import mimetypes
from typing import Any, Final

from apps.engine import events as ev
from apps.streaming.http import dumps

HEADER: Final = (b"x-vercel-ai-ui-message-stream", b"v1")
DONE: Final = b"data: [DONE]\n\n"
# A data part keeps its id, so each newer domain model replaces the previous one in the message.
DSL_PART_ID: Final = "dsl"

Chunk = dict[str, Any]


def frame(chunk: Chunk) -> bytes:
    # JSON never contains a raw newline, so one data: line carries the whole chunk.
    return b"data: %s\n\n" % dumps(chunk).encode()


def _media_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if guessed:
        return guessed
    return "text/markdown" if path.endswith((".md", ".markdown")) else "text/plain"


class UIMessageStreamEncoder:
    """Turns one run's canonical events, in seq order, into UI-message chunks."""

    def __init__(self) -> None:
        self.text_id: str | None = None
        self.reasoning_id: str | None = None
        self.step_open = False
        self.after_tools = False  # a tool outcome was sent: the next model output is a new step
        self.streamed_text = False
        self.usage: dict[str, Any] | None = None
        self.finished = False

    def encode(self, event: ev.Event) -> bytes:
        """The SSE frames of ``event`` (b"" when it has none)."""
        return b"".join(frame(chunk) for chunk in self.chunks(event))

    def chunks(self, event: ev.Event) -> list[Chunk]:
        kind = event["type"]
        seq = event["seq"]
        if kind == ev.RUN_STARTED:
            self.step_open = True
            return [
                {
                    "type": "start",
                    "messageId": event["assistantMessageId"],
                    "messageMetadata": {
                        "runId": event["runId"],
                        "chatId": event["chatId"],
                        "userMessageId": event["userMessageId"],
                        "model": event["model"],
                        "provider": event["provider"],
                    },
                },
                {"type": "start-step"},
            ]
        if kind == ev.MESSAGE_DELTA:
            out = self._next_step()
            out += self._close_reasoning()
            if self.text_id is None:
                self.text_id = f"text-{seq}"
                out.append({"type": "text-start", "id": self.text_id})
            self.streamed_text = True
            out.append({"type": "text-delta", "id": self.text_id, "delta": event["delta"]})
            return out
        if kind == ev.REASONING_DELTA:
            out = self._next_step()
            out += self._close_text()
            if self.reasoning_id is None:
                self.reasoning_id = f"reasoning-{seq}"
                out.append({"type": "reasoning-start", "id": self.reasoning_id})
            out.append({"type": "reasoning-delta", "id": self.reasoning_id, "delta": event["delta"]})
            return out
        if kind == ev.TOOL_CALL:
            out = self._close_blocks()
            out.append(
                {"type": "tool-input-available", "toolCallId": event["id"], "toolName": event["tool"],
                 "input": event["args"]}
            )
            return out
        if kind == ev.TOOL_RESULT:
            self.after_tools = True
            return [{"type": "tool-output-available", "toolCallId": event["id"], "output": event["result"]}]
        if kind == ev.TOOL_ERROR:
            self.after_tools = True
            return [{"type": "tool-output-error", "toolCallId": event["id"], "errorText": str(event["error"])}]
        if kind == ev.DSL_UPDATE:
            return [{"type": "data-dsl", "id": DSL_PART_ID, "data": ev.payload_of(event)}]
        if kind == ev.DSL_PHASE:
            return [{"type": "data-dsl-phase", "id": "dsl-phase", "data": {"phase": event["phase"]}}]
        if kind == ev.RAG_SOURCES:
            return [self._source(index, source) for index, source in enumerate(event["sources"])]
        if kind == ev.PLAN_READY:
            return [{"type": "data-plan", "id": str(event["planId"]), "data": ev.payload_of(event)}]
        if kind == ev.ASSISTANT_MESSAGE:
            return self._final_text(event)
        if kind == ev.USAGE_INFO:
            self.usage = ev.payload_of(event)
            return []
        if kind == ev.COMPACTION_START:
            return [{"type": "data-compaction", "data": {"status": "started"}, "transient": True}]
        if kind == ev.COMPACTION_COMPLETE:
            return [{"type": "data-compaction", "transient": True,
                     "data": {"status": "complete", "summaryTokens": event.get("summaryTokens")}}]
        if kind == ev.ERROR:
            return self._end_with_error(event)
        if kind == ev.TASK_COMPLETE:
            return self._end(event["status"])
        return []  # a newer canonical event this dialect does not know yet

    def done(self) -> bytes:
        """The stream's last frame."""
        return DONE

    # --- blocks and steps ------------------------------------------------------
    def _close_text(self) -> list[Chunk]:
        if self.text_id is None:
            return []
        chunk = {"type": "text-end", "id": self.text_id}
        self.text_id = None
        return [chunk]

    def _close_reasoning(self) -> list[Chunk]:
        if self.reasoning_id is None:
            return []
        chunk = {"type": "reasoning-end", "id": self.reasoning_id}
        self.reasoning_id = None
        return [chunk]

    def _close_blocks(self) -> list[Chunk]:
        return self._close_reasoning() + self._close_text()

    def _next_step(self) -> list[Chunk]:
        """After tool results the model is called again: in the protocol, a new step."""
        if not self.after_tools:
            return []
        self.after_tools = False
        out = self._close_blocks()
        if self.step_open:
            out.append({"type": "finish-step"})
        out.append({"type": "start-step"})
        self.step_open = True
        return out

    def _final_text(self, event: ev.Event) -> list[Chunk]:
        # The deltas already carried the text; only a run that streamed none (a replay of a run
        # recorded without deltas) sends it here, so the message is never missing its answer.
        text = event.get("text") or ""
        if self.streamed_text or not text:
            return []
        out = self._next_step() + self._close_reasoning()
        block = f"text-{event['seq']}"
        self.streamed_text = True
        return [*out, {"type": "text-start", "id": block}, {"type": "text-delta", "id": block, "delta": text},
                {"type": "text-end", "id": block}]

    def _source(self, index: int, source: dict[str, Any]) -> Chunk:
        path = str(source.get("path") or source.get("documentId") or "document")
        details = {key: source.get(key) for key in ("documentId", "docType", "score", "snippet")}
        return {
            "type": "source-document",
            "sourceId": f"{source.get('documentId')}#{index}",
            "mediaType": _media_type(path),
            "title": path,
            "filename": path,
            "providerMetadata": {"blueprint": details},
        }

    # --- the end -----------------------------------------------------------------
    def _closing(self) -> list[Chunk]:
        out = self._close_blocks()
        if self.step_open:
            out.append({"type": "finish-step"})
            self.step_open = False
        self.finished = True
        return out

    def _metadata(self, status: str) -> dict[str, Any]:
        metadata: dict[str, Any] = {"status": status}
        if self.usage is not None:
            metadata["usage"] = self.usage
        return metadata

    def _end(self, status: str) -> list[Chunk]:
        out = self._closing()
        if status == "stopped":
            # Stop is the server-side abort of the protocol; the partial answer stays.
            out.append({"type": "abort", "reason": "stopped"})
            out.append({"type": "finish", "finishReason": "other", "messageMetadata": self._metadata(status)})
        else:
            out.append({"type": "finish", "finishReason": "stop", "messageMetadata": self._metadata(status)})
        return out

    def _end_with_error(self, event: ev.Event) -> list[Chunk]:
        out = self._closing()
        metadata = self._metadata("error")
        metadata["error"] = {"code": event["error"], "retry": bool(event.get("retry"))}
        # A worker that died mid-answer left a partial answer: the protocol's "interrupted".
        reason = "interrupted" if event["error"] == "interrupted" else "error"
        out.append({"type": "error", "errorText": str(event.get("message") or event["error"])})
        out.append({"type": "finish", "finishReason": reason, "messageMetadata": metadata})
        return out
