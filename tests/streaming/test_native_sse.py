"""Seed 001 over real HTTP: send (SSE), stop, resume, errors, heartbeats, cancel-on-close."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from apps.chats.models import Message, Run
from tests.engine.conftest import FAKE_MODEL, default_chat, text_script
from tests.streaming.conftest import read_sse

pytestmark = pytest.mark.django_db(transaction=True)


def headers(tenant: Any, **extra: str) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json", **extra}


async def post_message(live: Any, tenant: Any, body: dict[str, Any] | str, **extra: str) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return await live.session.post(f"{live.url}/api/chat/{tenant.project.pk}/messages", data=data,
                                   headers=headers(tenant, **extra))


async def wait_until(predicate: Any, timeout: float = 10.0) -> bool:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)  # polling a database condition with a deadline
    return True


async def test_send_streams_canonical_events_with_ids_and_sse_headers(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(8))
    chat = await default_chat(tenant_async)
    response = await post_message(asgi_server, tenant_async, {"chatId": str(chat.pk), "text": "Hello",
                                                              "model": FAKE_MODEL})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response.headers
    events = await read_sse(response)
    assert [e.id for e in events] == [e.data["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0].data["type"] == "run.started" and events[-1].data["type"] == "session.task_complete"
    assert all(e.data["chatId"] == str(chat.pk) for e in events)
    text = "".join(e.data["delta"] for e in events if e.data["type"] == "assistant.message_delta")
    run = await Run.objects.aget(pk=events[0].data["runId"])
    assert run.status == "completed" and response.headers["X-Run-Id"] == str(run.pk)
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == text


async def test_closing_the_connection_cancels_the_run(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    response = await post_message(asgi_server, tenant_async, {"text": "Hello", "model": FAKE_MODEL})
    first = await read_sse(response, limit=4)
    run_id = first[0].data["runId"]
    response.close()

    async def stopped() -> bool:
        return (await Run.objects.aget(pk=run_id)).status == "stopped"

    assert await wait_until(stopped)
    assert await fake_openai.await_disconnect(timeout=5)
    assert (await Message.objects.aget(pk=first[0].data["assistantMessageId"])).status == "stopped"


async def test_resume_replays_after_last_event_id_then_tails_live(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(40, delay=0.02))
    response = await post_message(asgi_server, tenant_async, {"text": "Hello", "model": FAKE_MODEL})
    head = await read_sse(response, limit=5)
    run_id = head[0].data["runId"]
    resume = await asgi_server.session.get(f"{asgi_server.url}/api/runs/{run_id}/stream",
                                           headers=headers(tenant_async, **{"Last-Event-ID": "5"}))
    assert resume.status == 200
    tail = await read_sse(resume)
    assert [e.id for e in tail] == list(range(6, tail[-1].id + 1))
    assert tail[-1].data["type"] == "session.task_complete"
    rest = await read_sse(response)
    assert [e.data for e in head + rest] == [e.data for e in head] + [e.data for e in tail]
    again = await asgi_server.session.get(f"{asgi_server.url}/api/runs/{run_id}/stream?after=0",
                                          headers=headers(tenant_async))
    assert [e.data for e in await read_sse(again)] == [e.data for e in head + rest]


async def test_stop_endpoint_stops_the_chat_run(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    chat = await default_chat(tenant_async)
    response = await post_message(asgi_server, tenant_async, {"chatId": str(chat.pk), "text": "Hi",
                                                              "model": FAKE_MODEL})
    await read_sse(response, limit=3)
    stop = await asgi_server.session.post(f"{asgi_server.url}/api/chat/{tenant_async.project.pk}/stop",
                                          data=json.dumps({"chatId": str(chat.pk)}), headers=headers(tenant_async))
    assert stop.status == 200 and (await stop.json())["stopped"] is True
    rest = await read_sse(response)
    assert rest[-1].data == {**rest[-1].data, "type": "session.task_complete", "status": "stopped"}


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ("{not json", 400, "malformed_json", "body"),
        ({"model": FAKE_MODEL}, 400, "invalid_request", "text"),
        ({"text": "x" * 20_001}, 400, "invalid_request", "text"),
        ({"text": "hi", "temperature": 3}, 400, "invalid_request", "temperature"),
        ({"text": "hi", "model": FAKE_MODEL, "maxTokens": 10**9}, 400, "invalid_request", "maxTokens"),
        ({"text": "hi", "attachments": [{"type": "image", "url": "http://x"}]}, 400, "invalid_request",
         "attachments[0].url"),
        ({"text": "hi", "chatId": "00000000-0000-0000-0000-000000000000"}, 404, "not_found", None),
    ],
)
async def test_bad_input_gets_a_clear_error_before_any_provider_call(asgi_server, tenant_async, fake_openai,
                                                                     body, status, code, field):
    response = await post_message(asgi_server, tenant_async, body)
    payload = await response.json()
    assert response.status == status, payload
    assert payload["error"] == code and payload["message"]
    if field:
        assert payload["field"] == field
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0


async def test_unknown_model_names_the_available_ones(asgi_server, tenant_async):
    response = await post_message(asgi_server, tenant_async, {"text": "hi", "model": "gpt-99"})
    payload = await response.json()
    assert response.status == 400 and payload["error"] == "INVALID_MODEL"
    assert "offline" in payload["availableModels"]


async def test_authentication_and_tenant_scoping(asgi_server, tenant_async):
    from asgiref.sync import sync_to_async

    from tests.conftest import make_tenant

    url = f"{asgi_server.url}/api/chat/{tenant_async.project.pk}/messages"
    missing = await asgi_server.session.post(url, data=json.dumps({"text": "hi"}))
    assert missing.status == 401 and (await missing.json())["error"] == "unauthenticated"
    wrong = await asgi_server.session.post(url, data=json.dumps({"text": "hi"}), headers={"X-API-Key": "bp_nope"})
    assert wrong.status == 401
    other = await sync_to_async(make_tenant)("intruder")
    foreign = await asgi_server.session.post(url, data=json.dumps({"text": "hi"}), headers=headers(other))
    assert foreign.status == 404
    run = await asgi_server.session.get(f"{asgi_server.url}/api/runs/00000000-0000-0000-0000-000000000000/stream",
                                        headers=headers(other))
    assert run.status == 404


async def test_rate_limit_is_429_with_retry_after(asgi_server, tenant_async, fake_openai, fast_engine):
    fast_engine.RATE_LIMIT_PER_MINUTE = 1
    fake_openai.set_script(text_script(2))
    ok = await post_message(asgi_server, tenant_async, {"text": "one", "model": FAKE_MODEL})
    await read_sse(ok)
    limited = await post_message(asgi_server, tenant_async, {"text": "two", "model": FAKE_MODEL})
    payload = await limited.json()
    assert limited.status == 429 and payload["error"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) == payload["retryAfter"] > 0


async def test_heartbeat_comments_while_the_model_is_quiet(asgi_server, tenant_async, fake_openai, fast_engine):
    fast_engine.SSE_HEARTBEAT_S = 0.1
    fake_openai.set_script(text_script(3, delay=0.5))
    response = await post_message(asgi_server, tenant_async, {"text": "hi", "model": FAKE_MODEL})
    comments: list[str] = []
    events = await read_sse(response, comments=comments)
    assert events[-1].data["type"] == "session.task_complete"
    assert ": ping" in comments


async def test_history_get_on_the_same_path_is_served_by_django(asgi_server, tenant_async):
    chat = await default_chat(tenant_async)
    response = await asgi_server.session.get(
        f"{asgi_server.url}/api/chat/{tenant_async.project.pk}/messages?chatId={chat.pk}",
        headers=headers(tenant_async))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
