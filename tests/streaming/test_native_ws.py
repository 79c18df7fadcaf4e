"""Seed 001 over a real WebSocket: message, stop, resume; a run survives the socket."""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from apps.chats.models import Run
from tests.engine.conftest import FAKE_MODEL, default_chat, text_script

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(server: Any, tenant: Any) -> aiohttp.ClientWebSocketResponse:
    return await server.session.ws_connect(server.ws_url(f"/api/chat/{tenant.project.pk}/ws"),
                                           headers={"X-API-Key": tenant.raw_key})


async def frames_until_terminal(ws: aiohttp.ClientWebSocketResponse, timeout: float = 20) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await ws.receive_json()
            frames.append(frame)
            if frame.get("type") in ("error", "session.task_complete") and "seq" in frame:
                return frames


async def test_message_streams_canonical_events(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(6))
    chat = await default_chat(tenant_async)
    ws = await connect(asgi_server, tenant_async)
    await ws.send_json({"type": "message", "chatId": str(chat.pk), "text": "Hello", "model": FAKE_MODEL,
                        "clientMessageId": "ws-1"})
    frames = await frames_until_terminal(ws)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert frames[-1]["status"] == "completed"
    await ws.close()


async def test_stop_frame_stops_and_resume_frame_replays(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    chat = await default_chat(tenant_async)
    ws = await connect(asgi_server, tenant_async)
    await ws.send_json({"type": "message", "chatId": str(chat.pk), "text": "Hello", "model": FAKE_MODEL})
    started = await ws.receive_json()
    second = await ws.receive_json()
    await ws.send_json({"type": "stop", "chatId": str(chat.pk)})
    frames = [started, second, *await frames_until_terminal(ws)]
    acks = [f for f in frames if f.get("type") == "stop.ack"]
    assert acks and acks[0]["stopped"] is True
    events = [f for f in frames if "seq" in f]
    assert events[-1]["status"] == "stopped"
    await ws.send_json({"type": "resume", "runId": started["runId"], "afterSeq": 2})
    replay = await frames_until_terminal(ws)
    assert replay[0]["seq"] == 3 and replay == events[2:]
    await ws.close()


async def test_run_keeps_going_when_the_socket_drops(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(30, delay=0.01))
    ws = await connect(asgi_server, tenant_async)
    await ws.send_json({"type": "message", "text": "Hello", "model": FAKE_MODEL})
    started = await ws.receive_json()
    await ws.close()
    async with asyncio.timeout(15):
        while (await Run.objects.aget(pk=started["runId"])).status == "running":
            await asyncio.sleep(0.05)  # polling the database with a deadline
    assert (await Run.objects.aget(pk=started["runId"])).status == "completed"


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(asgi_server, tenant_async, fake_openai):
    ws = await connect(asgi_server, tenant_async)
    await ws.send_str("{nope")
    assert (await ws.receive_json())["error"] == "invalid_request"
    await ws.send_json({"type": "message", "text": ""})
    error = await ws.receive_json()
    assert (error["type"], error["field"]) == ("error", "text")
    await ws.send_json({"type": "resume", "runId": "not-a-run", "afterSeq": 0})
    assert (await ws.receive_json())["error"] == "not_found"
    fake_openai.set_script(text_script(2))
    await ws.send_json({"type": "message", "text": "still here", "model": FAKE_MODEL})
    assert (await frames_until_terminal(ws))[-1]["status"] == "completed"
    await ws.close()


async def test_unauthenticated_socket_is_told_and_closed(asgi_server, tenant_async):
    ws = await asgi_server.session.ws_connect(asgi_server.ws_url(f"/api/chat/{tenant_async.project.pk}/ws"))
    frame = await ws.receive_json()
    assert frame["error"] == "unauthenticated"
    closing = await ws.receive()
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4401
