"""The OpenAI-compatible /v1 API driven by the official ``openai`` SDK against a live server.

With the fake OpenAI upstream behind Blueprint the path is SDK → Blueprint → SDK → fake.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from apps.projects.models import Project
from tests.conftest import make_tenant
from tests.engine.conftest import FAKE_MODEL, text_script
from tests.fakes.script import Script, ToolCallScript

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture
async def client(asgi_server: Any, tenant_async: Any) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=f"{asgi_server.url}/v1", api_key=tenant_async.raw_key,
                                  max_retries=0, timeout=60) as sdk:
        yield sdk


def upstream_body(fake: Any, index: int = -1) -> dict[str, Any]:
    return fake.requests[index].body  # type: ignore[no-any-return]


async def test_non_stream_completion_with_usage(client, tenant_async):
    result = await client.chat.completions.create(
        model="offline", messages=[{"role": "user", "content": "I need a library with books and loans"}])
    assert result.object == "chat.completion" and result.model == "offline"
    choice = result.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant" and choice.message.content
    run = await Run.objects.aget()
    assert result.id == "chatcmpl-" + run.pk.hex
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == choice.message.content
    assert result.usage is not None and result.usage.completion_tokens == run.output_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    chat = await Chat.objects.select_related("project").aget(pk=run.chat_id)
    assert chat.project_id == tenant_async.project.pk  # the workspace's default (oldest) project


async def test_stream_chunks_role_first_finish_reason_and_usage(client):
    stream = await client.chat.completions.create(
        model="offline", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "A shop with orders"},
                                               {"type": "text", "text": "and customers"}]}])
    chunks = [chunk async for chunk in stream]
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1
    run = await Run.objects.aget()
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == text
    user = await Message.objects.aget(pk=run.user_message_id)
    assert user.content == "A shop with orders\nand customers"


async def test_through_the_fake_upstream_history_instructions_and_limits(client, fake_openai):
    fake_openai.set_script(text_script(6))
    stream = await client.chat.completions.create(
        model=FAKE_MODEL, stream=True, temperature=0.3, max_completion_tokens=200,
        messages=[{"role": "developer", "content": "Answer like a pirate."},
                  {"role": "user", "content": "My name is Ada."},
                  {"role": "assistant", "content": "Ahoy Ada."},
                  {"role": "user", "content": "What is my name?"}])
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(text_script(6).text)
    sent = upstream_body(fake_openai)
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 200  # a compatible upstream: max_tokens
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "Answer like a pirate." in sent["messages"][0]["content"]
    assert [m["content"] for m in sent["messages"][1:]] == ["My name is Ada.", "Ahoy Ada.", "What is my name?"]


async def test_client_tools_are_offered_and_calls_handed_back_unexecuted(client, fake_openai):
    call = ToolCallScript(name="get_weather", arguments='{"city": "Lisbon"}', id="call_w1")
    fake_openai.set_script(Script(text=["Let me check. "], tool_calls=[call]))
    stream = await client.chat.completions.create(
        model=FAKE_MODEL, stream=True, tools=[WEATHER_TOOL], tool_choice="auto",
        messages=[{"role": "user", "content": "Weather in Lisbon?"}])
    chunks = [chunk async for chunk in stream]
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert len(calls) == 1 and calls[0].id == "call_w1" and calls[0].index == 0
    assert calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments) == {"city": "Lisbon"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert len(fake_openai.requests) == 1  # not executed: no second round upstream
    sent = upstream_body(fake_openai)
    assert "get_weather" in [t["function"]["name"] for t in sent["tools"]] and sent["tool_choice"] == "auto"
    run = await Run.objects.aget()
    assert run.status == "completed"
    stored = await Message.objects.aget(pk=run.assistant_message_id)
    assert stored.parts["toolCalls"][0] == {"id": "call_w1", "tool": "get_weather", "args": {"city": "Lisbon"},
                                            "client": True}

    # Non-streaming, with the function forced; then the client sends the result back.
    fake_openai.set_script(Script(tool_calls=[call]))
    forced = {"type": "function", "function": {"name": "get_weather"}}
    result = await client.chat.completions.create(model=FAKE_MODEL, tools=[WEATHER_TOOL], tool_choice=forced,
                                                  messages=[{"role": "user", "content": "Weather in Lisbon?"}])
    assert result.choices[0].finish_reason == "tool_calls" and result.choices[0].message.content is None
    assert result.choices[0].message.tool_calls[0].function.arguments == '{"city": "Lisbon"}'
    assert upstream_body(fake_openai)["tool_choice"] == forced

    fake_openai.set_script(Script.from_text("It is sunny in Lisbon."))
    answer = await client.chat.completions.create(model=FAKE_MODEL, tools=[WEATHER_TOOL], messages=[
        {"role": "user", "content": "Weather in Lisbon?"},
        result.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "call_w1", "content": '{"sky": "sunny"}'}])
    assert answer.choices[0].message.content == "It is sunny in Lisbon." and answer.choices[0].finish_reason == "stop"
    turns = upstream_body(fake_openai)["messages"]
    assert "get_weather" in turns[-2]["content"] and turns[-1]["role"] == "user"
    assert '{"sky": "sunny"}' in turns[-1]["content"] and "call_w1" in turns[-1]["content"]


async def test_project_header_selects_the_project_and_its_documents(client, tenant_async, fake_openai):
    from apps.knowledge.services import document_upload
    from apps.projects.services import project_create

    other = await sync_to_async(project_create)(workspace=tenant_async.workspace, name="Kitchen Robot")
    await sync_to_async(document_upload)(project=other, path="docs/robot.md", mode="inline",
                                         content="# Robot\n\nThe kitchen robot's arm is driven by a zorblax motor.")
    fake_openai.set_script(text_script(3))
    question = [{"role": "user", "content": "What drives the robot's arm?"}]
    await client.chat.completions.create(model=FAKE_MODEL, messages=question,
                                         extra_headers={"X-Project-Id": other.slug})
    assert "zorblax" in upstream_body(fake_openai)["messages"][0]["content"]
    run = await Run.objects.select_related("chat").aget()
    assert run.chat.project_id == other.pk
    assert (await Message.objects.aget(pk=run.assistant_message_id)).parts["sources"][0]["path"] == "docs/robot.md"

    await client.chat.completions.create(model=FAKE_MODEL, messages=question,
                                         extra_headers={"X-Project-Id": str(other.pk)})
    assert "zorblax" in upstream_body(fake_openai)["messages"][0]["content"]
    await client.chat.completions.create(model=FAKE_MODEL, messages=question)  # the default project
    assert "zorblax" not in upstream_body(fake_openai)["messages"][0]["content"]


async def test_chat_header_keeps_turns_in_one_chat(client):
    for text in ("A blog with posts", "and comments"):
        await client.chat.completions.create(model="offline", messages=[{"role": "user", "content": text}],
                                             extra_headers={"X-Chat-Id": "my-session-1"})
    chats = {run.chat_id async for run in Run.objects.all()}
    assert len(chats) == 1


async def test_errors_in_openai_shape(client, asgi_server, tenant_async, fake_openai):
    with pytest.raises(openai.NotFoundError) as unknown:
        await client.chat.completions.create(model="gpt-99", messages=[{"role": "user", "content": "hi"}])
    error = unknown.value.body
    assert unknown.value.status_code == 404 and error["code"] == "model_not_found" and error["param"] == "model"
    assert "offline" in error["available_models"] and "offline" in error["message"]

    with pytest.raises(openai.BadRequestError) as many:
        await client.chat.completions.create(model="offline", n=2, messages=[{"role": "user", "content": "hi"}])
    assert many.value.body["param"] == "n" and many.value.body["type"] == "invalid_request_error"

    async with openai.AsyncOpenAI(base_url=f"{asgi_server.url}/v1", api_key="bp_wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as denied:
            await bad.chat.completions.create(model="offline", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.AuthenticationError):
            await bad.models.list()
    assert denied.value.status_code == 401 and denied.value.body["code"] == "invalid_api_key"

    foreign = await sync_to_async(make_tenant)("foreign")
    answers = []
    for project in (str(foreign.project.pk), str(uuid.uuid4()), foreign.project.slug):
        with pytest.raises(openai.NotFoundError) as missing:
            await client.chat.completions.create(model="offline", messages=[{"role": "user", "content": "hi"}],
                                                 extra_headers={"X-Project-Id": project})
        answers.append(missing.value.body)
    assert answers[0] == answers[1] == answers[2]
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == 2  # the tenants' default chats


async def test_upstream_failure_mid_request(client, fake_openai):
    fake_openai.set_script(Script.error(400, error_message="tool schema rejected"))
    with pytest.raises(openai.BadRequestError) as refused:
        await client.chat.completions.create(model=FAKE_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "tool schema rejected" in refused.value.body["message"]
    fake_openai.set_script(Script(text=["partial "] * 3, drop_after=2))
    stream = await client.chat.completions.create(model=FAKE_MODEL, stream=True,
                                                  messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.APIError) as broken:
        async for _chunk in stream:
            pass
    assert broken.value.body["code"] == "stream_interrupted"


async def test_models_list_and_retrieve(client, fake_openai):
    listed = await client.models.list()
    names = [model.id for model in listed.data]
    assert "offline" in names and FAKE_MODEL in names and "claude-sonnet-5.5" not in names
    assert all(model.object == "model" for model in listed.data)
    one = await client.models.retrieve("offline")
    assert one.id == "offline" and one.owned_by == "offline"


BAD_BODIES = [
    pytest.param("{oops", "body", id="malformed-json"),
    pytest.param({"messages": [{"role": "user", "content": "hi"}]}, "model", id="no-model"),
    pytest.param({"model": "offline", "messages": []}, "messages", id="no-messages"),
    pytest.param({"model": "offline", "messages": "hi"}, "messages", id="messages-wrong-type"),
    pytest.param({"model": "offline", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role",
                 id="unknown-role"),
    pytest.param({"model": "offline", "messages": [{"role": "user", "content": 5}]}, "messages[0].content",
                 id="content-wrong-type"),
    pytest.param({"model": "offline", "messages": [{"role": "user", "content": "x" * 20_001}]},
                 "messages[0].content", id="oversize"),
    pytest.param({"model": "offline", "messages": [{"role": "user", "content": "x"}] * 102}, "messages",
                 id="too-many-messages"),
    pytest.param({"model": "offline", "messages": [{"role": "assistant", "content": "x"}]}, "messages[0].role",
                 id="last-not-user"),
    pytest.param({"model": "offline", "temperature": 7, "messages": [{"role": "user", "content": "x"}]},
                 "temperature", id="temperature"),
    pytest.param({"model": "offline", "max_tokens": 10**9, "messages": [{"role": "user", "content": "x"}]},
                 "max_tokens", id="max-tokens-over-limit"),
    pytest.param({"model": "offline", "max_tokens": "9", "messages": [{"role": "user", "content": "x"}]},
                 "max_tokens", id="max-tokens-type"),
    pytest.param({"model": "offline", "tools": [{"type": "function", "function": {"name": "write_file"}}],
                  "messages": [{"role": "user", "content": "x"}]}, "tools[0].function.name", id="tool-name-taken"),
    pytest.param({"model": "offline", "tool_choice": {"type": "function", "function": {"name": "nope"}},
                  "tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": "x"}]}, "tool_choice",
                 id="tool-choice-unknown"),
    pytest.param({"model": "offline", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}, "stream",
                 id="stream-type"),
    pytest.param({"model": "offline", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]},
        "messages[0].content[0].image_url.url", id="remote-image"),
]


@pytest.mark.parametrize(("body", "param"), BAD_BODIES)
async def test_bad_input_is_400_naming_the_parameter(asgi_server, tenant_async, fake_openai, body, param):
    chats = await Chat.objects.acount()
    response = await asgi_server.session.post(
        f"{asgi_server.url}/v1/chat/completions", data=body if isinstance(body, str) else json.dumps(body),
        headers={"Authorization": f"Bearer {tenant_async.raw_key}", "Content-Type": "application/json"})
    payload = await response.json()
    assert response.status == 400, payload
    assert set(payload["error"]) >= {"message", "type", "param", "code"} and payload["error"]["param"] == param
    assert payload["error"]["type"] == "invalid_request_error" and payload["error"]["message"]
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == chats
    assert await Project.objects.acount() == 1


@pytest.mark.parametrize("stream", [True, False])
async def test_closing_the_connection_stops_the_run(asgi_server, tenant_async, fake_openai, stream):
    import asyncio

    fake_openai.set_script(text_script(300, delay=0.02))
    body = {"model": FAKE_MODEL, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    response_task = asyncio.create_task(asgi_server.session.post(
        f"{asgi_server.url}/v1/chat/completions", data=json.dumps(body),
        headers={"Authorization": f"Bearer {tenant_async.raw_key}", "Content-Type": "application/json"}))
    async with asyncio.timeout(10):
        while not fake_openai.requests:
            await asyncio.sleep(0.02)  # waiting for the upstream call, with a deadline
    if stream:
        response = await response_task
        await response.content.readline()
        response.close()
    else:
        response_task.cancel()
    async with asyncio.timeout(10):
        while not await Run.objects.filter(status="stopped").aexists():
            await asyncio.sleep(0.05)  # polling a database condition with a deadline
    assert await fake_openai.await_disconnect(timeout=5)


async def test_rate_limit_is_429_with_retry_after(client, fast_engine):
    fast_engine.RATE_LIMIT_PER_MINUTE = 1
    await client.chat.completions.create(model="offline", messages=[{"role": "user", "content": "one"}])
    with pytest.raises(openai.RateLimitError) as limited:
        await client.chat.completions.create(model="offline", messages=[{"role": "user", "content": "two"}])
    assert limited.value.status_code == 429 and limited.value.body["code"] == "rate_limit_exceeded"
    assert int(limited.value.response.headers["Retry-After"]) > 0
    assert await Chat.objects.filter(title="two").acount() == 0  # the request's fresh chat was discarded
