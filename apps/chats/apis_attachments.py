"""REST: an attachment's bytes, for its own workspace only.

The bytes are untrusted: they are served with the type Blueprint sniffed (images) or as an
opaque download (files), never sniffed again by a browser (``nosniff``) and under a CSP
that lets nothing in them run.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.chats.attachments import attachment_get
from apps.chats.images import SUPPORTED_MEDIA_TYPES
from apps.chats.models import Attachment
from apps.core.apis import error_responses
from apps.core.auth import request_principal

# Nothing an attachment holds may load or run anything, even opened directly (an SVG sent as
# a "file", say); inline style only for the browser's own image viewer.
ATTACHMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


class _JsonErrors(DefaultContentNegotiation):
    """Any Accept (``image/*`` from an ``<img>``) reaches the view; errors stay JSON."""

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type or "application/json"


class AttachmentContentApi(APIView):
    content_negotiation_class = _JsonErrors

    @extend_schema(
        operation_id="attachments_content",
        description=(
            "The attachment's bytes. Images (PNG, JPEG, GIF, WebP) come with their sniffed type and "
            "`Content-Disposition: inline`; files as `application/octet-stream` downloads. Another "
            "workspace's attachment is a 404."
        ),
        responses={(200, "application/octet-stream"): OpenApiResponse(
                       OpenApiTypes.BINARY, description="the bytes, with the image's own type for images"),
                   **error_responses(404)},
    )
    def get(self, request: Request, attachmentId: str) -> HttpResponse:
        attachment = attachment_get(workspace=request_principal(request).workspace, attachment_id=attachmentId)
        return attachment_response(attachment)


def attachment_response(attachment: Attachment) -> HttpResponse:
    image = attachment.kind == Attachment.Kind.IMAGE and attachment.media_type in SUPPORTED_MEDIA_TYPES
    content_type = attachment.media_type if image else "application/octet-stream"
    response = HttpResponse(bytes(attachment.data), content_type=content_type)
    response["Content-Disposition"] = _disposition("inline" if image else "attachment", attachment)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=86400, immutable"  # an attachment never changes
    response["ETag"] = f'"{attachment.sha256}"'
    return response


def _disposition(kind: str, attachment: Attachment) -> str:
    name = attachment.name or f"attachment-{attachment.id}"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
