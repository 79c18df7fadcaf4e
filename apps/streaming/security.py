"""WebSocket origin checks.

Browsers always send ``Origin`` on a WebSocket handshake, so a request with an
Origin must come from an allowed host (that stops cross-site WebSocket
hijacking of a session). A request without one is not from a browser — it is a
program, which must then authenticate with an API key like on HTTP.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return bool(super().valid_origin(parsed_origin))


def allowed_hosts_origin_validator(application: Any) -> BrowserOriginValidator:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)
