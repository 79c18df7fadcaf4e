"""A fake OpenAI-compatible Chat Completions server (what OpenAI, OpenRouter, vLLM, Ollama speak).

Streams ``data: {chat.completion.chunk}`` lines ending in ``data: [DONE]``; reasoning goes
in the delta field named by ``Script.reasoning_field`` (``reasoning_content`` as DeepSeek and
vLLM send it, or ``reasoning`` as OpenRouter and Ollama do). ``python -m
tests.fakes.openai_server`` serves one in its own process (see ``SubprocessFake``).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.fakes.common import FakeUpstream, estimate_input_tokens, new_id, sse
from tests.fakes.process import cli_main
from tests.fakes.script import Script

_ERROR_TYPES = {
    400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied", 404: "not_found",
    422: "invalid_request_error", 429: "rate_limit_exceeded", 500: "server_error", 502: "server_error",
    503: "server_error", 529: "overloaded",
}


class FakeOpenAI(FakeUpstream):
    kind = "openai"
    api_prefix = "/v1"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_get("/v1/models", self.models)

    async def models(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"object": "list", "data": [
            {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]})

    def error_body(self, status: int, script: Script) -> dict[str, Any]:
        kind = script.error_type or _ERROR_TYPES.get(status, "server_error")
        return {"error": {"message": script.error_message, "type": kind, "param": None, "code": kind}}

    def error_frame(self, script: Script) -> bytes:
        return sse(self.error_body(500, script))

    def check_request(self, request: web.Request, body: Any) -> tuple[int, str] | None:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, "Incorrect API key provided."
        if not isinstance(body, dict) or not body.get("messages") or not body.get("model"):
            return 400, "model and messages are required"
        seen_call_ids: set[str] = set()
        for message in body["messages"]:
            for call in message.get("tool_calls") or []:
                seen_call_ids.add(call["id"])
            if message.get("role") == "tool" and message.get("tool_call_id") not in seen_call_ids:
                return 400, "a tool message must answer a preceding tool_calls id"
        return None

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        record = await self.record(request)
        body = record.body
        script = self.next_script()
        invalid = self.check_request(request, body)
        if invalid is not None:
            status, message = invalid
            return web.json_response(self.error_body(status, Script(error_message=message)), status=status)
        request_id = script.request_id or new_id("req_")
        if script.status is not None:
            headers = {"x-request-id": request_id}
            if script.retry_after is not None:
                headers["Retry-After"] = script.retry_after
            return web.json_response(self.error_body(script.status, script), status=script.status,
                                     headers=headers)
        completion_id = new_id("chatcmpl-")
        if not body.get("stream"):
            return web.json_response(self.completion(script, body, completion_id),
                                     headers={"x-request-id": request_id})
        return await self.stream_events(request, record, script, {"x-request-id": request_id},
                                        self.frames(script, body, completion_id))

    def next_script(self) -> Script:
        return self.state.next_script()

    @staticmethod
    def usage(script: Script, body: dict[str, Any]) -> dict[str, int]:
        prompt, completion = script.usage or (estimate_input_tokens(body), max(1, script.delta_count()))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def frames(self, script: Script, body: dict[str, Any],
               completion_id: str) -> Iterator[tuple[bytes, bool]]:
        created = int(time.time())
        model = body["model"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                        "model": model, "system_fingerprint": "fp_fake",
                        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

        yield chunk({"role": "assistant", "content": ""}), False
        for piece in script.reasoning:
            yield chunk({script.reasoning_field: piece}), True
        for piece in script.text:
            yield chunk({"content": piece}), True
        for index, call in enumerate(script.tool_calls):
            call_id = call.id or new_id("call_")
            yield chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                         "function": {"name": call.name, "arguments": ""}}]}), True
            for fragment in call.fragments():
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}), True
        finish = script.finish_reason or ("tool_calls" if script.tool_calls else "stop")
        yield chunk({}, finish), False
        if (body.get("stream_options") or {}).get("include_usage"):
            yield sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [], "usage": self.usage(script, body)}), False
        yield b"data: [DONE]\n\n", False

    def completion(self, script: Script, body: dict[str, Any], completion_id: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(script.text) or None}
        if script.tool_calls:
            message["tool_calls"] = [
                {"id": call.id or new_id("call_"), "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments}}
                for call in script.tool_calls]
        return {"id": completion_id, "object": "chat.completion", "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": "tool_calls" if script.tool_calls else "stop"}],
                "usage": self.usage(script, body)}


def main() -> None:
    cli_main(FakeOpenAI, "Serve a fake OpenAI-compatible upstream on 127.0.0.1.")


if __name__ == "__main__":
    main()
