"""Seed 000 (DSL chat) over real HTTP and WebSocket: POST /api/chat, GET /api/chat/{chatId}/stream, WS /api/chat/ws."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from tests.engine.conftest import FAKE_MODEL, text_script
from tests.streaming.conftest import SSEEvent, read_sse

pytestmark = pytest.mark.django_db(transaction=True)

BLOG = "I need a blog with posts, authors, and comments"


def headers(tenant: Any, **extra: str) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json", **extra}


async def post_chat(live: Any, tenant: Any, body: dict[str, Any] | str, **extra: str) -> aiohttp.ClientResponse:
    data = body if isinstance(body, str) else json.dumps(body)
    return await live.session.post(f"{live.url}/api/chat", data=data, headers=headers(tenant, **extra))


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def text_of(frames: list[SSEEvent]) -> str:
    return "".join(f.data["content"] for f in frames if f.data["type"] == "text")


async def test_post_streams_seed_frames_with_a_new_chat_and_dsl(asgi_server, tenant_async):
    chats_before = await Chat.objects.filter(project__workspace=tenant_async.workspace).acount()
    response = await post_chat(asgi_server, tenant_async, {"messages": [user(BLOG)]})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["X-Accel-Buffering"] == "no"
    frames = await read_sse(response)
    chat_id = response.headers["X-Chat-Id"]
    assert frames[0].data == {"type": "chat", "content": {"chatId": chat_id}} and frames[0].id is None
    assert frames[-1].data == {"type": "done", "content": ""}
    kinds = {f.data["type"] for f in frames}
    assert kinds <= {"chat", "text", "dsl", "phase", "done"}
    assert all(set(f.data) == {"type", "content"} for f in frames)
    dsl = [f.data["content"] for f in frames if f.data["type"] == "dsl"]
    assert dsl, "the offline provider proposes a domain model for a blog"
    assert set(dsl[-1]) == {"entities", "relationships", "phase", "readiness", "confidence"}
    assert {"Post", "Comment"} <= set(dsl[-1]["entities"])
    assert any(f.data["type"] == "phase" and isinstance(f.data["content"], str) for f in frames)
    ids = [f.id for f in frames[1:]]
    assert all(i is not None for i in ids) and ids == sorted(ids)
    chat = await Chat.objects.select_related("project").aget(pk=chat_id)
    assert chat.project.workspace_id == tenant_async.workspace.pk
    assert await Chat.objects.filter(project__workspace=tenant_async.workspace).acount() == chats_before + 1
    answer = await Message.objects.aget(chat=chat, role="assistant")
    assert answer.content == text_of(frames) and answer.status == "complete"


async def test_enable_dsl_false_sends_no_dsl_frames(asgi_server, tenant_async):
    response = await post_chat(asgi_server, tenant_async, {"messages": [user(BLOG)], "enableDSL": False})
    frames = await read_sse(response)
    assert frames[-1].data["type"] == "done"
    assert not [f for f in frames if f.data["type"] in ("dsl", "phase")]
    assert text_of(frames)


async def test_earlier_messages_are_the_history_and_options_reach_the_upstream(asgi_server, tenant_async,
                                                                              fake_openai):
    fake_openai.set_script(text_script(5))
    body = {"messages": [user("first question"), {"role": "assistant", "content": "first answer"},
                         user("second question")], "model": FAKE_MODEL, "temperature": 0.3}
    response = await post_chat(asgi_server, tenant_async, body)
    frames = await read_sse(response)
    assert text_of(frames) == "".join(f"tok{i} " for i in range(5))
    sent = fake_openai.last_request.body
    contents = [m.get("content") for m in sent["messages"]]
    assert contents[-3:] == ["first question", "first answer", "second question"]
    assert sent["temperature"] == 0.3 and sent["model"] == FAKE_MODEL
    # Only the turn itself is stored: the earlier messages were the client's history.
    chat_id = response.headers["X-Chat-Id"]
    assert [m async for m in Message.objects.filter(chat_id=chat_id, role="user").values_list("content", flat=True)] \
        == ["second question"]


async def test_client_chat_id_is_created_once_then_continued(asgi_server, tenant_async):
    first = await post_chat(asgi_server, tenant_async, {"messages": [user("hello there")], "chatId": "chat_xyz"})
    frames = await read_sse(first)
    assert first.status == 200 and not [f for f in frames if f.data["type"] == "chat"]
    second = await post_chat(asgi_server, tenant_async, {"messages": [user("and again")], "chatId": "chat_xyz"})
    await read_sse(second)
    assert first.headers["X-Chat-Id"] == second.headers["X-Chat-Id"]
    assert await Message.objects.filter(chat_id=first.headers["X-Chat-Id"], role="user").acount() == 2
    # The same client id in another workspace is another chat.
    from tests.conftest import make_tenant

    other = await sync_to_async(make_tenant)("other")
    theirs = await post_chat(asgi_server, other, {"messages": [user("hi")], "chatId": "chat_xyz"})
    await read_sse(theirs)
    assert theirs.headers["X-Chat-Id"] != first.headers["X-Chat-Id"]


async def test_chat_uuid_of_another_workspace_is_a_404_like_a_missing_one(asgi_server, tenant_async):
    from tests.conftest import make_tenant

    other = await sync_to_async(make_tenant)("other")
    theirs = await Chat.objects.filter(project=other.project).afirst()
    answers = []
    for chat_id in (str(theirs.pk), "00000000-0000-0000-0000-000000000000"):
        response = await post_chat(asgi_server, tenant_async, {"messages": [user("hi")], "chatId": chat_id})
        answers.append((response.status, await response.json()))
        stream = await asgi_server.session.get(f"{asgi_server.url}/api/chat/{chat_id}/stream",
                                               headers=headers(tenant_async))
        answers.append((stream.status, await stream.json()))
    assert answers[0] == answers[2] == (404, {"error": {"code": "NOT_FOUND", "message": "Chat not found."}})
    assert answers[1] == answers[3] == (404, {"error": {"code": "NOT_FOUND", "message": "Chat not found."}})
    assert await Message.objects.acount() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ({}, "messages"),
        ({"messages": "hello"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x" * 20_001}]}, "messages[0].content"),
        ({"messages": [{"role": "wizard", "content": "hi"}, user("hi")]}, "messages[0].role"),
        ({"messages": [user("hi"), {"role": "assistant", "content": "last"}]}, "messages[1].role"),
        ({"messages": [user("hi")] * 102}, "messages"),
        ({"messages": [user("hi")], "temperature": 2.5}, "temperature"),
        ({"messages": [user("hi")], "temperature": "hot"}, "temperature"),
        ({"messages": [user("hi")], "enableDSL": "yes"}, "enableDSL"),
        ({"messages": [user("hi")], "chatId": "has spaces/and slash"}, "chatId"),
        ({"messages": [user("hi")], "chatId": 12}, "chatId"),
        ({"messages": [user("hi")], "model": FAKE_MODEL, "maxTokens": 10**9}, "maxTokens"),
    ],
)
async def test_bad_input_is_invalid_request_before_any_provider_call(asgi_server, tenant_async, fake_openai,
                                                                    body, field):
    chats_before = await Chat.objects.acount()
    response = await post_chat(asgi_server, tenant_async, body)
    payload = await response.json()
    assert response.status == 400, payload
    assert payload["error"]["code"] == "INVALID_REQUEST" and payload["error"]["field"] == field
    assert payload["error"]["message"]
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == chats_before


async def test_unknown_model_is_invalid_model_with_the_available_ones(asgi_server, tenant_async):
    chats_before = await Chat.objects.acount()
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("hi")], "model": "gpt-99"})
    payload = await response.json()
    assert response.status == 400
    assert payload["error"]["code"] == "INVALID_MODEL"
    assert payload["error"]["message"] == "Model 'gpt-99' is not available"
    assert "offline" in payload["error"]["availableModels"]
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == chats_before


async def test_a_provider_without_a_key_is_llm_error_with_details(asgi_server, tenant_async):
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("hi")], "model": "claude-3.5-sonnet"})
    payload = await response.json()
    assert response.status == 503
    assert payload["error"]["code"] == "LLM_ERROR"
    assert payload["error"]["details"] == "Check your ANTHROPIC_API_KEY"
    assert await Message.objects.acount() == 0


async def test_rate_limited_has_retry_after_and_leaves_no_chat(asgi_server, tenant_async, fast_engine):
    fast_engine.RATE_LIMIT_PER_MINUTE = 1
    await read_sse(await post_chat(asgi_server, tenant_async, {"messages": [user("one")]}))
    chats_before = await Chat.objects.acount()
    limited = await post_chat(asgi_server, tenant_async, {"messages": [user("two")]})
    payload = await limited.json()
    assert limited.status == 429 and payload["error"]["code"] == "RATE_LIMITED"
    assert payload["error"]["retryAfter"] == int(limited.headers["Retry-After"]) > 0
    assert payload["error"]["message"].startswith("Too many requests.")
    assert await Chat.objects.acount() == chats_before


async def test_unauthenticated_is_rejected(asgi_server, tenant_async):
    response = await asgi_server.session.post(f"{asgi_server.url}/api/chat", data=json.dumps({"messages": [user("x")]}))
    assert response.status == 401 and (await response.json())["error"]["code"] == "UNAUTHENTICATED"


async def test_mid_stream_upstream_error_is_an_error_frame(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(10, error_after=3))
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("hi")], "model": FAKE_MODEL})
    frames = await read_sse(response)
    assert frames[-1].data["type"] == "error"
    error = frames[-1].data["content"]
    assert error["code"] == "LLM_ERROR" and error["message"] and isinstance(error["retry"], bool)
    assert text_of(frames) == "tok0 tok1 tok2 "


# --- GET /api/chat/{chatId}/stream ------------------------------------------------------------------


async def test_stream_returns_history_then_the_active_run_live_without_duplicates(asgi_server, tenant_async,
                                                                                 fake_openai):
    fake_openai.set_script(text_script(60, delay=0.03))
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("tell me")], "model": FAKE_MODEL})
    head = await read_sse(response, limit=6)  # chat + run frames
    chat_id = response.headers["X-Chat-Id"]
    attach = await asgi_server.session.get(f"{asgi_server.url}/api/chat/{chat_id}/stream",
                                           headers=headers(tenant_async))
    assert attach.status == 200 and attach.headers["X-Chat-Id"] == chat_id
    frames = await read_sse(attach)
    history = frames[0].data
    assert history["type"] == "history" and history["content"]["chatId"] == chat_id
    assert [(m["role"], m["content"]) for m in history["content"]["messages"]] == [("user", "tell me")]
    assert history["content"]["activeRunId"] == attach.headers["X-Run-Id"]
    assert frames[-1].data == {"type": "done", "content": ""}
    full = "".join(f"tok{i} " for i in range(60))
    assert text_of(frames[1:]) == full  # replayed from the run's start, then live
    rest = await read_sse(response)
    assert text_of(head + rest) == full

    # A reconnect with Last-Event-ID gets only what came after it: no history, no repeats.
    cut = head[3].id
    resumed = await asgi_server.session.get(f"{asgi_server.url}/api/chat/{chat_id}/stream",
                                            headers=headers(tenant_async, **{"Last-Event-ID": str(cut)}))
    tail = await read_sse(resumed)
    assert tail[0].data["type"] != "history" and all(f.id > cut for f in tail if f.id is not None)
    assert text_of([f for f in head if f.id is not None and f.id <= cut] + tail) == full

    # Past the end: only done.
    last = max(f.id for f in rest if f.id is not None)
    after_end = await asgi_server.session.get(f"{asgi_server.url}/api/chat/{chat_id}/stream",
                                              headers=headers(tenant_async, **{"Last-Event-ID": str(last)}))
    assert [f.data for f in await read_sse(after_end)] == [{"type": "done", "content": ""}]


async def test_stream_of_an_idle_chat_is_its_history_and_done(asgi_server, tenant_async):
    await read_sse(await post_chat(asgi_server, tenant_async, {"messages": [user("hello")], "chatId": "chat_xyz"}))
    response = await asgi_server.session.get(f"{asgi_server.url}/api/chat/chat_xyz/stream",
                                             headers=headers(tenant_async))
    frames = await read_sse(response)
    assert [f.data["type"] for f in frames] == ["history", "done"]
    messages = frames[0].data["content"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["status"] == "complete" and messages[1]["content"]
    bad = await asgi_server.session.get(f"{asgi_server.url}/api/chat/chat_xyz/stream",
                                        headers=headers(tenant_async, **{"Last-Event-ID": "x"}))
    assert bad.status == 400 and (await bad.json())["error"]["field"] == "Last-Event-ID"


async def test_stop_endpoint_stops_the_running_answer(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("go")], "model": FAKE_MODEL})
    await read_sse(response, limit=3)
    stop = await asgi_server.session.post(f"{asgi_server.url}/api/chat/stop",
                                          data=json.dumps({"chatId": response.headers["X-Chat-Id"]}),
                                          headers=headers(tenant_async))
    assert stop.status == 200 and (await stop.json())["stopped"] is True
    rest = await read_sse(response)
    assert rest[-1].data == {"type": "done", "content": "", "stopped": True}
    run = await Run.objects.aget(pk=response.headers["X-Run-Id"])
    assert run.status == "stopped"


# --- WebSocket /api/chat/ws -------------------------------------------------------------------------


async def ws_until_done(ws: aiohttp.ClientWebSocketResponse, timeout: float = 20) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.receive_json()
            frames.append(frame)
            if frame["type"] in ("done", "error"):
                return frames


async def test_websocket_message_frames_continue_the_sockets_chat(asgi_server, tenant_async):
    ws = await asgi_server.session.ws_connect(asgi_server.ws_url("/api/chat/ws"),
                                              headers={"X-API-Key": tenant_async.raw_key})
    await ws.send_json({"type": "message", "content": "Create a task management system"})
    frames = await ws_until_done(ws)
    assert frames[0]["type"] == "chat"
    chat_id = frames[0]["content"]["chatId"]
    assert frames[-1]["type"] == "done" and any(f["type"] == "dsl" for f in frames)
    assert all("id" in f for f in frames[1:])
    await ws.send_json({"type": "message", "content": "Add projects with tasks"})
    second = await ws_until_done(ws)
    assert second[0]["type"] != "chat"
    assert await Message.objects.filter(chat_id=chat_id, role="user").acount() == 2
    await ws.send_json({"type": "message"})
    error = await ws.receive_json()
    assert error["type"] == "error" and error["content"]["field"] == "content"
    await ws.send_str("{nope")
    error = await ws.receive_json()
    assert error["type"] == "error" and error["content"]["code"] == "INVALID_REQUEST"
    await ws.send_json({"type": "resume"})
    resumed = await ws_until_done(ws)
    assert resumed[0]["type"] == "history" and len(resumed[0]["content"]["messages"]) == 4
    await ws.send_json({"type": "message", "content": "hi", "chatId": "00000000-0000-0000-0000-000000000000"})
    missing = await ws.receive_json()
    assert missing == {"type": "error", "content": {"code": "NOT_FOUND", "message": "Chat not found."}}
    assert await Message.objects.filter(role="user").acount() == 2
    await ws.close()


async def test_websocket_stop_and_authentication(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    anonymous = await asgi_server.session.ws_connect(asgi_server.ws_url("/api/chat/ws"))
    refused = await anonymous.receive_json()
    assert refused["type"] == "error" and refused["content"]["code"] == "UNAUTHENTICATED"
    await anonymous.close()
    ws = await asgi_server.session.ws_connect(asgi_server.ws_url("/api/chat/ws"),
                                              headers={"X-API-Key": tenant_async.raw_key})
    await ws.send_json({"type": "message", "content": "go", "model": FAKE_MODEL})
    assert (await ws.receive_json())["type"] == "chat"
    assert (await ws.receive_json())["type"] == "text"
    await ws.send_json({"type": "stop"})
    frames = await ws_until_done(ws)
    assert any(f["type"] == "stopped" and f["content"]["stopped"] for f in frames)
    assert frames[-1]["type"] == "done" and frames[-1]["stopped"] is True
    await ws.close()


async def test_openai_compatible_upstream_streams_dsl_frames(asgi_server, tenant_async, fake_openai):
    from tests.fakes.script import Script, ToolCallScript

    arguments = json.dumps({"entities": {"Task": {"fields": {"id": {"type": "uuid", "required": True},
                                                             "title": {"type": "string", "required": True}}}},
                            "relationships": [], "phase": "proposing", "confidence": 0.7})
    fake_openai.enqueue(Script(tool_calls=[ToolCallScript(name="update_domain_model", arguments=arguments,
                                                          id="call_1")]))
    fake_openai.enqueue(Script.from_text("I added a Task entity."))
    response = await post_chat(asgi_server, tenant_async, {"messages": [user("tasks please")], "model": FAKE_MODEL})
    frames = await read_sse(response)
    dsl = [f.data["content"] for f in frames if f.data["type"] == "dsl"]
    assert dsl and "Task" in dsl[-1]["entities"] and dsl[-1]["confidence"] == 0.7
    assert "Task" in text_of(frames) and frames[-1].data["type"] == "done"
    assert len(fake_openai.requests) == 2


# --- the seed's own JavaScript, run by node against the live server ----------------------------------

JS = Path(__file__).parent / "js"


async def run_node(live: Any, tenant: Any, script: str, *flags: str, timeout: float = 60) -> str:
    from tests.domain.node_tools import node

    process = await asyncio.create_subprocess_exec(
        node(), *flags, "--import", str(JS / "harness.mjs"), str(JS / script),
        env={**os.environ, "BLUEPRINT_URL": live.url, "BLUEPRINT_API_KEY": tenant.raw_key},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(timeout):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_seeds_fetch_example_runs_unchanged_in_node(asgi_server, tenant_async):
    out = await run_node(asgi_server, tenant_async, "seed000_fetch.mjs")
    lines = out.splitlines()
    assert any(line.startswith("AI: ") for line in lines)
    assert any(line.startswith("DSL Update: {") for line in lines)
    assert any(line.startswith("Phase: ") for line in lines)
    assert "Post" in out and "Comment" in out
    answer = await Message.objects.aget(role="assistant", chat__project__workspace=tenant_async.workspace)
    assert printed_text(lines) == answer.content  # every text frame was printed, in order


def printed_text(lines: list[str]) -> str:
    """The text of the ``AI:`` items console.log printed (an item runs until the next labelled line)."""
    items: list[list[str]] = []
    for line in lines:
        if line.startswith(("AI: ", "DSL Update: ", "Phase: ")):
            items.append([line])
        elif items:
            items[-1].append(line)
    return "".join("\n".join(item)[len("AI: "):] for item in items if item[0].startswith("AI: "))


async def test_the_seeds_websocket_example_runs_unchanged_in_node(asgi_server, tenant_async):
    out = await run_node(asgi_server, tenant_async, "seed000_ws.mjs", "--experimental-websocket")
    received = out.split("Received: ")[1:]
    assert received[0].split("\n")[1].strip() == "type: 'chat',"
    kinds = {part.replace("\n", " ").split("type: '", 1)[1].split("'", 1)[0] for part in received}
    assert {"chat", "text", "dsl", "done"} <= kinds
    assert received[-1].startswith("{ type: 'done', content: ''")
    assert await Message.objects.filter(chat__project__workspace=tenant_async.workspace,
                                        content="Create a task management system").aexists()
