"""Fixtures of the security suites: a live server, the fake OpenAI upstream, and two tenants.

``world`` is tenant A (the owner, with a chat, a run and its events, a document, a domain
model version) and tenant B (the attacker) on a real server at 127.0.0.1.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async

from tests.conftest import Tenant, make_tenant
from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup  # noqa: F401
from tests.streaming.conftest import LiveServer, asgi_server  # noqa: F401

REQUEST_TIMEOUT_S = 15.0


@dataclass
class World:
    owner: Tenant
    attacker: Tenant
    ids: dict[str, str]  # the owner's objects: project chat run document key version doc_type plan mode …

    def missing_ids(self) -> dict[str, str]:
        """The same names, each a fresh id that exists nowhere (version: a number never written)."""
        return {**{name: str(uuid.uuid4()) for name in ("project", "chat", "run", "document", "key", "plan",
                                                        "attachment")},
                "version": "987654", "doc_type": self.ids["doc_type"], "mode": "no-such-mode",
                "path": "src/Missing.tsx", "model_name": self.ids["model_name"]}


def build_world() -> World:
    from apps.chats.attachments import AttachmentUpload, attachments_create
    from apps.chats.models import Chat
    from apps.domain.services import domain_model_replace
    from apps.knowledge.services import document_upload
    from apps.plans.services import plan_save
    from apps.projects.file_services import project_file_write
    from apps.projects.models import CustomMode
    from tests.factories import RunEventFactory, RunFactory

    owner, attacker = make_tenant("owner"), make_tenant("attacker")
    chat = Chat.objects.get(project=owner.project, is_default=True)
    run = RunFactory(chat=chat)
    RunEventFactory(run=run, seq=1, type="run.started")
    RunEventFactory(run=run, seq=2, type="session.task_complete", payload={"status": "completed"})
    document = document_upload(project=owner.project, path="docs/owner.md", content="# Owner notes\n\nSecret plan.")
    applied = domain_model_replace(chat=chat, dsl={"entities": {"Book": {"fields": {
        "title": {"type": "string"}}}}, "relationships": []})
    plan = plan_save(chat=chat, raw_text="1. Models", steps=[{"title": "Models", "description": "", "files": [],
                                                              "risk": "low"}])
    CustomMode.objects.create(project=owner.project, name="review", system_prompt="Review only.")
    file = project_file_write(project=owner.project, path="src/App.tsx", source="api",
                              content="export const App = () => <h1>Owner</h1>;\n")
    (attachment,) = attachments_create(chat=chat, message_id=None, uploads=[
        AttachmentUpload("image", "image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "dot.gif", 1, 1)])
    ids = {"project": str(owner.project.pk), "chat": str(chat.pk), "run": str(run.pk),
           "document": str(document.document.pk), "key": str(owner.api_key.pk),
           "version": str(applied.version), "doc_type": "prd", "plan": str(plan.pk), "mode": "review",
           "path": file.path, "attachment": str(attachment.pk), "model_name": "offline"}
    return World(owner, attacker, ids)


@pytest.fixture
async def world(transactional_db: Any, fast_engine: Any, runtime_cleanup: Any) -> World:  # noqa: F811
    return await sync_to_async(build_world)()


@dataclass
class Answer:
    status: int
    body: Any
    text: str
    headers: dict[str, str]


async def call(live: LiveServer, method: str, url: str, *, key: str | None = None, body: Any = None,
               raw: bytes | None = None, headers: dict[str, str] | None = None,
               timeout: float = REQUEST_TIMEOUT_S) -> Answer:
    """One request, bounded in time; an SSE answer is read for at most the first frame."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        sent["X-API-Key"] = key
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with live.session.request(method, live.url + url, data=data, headers=sent,
                                    timeout=client_timeout) as response:
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            text = (await response.content.readuntil(b"\n\n")).decode()
        else:
            text = (await response.read()).decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return Answer(response.status, parsed, text, dict(response.headers))


@dataclass
class WsAnswer:
    frames: list[Any]
    close_code: int | None


async def ws_exchange(live: LiveServer, path: str, *, key: str | None, frame: Any = None,
                      raw: str | bytes | None = None, headers: dict[str, str] | None = None,
                      timeout: float = 5.0, want: int = 1, await_close: bool = False) -> WsAnswer:
    """Open a socket, send one frame, collect frames until ``want`` arrived, it closes or ``timeout``."""
    sent = dict(headers or {})
    if key is not None:
        sent["X-API-Key"] = key
    frames: list[Any] = []
    async with live.session.ws_connect(live.ws_url(path), headers=sent, timeout=aiohttp.ClientWSTimeout(
            ws_receive=timeout, ws_close=timeout)) as socket:
        if frame is not None or raw is not None:
            if isinstance(raw, bytes):
                await socket.send_bytes(raw)
            elif raw is not None:
                await socket.send_str(raw)
            elif not socket.closed:
                await socket.send_str(json.dumps(frame))
        try:
            while len(frames) < want:
                message = await socket.receive(timeout=timeout)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                frames.append(json.loads(message.data))
        except TimeoutError:
            pass
        handshake_only = frame is None and raw is None
        if (handshake_only or await_close) and not socket.closed and frames and frames[-1].get("type") == "error":
            # a handshake error closes the socket right after its frame; wait for the close
            try:
                message = await socket.receive(timeout=0.5)
            except TimeoutError:
                pass
        return WsAnswer(frames, socket.close_code)
