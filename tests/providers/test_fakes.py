"""The fake upstreams themselves: run modes, scripting, and the non-streaming calls the SDKs make."""
from __future__ import annotations

import asyncio

import anthropic
import openai

from apps.providers.base import TextDelta
from apps.providers.openai_provider import OpenAIProvider
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.process import SubprocessFake
from tests.fakes.script import Script, ToolCallScript
from tests.providers.conftest import user_request


async def test_a_fake_in_the_current_loop_serves_non_streaming_sdk_calls():
    async with FakeOpenAI(Script(text=["Plain ", "answer"], tool_calls=[ToolCallScript("f", '{"a": 1}')])) as fake:
        client = openai.AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        try:
            models = await client.models.list()
            completion = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}])
        finally:
            await client.close()
    assert [m.id for m in models.data] == ["fake-model"]
    message = completion.choices[0].message
    assert message.content == "Plain answer"
    assert message.tool_calls is not None and message.tool_calls[0].function.arguments == '{"a": 1}'


async def test_the_anthropic_fake_serves_a_non_streaming_message():
    async with FakeAnthropic(Script(text=["Hello"], usage=(3, 1))) as fake:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=fake.base_url, max_retries=0)
        try:
            message = await client.messages.create(model="claude-fake", max_tokens=10,
                                                   messages=[{"role": "user", "content": "hi"}])
        finally:
            await client.close()
    assert message.content[0].type == "text" and message.content[0].text == "Hello"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 1)


def test_enqueued_scripts_answer_the_next_requests_then_the_default_returns(fake_openai):
    fake_openai.enqueue(Script.error(500), times=2)
    assert fake_openai.state.next_script().status == 500
    assert fake_openai.state.next_script().status == 500
    assert fake_openai.state.next_script().status is None


def test_scripts_round_trip_through_json():
    script = Script(text=["a"], tool_calls=[ToolCallScript("f", "{}", fragment_size=2)], usage=(1, 2),
                    stall_after=3)
    assert Script.from_dict(script.to_dict()) == script


async def test_a_fake_in_a_subprocess_is_scripted_and_inspected_over_http():
    with SubprocessFake("openai") as fake:
        fake.set_script(Script(text=["from ", "a ", "child"], stall_after=2, stall_seconds=30))
        provider = OpenAIProvider(api_key="k", base_url=fake.base_url)
        try:
            stream = provider.stream(user_request())
            texts = []
            async for event in stream:
                if isinstance(event, TextDelta):
                    texts.append(event.text)
                    if len(texts) == 2:
                        break
            await stream.aclose()  # type: ignore[attr-defined]
        finally:
            await provider.aclose()
        assert texts == ["from ", "a "]
        assert await asyncio.to_thread(fake.wait_for_disconnect, 1, 5.0)
        recorded = fake.requests
        assert len(recorded) == 1 and recorded[0].disconnected
        assert recorded[0].body["stream_options"] == {"include_usage": True}
