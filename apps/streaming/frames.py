"""WebSocket frame decoding shared by the JSON socket consumers.

A binary frame, malformed JSON, JSON nested too deeply, or strings with NUL characters or
lone surrogates become the consumer's own ``error`` frame (``frame_error``) instead of an
exception that would drop the socket.
"""
from __future__ import annotations

import json
from typing import Any

from apps.core.errors import ValidationFailed
from apps.streaming.http import check_json_strings


def decode_frame(text_data: str | None, *, code: str = "malformed_json") -> Any:
    """The frame's JSON value.

    Raises:
        ValidationFailed: binary, malformed, too deep, or with strings Postgres cannot store.
    """
    if text_data is None:
        raise ValidationFailed("Frames must be JSON text, not binary.", field="frame", code=code)
    try:
        content = json.loads(text_data)
    except ValueError:
        raise ValidationFailed("The frame is not valid JSON.", field="frame", code=code) from None
    except RecursionError:
        raise ValidationFailed("The frame is nested too deeply.", field="frame", code=code) from None
    check_json_strings(content, "frame")
    return content


class SafeJsonFrames:
    """Mixin for ``AsyncJsonWebsocketConsumer``: decode with ``decode_frame``, answer bad frames."""

    malformed_code = "malformed_json"  # the error code of an undecodable frame, per dialect

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            content = decode_frame(text_data, code=self.malformed_code)
        except ValidationFailed as exc:
            await self.frame_error(exc)
            return
        await self.receive_json(content, **kwargs)  # type: ignore[attr-defined]

    async def frame_error(self, exc: ValidationFailed) -> None:
        raise NotImplementedError
