"""How a turn's attachments reach the model (docs/attachments.md).

* The current turn's images go to the model as images (``ChatMessage.images``), and its text
  gets one line naming every attachment, so the model can refer to them by name.
* Files (``type: "file"``) reach the model by that line only: their contents are not read.
* Earlier turns' attachments are not re-sent: their user turns carry a line naming them
  instead. Re-sending every earlier image would grow each request with the chat's history
  (and its cost with it); a user who wants the model to look again attaches the image again.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.chats.attachments import AttachmentUpload, attachment_uploads_decode
from apps.chats.images import FORMAT_NAMES, human_size
from apps.providers.base import ATTACHMENT_NOTE_PREFIX, ImagePart

# Roughly what a provider charges for an image after it scales it down (both bill about
# width × height / 750 tokens, capped near 1,600 for the sizes they keep).
_IMAGE_TOKENS_MAX = 1600


def turn_uploads(attachments: Sequence[Any]) -> list[AttachmentUpload]:
    """The request's attachments decoded; those a transport already decoded pass through.

    Raises:
        ValidationFailed: naming ``attachments[i].url`` (or ``.type``), before anything is written.
    """
    return attachment_uploads_decode(list(attachments)) if attachments else []


def image_parts(uploads: Sequence[AttachmentUpload]) -> tuple[ImagePart, ...]:
    return tuple(ImagePart(media_type=u.media_type, data=u.data, width=u.width or 0, height=u.height or 0,
                           name=u.name) for u in uploads if u.kind == "image")


def attachments_line(uploads: Sequence[AttachmentUpload]) -> str:
    """The line(s) the user's text gets: what is attached (the images themselves follow it)."""
    images = [u.label() for u in uploads if u.kind == "image"]
    files = [u.label() for u in uploads if u.kind == "file"]
    lines = []
    if images:
        lines.append(f"{ATTACHMENT_NOTE_PREFIX} by the user and shown to you: {_count(len(images), 'image')} — "
                     f"{'; '.join(images)}]")
    if files:
        lines.append(f"{ATTACHMENT_NOTE_PREFIX} by the user, contents not shown to you: "
                     f"{_count(len(files), 'file')} — {'; '.join(files)}]")
    return "\n".join(lines)


def earlier_attachments_line(parts: Any) -> str:
    """The line an earlier user turn gets for the attachments it carried (from its stored parts)."""
    if not isinstance(parts, list) or not parts:
        return ""
    labels = [_stored_label(part) for part in parts if isinstance(part, Mapping)]
    if not labels:
        return ""
    return f"{ATTACHMENT_NOTE_PREFIX} earlier, not shown again: {'; '.join(labels)}]"


def image_tokens(uploads: Sequence[AttachmentUpload]) -> int:
    """An estimate of the input tokens the images of a turn cost, for the credit reservation."""
    return sum(min(_IMAGE_TOKENS_MAX, max(1, (u.width or 0) * (u.height or 0) // 750))
               for u in uploads if u.kind == "image")


def _stored_label(part: Mapping[str, Any]) -> str:
    name = str(part.get("name") or f"an unnamed {part.get('type') or 'attachment'}")
    media_type = str(part.get("mediaType") or "")
    details = [FORMAT_NAMES.get(media_type, media_type)]
    if part.get("width") and part.get("height"):
        details.append(f"{part['width']}×{part['height']} px")
    if isinstance(part.get("size"), int):
        details.append(human_size(part["size"]))
    return f"{name} ({', '.join(d for d in details if d)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
