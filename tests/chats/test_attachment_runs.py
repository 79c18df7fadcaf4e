"""Attachments through the engine: Anthropic, the offline model, earlier turns, idempotency,
atomicity and the limits a transport's own checks cannot reach."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from django.urls import reverse

from apps.chats.attachments import AttachmentUpload, attachments_create
from apps.chats.models import Attachment, Chat, Message, Run
from apps.core.errors import ValidationFailed
from apps.engine import api as engine
from tests.chats import image_files as files
from tests.engine.conftest import FAKE_MODEL, collect, default_chat, make_request, text_script
from tests.factories import UserFactory
from tests.fakes.script import Script

DIAGRAM = files.png(640, 480)
PHOTO = files.jpeg(32, 24)


def image(data: bytes, media_type: str, name: str = "") -> dict[str, str]:
    return {"type": "image", "url": files.data_url(data, media_type), "name": name}


@pytest.mark.django_db(transaction=True)
async def test_anthropic_gets_base64_image_blocks_in_a_real_run(tenant_async, fake_anthropic):
    fake_anthropic.set_script(text_script(3))
    # Raw {type, url} items, as a dialect without its own decoding hands them to the engine.
    request = await make_request(tenant_async, "Compare these", model="claude-sonnet-4",
                                 attachments=[image(DIAGRAM, "image/png", "a.png"), image(PHOTO, "image/jpeg")])
    handle = await engine.start_run(request)
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["status"] == "completed"
    last = fake_anthropic.last_request.body["messages"][-1]
    assert last["content"][:2] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(DIAGRAM).decode()}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                     "data": base64.b64encode(PHOTO).decode()}},
    ]
    assert last["content"][2]["type"] == "text"
    assert "[Attached by the user and shown to you: 2 images — a.png (PNG, 640×480 px" in last["content"][2]["text"]
    stored = [(a.media_type, bytes(a.data)) async for a in Attachment.objects.order_by("media_type")]
    assert stored == [("image/jpeg", PHOTO), ("image/png", DIAGRAM)]


@pytest.mark.django_db(transaction=True)
async def test_the_offline_model_says_honestly_what_it_received(tenant_async):
    request = await make_request(tenant_async, "Here is our whiteboard", model="offline",
                                 attachments=[image(DIAGRAM, "image/png", "board.png")])
    handle = await engine.start_run(request)
    events = await collect(await engine.subscribe(handle.run_id))
    answer = next(e for e in events if e["type"] == "assistant.message")["text"]
    size = f"{round(len(DIAGRAM) / 1024)} KB" if len(DIAGRAM) >= 1024 else f"{len(DIAGRAM)} bytes"
    assert f"I received 1 image: PNG, 640×480 px, {size} — as a rule-based assistant I cannot see its contents." \
        in answer
    assert (await Message.objects.aget(pk=handle.assistant_message_id)).content == answer


@pytest.mark.django_db(transaction=True)
async def test_the_offline_model_reads_the_users_words_not_the_attachment_line(tenant_async):
    async def entities(chat: Chat, attachments: list[dict[str, str]]) -> set[str]:
        request = await make_request(tenant_async, "A shop where customers place orders", model="offline",
                                     chat=chat, attachments=attachments)
        events = await collect(await engine.subscribe((await engine.start_run(request)).run_id))
        return set(next(e for e in reversed(events) if e["type"] == "dsl.update")["domainModel"]["entities"])

    plain = await entities(await default_chat(tenant_async), [])
    other = await Chat.objects.select_related("project").acreate(project=tenant_async.project, mode="chat")
    with_image = await entities(other, [image(DIAGRAM, "image/png", "user-photo.png")])
    assert with_image == plain and plain  # "user", "image", "photo" in the line add nothing


@pytest.mark.django_db(transaction=True)
async def test_earlier_images_are_named_not_re_sent(tenant_async, fake_openai):
    fake_openai.set_script(text_script(2))
    first = await engine.start_run(await make_request(tenant_async, "Our schema", model=FAKE_MODEL,
                                                      attachments=[image(DIAGRAM, "image/png", "schema.png")]))
    await collect(await engine.subscribe(first.run_id))
    second = await engine.start_run(await make_request(tenant_async, "And this photo?", model=FAKE_MODEL,
                                                       attachments=[image(PHOTO, "image/jpeg", "photo.jpg")]))
    await collect(await engine.subscribe(second.run_id))

    messages = fake_openai.requests[1].body["messages"]
    earlier = next(m for m in messages if m["role"] == "user" and isinstance(m["content"], str))
    assert earlier["content"].startswith("Our schema")
    assert "[Attached earlier, not shown again: schema.png (PNG, 640×480 px" in earlier["content"]
    sent_images = [part["image_url"]["url"] for m in messages if isinstance(m["content"], list)
                   for part in m["content"] if part["type"] == "image_url"]
    assert sent_images == [files.data_url(PHOTO, "image/jpeg")]  # only the current turn's


@pytest.mark.django_db(transaction=True)
async def test_a_text_only_upstream_refusing_the_image_ends_the_run_with_its_message(tenant_async, fake_openai):
    fake_openai.set_script(Script(status=400, error_message="This model does not support image input."))
    handle = await engine.start_run(await make_request(tenant_async, "Look", model=FAKE_MODEL,
                                                       attachments=[image(DIAGRAM, "image/png")]))
    events = await collect(await engine.subscribe(handle.run_id))
    assert (events[-1]["type"], events[-1]["error"]) == ("error", "provider_error")
    assert "does not support image input" in events[-1]["message"]
    assert len(fake_openai.requests) == 1  # a 400 is not retried


@pytest.mark.django_db(transaction=True)
async def test_a_repeated_client_message_id_stores_the_attachment_once(tenant_async, fake_openai):
    fake_openai.set_script(text_script(2))
    attachments = [image(DIAGRAM, "image/png", "d.png")]
    first = await engine.start_run(await make_request(tenant_async, "Look", model=FAKE_MODEL,
                                                      attachments=attachments, client_message_id="m-1"))
    await collect(await engine.subscribe(first.run_id))
    again = await engine.start_run(await make_request(tenant_async, "Look", model=FAKE_MODEL,
                                                      attachments=attachments, client_message_id="m-1"))
    assert (again.created, again.run_id) == (False, first.run_id)
    assert await Attachment.objects.acount() == 1 and len(fake_openai.requests) == 1


@pytest.mark.django_db(transaction=True)
async def test_the_attachment_rows_commit_with_the_user_message_or_not_at_all(tenant_async, fake_openai):
    # A name too long for its column (a decoder would have cut it) makes the INSERT fail.
    upload = AttachmentUpload("image", "image/png", DIAGRAM, "n" * 300, 640, 480)
    with pytest.raises(Exception, match="too long"):
        await engine.start_run(await make_request(tenant_async, "Look", model=FAKE_MODEL, attachments=[upload]))
    assert await Message.objects.acount() == 0 and await Run.objects.acount() == 0
    assert await Attachment.objects.acount() == 0 and len(fake_openai.requests) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("attachments", "field", "words"),
    [
        ([image(files.png(10, 10, padding=4_500_000), "image/png")] * 5, "attachments", "together"),
        ([image(files.webp_vp8(10, 10)[:18], "image/webp")], "attachments[0].url", "WebP header is cut short"),
        ([{"type": "image", "url": "data:image/webp;base64,UklGRg=="}], "attachments[0].url", "not a recognised"),
        ([image(files.webp_vp8x(9000, 10), "image/webp")], "attachments[0].url", "9000×10 px"),
    ],
)
async def test_engine_refuses_bad_attachments_before_writing(tenant_async, fake_openai, attachments: Any,
                                                             field: str, words: str):
    with pytest.raises(ValidationFailed) as caught:
        await engine.start_run(await make_request(tenant_async, "Look", model=FAKE_MODEL, attachments=attachments))
    assert caught.value.extra["field"] == field and words in caught.value.message
    assert await Message.objects.acount() == 0 and await Attachment.objects.acount() == 0
    assert len(fake_openai.requests) == 0


@pytest.mark.django_db
def test_admin_shows_an_attachment_read_only_with_its_preview(client, tenant):
    chat = Chat.objects.select_related("project").get(project=tenant.project, is_default=True)
    message = Message.objects.create(chat=chat, role="user", content="see")
    (attachment,) = attachments_create(chat=chat, message_id=message.pk, uploads=[
        AttachmentUpload("image", "image/png", DIAGRAM, "<b>board</b>.png", 640, 480)])
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:chats_attachment_changelist"))
    assert listing.status_code == 200 and "640×480" in listing.content.decode()
    page = client.get(reverse("admin:chats_attachment_change", args=[attachment.pk])).content.decode()
    assert f'src="data:image/png;base64,{base64.b64encode(DIAGRAM).decode()}"' in page
    assert "<b>board</b>" not in page and "&lt;b&gt;board&lt;/b&gt;.png" in page
    assert 'name="name"' not in page  # no form inputs: read only
    assert client.get(reverse("admin:chats_attachment_add")).status_code == 403
    big = files.png(10, 10, padding=1_200_000)
    (large,) = attachments_create(chat=chat, message_id=message.pk, uploads=[
        AttachmentUpload("image", "image/png", big, "big.png", 10, 10)])
    page = client.get(reverse("admin:chats_attachment_change", args=[large.pk])).content.decode()
    assert "not previewed (1.1 MB)" in page and base64.b64encode(big[:300]).decode() not in page
