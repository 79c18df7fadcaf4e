"""Two ASGI worker processes sharing Postgres and Redis (SPEC §4.5, §4.8).

A run started through worker A is stopped and resumed through worker B; a worker
killed mid-run leaves its run ``interrupted`` with the partial text kept.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from apps.chats.models import Message, Run
from tests.engine.conftest import default_chat, text_script
from tests.fakes.openai_server import FakeOpenAI
from tests.invariants import check_runs
from tests.streaming.conftest import read_sse
from tests.workers import Worker, spawn_worker, stop_workers, wait_healthy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]
REDIS_URL = "redis://127.0.0.1:6379/7"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def _need_redis() -> None:
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379 (scripts/ensure-redis.sh starts it)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture
async def workers(transactional_db: Any, fake_upstream: FakeOpenAI) -> AsyncIterator[dict[str, Worker]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "EMBEDDED_PG_DATABASE": settings.DATABASES["default"]["NAME"],
        "REDIS_URL": REDIS_URL,
        "TEST_OPENAI_API_KEY": "sk-test",
        "TEST_OPENAI_BASE_URL": fake_upstream.base_url,
        "ENGINE_FLUSH_INTERVAL_MS": "100",
        "ENGINE_HEARTBEAT_INTERVAL_S": "0.5",
        "ENGINE_STALE_AFTER_S": "3",
        "ENGINE_REAPER_INTERVAL_S": "0.5",
        # Long on purpose: live events must arrive through the channel layer, not by polling.
        "ENGINE_SUBSCRIBER_POLL_S": "30",
        "RATE_LIMIT_PER_MINUTE": "1000",
    }
    env.pop("DATABASE_URL", None)
    started = {name: spawn_worker(name, env) for name in ("A", "B")}
    try:
        async with aiohttp.ClientSession() as session:
            for worker in started.values():
                await wait_healthy(session, worker)
        yield started
    finally:
        stop_workers(list(started.values()))


def _headers(tenant: Any, **extra: str) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json", **extra}


async def test_run_started_on_a_is_stopped_and_resumed_through_b(workers, tenant_async, fake_upstream):
    fake_upstream.set_script(text_script(400, delay=0.02))
    a, b = workers["A"], workers["B"]
    chat = await default_chat(tenant_async)
    body = json.dumps({"chatId": str(chat.pk), "text": "Hello", "model": "gpt-4o"})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        on_a = await session.post(f"{a.url}/api/chat/{tenant_async.project.pk}/messages", data=body,
                                  headers=_headers(tenant_async))
        head = await read_sse(on_a, limit=5)
        run_id = head[0].data["runId"]

        # B tails the live run: its events can only come from A through Redis.
        live_on_b = await session.get(f"{b.url}/api/runs/{run_id}/stream", headers=_headers(
            tenant_async, **{"Last-Event-ID": "3"}))
        live_head = await read_sse(live_on_b, limit=10)
        assert [e.id for e in live_head] == list(range(4, 14))

        stop = await session.post(f"{b.url}/api/chat/{tenant_async.project.pk}/stop",
                                  data=json.dumps({"chatId": str(chat.pk)}), headers=_headers(tenant_async))
        assert (await stop.json())["stopped"] is True
        rest_on_a = await read_sse(on_a)
        rest_on_b = await read_sse(live_on_b)
        on_a_events = [e.data for e in head + rest_on_a]
        assert on_a_events[-1]["type"] == "session.task_complete" and on_a_events[-1]["status"] == "stopped"
        assert [e.data for e in live_head + rest_on_b] == on_a_events[3:]

        resumed = await session.get(f"{b.url}/api/runs/{run_id}/stream?after=0", headers=_headers(tenant_async))
        replay = [e.data for e in await read_sse(resumed)]
    assert replay == on_a_events
    assert [e["seq"] for e in replay] == list(range(1, len(replay) + 1))
    assert len(replay) < 400
    run = await Run.objects.aget(pk=run_id)
    assert run.status == "stopped"
    streamed = "".join(e["delta"] for e in replay if e["type"] == "assistant.message_delta")
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == streamed
    verdict = await sync_to_async(check_runs)([run_id], received={run_id: streamed})
    assert verdict.ok, verdict.summary()


async def test_a_killed_worker_leaves_its_run_interrupted_with_partial_text(workers, tenant_async, fake_upstream):
    fake_upstream.set_script(text_script(400, delay=0.02))
    a, b = workers["A"], workers["B"]
    body = json.dumps({"text": "Hello", "model": "gpt-4o"})
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        on_a = await session.post(f"{a.url}/api/chat/{tenant_async.project.pk}/messages", data=body,
                                  headers=_headers(tenant_async))
        head = await read_sse(on_a, limit=30)
        run_id = head[0].data["runId"]
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(timeout=10)
        on_b = await session.get(f"{b.url}/api/runs/{run_id}/stream", headers=_headers(tenant_async))
        async with asyncio.timeout(60):
            events = [e.data for e in await read_sse(on_b)]
    assert events[-1]["type"] == "error"
    assert (events[-1]["error"], events[-1]["retry"]) == ("interrupted", True)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    run = await Run.objects.aget(pk=run_id)
    message = await Message.objects.aget(pk=run.assistant_message_id)
    assert run.status == "interrupted" and message.status == "interrupted"
    received = "".join(e.data["delta"] for e in head if e.data["type"] == "assistant.message_delta")
    assert message.content and (received.startswith(message.content) or message.content.startswith(received))
    verdict = await sync_to_async(check_runs)([run_id], received={run_id: received})
    assert verdict.ok, verdict.summary()


def test_default_reaper_settings_interrupt_within_60_seconds():
    from config.settings import base

    assert base.ENGINE_STALE_AFTER_S + base.ENGINE_REAPER_INTERVAL_S + base.ENGINE_HEARTBEAT_INTERVAL_S < 60


async def test_a_direct_save_through_b_reaches_the_run_streaming_on_a(workers, tenant_async, fake_upstream):
    """``file.updated`` from a direct-save joins the chat's live run on whichever worker runs it."""
    fake_upstream.set_script(text_script(300, delay=0.02))
    a, b = workers["A"], workers["B"]
    chat = await default_chat(tenant_async)
    project = tenant_async.project.pk
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        put = await session.put(f"{b.url}/api/projects/{project}/files/src/Hero.tsx", headers=_headers(tenant_async),
                                data=json.dumps({"content": "export const Hero = () => <h1>Hello</h1>;\n"}))
        assert put.status == 201, await put.text()
        on_a = await session.post(f"{a.url}/api/chat/{project}/messages", headers=_headers(tenant_async),
                                  data=json.dumps({"chatId": str(chat.pk), "text": "Hello", "model": "gpt-4o"}))
        head = await read_sse(on_a, limit=5)
        saved = await session.post(f"{b.url}/api/direct-save/{project}", headers=_headers(tenant_async),
                                   data=json.dumps({"filePath": "src/Hero.tsx", "chatId": str(chat.pk), "patches": [
                                       {"selector": "h1", "property": "text", "value": "Welcome"}]}))
        body = await saved.json()
        assert saved.status == 200, body
        assert body["notifiedRunId"] == head[0].data["runId"]
        events = [e.data for e in head + await read_sse(on_a)]
    updates = [e for e in events if e["type"] == "file.updated"]
    assert [(u["path"], u["version"], u["source"]) for u in updates] == [("src/Hero.tsx", 2, "direct_save")]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "session.task_complete"
    verdict = await sync_to_async(check_runs)([events[0]["runId"]])
    assert verdict.ok, verdict.summary()
