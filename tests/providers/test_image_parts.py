"""Images on a user turn reach each upstream in its own shape, through the real SDKs."""
from __future__ import annotations

import base64

from apps.chats.images import human_size
from apps.providers.base import ChatMessage, ImagePart, ProviderRequest, TextDelta
from apps.providers.offline import INTRO, OfflineProvider, images_note
from tests.chats import image_files as files
from tests.fakes.script import Script
from tests.providers.conftest import collect

PNG = files.png(64, 48)
JPEG = files.jpeg(16, 8)


def image_request(model: str = "test-model") -> ProviderRequest:
    images = (ImagePart("image/png", PNG, 64, 48, "diagram.png"), ImagePart("image/jpeg", JPEG, 16, 8, "photo.jpg"))
    return ProviderRequest(model=model, system="Be brief.", messages=[
        ChatMessage(role="user", content="An earlier question"),
        ChatMessage(role="assistant", content="An earlier answer"),
        ChatMessage(role="user", content="What do these show?", images=images),
    ])


async def test_openai_receives_image_url_content_parts_with_the_exact_bytes(openai_provider, fake_openai):
    fake_openai.set_script(Script(text=["Two ", "images."]))
    events = await collect(openai_provider.stream(image_request()))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two images."
    messages = fake_openai.last_request.body["messages"]
    assert messages[1] == {"role": "user", "content": "An earlier question"}  # text-only turns stay plain
    last = messages[-1]
    assert last["role"] == "user"
    assert last["content"][0] == {"type": "text", "text": "What do these show?"}
    assert last["content"][1:] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()}},
    ]
    assert base64.b64decode(last["content"][1]["image_url"]["url"].split(",", 1)[1]) == PNG


async def test_anthropic_receives_base64_image_blocks_before_the_text(anthropic_provider, fake_anthropic):
    fake_anthropic.set_script(Script(text=["Two ", "images."]))
    events = await collect(anthropic_provider.stream(image_request("claude-small")))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two images."
    body = fake_anthropic.last_request.body
    assert body["messages"][0] == {"role": "user", "content": [{"type": "text", "text": "An earlier question"}]}
    last = body["messages"][-1]
    assert last["role"] == "user"
    assert last["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(PNG).decode()}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                     "data": base64.b64encode(JPEG).decode()}},
        {"type": "text", "text": "What do these show?"},
    ]
    assert base64.b64decode(last["content"][0]["source"]["data"]) == PNG


async def test_assistant_and_tool_turns_never_carry_images(anthropic_provider, fake_anthropic):
    # Only user turns take images; a stray one elsewhere is not sent (the APIs would refuse it).
    request = ProviderRequest(model="claude-small", messages=[
        ChatMessage(role="user", content="hi"),
        ChatMessage(role="assistant", content="hello", images=(ImagePart("image/png", PNG, 64, 48),)),
        ChatMessage(role="user", content="again"),
    ])
    await collect(anthropic_provider.stream(request))
    sent = fake_anthropic.last_request.body["messages"]
    assert sent[1] == {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}


async def test_the_offline_provider_says_what_it_received_and_that_it_cannot_see_it():
    events = await collect(OfflineProvider(token_delay_ms=0).stream(image_request("offline")))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    expected = (f"I received 2 images: PNG, 64×48 px, {human_size(len(PNG))}; JPEG, 16×8 px, "
                f"{human_size(len(JPEG))} — as a rule-based assistant I cannot see their contents.")
    assert text.startswith(expected)  # a later turn of the chat: no introduction first


async def test_the_offline_note_follows_the_introduction_on_a_first_turn():
    request = ProviderRequest(model="offline", messages=[
        ChatMessage(role="user", content="Here is my sketch", images=(ImagePart("image/gif", b"G" * 2048, 3, 2),))])
    events = await collect(OfflineProvider(token_delay_ms=0).stream(request))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.startswith(INTRO + "I received 1 image: GIF, 3×2 px, 2 KB — as a rule-based assistant I cannot "
                                   "see its contents.")


async def test_the_offline_provider_says_nothing_of_images_it_did_not_get():
    request = ProviderRequest(model="offline", messages=[ChatMessage(role="user", content="A shop with orders")])
    events = await collect(OfflineProvider(token_delay_ms=0).stream(request))
    assert "I received" not in "".join(e.text for e in events if isinstance(e, TextDelta))


def test_images_note_wording_for_one_image():
    note = images_note((ImagePart("image/png", b"x" * 12_300, 640, 480),))
    assert note.startswith("I received 1 image: PNG, 640×480 px, 12 KB — as a rule-based assistant I cannot see "
                           "its contents.")
    assert images_note(()) == ""
