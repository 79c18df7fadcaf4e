"""Seed 004 (simple chat) over real HTTP: the JSON completion of POST /api/chat, POST /api/chat/stream and
POST /api/chat/reason — including the seed's own curl examples, run by curl."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message
from apps.projects.services import project_create
from tests.engine.conftest import FAKE_MODEL, text_script
from tests.fakes.script import Script
from tests.streaming.conftest import SSEEvent, read_sse

pytestmark = pytest.mark.django_db(transaction=True)

JS = Path(__file__).parent / "js"
SEED_ORIGIN = "https://testing.codmir.com"


def headers(tenant: Any, **extra: str) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json", **extra}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


async def post(live: Any, tenant: Any, path: str, body: dict[str, Any] | str, **extra: str) -> aiohttp.ClientResponse:
    data = body if isinstance(body, str) else json.dumps(body)
    return await live.session.post(f"{live.url}{path}", data=data, headers=headers(tenant, **extra))


async def run_curl(live: Any, tenant: Any, example: str, tmp_path: Path, timeout: float = 60) -> str:
    """Run one of the seed's curl commands (verbatim but for the origin) against the live server.

    The API key comes from a ``.curlrc`` (curl reads ``$CURL_HOME/.curlrc``), so the command
    itself stays as the seed wrote it.
    """
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    (tmp_path / ".curlrc").write_text(f'silent\nheader = "X-API-Key: {tenant.raw_key}"\n')
    command = (JS / example).read_text().replace(SEED_ORIGIN, live.url)
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command, env={**os.environ, "CURL_HOME": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(timeout):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def my_project(tenant: Any) -> Any:
    # The seed's examples name the project "my-project": its slug.
    return await sync_to_async(project_create)(workspace=tenant.workspace, name="My Project")


async def test_the_seeds_simple_curl_example_gets_the_json_completion(asgi_server, tenant_async, fake_openai,
                                                                     tmp_path):
    project = await my_project(tenant_async)
    assert project.slug == "my-project"
    fake_openai.set_script(Script.from_text("Authentication is implemented using API keys.", usage=(150, 200)))
    body = json.loads(await run_curl(asgi_server, tenant_async, "seed004_curl_simple.sh", tmp_path))
    assert set(body) == {"id", "sessionId", "content", "role", "model", "provider", "usage", "createdAt"}
    assert body["content"] == "Authentication is implemented using API keys."
    assert body["role"] == "assistant" and body["provider"] == "openai"
    assert body["usage"] == {"promptTokens": 150, "completionTokens": 200, "totalTokens": 350}
    assert datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00")).tzinfo is not None
    chat = await Chat.objects.aget(pk=body["sessionId"])
    assert chat.project_id == project.pk
    answer = await Message.objects.aget(pk=body["id"])
    assert answer.chat_id == chat.pk and answer.content == body["content"] and answer.model == body["model"]
    sent = fake_openai.last_request.body
    assert sent["messages"][-1]["content"] == "What does this project do?"


async def test_the_seeds_reason_curl_example_streams(asgi_server, tenant_async, fake_openai, tmp_path):
    await my_project(tenant_async)
    fake_openai.set_script(Script(reasoning=["Think ", "first."], text=["The ", "architecture."]))
    out = await run_curl(asgi_server, tenant_async, "seed004_curl_reason.sh", tmp_path)
    frames = [json.loads(line[len("data: "):]) for line in out.splitlines() if line.startswith("data: ")]
    session = frames[0]["sessionId"]
    assert all(frame["sessionId"] == session for frame in frames)
    assert "".join(f["reasoning"] for f in frames if "reasoning" in f) == "Think first."
    assert "".join(f["content"] for f in frames if "content" in f) == "The architecture."
    assert frames[-1]["done"] is True
    assert list(frames[-1])[:2] == ["done", "sessionId"]


async def test_without_the_project_the_example_is_a_clear_404(asgi_server, tenant_async, fake_openai, tmp_path):
    body = json.loads(await run_curl(asgi_server, tenant_async, "seed004_curl_simple.sh", tmp_path))
    assert body == {"error": {"code": "NOT_FOUND", "message": "Project not found."}}
    assert len(fake_openai.requests) == 0 and await Message.objects.acount() == 0


@pytest.mark.parametrize(
    ("accept", "extra", "json_answer"),
    [
        ("application/json", {}, True),  # SPEC: Accept asks for JSON
        ("*/*", {"stream": False}, True),
        ("*/*", {"projectId": "my-project"}, True),  # a field only seed 004 sends
        ("*/*", {}, False),  # seed 000's shape
        ("text/event-stream", {"projectId": "my-project"}, False),
        ("*/*", {"projectId": "my-project", "stream": True}, False),
    ],
)
async def test_post_chat_picks_json_or_sse(asgi_server, tenant_async, accept, extra, json_answer):
    await my_project(tenant_async)
    response = await post(asgi_server, tenant_async, "/api/chat", {"messages": [user("hello")], **extra},
                          Accept=accept)
    assert response.status == 200
    if json_answer:
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["role"] == "assistant"
    else:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert (await read_sse(response))[-1].data == {"type": "done", "content": ""}


async def test_session_continues_and_system_prompt_reaches_the_model(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(3))
    first = await (await post(asgi_server, tenant_async, "/api/chat",
                              {"messages": [user("first")], "provider": "openai", "model": FAKE_MODEL})).json()
    second = await post(asgi_server, tenant_async, "/api/chat",
                        {"messages": [user("second")], "sessionId": first["sessionId"], "model": FAKE_MODEL,
                         "systemPrompt": "You are terse.", "temperature": 1.5, "maxTokens": 100})
    body = await second.json()
    assert body["sessionId"] == first["sessionId"] and second.headers["X-Session-Id"] == first["sessionId"]
    sent = fake_openai.last_request.body
    contents = [m.get("content") for m in sent["messages"]]
    assert contents[-3:] == ["first", "tok0 tok1 tok2 ", "second"]
    assert "You are terse." in sent["messages"][0]["content"]
    assert sent["temperature"] == 1.5
    assert 100 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))


async def test_another_workspaces_session_or_project_is_a_404_like_a_missing_one(asgi_server, tenant_async):
    from tests.conftest import make_tenant

    other = await sync_to_async(make_tenant)("other")
    theirs = await Chat.objects.filter(project=other.project).afirst()
    cases = [({"sessionId": str(theirs.pk)}, {"sessionId": "00000000-0000-0000-0000-000000000000"}, "Session"),
             ({"projectId": str(other.project.pk)}, {"projectId": "00000000-0000-0000-0000-000000000000"}, "Project"),
             ({"projectId": other.project.slug}, {"projectId": "no-such-project"}, "Project")]
    for foreign, missing, label in cases:
        answers = []
        for extra in (foreign, missing):
            for path in ("/api/chat", "/api/chat/stream"):
                response = await post(asgi_server, tenant_async, path, {"messages": [user("hi")], **extra})
                answers.append((response.status, await response.json()))
        assert answers == [(404, {"error": {"code": "NOT_FOUND", "message": f"{label} not found."}})] * 4
    assert await Message.objects.acount() == 0


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream", "/api/chat/reason"])
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ("{oops", 400, "INVALID_REQUEST", "body"),
        ({"messages": [{"role": "robot", "content": "hi"}, user("x")], "provider": "openai"}, 400,
         "INVALID_REQUEST", "messages[0].role"),
        ({"messages": [user("x" * 20_001)], "provider": "openai"}, 400, "INVALID_REQUEST", "messages[0].content"),
        ({"messages": [user("hi")], "temperature": -0.1, "provider": "openai"}, 400, "INVALID_REQUEST", "temperature"),
        ({"messages": [user("hi")], "maxTokens": "many", "provider": "openai"}, 400, "INVALID_REQUEST", "maxTokens"),
        ({"messages": [user("hi")], "maxTokens": 16_385, "model": FAKE_MODEL}, 400, "INVALID_REQUEST", "maxTokens"),
        # No model: the engine checks against the default model, after the new chat was made — and removed.
        ({"messages": [user("hi")], "maxTokens": 10**9}, 400, "INVALID_REQUEST", "maxTokens"),
        ({"messages": [user("hi")], "provider": "mistral"}, 400, "INVALID_REQUEST", "provider"),
        ({"messages": [user("hi")], "systemPrompt": ["x"]}, 400, "INVALID_REQUEST", "systemPrompt"),
        ({"messages": [user("hi")], "sessionId": "not-a-uuid"}, 404, "NOT_FOUND", None),
        ({"messages": [user("hi")], "model": "gpt-99", "provider": "openai"}, 400, "INVALID_MODEL", None),
        ({"messages": [user("hi")], "model": "offline", "provider": "openai"}, 400, "INVALID_MODEL", None),
    ],
)
async def test_bad_input_gets_an_error_before_any_provider_call(asgi_server, tenant_async, fake_openai,
                                                               path, body, status, code, field):
    chats_before = await Chat.objects.acount()
    response = await post(asgi_server, tenant_async, path, body)
    payload = await response.json()
    assert response.status == status, payload
    assert payload["error"]["code"] == code and payload["error"]["message"]
    if field is not None:
        assert payload["error"]["field"] == field
    if code == "INVALID_MODEL":
        assert payload["error"]["availableModels"]
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == chats_before


async def test_a_provider_with_no_key_is_llm_error(asgi_server, tenant_async):
    for provider, hint in (("openai", "OPENAI_API_KEY or OPENAI_BASE_URL"), ("anthropic", "ANTHROPIC_API_KEY")):
        response = await post(asgi_server, tenant_async, "/api/chat", {"messages": [user("hi")], "provider": provider})
        payload = await response.json()
        assert response.status == 503
        assert payload["error"]["code"] == "LLM_ERROR" and payload["error"]["details"] == f"Check your {hint}"
    offline = await (await post(asgi_server, tenant_async, "/api/chat",
                                {"messages": [user("a library with books")], "provider": "offline"})).json()
    assert offline["provider"] == "offline" and offline["model"] == "offline" and offline["content"]
    assert await Message.objects.acount() == 2


def stream_text(frames: list[SSEEvent]) -> str:
    return "".join(f.data.get("content", "") for f in frames)


async def test_stream_frames_heartbeats_and_no_server_timeout(asgi_server, tenant_async, fake_openai, fast_engine):
    # Quiet gaps far longer than the heartbeat interval: the transport keeps the stream open with
    # ": ping" comments and cuts nothing (no timeout anywhere on the way; see docs/dialects/seed000-004.md).
    fast_engine.SSE_HEARTBEAT_S = 0.1
    fake_openai.set_script(text_script(4, delay=0.8, usage=(7, 4)))
    response = await post(asgi_server, tenant_async, "/api/chat/stream", {"messages": [user("hi")],
                                                                        "model": FAKE_MODEL},
                          Accept="text/event-stream")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    comments: list[str] = []
    frames = await read_sse(response, comments=comments)
    session = response.headers["X-Session-Id"]
    assert comments.count(": ping") >= 10
    assert [set(f.data) for f in frames[:-1]] == [{"content", "sessionId"}] * 4
    assert stream_text(frames) == "tok0 tok1 tok2 tok3 "
    done = frames[-1].data
    assert done["done"] is True and done["sessionId"] == session
    assert done["usage"] == {"promptTokens": 7, "completionTokens": 4, "totalTokens": 11}
    assert (await Message.objects.aget(pk=done["id"])).content == stream_text(frames)


async def test_mid_stream_error_and_stop(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(10, error_after=2))
    frames = await read_sse(await post(asgi_server, tenant_async, "/api/chat/stream",
                                       {"messages": [user("hi")], "model": FAKE_MODEL}))
    assert frames[-1].data["error"]["code"] == "LLM_ERROR" and "sessionId" in frames[-1].data
    assert stream_text(frames[:-1]) == "tok0 tok1 "

    fake_openai.set_script(text_script(300, delay=0.02))
    response = await post(asgi_server, tenant_async, "/api/chat/stream", {"messages": [user("hi")],
                                                                        "model": FAKE_MODEL})
    await read_sse(response, limit=2)
    stop = await post(asgi_server, tenant_async, "/api/chat/stop", {"sessionId": response.headers["X-Session-Id"]})
    assert (await stop.json())["stopped"] is True
    rest = await read_sse(response)
    assert rest[-1].data["done"] is True and rest[-1].data["status"] == "stopped"


async def test_json_completion_of_a_failed_run_is_an_llm_error(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(10, error_after=2))
    response = await post(asgi_server, tenant_async, "/api/chat",
                          {"messages": [user("hi")], "model": FAKE_MODEL, "stream": False})
    payload = await response.json()
    assert response.status == 502 and payload["error"]["code"] == "LLM_ERROR"
    assert payload["error"]["sessionId"] and payload["error"]["details"]
