"""Attachments: decoding what a client sends (data: URLs), storing it once, reading it back.

A message's ``parts["attachments"]`` holds only metadata (``attachment_part``); the bytes
live in one ``Attachment`` row each, served by ``GET /api/attachments/{id}``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import QuerySet

from apps.chats.images import FORMAT_NAMES, ImageError, human_size, image_info
from apps.chats.models import Attachment, Chat
from apps.core.errors import ValidationFailed
from apps.core.models import Workspace
from apps.core.selectors import get_scoped

MAX_ATTACHMENTS = 10  # per message
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # decoded, per attachment (Anthropic's per-image limit)
MAX_ATTACHMENTS_TOTAL_BYTES = 20 * 1024 * 1024  # decoded, per message
MAX_IMAGE_SIDE = 8000  # pixels, either side (the largest image the providers accept)
MAX_NAME = 200

Kind = Literal["image", "file"]
# Declared types that say nothing about the bytes: the sniffed type is taken instead.
_UNSPECIFIC_TYPES = ("", "application/octet-stream")
_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
_WHITESPACE = re.compile(rb"\s+")


@dataclass(frozen=True)
class AttachmentUpload:
    """One decoded, checked attachment of a request, not yet stored.

    ``id`` is chosen at decode time so the user message's parts can name the row that the
    same transaction inserts.
    """

    kind: Kind
    media_type: str
    data: bytes = field(repr=False)
    name: str = ""
    width: int | None = None
    height: int | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def label(self) -> str:
        """``diagram.png (PNG, 640×480 px, 12 KB)`` — how the model and people are told about it."""
        if self.kind == "image":
            details = f"{FORMAT_NAMES.get(self.media_type, self.media_type)}, {self.width}×{self.height} px, "
        else:
            details = f"{self.media_type}, "
        details += human_size(self.size)
        return f"{self.name} ({details})" if self.name else f"an unnamed {self.kind} ({details})"


def attachment_upload_decode(item: Any, *, field: str) -> AttachmentUpload:
    """Decode and check one ``{type: "image" | "file", url: "data:…;base64,…", name?}``.

    Images must be PNG, JPEG, GIF or WebP by their bytes, agree with the declared type,
    stay within ``MAX_ATTACHMENT_BYTES`` and ``MAX_IMAGE_SIDE``. Files keep their declared
    type (checked for shape only) and are never shown to a model as images.

    Raises:
        ValidationFailed: naming ``{field}.type``, ``{field}.url`` or ``{field}.name``.
    """
    if not isinstance(item, dict) or item.get("type") not in ("image", "file"):
        raise ValidationFailed(f"{field}.type must be 'image' or 'file'.", field=f"{field}.type")
    kind: Kind = item["type"]
    name = item.get("name")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise ValidationFailed(f"{field}.name must be a string.", field=f"{field}.name")
    name = " ".join(name.split())[:MAX_NAME]
    declared, data = _decode_data_url(item.get("url"), field=f"{field}.url")
    if kind == "file":
        if declared in _UNSPECIFIC_TYPES:
            declared = "application/octet-stream"
        return AttachmentUpload(kind, declared, data, name)
    return _checked_image(declared, data, name, field=f"{field}.url")


def attachment_uploads_decode(value: Any, *, field: str = "attachments") -> list[AttachmentUpload]:
    """A request's ``attachments`` list, decoded; ``AttachmentUpload`` items pass through.

    Raises:
        ValidationFailed: naming the list or the item at fault.
    """
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or len(value) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"{field} must be a list of at most {MAX_ATTACHMENTS} items.", field=field)
    uploads = [item if isinstance(item, AttachmentUpload) else attachment_upload_decode(item, field=f"{field}[{i}]")
               for i, item in enumerate(value)]
    total = sum(upload.size for upload in uploads)
    if total > MAX_ATTACHMENTS_TOTAL_BYTES:
        raise ValidationFailed(
            f"{field} hold {human_size(total)} together; the maximum is {human_size(MAX_ATTACHMENTS_TOTAL_BYTES)}.",
            field=field)
    return uploads


def _decode_data_url(url: Any, *, field: str) -> tuple[str, bytes]:
    if not isinstance(url, str) or not url.startswith("data:"):
        raise ValidationFailed(f"{field} must be a data: URL (data:<type>;base64,<data>).", field=field)
    # Base64 is 4 characters per 3 bytes (plus line breaks, if wrapped): a much longer URL
    # cannot decode within the limit, and is refused before decoding it.
    encoded = (MAX_ATTACHMENT_BYTES + 2) // 3 * 4
    if len(url) > encoded + encoded // 32 + 300:
        raise ValidationFailed(f"{field} is larger than {human_size(MAX_ATTACHMENT_BYTES)}.", field=field)
    header, comma, payload = url[5:].partition(",")
    params = [p.strip().lower() for p in header.split(";")]
    if not comma or "base64" not in params[1:]:
        raise ValidationFailed(f"{field} must be base64-encoded (data:<type>;base64,<data>).", field=field)
    declared = _TYPE_ALIASES.get(params[0], params[0])
    if declared and not _MEDIA_TYPE.match(declared):
        raise ValidationFailed(f"{field} declares an invalid media type {params[0]!r}.", field=field)
    try:
        data = base64.b64decode(_WHITESPACE.sub(b"", payload.encode("ascii")), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValidationFailed(f"{field} is not valid base64.", field=field) from None
    if not data:
        raise ValidationFailed(f"{field} is empty.", field=field)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(f"{field} is {len(data):,} bytes decoded; the maximum is {MAX_ATTACHMENT_BYTES:,} "
                               f"({human_size(MAX_ATTACHMENT_BYTES)}).", field=field)
    return declared, data


def _checked_image(declared: str, data: bytes, name: str, *, field: str) -> AttachmentUpload:
    try:
        info = image_info(data)
    except ImageError as exc:
        raise ValidationFailed(f"{field}: {exc}.", field=field) from None
    if declared not in _UNSPECIFIC_TYPES and declared != info.media_type:
        raise ValidationFailed(
            f"{field} declares {declared} but the data is a {info.format_name} image ({info.media_type}).",
            field=field)
    if info.width > MAX_IMAGE_SIDE or info.height > MAX_IMAGE_SIDE:
        raise ValidationFailed(
            f"{field} is {info.width}×{info.height} px; at most {MAX_IMAGE_SIDE} px a side is accepted.",
            field=field)
    return AttachmentUpload("image", info.media_type, data, name, info.width, info.height)


def attachment_part(upload: AttachmentUpload) -> dict[str, Any]:
    """The metadata a message's ``parts["attachments"]`` keeps of an upload (never its bytes)."""
    return {"id": str(upload.id), "type": upload.kind, "mediaType": upload.media_type, "name": upload.name,
            "width": upload.width, "height": upload.height, "size": upload.size,
            "url": f"/api/attachments/{upload.id}"}


# --- services ----------------------------------------------------------------------------------


def attachments_create(*, chat: Chat, message_id: Any, uploads: Sequence[AttachmentUpload]) -> list[Attachment]:
    """Store ``uploads`` as the attachments of the chat's message ``message_id``. One INSERT.

    Args:
        chat: the message's chat, with its project loaded.
        message_id: the user message the uploads came with.
        uploads: decoded by ``attachment_uploads_decode``; their ids become the rows' ids.
    Returns:
        The new rows.
    """
    rows = [
        Attachment(id=upload.id, workspace_id=chat.project.workspace_id, project_id=chat.project_id, chat=chat,
                   message_id=message_id, kind=upload.kind, media_type=upload.media_type, name=upload.name,
                   data=upload.data, size=upload.size, sha256=upload.sha256, width=upload.width,
                   height=upload.height)
        for upload in uploads
    ]
    return Attachment.objects.bulk_create(rows)


# --- selectors ---------------------------------------------------------------------------------


def attachment_get(*, workspace: Workspace, attachment_id: object) -> Attachment:
    """The attachment with its bytes, if it belongs to ``workspace``.

    Raises:
        NotFound: a malformed id, a missing attachment and another workspace's alike.
    """
    return get_scoped(Attachment.objects.filter(workspace=workspace), attachment_id, label="Attachment")


def attachment_list(*, chat: Chat) -> QuerySet[Attachment]:
    """The chat's attachments without their bytes, oldest first."""
    return Attachment.objects.filter(chat=chat).defer("data").order_by("created_at", "id")
