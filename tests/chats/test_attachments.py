"""Image attachments over real HTTP: POST /api/chat/{projectId}/messages on a live server, the
fake OpenAI upstream through the real SDK, the rows in Postgres, the history and the download."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Attachment, Message
from tests.chats import image_files as files
from tests.conftest import make_tenant
from tests.engine.conftest import FAKE_MODEL, default_chat, text_script
from tests.streaming.conftest import read_sse

pytestmark = pytest.mark.django_db(transaction=True)

DIAGRAM = files.png(640, 480)
DIAGRAM_URL = files.data_url(DIAGRAM, "image/png")


def headers(tenant: Any) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json"}


async def send(live: Any, tenant: Any, body: dict[str, Any]) -> Any:
    return await live.session.post(f"{live.url}/api/chat/{tenant.project.pk}/messages", data=json.dumps(body),
                                   headers=headers(tenant))


async def test_an_image_reaches_openai_as_an_image_and_is_stored_once(asgi_server, tenant_async,
                                                                       fake_openai):
    fake_openai.set_script(text_script(3))
    chat = await default_chat(tenant_async)
    response = await send(asgi_server, tenant_async, {
        "chatId": str(chat.pk), "text": "What does this diagram show?", "model": FAKE_MODEL,
        "attachments": [{"type": "image", "url": DIAGRAM_URL, "name": "diagram.png"}]})
    assert response.status == 200, await response.text()
    events = [e.data for e in await read_sse(response)]
    assert events[-1]["type"] == "session.task_complete" and events[-1]["status"] == "completed"

    # The upstream got the image as an image_url content part carrying the exact bytes.
    (request,) = fake_openai.requests
    last = request.body["messages"][-1]
    assert last["role"] == "user"
    images = [part for part in last["content"] if part["type"] == "image_url"]
    assert images == [{"type": "image_url", "image_url": {"url": DIAGRAM_URL}}]
    text = next(part["text"] for part in last["content"] if part["type"] == "text")
    assert text.startswith("What does this diagram show?")
    assert "diagram.png (PNG, 640×480 px" in text

    # One row holds the bytes; the user message's parts only refer to it.
    attachment = await Attachment.objects.aget()
    assert bytes(attachment.data) == DIAGRAM and attachment.sha256 == hashlib.sha256(DIAGRAM).hexdigest()
    assert (attachment.kind, attachment.media_type, attachment.width, attachment.height, attachment.size,
            attachment.name) == ("image", "image/png", 640, 480, len(DIAGRAM), "diagram.png")
    user = await Message.objects.aget(pk=events[0]["userMessageId"])
    assert (attachment.message_id, attachment.chat_id, attachment.workspace_id) == (
        user.pk, chat.pk, tenant_async.workspace.pk)
    assert user.content == "What does this diagram show?"
    assert user.parts["attachments"] == [{
        "id": str(attachment.pk), "type": "image", "mediaType": "image/png", "name": "diagram.png",
        "width": 640, "height": 480, "size": len(DIAGRAM), "url": f"/api/attachments/{attachment.pk}"}]

    # The history carries the metadata and never the base64.
    history = await asgi_server.session.get(f"{asgi_server.url}/api/chat/{tenant_async.project.pk}/messages",
                                            params={"chatId": str(chat.pk)}, headers=headers(tenant_async))
    raw = await history.text()
    assert history.status == 200
    encoded = base64.b64encode(DIAGRAM).decode()
    assert encoded[:200] not in raw and "base64" not in raw
    (stored,) = [m for m in json.loads(raw)["messages"] if m["role"] == "user"]
    assert stored["parts"]["attachments"] == user.parts["attachments"]
    # Neither do the run's persisted events.
    run_events = await asgi_server.session.get(f"{asgi_server.url}/api/runs/{events[0]['runId']}/events",
                                               headers=headers(tenant_async))
    assert "base64" not in await run_events.text()


async def test_the_download_serves_the_bytes_to_its_workspace_only(asgi_server, tenant_async,
                                                                   fake_openai):
    fake_openai.set_script(text_script(2))
    response = await send(asgi_server, tenant_async, {
        "text": "Here", "model": FAKE_MODEL, "attachments": [{"type": "image", "url": DIAGRAM_URL,
                                                               "name": "Entwurf ü \"v2\".png"}]})
    await read_sse(response)
    attachment = await Attachment.objects.aget()
    url = f"{asgi_server.url}/api/attachments/{attachment.pk}"

    got = await asgi_server.session.get(url, headers={"X-API-Key": tenant_async.raw_key, "Accept": "image/*"})
    assert got.status == 200
    assert await got.read() == DIAGRAM
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in got.headers["Content-Security-Policy"]
    assert "sandbox" in got.headers["Content-Security-Policy"]
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("inline; ") and "filename*=UTF-8''Entwurf%20%C3%BC%20%22v2%22.png" in disposition
    assert 'filename="Entwurf _ _v2_.png"' in disposition

    other = await sync_to_async(make_tenant)("other")
    for key in (other.raw_key,):
        foreign = await asgi_server.session.get(url, headers={"X-API-Key": key})
        missing = await asgi_server.session.get(f"{asgi_server.url}/api/attachments/{'0' * 8}-0000-0000-0000-"
                                                f"{'0' * 12}", headers={"X-API-Key": key})
        assert (foreign.status, missing.status) == (404, 404)
        assert await foreign.json() == await missing.json()  # indistinguishable from a missing one
    anonymous = await asgi_server.session.get(url)
    assert anonymous.status in (401, 403) and DIAGRAM not in await anonymous.read()


async def test_a_file_attachment_is_stored_and_downloaded_never_rendered(asgi_server, tenant_async,
                                                                         fake_openai):
    fake_openai.set_script(text_script(2))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    response = await send(asgi_server, tenant_async, {
        "text": "My logo", "model": FAKE_MODEL,
        "attachments": [{"type": "file", "url": files.data_url(svg, "image/svg+xml"), "name": "logo.svg"}]})
    await read_sse(response)
    attachment = await Attachment.objects.aget()
    assert (attachment.kind, attachment.media_type, bytes(attachment.data)) == ("file", "image/svg+xml", svg)
    # The model is told the file exists; it gets no image part for it.
    content = fake_openai.requests[0].body["messages"][-1]["content"]
    assert isinstance(content, str)
    assert "[Attached by the user, contents not shown to you: 1 file — logo.svg (image/svg+xml" in content

    got = await asgi_server.session.get(f"{asgi_server.url}/api/attachments/{attachment.pk}",
                                        headers={"X-API-Key": tenant_async.raw_key})
    assert got.status == 200 and await got.read() == svg
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment; ")
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def _image(url: str) -> dict[str, str]:
    return {"type": "image", "url": url}


GIF_AS_PNG = files.data_url(files.gif(4, 4), "image/png")
PDF = files.data_url(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "application/pdf")
PDF_AS_PNG = files.data_url(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "image/png")
SVG = files.data_url(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml")
OVERSIZE = files.data_url(files.png(10, 10, padding=5 * 1024 * 1024), "image/png")
TOO_WIDE = files.data_url(files.png(8001, 2), "image/png")


@pytest.mark.parametrize(
    ("attachments", "field", "words"),
    [
        ([_image("data:image/png;base64,iVBORw0KGgo***notbase64***")], "attachments[0].url", "not valid base64"),
        ([_image(DIAGRAM_URL), _image("data:image/png;base64,abc")], "attachments[1].url", "not valid base64"),
        ([_image(DIAGRAM_URL.replace(";base64", ""))], "attachments[0].url", "base64-encoded"),
        ([_image("https://example.com/cat.png")], "attachments[0].url", "data: URL"),
        ([_image(GIF_AS_PNG)], "attachments[0].url", "declares image/png but the data is a GIF image"),
        ([_image(PDF)], "attachments[0].url", "PDF document"),
        ([_image(PDF_AS_PNG)], "attachments[0].url", "PDF document"),
        ([_image(SVG)], "attachments[0].url", "SVG"),
        ([_image(OVERSIZE)], "attachments[0].url", "the maximum is 5,242,880"),
        ([_image(TOO_WIDE)], "attachments[0].url", "8001×2 px"),
        ([_image(DIAGRAM_URL)] * 11, "attachments", "at most 10"),
        ([{"type": "video", "url": DIAGRAM_URL}], "attachments[0].type", "'image' or 'file'"),
        ([{"type": "image", "url": DIAGRAM_URL, "name": 7}], "attachments[0].name", "string"),
        ({"type": "image"}, "attachments", "list"),
    ],
)
async def test_bad_attachments_get_a_400_naming_the_field_before_anything_happens(
        asgi_server, tenant_async, fake_openai, attachments, field, words):
    response = await send(asgi_server, tenant_async, {"text": "look", "model": FAKE_MODEL,
                                                      "attachments": attachments})
    payload = await response.json()
    assert response.status == 400, payload
    assert (payload["error"], payload["field"]) == ("invalid_request", field)
    assert words in payload["message"]
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Attachment.objects.acount() == 0


async def test_the_websocket_takes_the_same_attachments(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(text_script(2))
    ws = await asgi_server.session.ws_connect(asgi_server.ws_url(f"/api/chat/{tenant_async.project.pk}/ws"),
                                              headers={"X-API-Key": tenant_async.raw_key})
    try:
        await ws.send_json({"type": "message", "text": "bad", "model": FAKE_MODEL,
                            "attachments": [_image(GIF_AS_PNG)]})
        refused = await asyncio.wait_for(ws.receive_json(), 10)
        assert (refused["type"], refused["error"], refused["field"]) == ("error", "invalid_request",
                                                                          "attachments[0].url")
        await ws.send_json({"type": "message", "text": "good", "model": FAKE_MODEL,
                            "attachments": [_image(DIAGRAM_URL)]})
        async with asyncio.timeout(20):
            frames = [await ws.receive_json()]
            while frames[-1].get("type") != "session.task_complete":
                frames.append(await ws.receive_json())
    finally:
        await ws.close()
    (request,) = fake_openai.requests
    assert {"type": "image_url", "image_url": {"url": DIAGRAM_URL}} in request.body["messages"][-1]["content"]
    assert await Attachment.objects.acount() == 1 and await Message.objects.filter(content="bad").acount() == 0
