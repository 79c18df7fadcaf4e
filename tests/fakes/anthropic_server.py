"""A fake Anthropic Messages API server.

Streams the named SSE events the SDK parses: ``message_start``, ``ping``,
``content_block_start`` / ``content_block_delta`` (``thinking_delta``, ``signature_delta``,
``text_delta``, ``input_json_delta``) / ``content_block_stop``, ``message_delta``,
``message_stop``; a mid-stream fault is an ``event: error`` frame. It validates the request
the way the real API does where our conversion could go wrong (``max_tokens`` present,
thinking budget and temperature, ``tool_result`` answering a ``tool_use`` of the previous
assistant turn). ``python -m tests.fakes.anthropic_server`` serves one in its own process.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.fakes.common import FakeUpstream, estimate_input_tokens, new_id, sse
from tests.fakes.process import cli_main
from tests.fakes.script import Script

_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
    503: "api_error", 529: "overloaded_error",
}


def _generation(model: str) -> tuple[int, ...]:
    """(major, minor) of a Claude id such as claude-opus-4-8 or claude-3-5-sonnet; () if none."""
    numbers = [int(p) for p in model.split("-") if p.isdigit() and len(p) < 8]
    return tuple(numbers[:2]) if numbers else ()


class FakeAnthropic(FakeUpstream):
    kind = "anthropic"
    api_prefix = ""

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.messages)
        app.router.add_get("/v1/models", self.models)

    async def models(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"data": [{"type": "model", "id": "claude-fake", "display_name": "Fake",
                                            "created_at": "2025-01-01T00:00:00Z"}],
                                  "has_more": False, "first_id": "claude-fake", "last_id": "claude-fake"})

    @staticmethod
    def error_body(kind: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": new_id("req_")}

    def error_frame(self, script: Script) -> bytes:
        return sse(self.error_body(script.error_type or "overloaded_error", script.error_message), "error")

    def check_request(self, request: web.Request, body: Any) -> tuple[int, str] | None:
        # SDK releases differ: older ones send the key as x-api-key, newer ones as a bearer token.
        presented = {request.headers.get("x-api-key"), request.headers.get("Authorization", "")[7:] or None}
        if self.api_key is not None and self.api_key not in presented:
            return 401, "invalid x-api-key"
        if not request.headers.get("anthropic-version"):
            return 400, "anthropic-version header is required"
        if not isinstance(body, dict) or not body.get("messages") or not body.get("model"):
            return 400, "model and messages are required"
        if not isinstance(body.get("max_tokens"), int):
            return 400, "max_tokens: Field required"
        thinking = body.get("thinking") or {}
        if _generation(body["model"]) >= (4, 7):  # Opus 4.7+, Claude 5: no budgets, no sampling
            if thinking.get("type") == "enabled":
                return 400, '"thinking.type.enabled" is not supported for this model'
            if body.get("temperature") not in (None, 1, 1.0):
                return 400, "temperature is not supported for this model"
        if thinking.get("type") == "enabled":
            budget = thinking.get("budget_tokens", 0)
            if budget < 1024 or budget >= body["max_tokens"]:
                return 400, "thinking.budget_tokens must be >= 1024 and less than max_tokens"
            if body.get("temperature") not in (None, 1, 1.0):
                return 400, "temperature may only be set to 1 when thinking is enabled"
        previous_tool_uses: set[str] = set()
        for message in body["messages"]:
            content = message.get("content")
            blocks = content if isinstance(content, list) else []
            for block in blocks:
                if block.get("type") == "tool_result" and block.get("tool_use_id") not in previous_tool_uses:
                    return 400, "tool_result block(s) must follow a tool_use block with the same id"
            previous_tool_uses = {b["id"] for b in blocks if b.get("type") == "tool_use"}
        return None

    async def messages(self, request: web.Request) -> web.StreamResponse:
        record = await self.record(request)
        body = record.body
        script = self.state.next_script()
        invalid = self.check_request(request, body)
        if invalid is not None:
            status, message = invalid
            return web.json_response(self.error_body(_ERROR_TYPES[status], message), status=status)
        request_id = script.request_id or new_id("req_")
        if script.status is not None:
            headers = {"request-id": request_id}
            if script.retry_after is not None:
                headers["retry-after"] = script.retry_after
            kind = script.error_type or _ERROR_TYPES.get(script.status, "api_error")
            return web.json_response(self.error_body(kind, script.error_message), status=script.status,
                                     headers=headers)
        if not body.get("stream"):
            return web.json_response(self.message(script, body), headers={"request-id": request_id})
        return await self.stream_events(request, record, script, {"request-id": request_id},
                                        self.frames(script, body))

    @staticmethod
    def usage(script: Script, body: dict[str, Any]) -> tuple[int, int]:
        return script.usage or (estimate_input_tokens(body), max(1, script.delta_count()))

    @staticmethod
    def stop_reason(script: Script) -> str:
        return script.finish_reason or ("tool_use" if script.tool_calls else "end_turn")

    def frames(self, script: Script, body: dict[str, Any]) -> Iterator[tuple[bytes, bool]]:
        input_tokens, output_tokens = self.usage(script, body)
        yield sse({"type": "message_start", "message": {
            "id": new_id("msg_"), "type": "message", "role": "assistant", "content": [],
            "model": body["model"], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}, "message_start"), False
        yield sse({"type": "ping"}, "ping"), False
        index = 0

        def block(start: dict[str, Any], deltas: list[dict[str, Any]],
                  tail: list[dict[str, Any]] | None = None) -> Iterator[tuple[bytes, bool]]:
            yield sse({"type": "content_block_start", "index": index, "content_block": start},
                      "content_block_start"), start["type"] == "tool_use"
            for delta in deltas:
                yield sse({"type": "content_block_delta", "index": index, "delta": delta},
                          "content_block_delta"), True
            for delta in tail or []:
                yield sse({"type": "content_block_delta", "index": index, "delta": delta},
                          "content_block_delta"), False
            yield sse({"type": "content_block_stop", "index": index}, "content_block_stop"), False

        if script.reasoning:
            yield from block({"type": "thinking", "thinking": "", "signature": ""},
                             [{"type": "thinking_delta", "thinking": piece} for piece in script.reasoning],
                             [{"type": "signature_delta", "signature": "c2lnbmF0dXJl" * 4}])
            index += 1
        if script.text:
            yield from block({"type": "text", "text": ""},
                             [{"type": "text_delta", "text": piece} for piece in script.text])
            index += 1
        for call in script.tool_calls:
            yield from block({"type": "tool_use", "id": call.id or new_id("toolu_"), "name": call.name,
                              "input": {}},
                             [{"type": "input_json_delta", "partial_json": f} for f in call.fragments()])
            index += 1
        yield sse({"type": "message_delta",
                   "delta": {"stop_reason": self.stop_reason(script), "stop_sequence": None},
                   "usage": {"output_tokens": output_tokens}}, "message_delta"), False
        yield sse({"type": "message_stop"}, "message_stop"), False

    def message(self, script: Script, body: dict[str, Any]) -> dict[str, Any]:
        input_tokens, output_tokens = self.usage(script, body)
        content: list[dict[str, Any]] = []
        if script.reasoning:
            content.append({"type": "thinking", "thinking": "".join(script.reasoning), "signature": "sig"})
        if script.text:
            content.append({"type": "text", "text": "".join(script.text)})
        for call in script.tool_calls:
            content.append({"type": "tool_use", "id": call.id or new_id("toolu_"), "name": call.name,
                            "input": json.loads(call.arguments)})
        return {"id": new_id("msg_"), "type": "message", "role": "assistant", "content": content,
                "model": body["model"], "stop_reason": self.stop_reason(script), "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}


def main() -> None:
    cli_main(FakeAnthropic, "Serve a fake Anthropic Messages upstream on 127.0.0.1.")


if __name__ == "__main__":
    main()
