"""The OpenAI-compatible encoder and request parsing, without a server."""
from __future__ import annotations

import json
from typing import Any

import pytest

from apps.core.errors import ApplicationError, CreditExhausted, InvalidModel, RateLimited, ValidationFailed
from apps.engine import events as ev
from apps.streaming.dialects import openai_compat as dialect
from apps.streaming.openai_requests import parse_completion_request

RUN_ID = "0b6f3c1e-0000-4000-8000-000000000001"


def event(seq: int, type_: str, **payload: Any) -> dict[str, Any]:
    return ev.envelope(seq=seq, run_id=RUN_ID, chat_id="chat", type=type_, payload=payload)


def data_lines(raw: bytes) -> list[Any]:
    out = []
    for block in raw.decode().split("\n\n"):
        if block.startswith("data: "):
            body = block[len("data: "):]
            out.append(body if body == "[DONE]" else json.loads(body))
    return out


RUN = [
    event(1, ev.RUN_STARTED, model="m", provider="p", userMessageId="u", assistantMessageId="a"),
    event(2, ev.REASONING_DELTA, delta="hmm"),
    event(3, ev.MESSAGE_DELTA, delta="Hello"),
    event(4, ev.TOOL_CALL, id="call_dsl", tool="update_domain_model", args={}),  # Blueprint's own: hidden
    event(5, ev.TOOL_RESULT, id="call_dsl", result={}),
    event(6, ev.TOOL_CALL, id="call_1", tool="get_weather", args={"city": "Oslo"}, arguments='{"city":"Oslo"}',
          client=True),
    event(7, ev.ASSISTANT_MESSAGE, text="Hello"),
    event(8, ev.USAGE_INFO, inputTokens=12, outputTokens=5, cost=0.0),
    event(9, ev.TASK_COMPLETE, status="completed"),
]


def test_chunks_role_first_then_deltas_tool_calls_finish_usage_and_done():
    encoder = dialect.ChunkEncoder(model="m", created=123, include_usage=True)
    frames = data_lines(b"".join(encoder.encode(e) for e in RUN))
    assert frames[-1] == "[DONE]"
    chunks = frames[:-1]
    assert {c["id"] for c in chunks} == {"chatcmpl-" + RUN_ID.replace("-", "")}
    assert all(c["object"] == "chat.completion.chunk" and c["created"] == 123 for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning_content": "hmm"} and deltas[2] == {"content": "Hello"}
    assert deltas[3] == {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]}
    assert chunks[-2]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {"prompt_tokens": 12, "completion_tokens": 5,
                                                                    "total_tokens": 17}
    assert all(c["usage"] is None for c in chunks[:-1])


def test_without_include_usage_there_is_no_usage_chunk():
    encoder = dialect.ChunkEncoder(model="m", created=1)
    frames = data_lines(b"".join(encoder.encode(e) for e in RUN[:3] + RUN[6:]))
    assert frames[-1] == "[DONE]" and frames[-2]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in f for f in frames[:-1])


def test_error_ends_the_stream_with_an_error_object_and_no_done():
    encoder = dialect.ChunkEncoder(model="m", created=1)
    raw = encoder.encode(event(3, ev.ERROR, error="stream_interrupted", message="cut", retry=True))
    assert data_lines(raw) == [{"error": {"message": "cut", "type": "server_error", "param": None,
                                          "code": "stream_interrupted"}}]


def test_completion_object():
    result = dialect.completion(RUN, model="m", created=5)
    assert result["object"] == "chat.completion" and result["usage"]["total_tokens"] == 17
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] == "Hello"
    assert [c["id"] for c in choice["message"]["tool_calls"]] == ["call_1"]
    with pytest.raises(ApplicationError) as failed:
        dialect.completion([*RUN[:3], event(4, ev.ERROR, error="provider_error", message="bad", retry=False)],
                           model="m", created=5)
    assert failed.value.status == 400


@pytest.mark.parametrize(("exc", "status", "type_", "code", "param"), [
    (InvalidModel("gpt-99", ["offline"]), 404, "invalid_request_error", "model_not_found", "model"),
    (RateLimited(3), 429, "requests", "rate_limit_exceeded", None),
    (CreditExhausted("Out of credit."), 429, "insufficient_quota", "insufficient_quota", None),
    (ValidationFailed("maxTokens too big", field="maxTokens"), 400, "invalid_request_error", "invalid_value",
     "max_tokens"),
    (ApplicationError("boom", code="internal_error", status=500), 500, "server_error", "internal_error", None),
])
def test_errors_take_openais_shape_and_statuses(exc, status, type_, code, param):
    mapped = dialect.http_error(exc)
    error = dialect.error_body(mapped)["error"]
    assert (mapped.status, error["type"], error["code"], error["param"]) == (status, type_, code, param)


def test_parse_maps_messages_to_instructions_history_and_turn():
    request = parse_completion_request({
        "model": "offline", "max_tokens": 50, "max_completion_tokens": 60, "stream": True,
        "stream_options": {"include_usage": True}, "reasoning_effort": "high", "top_p": 0.5,
        "messages": [
            {"role": "system", "content": "Rule one."}, {"role": "developer", "content": "Rule two."},
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "c2", "content": "windy"},
        ]})
    assert request.system_prompt == "Rule one.\n\nRule two." and request.max_tokens == 60
    assert request.stream and request.include_usage and request.reasoning
    assert request.history == [("user", "Weather?"), ("assistant", "[called get_weather({}) as c1]")]
    assert request.text == "[result of c1 (get_weather)]\nsunny\n\n[result of c2 (tool)]\nwindy"


def test_parse_takes_an_inline_image_of_the_last_message():
    from tests.chats.image_files import data_url, png

    image = png(3, 2)
    url = data_url(image, "image/png")
    request = parse_completion_request({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}]})
    upload = request.attachments[0]
    assert request.text == "What is this?"
    assert (upload.media_type, upload.data, upload.width, upload.height) == ("image/png", image, 3, 2)
    with pytest.raises(ValidationFailed) as refused:
        parse_completion_request({"model": "m", "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]},
            {"role": "user", "content": "and now?"}]})
    assert refused.value.extra["field"] == "messages[0].content[0].type"
