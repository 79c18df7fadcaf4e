"""AnthropicProvider through the real anthropic SDK (aiohttp and httpx transports) to the fake server."""
from __future__ import annotations

import asyncio
import json

import pytest

from apps.providers.anthropic_provider import AnthropicProvider, claude_version
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
from tests.fakes.script import Script, ToolCallScript
from tests.providers.conftest import FAKE_ANTHROPIC_KEY, collect, collect_until_error, user_request

ENTITY_ARGS = json.dumps({"entities": [{"name": "Loan", "fields": [{"name": "due", "type": "date"}]}]})

TOOL_TURN = [
    ChatMessage(role="system", content="Prefer short answers."),
    ChatMessage(role="user", content="Add a Loan entity"),
    ChatMessage(role="assistant", content="Adding it.",
                tool_calls=[ToolCall(id="toolu_1", name="update_domain_model", arguments='{"name": "Loan"}'),
                            ToolCall(id="toolu_2", name="list_entities", arguments="")]),
    ChatMessage(role="tool", content='{"ok": true}', tool_call_id="toolu_1"),
    ChatMessage(role="tool", content="[]", tool_call_id="toolu_2"),
]


async def test_streams_text_usage_and_request_id(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script.from_text("Loans link members to books.", usage=(30, 9),
                                               request_id="req_fixed_2"))
    events = await collect(anthropic_provider.stream(user_request()))

    assert events[0] == StreamMeta(request_id="req_fixed_2")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Loans link members to books."
    assert events[-2:] == [Usage(input_tokens=30, output_tokens=9), Finish(reason="stop")]
    headers = fake_anthropic.last_request.headers
    assert FAKE_ANTHROPIC_KEY in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    assert headers["anthropic-version"]


async def test_tool_results_and_tool_calls_are_converted(anthropic_provider, fake_anthropic):
    request = ProviderRequest(model="claude-big", system="You are Blueprint.", messages=TOOL_TURN,
                              tools=[ToolSpec("update_domain_model", "Update", {"type": "object"})],
                              temperature=1.5, max_tokens=500)
    events = await collect(anthropic_provider.stream(request))  # the fake rejects orphan tool results

    assert isinstance(events[-1], Finish)
    body = fake_anthropic.last_request.body
    assert body["system"] == "You are Blueprint.\n\nPrefer short answers."
    assert body["tools"] == [{"name": "update_domain_model", "description": "Update",
                              "input_schema": {"type": "object"}}]
    assert body["temperature"] == 1.0  # Anthropic's range ends at 1
    assert body["max_tokens"] == 500
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Add a Loan entity"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Adding it."},
            {"type": "tool_use", "id": "toolu_1", "name": "update_domain_model", "input": {"name": "Loan"}},
            {"type": "tool_use", "id": "toolu_2", "name": "list_entities", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"ok": true}'},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "[]"}]},
    ]


async def test_extended_thinking_streams_reasoning_within_the_api_constraints(anthropic_provider,
                                                                               fake_anthropic):
    fake_anthropic.set_script(Script(reasoning=["Loans need ", "a due date."], text=["Done."]))
    events = await collect(anthropic_provider.stream(
        user_request(model="claude-big", reasoning=True, temperature=0.2, max_tokens=1000)))

    content = [e for e in events if isinstance(e, (ReasoningDelta, TextDelta))]
    assert content == [ReasoningDelta("Loans need "), ReasoningDelta("a due date."), TextDelta("Done.")]
    body = fake_anthropic.last_request.body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert body["max_tokens"] == 1000 + 4096  # the answer keeps the length asked for
    assert "temperature" not in body


async def test_thinking_budget_fits_a_small_model_limit(anthropic_provider, fake_anthropic):
    events = await collect(anthropic_provider.stream(
        user_request(model="claude-small", reasoning=True, max_tokens=1500)))

    assert isinstance(events[-1], Finish)  # the fake enforces 1024 <= budget < max_tokens
    body = fake_anthropic.last_request.body
    assert body["max_tokens"] == 2000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1999}


async def test_thinking_is_off_when_continuing_a_tool_turn(anthropic_provider, fake_anthropic):
    request = ProviderRequest(model="claude-big", messages=TOOL_TURN, reasoning=True, temperature=0.5)
    await collect(anthropic_provider.stream(request))

    body = fake_anthropic.last_request.body
    assert "thinking" not in body
    assert body["temperature"] == 0.5


async def test_tool_use_fragments_reassemble_to_the_exact_json(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script(text=["Let me update it."], tool_calls=[
        ToolCallScript("update_domain_model", ENTITY_ARGS, id="toolu_a", fragment_size=3),
        ToolCallScript("list_entities", "", id="toolu_b"),
    ]))
    events = await collect(anthropic_provider.stream(user_request()))

    tool_events = [e for e in events if isinstance(e, (ToolCallStart, ToolCallDelta, ToolCallEnd))]
    assert tool_events[0] == ToolCallStart("toolu_a", "update_domain_model")
    fragments = [e.arguments_delta for e in tool_events if isinstance(e, ToolCallDelta) and e.id == "toolu_a"]
    assert len(fragments) > 3 and "".join(fragments) == ENTITY_ARGS
    # A call without arguments streams no JSON; it still gets "{}".
    assert tool_events[-3:] == [ToolCallStart("toolu_b", "list_entities"), ToolCallDelta("toolu_b", "{}"),
                                ToolCallEnd("toolu_b")]
    assert tool_events.index(ToolCallEnd("toolu_a")) < tool_events.index(ToolCallStart("toolu_b", "list_entities"))
    assert events[-1] == Finish(reason="tool_calls")


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (429, "rate_limited", True),
    (500, "upstream_unavailable", True),
    (529, "upstream_unavailable", True),
    (401, "authentication_failed", False),
    (403, "authentication_failed", False),
    (400, "bad_request", False),
    (404, "bad_request", False),
    (413, "bad_request", False),
])
async def test_error_statuses_are_classified(anthropic_provider, fake_anthropic, status, code, retryable):
    fake_anthropic.set_script(Script.error(status, retry_after="4" if status == 429 else None))
    events, error = await collect_until_error(anthropic_provider.stream(user_request()))

    assert events == []
    assert (error.code, error.retryable, error.status) == (code, retryable, status)
    assert error.retry_after == (4.0 if status == 429 else None)


@pytest.mark.parametrize(("error_type", "code", "retryable"), [
    ("overloaded_error", "upstream_unavailable", True),
    ("api_error", "upstream_unavailable", True),
    ("rate_limit_error", "rate_limited", True),
    ("invalid_request_error", "bad_request", False),
    ("some_new_error", "upstream_error", True),
])
async def test_a_mid_stream_error_event_is_classified_on_its_type(anthropic_provider, fake_anthropic,
                                                                  error_type, code, retryable):
    fake_anthropic.set_script(Script(text=["one ", "two ", "three"], error_after=2, error_type=error_type,
                                     error_message="Overloaded"))
    events, error = await collect_until_error(anthropic_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert (error.code, error.retryable) == (code, retryable)
    assert error.message == "anthropic: Overloaded"


async def test_a_wrong_key_is_an_authentication_failure(fake_anthropic):
    provider = AnthropicProvider(api_key="sk-ant-wrong", base_url=fake_anthropic.base_url)
    try:
        _, error = await collect_until_error(provider.stream(user_request()))
    finally:
        await provider.aclose()
    assert (error.code, error.retryable, error.status) == ("authentication_failed", False, 401)


async def test_a_dropped_connection_mid_stream_is_a_connection_error(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script(text=["one ", "two ", "three"], drop_after=2))
    events, error = await collect_until_error(anthropic_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert (error.code, error.retryable) == ("connection_error", True)


async def test_a_stall_waits_and_cancelling_the_consumer_closes_the_connection(anthropic_provider,
                                                                              fake_anthropic):
    fake_anthropic.set_script(Script(text=["one ", "two ", "three"], stall_after=1, stall_seconds=30))
    received: asyncio.Queue[object] = asyncio.Queue()

    async def consume() -> None:
        async for event in anthropic_provider.stream(user_request()):
            await received.put(event)

    task = asyncio.create_task(consume())
    while not isinstance(await asyncio.wait_for(received.get(), 5), TextDelta):
        pass
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(received.get(), 0.3)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fake_anthropic.await_disconnect(timeout=5)
    assert fake_anthropic.last_request.disconnected and not fake_anthropic.last_request.completed


async def test_closing_the_stream_early_disconnects_the_upstream(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script(text=["one ", "two ", "three"], stall_after=2, stall_seconds=30))
    stream = anthropic_provider.stream(user_request())
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    assert await fake_anthropic.await_disconnect(timeout=5)


@pytest.mark.parametrize(("model", "version"), [
    ("claude-sonnet-4-6", (4, 6)), ("claude-3-5-sonnet-latest", (3, 5)), ("claude-opus-4-20250514", (4, 0)),
    ("claude-haiku-4-5-20251001", (4, 5)), ("claude-opus-5", (5, 0)), ("claude-fake", None),
])
def test_claude_version_reads_either_order(model, version):
    assert claude_version(model) == version


async def test_claude_4_6_and_later_think_adaptively(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script(reasoning=["Weighing options."], text=["Done."]))
    events = await collect(anthropic_provider.stream(
        user_request(model="claude-sonnet-5-5", reasoning=True, temperature=0.2, max_tokens=2000)))

    assert ReasoningDelta("Weighing options.") in events  # the fake rejects budgets on 4.7+
    body = fake_anthropic.last_request.body
    assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert body["max_tokens"] == 2000
    assert "temperature" not in body


async def test_sampling_parameters_stop_after_claude_4_6(anthropic_provider, fake_anthropic):
    await collect(anthropic_provider.stream(user_request(model="claude-sonnet-4-6", temperature=0.2)))
    assert fake_anthropic.last_request.body["temperature"] == 0.2

    events = await collect(anthropic_provider.stream(user_request(model="claude-opus-4-8", temperature=0.2)))
    assert isinstance(events[-1], Finish)  # the fake rejects temperature on 4.7+
    assert "temperature" not in fake_anthropic.last_request.body


async def test_a_body_that_ends_before_message_stop_is_not_passed_off_as_complete(anthropic_provider,
                                                                                 fake_anthropic):
    fake_anthropic.set_script(Script(text=["one ", "two ", "three"], end_after=2))
    events, error = await collect_until_error(anthropic_provider.stream(user_request()))

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["one ", "two "]
    assert not any(isinstance(e, Finish) for e in events)
    assert (error.code, error.retryable) == ("connection_error", True)
