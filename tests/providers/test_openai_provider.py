"""OpenAIProvider through the real openai SDK (aiohttp and httpx transports) to the fake server."""
from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import time

import pytest
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from apps.providers.base import (
    ChatMessage,
    Finish,
    ProviderRequest,
    ReasoningDelta,
    StreamMeta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    ToolSpec,
    Usage,
)
from apps.providers.openai_provider import OpenAIProvider, _ToolCallAssembler
from tests.fakes.script import Script, ToolCallScript, split_tokens
from tests.providers.conftest import FAKE_OPENAI_KEY, collect, collect_until_error, user_request

ENTITY_ARGS = json.dumps({"entities": [{"name": "Book", "fields": [{"name": "isbn", "type": "string"}]}]})


async def test_streams_text_usage_and_request_id(openai_provider, fake_openai):
    fake_openai.set_script(Script.from_text("A library has books and members.", usage=(42, 7),
                                            request_id="req_fixed_1"))
    events = await collect(openai_provider.stream(user_request()))

    assert events[0] == StreamMeta(request_id="req_fixed_1")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "A library has books and members."
    assert len([e for e in events if isinstance(e, TextDelta)]) == len(split_tokens("A library has books and members."))
    assert events[-2:] == [Usage(input_tokens=42, output_tokens=7), Finish(reason="stop")]


async def test_request_carries_stream_options_tools_and_the_conversation(openai_provider, fake_openai):
    request = ProviderRequest(
        model="test-model", system="You are Blueprint.", temperature=0.4, max_tokens=300,
        tools=[ToolSpec("update_domain_model", "Update the model", {"type": "object", "properties": {}})],
        messages=[
            ChatMessage(role="user", content="Add a Book entity"),
            ChatMessage(role="assistant", content="",
                        tool_calls=[ToolCall(id="call_1", name="update_domain_model", arguments="{}")]),
            ChatMessage(role="tool", content='{"ok": true}', tool_call_id="call_1"),
        ])
    await collect(openai_provider.stream(request))

    recorded = fake_openai.last_request
    assert recorded.headers["authorization"] == f"Bearer {FAKE_OPENAI_KEY}"
    body = recorded.body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.4
    assert body["max_tokens"] == 300  # a compatible server: the widely understood field
    assert body["tools"] == [{"type": "function", "function": {
        "name": "update_domain_model", "description": "Update the model",
        "parameters": {"type": "object", "properties": {}}}}]
    assert body["messages"] == [
        {"role": "system", "content": "You are Blueprint."},
        {"role": "user", "content": "Add a Book entity"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "update_domain_model", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true}'},
    ]


async def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature(fake_openai):
    provider = OpenAIProvider(api_key=FAKE_OPENAI_KEY, base_url=fake_openai.base_url, flavour="openai")
    try:
        await collect(provider.stream(user_request(model="gpt-5-mini", temperature=0.3, max_tokens=100,
                                                   reasoning=True)))
        body = fake_openai.last_request.body
        assert body["max_completion_tokens"] == 100 and "max_tokens" not in body
        assert "temperature" not in body
        assert body["reasoning_effort"] == "medium"

        await collect(provider.stream(user_request(model="gpt-4o", temperature=0.3)))
        assert fake_openai.last_request.body["temperature"] == 0.3
    finally:
        await provider.aclose()


async def test_openrouter_flavour_asks_for_reasoning(fake_openai):
    provider = OpenAIProvider(name="openrouter", api_key=FAKE_OPENAI_KEY, base_url=fake_openai.base_url,
                              flavour="openrouter")
    try:
        await collect(provider.stream(user_request(model="deepseek/deepseek-r1", reasoning=True, max_tokens=50)))
    finally:
        await provider.aclose()
    body = fake_openai.last_request.body
    assert body["reasoning"] == {"enabled": True}
    assert body["max_tokens"] == 50


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_from_compatible_servers(openai_provider, fake_openai, field):
    fake_openai.set_script(Script(reasoning=["Members borrow", " books."], text=["Here", " it is."],
                                  reasoning_field=field))
    events = await collect(openai_provider.stream(user_request()))

    content = [e for e in events if isinstance(e, (ReasoningDelta, TextDelta))]
    assert content == [ReasoningDelta("Members borrow"), ReasoningDelta(" books."),
                       TextDelta("Here"), TextDelta(" it is.")]


async def test_tool_call_fragments_reassemble_to_the_exact_json(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["Adding it."], tool_calls=[
        ToolCallScript("update_domain_model", ENTITY_ARGS, id="call_a", fragment_size=3),
        ToolCallScript("ask_question", '{"question": "Who borrows?"}', id="call_b", fragment_size=4),
    ]))
    events = await collect(openai_provider.stream(user_request()))

    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert starts == [ToolCallStart("call_a", "update_domain_model"), ToolCallStart("call_b", "ask_question")]
    for call_id, expected in (("call_a", ENTITY_ARGS), ("call_b", '{"question": "Who borrows?"}')):
        fragments = [e.arguments_delta for e in events if isinstance(e, ToolCallDelta) and e.id == call_id]
        assert len(fragments) > 3
        assert "".join(fragments) == expected
        start = events.index(ToolCallStart(call_id, next(s.name for s in starts if s.id == call_id)))
        end = events.index(ToolCallEnd(call_id))
        assert start < end
        assert all(start < i < end for i, e in enumerate(events) if isinstance(e, ToolCallDelta) and e.id == call_id)
    assert events[-1] == Finish(reason="tool_calls")


def _tool_delta(index: int, *, id: str | None = None, name: str | None = None,
                arguments: str | None = None) -> ChoiceDeltaToolCall:
    function = {"name": name, "arguments": arguments} if name is not None or arguments is not None else None
    return ChoiceDeltaToolCall.model_validate({"index": index, "id": id, "function": function})


def test_tool_call_assembler_tolerates_compatible_server_quirks():
    calls = _ToolCallAssembler()
    events = []
    # Ollama style: a whole call in one delta; then a second call reusing index 0 with a new id.
    events += calls.feed([_tool_delta(0, id="c1", name="first", arguments='{"a": 1}')])
    events += calls.feed([_tool_delta(0, id="c2", name="second", arguments="{}")])
    # Mistral style: the id repeated on every delta.
    events += calls.feed([_tool_delta(1, id="c3", name="third", arguments='{"b":')])
    events += calls.feed([_tool_delta(1, id="c3", arguments=" 2}")])
    # Arguments before the name.
    events += calls.feed([_tool_delta(2, id="c4", arguments='{"c"')])
    events += calls.feed([_tool_delta(2, name="fourth", arguments=": 3}")])
    events += calls.close_all()

    assert events == [
        ToolCallStart("c1", "first"), ToolCallDelta("c1", '{"a": 1}'), ToolCallEnd("c1"),
        ToolCallStart("c2", "second"), ToolCallDelta("c2", "{}"),
        ToolCallStart("c3", "third"), ToolCallDelta("c3", '{"b":'), ToolCallDelta("c3", " 2}"),
        ToolCallStart("c4", "fourth"), ToolCallDelta("c4", '{"c"'), ToolCallDelta("c4", ": 3}"),
        ToolCallEnd("c2"), ToolCallEnd("c3"), ToolCallEnd("c4"),
    ]


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (429, "rate_limited", True),
    (500, "upstream_unavailable", True),
    (503, "upstream_unavailable", True),
    (529, "upstream_unavailable", True),
    (401, "authentication_failed", False),
    (403, "authentication_failed", False),
    (400, "bad_request", False),
    (404, "bad_request", False),
    (422, "bad_request", False),
])
async def test_error_statuses_are_classified(openai_provider, fake_openai, status, code, retryable):
    fake_openai.set_script(Script.error(status, retry_after="3" if status == 429 else None))
    events, error = await collect_until_error(openai_provider.stream(user_request()))

    assert events == []
    assert (error.code, error.retryable, error.status) == (code, retryable, status)
    assert error.retry_after == (3.0 if status == 429 else None)
    assert error.message.startswith("openai: ")


async def test_retry_after_as_an_http_date(openai_provider, fake_openai):
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    fake_openai.set_script(Script.error(429, retry_after=when))
    _, error = await collect_until_error(openai_provider.stream(user_request()))

    assert error.code == "rate_limited"
    assert error.retry_after is not None and 3.0 <= error.retry_after <= 5.0


async def test_a_wrong_key_is_an_authentication_failure(fake_openai):
    provider = OpenAIProvider(api_key="sk-wrong", base_url=fake_openai.base_url)
    try:
        _, error = await collect_until_error(provider.stream(user_request()))
    finally:
        await provider.aclose()
    assert (error.code, error.retryable, error.status) == ("authentication_failed", False, 401)


async def test_connection_refused_is_a_retryable_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = OpenAIProvider(api_key="k", base_url=f"http://127.0.0.1:{port}/v1")
    try:
        _, error = await collect_until_error(provider.stream(user_request()))
    finally:
        await provider.aclose()
    assert (error.code, error.retryable) == ("connection_error", True)


async def test_an_error_chunk_mid_stream_is_retryable(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], error_after=2, error_type="server_error"))
    events, error = await collect_until_error(openai_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert (error.code, error.retryable) == ("upstream_unavailable", True)


async def test_a_dropped_connection_mid_stream_is_a_connection_error(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], drop_after=2))
    events, error = await collect_until_error(openai_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert (error.code, error.retryable) == ("connection_error", True)


async def test_a_stall_waits_and_cancelling_the_consumer_closes_the_connection(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], stall_after=1, stall_seconds=30))
    received: asyncio.Queue[object] = asyncio.Queue()

    async def consume() -> None:
        async for event in openai_provider.stream(user_request()):
            await received.put(event)

    task = asyncio.create_task(consume())
    while not isinstance(await asyncio.wait_for(received.get(), 5), TextDelta):
        pass
    # The upstream is silent: the provider waits (the engine owns the idle timeout).
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(received.get(), 0.3)
    assert not task.done()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fake_openai.await_disconnect(timeout=5)
    assert fake_openai.last_request.disconnected and not fake_openai.last_request.completed


async def test_closing_the_stream_early_disconnects_the_upstream(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], stall_after=2, stall_seconds=30))
    stream = openai_provider.stream(user_request())
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    assert await fake_openai.await_disconnect(timeout=5)


async def test_a_body_that_ends_without_a_finish_is_not_passed_off_as_complete(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["one ", "two ", "three"], end_after=2))
    events, error = await collect_until_error(openai_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert not any(isinstance(e, Finish) for e in events)
    assert (error.code, error.retryable) == ("connection_error", True)
